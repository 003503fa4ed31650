"""Transfers: blind (REFER from the agent's phone, or the desktop) to a queue, a named
agent or a number outside the center, and warm (consult) transfers from the desktop.

A REFER is accepted with 202 by the engine, which also places pjsua's call to the
Refer-To URI (the leg `child`). For one of our own names (a queue, an agent, a number:
the Refer-To names the node) that call loops back to this worker (the front door sends a
worker's own calls back to it), which holds it unanswered (`loop_arrived`) while the
transfer is carried out: the router takes the contact (the caller waits again for the
next offer), or refuses. The loop is then answered 200, or refused with 404 (no such
queue, agent or number), 480 (the router refused: an agent signed out...) or 603 (the
call cannot be transferred now): pjsua's last NOTIFY carries that answer to the
transferor's phone, which hangs up after a 200 and keeps the call otherwise. For anyone
else the child is the outside party.

While the router decides, the agent's leg stays in the call table (`Role.LEAVING`): a
hang-up of the phone then is not lost; if the router refuses, it ends the call as any
hang-up of the agent's does (the contact completed, the agent freed).

A warm transfer holds the caller (music), calls the target and bridges it to the agent.
A colleague is held for the consultation in the router from the first ring to its end
(RoutingPort.consult), so nothing else is offered to them meanwhile; an unanswered
consultation ends after the queue's ring time (a number: twice that). `complete` hands
the caller over (to the colleague at once: the router connects the contact to them and
their consult leg becomes the agent's; to an outside number directly); `cancel`, the
colleague hanging up or the ring limit returns the caller to the agent. Every transfer is
noted on the contact with its outcome (RoutingPort.note_transfer). A hold of the agent's
(phone or desk) ends when their leg leaves the call by a transfer (`offers.end_hold`):
the caller waits, and talks to the next agent, off hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from telephony.calls.call import OUTSIDE_RING_FACTOR, AgentLeg, Call, CallState, Consult, Role
from telephony.calls.callback import phone_number
from telephony.calls.offers import unanswered
from telephony.calls.voice import Voice
from telephony.endpoint import EngineError, uri_address, uri_user
from telephony.routing import ROUTING_REFUSALS

log = logging.getLogger(__name__)


# The answers a REFER's loop gets, which the transferor's phone reads in its last NOTIFY.
DONE = 200  # carried out: the router (or the number dialled) has the caller
NOT_FOUND = 404  # neither a queue, an agent nor a number the node can dial
UNAVAILABLE = 480  # the router refused (the agent is signed out...), or dialling failed
DECLINED = 603  # the call cannot be transferred now (not talking, ended meanwhile)
# How long a verdict waits for its loop to come back to this worker. It normally has
# (the router's answer takes longer than the loop); a Refer-To naming the node in a way
# that does not reach it (a domain without DNS records, a port left out) never does.
LOOP_GRACE_S = 2.0


def node_names(host: str, port: int, domain: str = "") -> frozenset[str]:
    """The names a Refer-To may give the node, as `uri_address` writes them: `host:port`,
    and the accounts' domain (`[sip] domain`, default `host`) with that port or with no
    port at all (a phone writes `sip:booking@<its account's domain>`; the domain names
    the node whatever port it leaves out). A URI naming another port, or the host with
    no port when it is not the domain, is someone else's (by SIP's rules a URI without a
    port means 5060: `TransferController.names_node` reads it so)."""
    names = {f"{host}:{port}".lower()}
    if domain:
        names |= {f"{domain}:{port}".lower(), domain.lower()}
    return frozenset(names)


class TransferRefused(ValueError):
    """The transfer cannot be done (wrong state, unknown target); the message says why."""


@dataclass
class _Loop:
    """A REFER to one of our names, from the transferor's leg: pjsua's call for it comes
    back here as `leg`, unanswered until the `verdict` (the SIP code it is answered
    with) is known."""

    transferor: int
    leg: int | None = None
    verdict: int | None = None
    ended: bool = False  # pjsua's call was answered (not by us) or is gone
    changed: asyncio.Event = field(default_factory=asyncio.Event)


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
    def __init__(self, voice: Voice, own_addresses: Iterable[str], outside_uri: str) -> None:
        self.voice = voice
        # The node's and this worker's names (`node_names`): a Refer-To there names a
        # queue, an agent or a number.
        self.own_addresses = frozenset(own_addresses)
        # Where numbers are dialled out ("sip:{number}@trunk"); empty: no outside numbers.
        self.outside_uri = outside_uri
        # A REFER's call to an outside party -> the transferor's leg, kept (unheard) until
        # that call is answered or fails, so that the transferor's phone hears the outcome.
        self._transferors: dict[int, int] = {}
        # Outside legs whose answer is being taken (`outside_answered`): a hang-up then is
        # the end of a completed transfer, never a reason to requeue.
        self._answering: set[int] = set()
        # A REFER's call to one of our names (its loop) -> what is known of it.
        self._loops: dict[int, _Loop] = {}

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
        if not self.names_node(target):
            return Destination(uri=target)
        user = uri_user(target)
        if user in self.voice.queues:
            return Destination(queue=user)
        try:
            return Destination(agent=await self._agent(user))
        except TransferRefused:
            if not phone_number(user):  # a typo, an agent removed: never dialled out
                raise TransferRefused(
                    f"{user!r} is neither a queue, an agent nor a telephone number"
                ) from None
            return self._number(user)

    def names_node(self, uri: str) -> bool:
        """Whether a SIP URI names the node (or this worker): its address is one of
        ours, or it has no port and ours is its host on 5060 (SIP's default)."""
        address = uri_address(uri)
        if not address:
            return False
        if address in self.own_addresses:
            return True
        return ":" not in address and f"{address}:5060" in self.own_addresses

    async def _agent(self, agent_id: str) -> str:
        try:
            await self.voice.routing.get_agent(agent_id)
        except ROUTING_REFUSALS as error:
            raise TransferRefused(f"no agent {agent_id!r}") from error
        return agent_id

    def _number(self, text: str) -> Destination:
        """A telephone number by the node's one rule for them (`phone_number`, as for
        callbacks), dialled through `[sip] outside_uri`; anything else is refused."""
        number = phone_number(text)
        if not number:
            raise TransferRefused(f"{text!r} is not a telephone number")
        if not self.outside_uri:
            raise TransferRefused(f"{number!r} is a number, but no [sip] outside_uri dials out")
        return Destination(uri=self.outside_uri.format(number=number))

    # ------------------------------------------------------------------ blind
    def referred(self, call: Call | None, leg: int, target: str, child: int) -> None:
        """A phone sent REFER on `leg` (accepted with 202; pjsua's call to the Refer-To is
        `child`), on an agent's leg of `call` (None: on no leg that may transfer)."""
        voice = self.voice
        if not self.names_node(target):
            voice.spawn(self._refer_outside(call, leg, target, child))
            return
        # Known before its loop can come back (`loop_arrived`), and its end heard.
        self._loops[child] = _Loop(transferor=leg)
        if call is not None:
            voice.table.add(child, call, Role.LOOP)
        voice.spawn(self._refer_here(call, leg, target, child))

    async def _refer_outside(self, call: Call | None, leg: int, target: str, child: int) -> None:
        """A REFER to someone outside: pjsua's call is that party."""
        if call is None or not _talking_on(call, leg):
            await self.voice.hangup(child)
            return
        self._transferors[child] = leg
        await self._to_outside(call, Destination(uri=target), "refer", child)

    async def _refer_here(self, call: Call | None, leg: int, target: str, child: int) -> None:
        """A REFER to one of our names: carried out first, its loop answered after."""
        try:
            code = await self._carry_out(call, leg, target)
        except Exception:
            log.exception("REFER on leg %d to %s failed", leg, target)
            code = DECLINED
        await self._verdict(child, code)

    async def _carry_out(self, call: Call | None, leg: int, target: str) -> int:
        """The transfer a REFER to one of our names asks for; the answer for its loop."""
        if call is None or not _talking_on(call, leg):
            log.info("REFER on leg %d to %s refused: the call is not talking there", leg, target)
            return DECLINED
        try:
            destination = await self.destination(target)
        except TransferRefused as error:
            log.warning("REFER of %s to %s refused: %s", call.contact_id, target, error)
            return NOT_FOUND
        if not _talking_on(call, leg):  # the agent or the caller hung up meanwhile
            return DECLINED
        if destination.uri:  # a number, dialled through [sip] outside_uri
            try:
                await self._to_outside(call, destination, "refer", None)
            except TransferRefused as error:
                log.warning("REFER of %s to %s failed: %s", call.contact_id, target, error)
                return UNAVAILABLE
            return DONE
        if not await self._to_router(call, destination, "refer"):
            return UNAVAILABLE
        return DONE

    async def _verdict(self, child: int, code: int) -> None:
        """Answer a REFER's loop with the outcome: the transferor's phone reads it in its
        final NOTIFY. A loop that does not come back here in time is hung up; after a
        transfer done, so is the transferor's leg (the phone's call ends, as after a 200)."""
        voice = self.voice
        loop = self._loops.get(child)
        if loop is None:
            return
        loop.verdict = code
        if loop.leg is None and not loop.ended:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(loop.changed.wait(), LOOP_GRACE_S)
            if self._loops.get(child) is not loop:
                return  # its call ended meanwhile: `_loop_ended` finished it
        if loop.leg is not None:
            if code == DONE:
                try:
                    await voice.engine.answer(loop.leg, DONE)  # then `loop_answered`
                except EngineError as error:
                    log.debug("loop %d: %s", loop.leg, error)
                return
            self._loops.pop(child, None)
            await voice.hangup(loop.leg, code)
            return
        log.info("the loop of REFER %d did not come back: %d without it", child, code)
        self._loops.pop(child, None)
        await voice.hangup(child)
        if code == DONE:
            await voice.hangup(loop.transferor)

    async def blind(self, call: Call, target: str) -> None:
        """A blind transfer from the desktop."""
        _refuse_unless_talking(call)
        destination = await self.destination(target)
        if destination.uri:
            await self._to_outside(call, destination, "desktop", None)
        elif not await self._to_router(call, destination, "desktop"):
            raise TransferRefused(f"the router refused the transfer to {destination.label}")

    def loop_arrived(self, child: int, leg: int) -> None:
        """pjsua's call for a REFER of ours (`child`) came back here as `leg`, unanswered
        (engine event `loop`): answered once the transfer is decided."""
        loop = self._loops.get(child)
        if loop is None:  # its REFER was settled without it
            self.voice.spawn(self.voice.hangup(leg, DECLINED))
            return
        loop.leg = leg
        loop.changed.set()

    async def loop_answered(self, child: int) -> None:
        """The REFER's call was answered (by us after the transfer was done: the
        transferor heard "200"): it and the transferor's leg have done their job."""
        await self.voice.hangup(child)
        self._loop_ended(child)

    async def loop_gone(self, child: int) -> None:
        self._loop_ended(child)

    def _loop_ended(self, child: int) -> None:
        loop = self._loops.get(child)
        if loop is None:
            return
        loop.ended = True
        loop.changed.set()
        if loop.verdict is None:
            return  # `_verdict` finishes it
        self._loops.pop(child, None)
        if loop.verdict == DONE:
            self.voice.spawn(self.voice.hangup(loop.transferor))

    def leaving_gone(self, call: Call, leg: int) -> None:
        """The phone of an agent whose transfer the router is deciding hung up: noted,
        so that a refusal ends the call as the agent's hang-up (`_back_to_router`)."""
        leaving = call.leaving
        if leaving is not None and leaving.leg == leg:
            leaving.leg = None

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
        if by == "refer":
            if old.leg is not None:
                await self._unbridge(call.leg, old.leg)  # hung up once its loop is answered
        else:
            await voice.hangup(old.leg)
        voice.waiting.resume(call)
        return True

    async def _back_to_router(
        self, call: Call, to_queue: str | None, to_agent: str | None, was: CallState
    ) -> None:
        """The agent's leg leaves the call and the router takes the contact (to a queue or
        a named agent). The call waits again before the router hears of it: its next offer
        may come at once. Meanwhile the agent's leg stays in the table as LEAVING, so that
        its hang-up is heard (`leaving_gone`). A refusal is raised with the call as it
        `was`, agent and all, unless it ended meanwhile; if the agent hung up meanwhile,
        that ends the call first, as their hang-up does (completed, the agent freed)."""
        voice = self.voice
        old = call.agent
        assert old is not None
        call.state = CallState.QUEUED
        call.agent = None
        call.leaving = old
        if old.leg is not None:
            voice.table.add(old.leg, call, Role.LEAVING)
        try:
            await voice.routing.transfer(
                call.contact_id, old.agent_id, to_queue=to_queue, to_agent=to_agent
            )
        except ROUTING_REFUSALS:
            call.leaving = None
            if call.state == CallState.QUEUED and call.agent is None:
                call.state, call.agent = was, old
                if old.leg is not None:
                    voice.table.add(old.leg, call, Role.AGENT)
                elif was == CallState.TALKING:
                    log.info("agent %s left %s during its transfer", old.agent_id, call.contact_id)
                    await voice.offers.agent_left(call)
            elif old.leg is not None:
                voice.table.pop(old.leg)
                await voice.hangup(old.leg)  # the caller hung up meanwhile
            raise
        call.leaving = None
        if old.leg is not None:
            voice.table.pop(old.leg)
        await voice.offers.end_hold(call, old.agent_id)  # the held leg is gone

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
        # Noted once the outside party answers or fails (`_note_outside`). Set before the
        # first await: a trunk that refuses at once (404) is heard meanwhile, and its
        # `requeued` was lost, the caller's later hang-up noted as the transfer's end.
        call.outside_transfer = {
            "at_ms": voice.clock(),
            "mode": "blind",
            "by": by,
            "from_agent": agent.agent_id,
            "to": destination.uri,
        }
        if agent.leg is not None:
            voice.table.pop(agent.leg)
            if by == "refer":
                await self._unbridge(call.leg, agent.leg)  # hung up once the outside answers
            else:
                await voice.hangup(agent.leg)
            agent.leg = None
        await voice.offers.end_hold(call, agent.agent_id)  # the held leg is gone
        if call.outside_leg == child:  # not refused meanwhile (the caller queued again)
            await voice.waiting.hold(call)

    async def outside_answered(self, call: Call, leg: int) -> None:
        """The outside party answered: bridge, and the contact is done for the center. The
        answer is taken before the first await: a party that hangs up at once (a voicemail
        that drops) ends a completed transfer; its hang-up, handled meanwhile, sent the
        caller back to the queue of a contact then completed, to wait there for ever."""
        voice = self.voice
        transferor = self._transferors.pop(leg, None)
        if call.outside_leg != leg or call.state != CallState.HELD:
            await voice.hangup(transferor)
            await voice.hangup(leg)
            return
        self._answering.add(leg)
        try:
            await voice.hangup(transferor)
            try:
                await voice.engine.bridge(call.leg, leg)
            except EngineError as error:
                log.warning("bridging %s to the outside failed: %s", call.contact_id, error)
            await self._note_outside(call, "completed")
            await voice.offers.finish(call)
        finally:
            self._answering.discard(leg)
        if call.outside_leg == leg:
            call.state = CallState.EXTERNAL
        else:  # the party hung up while the answer was taken: the caller's call ends
            call.state = CallState.ENDED
            await voice.hangup(call.leg)

    async def outside_gone(self, call: Call, leg: int, code: int = 0) -> None:
        """The outside party's leg ended (`code`: its last SIP status): hung up after the
        hand-over, or never answered; then the transfer is noted as requeued, with why."""
        voice = self.voice
        await voice.hangup(self._transferors.pop(leg, None))
        if call.outside_leg != leg:
            return
        call.outside_leg = None
        if leg in self._answering:
            return  # `outside_answered` ends the caller's call once the contact is done
        if call.state == CallState.EXTERNAL:
            call.state = CallState.ENDED
            await voice.hangup(call.leg)
        elif call.state == CallState.HELD:
            # Nobody answered outside: the caller goes back to the queue.
            reason = unanswered(code)
            log.info(
                "outside party of %s did not answer (%s, %d): back to %s",
                call.contact_id,
                reason,
                code,
                call.queue,
            )
            await self._note_outside(call, "requeued", reason)
            await self._requeue(call)

    async def _requeue(self, call: Call) -> None:
        voice = self.voice
        agent = call.agent
        await voice.offers.end_hold(call, agent.agent_id if agent else "")
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
        _refuse_unless_talking(call)
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
        await voice.offers.end_hold(call, old.agent_id)
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
        await voice.offers.end_hold(call, old.agent_id)  # the colleague finds no hold
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
        await self._note_outside(call, "abandoned", "caller_hangup")
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

    async def _note_outside(self, call: Call, outcome: str, reason: str = "") -> None:
        """The blind transfer out of the center on the contact's record, with its outcome
        (and, when it was not completed, `reason`); once."""
        entry, call.outside_transfer = call.outside_transfer, None
        if entry is None:
            return
        entry["outcome"] = outcome
        if reason:
            entry["reason"] = reason
        try:
            await self.voice.routing.note_transfer(call.contact_id, entry)
        except ROUTING_REFUSALS as error:
            log.warning("transfer of %s not noted: %s", call.contact_id, error)


def _talking_on(call: Call, leg: int) -> bool:
    """Whether the caller talks to the agent on `leg` (who may then transfer them): a
    called-back customer whose phone still rings is no one to transfer yet."""
    return call.state == CallState.TALKING and not call.calling_back and call.agent_leg == leg


def _refuse_unless_talking(call: Call) -> None:
    """A transfer from the desktop needs the caller and the agent talking."""
    if call.calling_back:
        raise TransferRefused("the called-back customer has not picked up yet")
    if call.state != CallState.TALKING or call.agent_leg is None:
        raise TransferRefused(f"the call is {call.state}, not talking")
