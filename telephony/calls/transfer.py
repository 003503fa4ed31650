"""Transfers: blind (REFER from the agent's phone, or the desktop) to a queue, a named
agent or a number outside the center, and warm (consult) transfers from the desktop.

A REFER is accepted with 202 by the engine, which also places pjsua's call to the
Refer-To URI (the leg `child`). For one of our own names (a queue, an agent: the Refer-To
points at the node) that call loops back to the node, is answered there and hung up here
(so the transferor's phone hears "200"), and the router carries out the transfer: the
caller waits again for the next offer. For anyone else the child is the outside party.

A warm transfer holds the caller (music), calls the target and bridges it to the agent.
A colleague is held for the consultation in the router from the first ring to its end
(RoutingPort.consult), so nothing else is offered to them meanwhile; an unanswered
consultation ends after the queue's ring time (a number: twice that). `complete` hands
the caller over (to the colleague at once: the router connects the contact to them and
their consult leg becomes the agent's; to an outside number directly); `cancel`, the
colleague hanging up or the ring limit returns the caller to the agent. Every transfer is
noted on the contact with its outcome (RoutingPort.note_transfer).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from telephony.calls.call import OUTSIDE_RING_FACTOR, AgentLeg, Call, CallState, Consult, Role
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
        """Hold the caller and call a colleague (`agent:ID`) or a number for the agent. A
        colleague is held for the consultation in the router first (nothing else is
        offered to them until it ends); the phone rings for the queue's ring time (a
        number twice that), then the caller returns to the agent."""
        voice = self.voice
        if call.state != CallState.TALKING or call.agent_leg is None:
            raise TransferRefused(f"the call is {call.state}, not talking")
        destination = await self.destination(target)
        if destination.queue:
            raise TransferRefused("a warm transfer needs a person: an agent or a number")
        uri = destination.uri
        consult = Consult(
            target=destination.label, agent_id=destination.agent, started_ms=voice.clock()
        )
        if destination.agent:
            agent = await voice.routing.get_agent(destination.agent)
            if not agent.sip_uri:
                raise TransferRefused(f"agent {destination.agent!r} has no phone logged in")
            uri = agent.sip_uri
            try:
                await voice.routing.consult(call.contact_id, destination.agent, "reserve")
            except ROUTING_REFUSALS as error:
                raise TransferRefused(str(error)) from error
            consult.reserved = True
        try:
            if call.state != CallState.TALKING or call.agent_leg is None:
                raise TransferRefused(f"the call is {call.state}, not talking")
            try:
                consult.leg = await voice.engine.call(uri)
            except EngineError as error:
                raise TransferRefused(f"calling {uri} failed: {error}") from error
            if call.state != CallState.TALKING or call.agent_leg is None:
                raise TransferRefused(f"the call is {call.state}, not talking")
        except TransferRefused:
            await self._end_consult(call, consult)
            raise
        call.consult = consult
        voice.table.add(consult.leg, call, Role.CONSULT)
        call.state = CallState.HELD
        ring_s = call.ring_s * (1.0 if consult.agent_id else OUTSIDE_RING_FACTOR)
        consult.ring_limit = voice.spawn(self._ring_limit(call, consult, ring_s))
        await self._unbridge(call.leg, call.agent_leg)
        await voice.waiting.hold(call)

    async def _ring_limit(self, call: Call, consult: Consult, ring_s: float) -> None:
        """Nobody answered the consultation in time: the caller returns to the agent."""
        await asyncio.sleep(ring_s)
        consult.ring_limit = None  # this task: not to be cancelled by the return
        if call.consult is consult and not consult.answered and call.state == CallState.HELD:
            log.info("consult of %s: %s did not answer", call.contact_id, consult.target)
            await self._return(call, "no_answer")

    async def consult_answered(self, call: Call, leg: int) -> None:
        voice = self.voice
        consult = call.consult
        if consult is None or consult.leg != leg or call.agent_leg is None:
            await voice.hangup(leg)
            return
        consult.answered = True
        self._stop_ring_limit(consult)
        try:
            await voice.engine.bridge(call.agent_leg, leg)
        except EngineError as error:
            log.warning("bridging the consult of %s failed: %s", call.contact_id, error)
        if consult.reserved:
            try:
                await voice.routing.consult(call.contact_id, consult.agent_id, "answered")
            except ROUTING_REFUSALS as error:
                log.warning("consult of %s: answer not recorded: %s", call.contact_id, error)

    async def complete(self, call: Call) -> None:
        """The agent hands the held caller to the consulted party."""
        voice = self.voice
        consult = call.consult
        if (
            call.state != CallState.HELD
            or consult is None
            or not consult.answered
            or consult.leg is None
        ):
            raise TransferRefused("no answered consult to complete")
        old = call.agent
        assert old is not None
        if consult.agent_id:
            await self._hand_over(call, consult, old)
            return
        # A number outside the center: the caller joins it, the contact is done.
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

    async def _hand_over(self, call: Call, consult: Consult, old: AgentLeg) -> None:
        """The colleague who agreed takes the caller at once: the router connects the
        contact to them (they were held for it), their consult leg becomes the agent's."""
        voice = self.voice
        consult.handing_over = True
        try:
            await voice.routing.consult(call.contact_id, consult.agent_id, "hand_over")
        except ROUTING_REFUSALS as error:
            consult.handing_over = False
            if consult.leg is None and call.consult is consult:
                await self._return(call, "hung_up")  # the colleague left meanwhile
            raise TransferRefused(f"the router refused: {error}") from error
        consult.reserved = False
        call.consult = None
        if old.leg is not None:
            voice.table.pop(old.leg)
            await voice.hangup(old.leg)
        call.agent = AgentLeg(consult.agent_id, leg=consult.leg, picked_up=True, answered=True)
        call.state = CallState.TALKING
        call.timestamps["offered"] = voice.clock()
        await self._note(call, "warm", "desktop", old.agent_id, consult.target, consult)
        if consult.leg is None:
            # The colleague hung up while the router handed the contact to them.
            await voice.offers.agent_left(call)
            return
        voice.table.add(consult.leg, call, Role.AGENT)
        await voice.offers.connect(call)

    async def cancel(self, call: Call) -> None:
        """Back to the agent: the consulted party is hung up, caller and agent bridged."""
        if call.state != CallState.HELD or call.consult is None:
            raise TransferRefused("no consult to cancel")
        await self._return(call, "cancelled")

    async def _return(self, call: Call, reason: str) -> None:
        voice = self.voice
        consult, call.consult = call.consult, None
        if consult is not None:
            await self._end_consult(call, consult)
            await self._note(
                call,
                "warm",
                "desktop",
                call.agent_id,
                consult.target,
                consult,
                outcome="returned",
                reason=reason,
            )
        call.state = CallState.TALKING
        await voice.offers.connect(call)

    async def consult_gone(self, call: Call, leg: int) -> None:
        """The consulted party hung up (or their phone refused): while held, the caller
        returns to the agent."""
        consult = call.consult
        if consult is None or consult.leg != leg:
            return
        consult.leg = None
        if consult.handing_over:
            return  # the hand-over sees it
        if call.state == CallState.HELD:
            await self._return(call, "hung_up" if consult.answered else "declined")
        else:
            call.consult = None
            await self._end_consult(call, consult)

    async def agent_left(self, call: Call) -> None:
        """The agent hung up while the caller was held: an answered consult takes over the
        caller; otherwise the caller goes back to the queue."""
        consult = call.consult
        if consult is not None and consult.answered:
            try:
                await self.complete(call)
                return
            except TransferRefused as error:
                log.warning("transfer of %s not completed: %s", call.contact_id, error)
            consult = call.consult
        if consult is not None:
            call.consult = None
            await self._end_consult(call, consult)
            agent = call.agent_id
            await self._note(
                call, "warm", "desktop", agent, consult.target, consult, "requeued", "agent_left"
            )
        await self._requeue(call)

    async def drop(self, call: Call) -> None:
        """The caller hung up: end the legs a transfer opened; a consultation in progress
        is noted as abandoned."""
        voice = self.voice
        consult, call.consult = call.consult, None
        if consult is not None:
            await self._end_consult(call, consult)
            await self._note(
                call,
                "warm",
                "desktop",
                call.agent_id,
                consult.target,
                consult,
                outcome="abandoned",
                reason="caller_hangup",
            )
        await voice.hangup(call.outside_leg)

    # ------------------------------------------------------------------ helpers
    async def _end_consult(self, call: Call, consult: Consult) -> None:
        """A consultation that ends without a hand-over: its leg hung up, its ring limit
        stopped, and the colleague no longer held for it in the router."""
        self._stop_ring_limit(consult)
        if consult.leg is not None:
            self.voice.table.pop(consult.leg)
            await self.voice.hangup(consult.leg)
            consult.leg = None
        if consult.reserved:
            consult.reserved = False
            try:
                await self.voice.routing.consult(call.contact_id, consult.agent_id, "release")
            except ROUTING_REFUSALS as error:
                log.warning("%s not released from %s: %s", consult.agent_id, call.contact_id, error)

    @staticmethod
    def _stop_ring_limit(consult: Consult) -> None:
        timer, consult.ring_limit = consult.ring_limit, None
        if timer is not None and timer is not asyncio.current_task():
            timer.cancel()

    async def _unbridge(self, a: int, b: int) -> None:
        try:
            await self.voice.engine.unbridge(a, b)
        except EngineError as error:
            log.debug("unbridging %d and %d: %s", a, b, error)

    async def _note(
        self,
        call: Call,
        mode: str,
        by: str,
        from_agent: str,
        to: str,
        consult: Consult | None = None,
        outcome: str = "completed",
        reason: str = "",
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
            if reason:
                entry["reason"] = reason
        try:
            await voice.routing.note_transfer(call.contact_id, entry)
        except ROUTING_REFUSALS as error:
            log.warning("transfer of %s not noted: %s", call.contact_id, error)
