"""Transfers: blind (REFER from the agent's phone, or the desktop) to a queue, a named
agent or a number outside the center, and warm (consult) transfers from the desktop.

A REFER is accepted with 202 by the engine, which also places pjsua's call to the
Refer-To URI (the leg `child`). For one of our own names (a queue, an agent: the Refer-To
points at the node) that call loops back to the node, is answered there and hung up here
(so the transferor's phone hears "200"), and the router carries out the transfer: the
caller waits again for the next offer. For anyone else the child is the outside party.

A warm transfer holds the caller (music), calls the target and bridges it to the agent;
`complete` hands the caller over (to a colleague through the router, which offers the
contact to that colleague first; to an outside number directly), `cancel` returns the
caller to the agent. Every transfer is noted on the contact (RoutingPort.note_transfer).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from telephony.calls.call import AgentLeg, Call, CallState, Consult, Role
from telephony.calls.voice import Voice
from telephony.endpoint import EngineError, uri_address, uri_user
from telephony.routing import ROUTING_REFUSALS

log = logging.getLogger(__name__)


class TransferRefused(ValueError):
    """The transfer cannot be done (wrong state, unknown target); the message says why."""


@dataclass(frozen=True)
class Destination:
    """Where a transfer goes: a queue or agent of ours (through the router), or a URI."""

    queue: str = ""
    agent: str = ""
    uri: str = ""  # the number outside the center (or the agent's phone, for a consult)

    @property
    def label(self) -> str:
        if self.queue:
            return f"queue:{self.queue}"
        if self.agent:
            return f"agent:{self.agent}"
        return self.uri


class TransferController:
    def __init__(self, voice: Voice, own_addresses: frozenset[str], outside_uri: str) -> None:
        self.voice = voice
        # "host:port" of the node and this worker: a Refer-To there names a queue or agent.
        self.own_addresses = own_addresses
        # Where numbers are dialled out ("sip:{number}@trunk"); empty: no outside numbers.
        self.outside_uri = outside_uri
        # A REFER's call -> the transferor's leg, kept (unheard) until that call is
        # answered or fails, so that the transferor's phone hears the outcome (NOTIFY).
        self._transferors: dict[int, int] = {}

    # ------------------------------------------------------------------ where to
    async def destination(self, target: str) -> Destination:
        """`queue:NAME`, `agent:ID`, `tel:NUMBER`, or a SIP URI (ours or outside)."""
        kind, _, name = target.partition(":")
        if kind == "queue":
            if name not in self.voice.queues:
                raise TransferRefused(f"no queue {name!r}")
            return Destination(queue=name)
        if kind == "agent":
            return Destination(agent=await self._agent(name))
        if kind == "tel":
            return self._number(name)
        if uri_address(target) not in self.own_addresses:
            return Destination(uri=target)
        user = uri_user(target)
        if user in self.voice.queues:
            return Destination(queue=user)
        try:
            return Destination(agent=await self._agent(user))
        except TransferRefused:
            return self._number(user)

    async def _agent(self, agent_id: str) -> str:
        try:
            await self.voice.routing.get_agent(agent_id)
        except ROUTING_REFUSALS as error:
            raise TransferRefused(f"no agent {agent_id!r}") from error
        return agent_id

    def _number(self, number: str) -> Destination:
        if not self.outside_uri:
            raise TransferRefused(f"{number!r}: no [sip] outside_uri to dial numbers with")
        return Destination(uri=self.outside_uri.format(number=number))

    # ------------------------------------------------------------------ blind
    async def refer(self, call: Call, leg: int, target: str, child: int) -> None:
        """The agent's phone sent REFER (accepted with 202): carry it out."""
        voice = self.voice
        if call.state != CallState.TALKING or call.agent_leg != leg:
            await voice.hangup(child)
            return
        try:
            destination = await self.destination(target)
        except TransferRefused as error:
            log.warning("REFER of %s to %s refused: %s", call.contact_id, target, error)
            await voice.hangup(child)
            return
        agent_leg = call.agent_leg
        assert agent_leg is not None
        self._transferors[child] = agent_leg
        if destination.uri:
            await self._to_outside(call, destination, "refer", child)
        else:
            voice.table.add(child, call, Role.LOOP)
            if not await self._to_router(call, destination, "refer"):
                self._transferors.pop(child, None)
                await voice.hangup(child)

    async def blind(self, call: Call, target: str) -> None:
        """A blind transfer from the desktop."""
        if call.state != CallState.TALKING:
            raise TransferRefused(f"the call is {call.state}, not talking")
        destination = await self.destination(target)
        if destination.uri:
            await self._to_outside(call, destination, "desktop", None)
        elif not await self._to_router(call, destination, "desktop"):
            raise TransferRefused(f"the router refused the transfer to {destination.label}")

    async def loop_answered(self, leg: int) -> None:
        """The REFER's call came back to the node and was answered (the transferor heard
        "200"): it and the transferor's leg have done their job."""
        await self.voice.hangup(leg)
        await self.voice.hangup(self._transferors.pop(leg, None))

    async def loop_gone(self, leg: int) -> None:
        await self.voice.hangup(self._transferors.pop(leg, None))

    async def _to_router(self, call: Call, destination: Destination, by: str) -> bool:
        voice = self.voice
        old = call.agent
        assert old is not None
        try:
            await self._back_to_router(
                call, destination.queue or None, destination.agent or None, CallState.TALKING
            )
        except ROUTING_REFUSALS as error:
            log.warning("transfer of %s to %s refused: %s", call.contact_id, destination, error)
            return False
        await self._note(call, "blind", by, old.agent_id, destination.label)
        if destination.queue:
            call.queue = destination.queue  # the survey (if any) is the last queue's
        if old.leg is not None and old.leg in self._transferors.values():
            await self._unbridge(call.leg, old.leg)  # hung up once its REFER has an outcome
        else:
            await voice.hangup(old.leg)
        voice.waiting.resume(call)
        return True

    async def _back_to_router(
        self, call: Call, to_queue: str | None, to_agent: str | None, was: CallState
    ) -> None:
        """The agent's leg leaves the call and the router takes the contact (to a queue or
        a named agent). The call waits again before the router hears of it: its next offer
        may come at once. A refusal is raised with the call as it `was`, agent and all,
        unless it ended meanwhile."""
        voice = self.voice
        old = call.agent
        assert old is not None
        call.state = CallState.QUEUED
        call.agent = None
        if old.leg is not None:
            voice.table.pop(old.leg)
        try:
            await voice.routing.transfer(
                call.contact_id, old.agent_id, to_queue=to_queue, to_agent=to_agent
            )
        except ROUTING_REFUSALS:
            if call.state == CallState.QUEUED:
                call.state, call.agent = was, old
                if old.leg is not None:
                    voice.table.add(old.leg, call, Role.AGENT)
            raise

    async def _to_outside(
        self, call: Call, destination: Destination, by: str, child: int | None
    ) -> None:
        """The agent leaves; the caller hears music while the outside party rings."""
        voice = self.voice
        agent = call.agent
        assert agent is not None
        if child is None:
            try:
                child = await voice.engine.call(destination.uri)
            except EngineError as error:
                raise TransferRefused(f"calling {destination.uri} failed: {error}") from error
        call.state = CallState.HELD
        call.outside_leg = child
        voice.table.add(child, call, Role.OUTSIDE)
        if agent.leg is not None:
            voice.table.pop(agent.leg)
            if by == "refer":
                await self._unbridge(call.leg, agent.leg)  # hung up once the outside answers
            else:
                await voice.hangup(agent.leg)
            agent.leg = None
        await voice.waiting.hold(call)
        await self._note(call, "blind", by, agent.agent_id, destination.uri)

    async def outside_answered(self, call: Call, leg: int) -> None:
        """The outside party answered: bridge, and the contact is done for the center."""
        voice = self.voice
        await voice.hangup(self._transferors.pop(leg, None))
        if call.outside_leg != leg or call.state != CallState.HELD:
            await voice.hangup(leg)
            return
        try:
            await voice.engine.bridge(call.leg, leg)
        except EngineError as error:
            log.warning("bridging %s to the outside failed: %s", call.contact_id, error)
        await voice.offers.finish(call)
        call.state = CallState.EXTERNAL

    async def outside_gone(self, call: Call, leg: int) -> None:
        voice = self.voice
        await voice.hangup(self._transferors.pop(leg, None))
        if call.outside_leg != leg:
            return
        call.outside_leg = None
        if call.state == CallState.EXTERNAL:
            call.state = CallState.ENDED
            await voice.hangup(call.leg)
        elif call.state == CallState.HELD:
            # Nobody answered outside: the caller goes back to the queue.
            log.info("outside party of %s did not answer: back to %s", call.contact_id, call.queue)
            await self._requeue(call)

    async def _requeue(self, call: Call) -> None:
        voice = self.voice
        agent = call.agent
        call.state = CallState.QUEUED
        call.agent = None
        try:
            await voice.routing.transfer(call.contact_id, agent.agent_id if agent else "")
        except ROUTING_REFUSALS as error:
            log.warning("requeue of %s refused: %s", call.contact_id, error)
        voice.waiting.resume(call)

    # ------------------------------------------------------------------ warm
    async def consult(self, call: Call, target: str) -> None:
        """Hold the caller and call a colleague (`agent:ID`) or a number for the agent."""
        voice = self.voice
        if call.state != CallState.TALKING or call.agent_leg is None:
            raise TransferRefused(f"the call is {call.state}, not talking")
        destination = await self.destination(target)
        if destination.queue:
            raise TransferRefused("a warm transfer needs a person: an agent or a number")
        uri = destination.uri
        if destination.agent:
            agent = await voice.routing.get_agent(destination.agent)
            if not agent.sip_uri:
                raise TransferRefused(f"agent {destination.agent!r} has no phone logged in")
            uri = agent.sip_uri
        try:
            leg = await voice.engine.call(uri)
        except EngineError as error:
            raise TransferRefused(f"calling {uri} failed: {error}") from error
        call.consult = Consult(
            target=destination.label,
            agent_id=destination.agent,
            queue=call.queue,
            started_ms=voice.clock(),
            leg=leg,
        )
        voice.table.add(leg, call, Role.CONSULT)
        call.state = CallState.HELD
        await self._unbridge(call.leg, call.agent_leg)
        await voice.waiting.hold(call)

    async def consult_answered(self, call: Call, leg: int) -> None:
        consult = call.consult
        if consult is None or consult.leg != leg or call.agent_leg is None:
            await self.voice.hangup(leg)
            return
        consult.answered = True
        try:
            await self.voice.engine.bridge(call.agent_leg, leg)
        except EngineError as error:
            log.warning("bridging the consult of %s failed: %s", call.contact_id, error)

    async def complete(self, call: Call) -> None:
        """The agent hands the held caller to the consulted party."""
        voice = self.voice
        consult = call.consult
        if call.state != CallState.HELD or consult is None or not consult.answered:
            raise TransferRefused("no answered consult to complete")
        old = call.agent
        assert old is not None
        if consult.agent_id:
            # Through the router, so the colleague's load and the records stay true: the
            # contact is offered to the colleague first, whose consult leg then takes it.
            try:
                await self._back_to_router(call, consult.queue, consult.agent_id, CallState.HELD)
            except ROUTING_REFUSALS as error:
                raise TransferRefused(f"the router refused: {error}") from error
            await self._note(call, "warm", "desktop", old.agent_id, consult.target, consult)
            await voice.hangup(old.leg)
            voice.waiting.resume(call)
            return
        # A number outside the center: the caller joins it, the contact is done.
        assert consult.leg is not None
        call.consult = None
        call.outside_leg = consult.leg
        voice.table.add(consult.leg, call, Role.OUTSIDE)
        if old.leg is not None:
            voice.table.pop(old.leg)
            await voice.hangup(old.leg)
            old.leg = None
        try:
            await voice.engine.bridge(call.leg, call.outside_leg)
        except EngineError as error:
            log.warning("joining %s to the outside failed: %s", call.contact_id, error)
        await self._note(call, "warm", "desktop", old.agent_id, consult.target, consult)
        await voice.offers.finish(call)
        call.state = CallState.EXTERNAL

    def takes_offer(self, call: Call, event: dict[str, Any]) -> bool:
        """An offer to the colleague already on the consult leg: no need to ring again."""
        consult = call.consult
        return (
            consult is not None
            and consult.answered
            and call.state == CallState.QUEUED
            and consult.agent_id == str(event.get("agent_id"))
        )

    async def join_consulted(self, call: Call, event: dict[str, Any]) -> None:
        voice = self.voice
        consult = call.consult
        assert consult is not None and consult.leg is not None
        call.consult = None
        call.agent = AgentLeg(consult.agent_id, leg=consult.leg)
        voice.table.add(consult.leg, call, Role.AGENT)
        call.state = CallState.OFFERED
        call.timestamps["offered"] = voice.clock()
        self._stop_waiting(call)
        await voice.offers.agent_answered(call, consult.leg)

    async def cancel(self, call: Call) -> None:
        """Back to the agent: the consulted party is hung up, caller and agent bridged."""
        if call.state != CallState.HELD or call.consult is None:
            raise TransferRefused("no consult to cancel")
        await self._return(call)

    async def _return(self, call: Call) -> None:
        voice = self.voice
        consult, call.consult = call.consult, None
        if consult is not None:
            await self._end_consult_leg(consult)
            agent = call.agent
            await self._note(
                call,
                "warm",
                "desktop",
                agent.agent_id if agent else "",
                consult.target,
                consult,
                outcome="returned",
            )
        call.state = CallState.TALKING
        await voice.offers.connect(call)

    async def consult_gone(self, call: Call, leg: int) -> None:
        """The consulted party hung up: while held, the caller returns to the agent; once
        handed over, the router's offer is rung as usual."""
        consult = call.consult
        if consult is None or consult.leg != leg:
            return
        consult.leg = None
        if call.state == CallState.HELD:
            await self._return(call)
        else:
            call.consult = None

    async def agent_left(self, call: Call) -> None:
        """The agent hung up while the caller was held: an answered consult takes over the
        caller; otherwise the caller goes back to the queue."""
        consult = call.consult
        if consult is not None and consult.answered:
            try:
                await self.complete(call)
            except TransferRefused as error:
                log.warning("transfer of %s not completed: %s", call.contact_id, error)
            return
        if consult is not None:
            await self._end_consult_leg(consult)
            call.consult = None
        await self._requeue(call)

    async def drop(self, call: Call) -> None:
        """The caller hung up: end the legs a transfer opened."""
        voice = self.voice
        if call.consult is not None:
            await voice.hangup(call.consult.leg)
            call.consult = None
        await voice.hangup(call.outside_leg)

    async def release_consult(self, call: Call) -> None:
        """The router offered the handed-over caller to someone other than the consulted
        colleague: that colleague's leg is no longer needed."""
        consult, call.consult = call.consult, None
        if consult is not None:
            await self._end_consult_leg(consult)

    # ------------------------------------------------------------------ helpers
    async def _end_consult_leg(self, consult: Consult) -> None:
        if consult.leg is not None:
            self.voice.table.pop(consult.leg)
            await self.voice.hangup(consult.leg)
            consult.leg = None

    async def _unbridge(self, a: int, b: int) -> None:
        try:
            await self.voice.engine.unbridge(a, b)
        except EngineError as error:
            log.debug("unbridging %d and %d: %s", a, b, error)

    @staticmethod
    def _stop_waiting(call: Call) -> None:
        if call.script is not None:
            call.script.cancel()

    async def _note(
        self,
        call: Call,
        mode: str,
        by: str,
        from_agent: str,
        to: str,
        consult: Consult | None = None,
        outcome: str = "completed",
    ) -> None:
        voice = self.voice
        now = voice.clock()
        entry: dict[str, Any] = {
            "at_ms": consult.started_ms if consult else now,
            "mode": mode,
            "by": by,
            "from_agent": from_agent,
            "to": to,
        }
        if consult is not None:
            entry.update(consulted_ms=now - consult.started_ms, outcome=outcome)
        try:
            await voice.routing.note_transfer(call.contact_id, entry)
        except ROUTING_REFUSALS as error:
            log.warning("transfer of %s not noted: %s", call.contact_id, error)
