"""Offers and the conversation: ring the agent the router chose, bridge on answer, and
turn every hang-up into the contact's one outcome (completed, abandoned or failed)."""

from __future__ import annotations

import logging
from typing import Any

from router.model import ContactState
from telephony.calls.call import WAITING, AgentLeg, Call, CallState, Role
from telephony.calls.voice import Voice
from telephony.endpoint import EngineError
from telephony.routing import ROUTING_REFUSALS

log = logging.getLogger(__name__)

# Final SIP statuses of a call the worker placed (an agent's phone, a number a call is
# transferred to) that was never answered: busy (on another call, do-not-disturb), a
# decline of this call, or nobody there to ring at all. 408 is what pjsip (or Kamailio's
# fr_timer, 2 s) says when nothing answered the INVITE, not even a provisional response;
# 480 and 404 a name with no phone registered or no account signed in; 477 and 478
# Kamailio's own failure to send the INVITE on (a phone on TCP whose connection died, an
# address that does not resolve); 5xx (pjsip's 503 for a transport error, Kamailio's for
# its own) and the other 6xx a server, a transport or a phone that failed.
# A phone that answers at once that it cannot take this call never rang either: it cannot
# parse the INVITE (400), takes none of the offer's codecs (488, 415 for the body), wants
# an extension the worker does not use or refuses one (421 `Require: 100rel`, 420),
# challenges calls to it (401, 407: the worker has no password for it) or takes calls
# from its own registrar only (403). Each says the phone must be set up again, as
# unreachable does; none is the agent's no answer (the phone never rang).
# A ring the worker cancelled after the ring time (487) and anything else is no answer.
BUSY = frozenset({486, 600})
DECLINED = frozenset({603})
UNREACHABLE = frozenset({404, 408, 410, 477, 478, 480})
CANNOT_TAKE = frozenset({400, 401, 403, 407, 415, 420, 421, 488})
# The router's reasons for an offer the agent's phone ended (`unanswered` -> reason):
# busy and unreachable make the agent not ready as no answer does (nobody takes calls
# there now; it would ring again every few seconds), a decline bars them from this
# contact only.
OFFER_ENDED = {
    "busy": "phone_busy",
    "declined": "declined",
    "unreachable": "phone_unreachable",
    "no_answer": "no_answer",
}


def auto_answer_headers(host: str) -> dict[str, str]:
    """The headers that ask an agent's phone to answer an offer itself, in the two forms
    desk phones and softphones honour where auto-answer (intercom) is allowed on them:
    Call-Info `answer-after=0` (Grandstream, Yealink, MicroSIP, Zoiper's paid edition)
    and Alert-Info `info=alert-autoanswer` (Yealink; a Polycom maps it to an auto-answer
    ring class). A phone that honours neither rings as before (docs/telephony.md).
    `host`: the node's SIP host, the Call-Info's URI."""
    named = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return {
        "Call-Info": f"<sip:{named}>;answer-after=0",
        "Alert-Info": "<http://127.0.0.1>;info=alert-autoanswer",
    }


class HoldRefused(ValueError):
    """The call cannot be held (or resumed) now; the message says why."""


class OfferController:
    def __init__(self, voice: Voice, headers: dict[str, str] | None = None) -> None:
        self.voice = voice
        # Extra headers of the INVITE that rings an agent (`auto_answer_headers`).
        self.headers = dict(headers or {})

    async def on_offer(self, call: Call, event: dict[str, Any]) -> None:
        """The router offers the caller to an agent: ring the agent's phone."""
        if call.state != CallState.QUEUED:
            return
        call.ring_s = float(event.get("ring_s") or call.ring_s)
        call.state = CallState.OFFERED
        call.agent = AgentLeg(str(event["agent_id"]))
        call.timestamps["offered"] = self.voice.clock()
        await self.ring(call, str(event["sip_uri"]))

    async def ring(self, call: Call, uri: str) -> None:
        assert call.agent is not None
        try:
            leg = await self.voice.engine.call(uri, self.headers)
        except EngineError as error:
            log.warning("calling agent %s at %s failed: %s", call.agent_id, uri, error)
            call.state = CallState.QUEUED
            await self._decline(call, OFFER_ENDED["unreachable"])
            return
        call.agent.leg = leg
        self.voice.table.add(leg, call, Role.AGENT)

    async def revoke(self, call: Call, agent_id: str) -> None:
        """The router took the offer back (ring timeout): stop the agent's phone ringing."""
        agent = call.agent
        if agent is None or agent.agent_id != agent_id or agent.answered:
            return
        agent.revoked = True
        await self.voice.hangup(agent.leg, 487)

    async def agent_answered(self, call: Call, leg: int) -> None:
        voice = self.voice
        agent = call.agent
        if agent is None or agent.leg != leg or agent.revoked or call.state == CallState.ENDED:
            await voice.hangup(leg)
            return
        agent.picked_up = True
        try:
            await voice.routing.accept(call.contact_id, agent.agent_id)
        except ROUTING_REFUSALS as error:
            log.info("accept of %s refused (%s): dropping the agent leg", call.contact_id, error)
            agent.revoked = True
            await voice.hangup(leg)
            return
        agent.answered = True
        if agent.leg is None and call.state == CallState.QUEUED and not call.calling_back:
            # The agent hung up while the router accepted (a decline then finds the contact
            # connected): the conversation is over before it began; end it as a hang-up.
            self._stop_script(call)
            call.state = CallState.TALKING
            await self.agent_left(call)
            return
        call.state = CallState.TALKING
        call.timestamps["answered"] = voice.clock()
        if call.calling_back:
            await voice.callback.dial_customer(call)
            return
        # A called-back customer already on the line (transferred, offered again) is
        # bridged like any caller (dialling them again left the call they were on
        # without a contact).
        self._stop_script(call)  # no announcement over the agent's voice
        await self.connect(call)

    async def connect(self, call: Call) -> None:
        """Caller and agent hear each other; recording and monitors follow the agent."""
        if call.agent_leg is None:
            return
        try:
            await self.voice.engine.bridge(call.leg, call.agent_leg)
        except EngineError as error:
            log.warning("bridging %s failed: %s", call.contact_id, error)
            return
        await self.voice.recording.follow(call)
        await self.voice.monitor.follow(call)

    async def agent_holds(self, call: Call, leg: int, held: bool) -> None:
        """The agent's phone put the caller on hold (its Hold key): the caller hears the
        center's music, not whatever the phone sends, until the phone resumes."""
        if call.agent is None or call.agent_leg != leg:
            return
        call.agent.phone_holds = held  # known whatever the call does (a consult...)
        if call.state != CallState.TALKING:
            return
        try:
            await self._hold(call, held, private=False)
        except EngineError as error:  # a leg went meanwhile
            log.debug("hold of %s: %s", call.contact_id, error)

    async def desk_holds(self, call: Call, held: bool) -> None:
        """The agent holds the caller from the desktop (or resumes): the caller hears the
        center's music and the agent's phone, still up, no longer hears the caller. A
        hold the phone made (its Hold key) is ended on the phone, not here."""
        if call.state != CallState.TALKING or call.agent is None or call.agent_leg is None:
            raise HoldRefused(f"the call is {call.state}, not talking")
        if not held and call.agent.phone_holds:
            # Bridged again, the caller would hear the phone's silence while the desk and
            # the record said the hold was over: only the phone can end its own hold.
            raise HoldRefused("the call is on hold on your phone: take it off hold there")
        if not held and call.held_since is None:
            # No hold to end (one that ended with a transfer of the held leg, say): a
            # 200 would tell the desk of a hold the record does not have.
            raise HoldRefused("the call is not on hold")
        try:
            await self._hold(call, held, private=True)
        except EngineError as error:
            raise HoldRefused(f"the call cannot be held: {error}") from error

    async def _hold(self, call: Call, held: bool, private: bool) -> None:
        """Music to the caller instead of the agent (or the two bridged again), and the
        hold shown on the contact, then on its record when it ends."""
        assert call.agent_leg is not None
        await self.voice.engine.hold_music(call.leg, call.agent_leg, held, private)
        log.info("%s %s by agent %s", call.contact_id, "held" if held else "resumed", call.agent_id)
        if not held:
            await self.end_hold(call)
        elif call.held_since is None:
            call.held_since = self.voice.clock()
            try:
                await self.voice.routing.note_hold_started(call.contact_id, call.held_since)
            except ROUTING_REFUSALS as error:
                log.warning("hold of %s not shown: %s", call.contact_id, error)

    async def end_hold(self, call: Call, agent_id: str | None = None) -> None:
        """The one place a hold ends: resumed, the call ended on hold, or the held agent's
        leg left the call (a transfer; `agent_id` is then that agent, the call's own by
        default). It goes on the contact's record, with how long the caller heard music
        and who held, and the contact no longer shows it; a hold not ended here ran on
        through the queue and the next agent's talk."""
        if call.held_since is None:
            return
        started, call.held_since = call.held_since, None
        agent = call.agent_id if agent_id is None else agent_id
        hold = {"at_ms": started, "held_ms": self.voice.clock() - started, "agent": agent}
        try:
            await self.voice.routing.note_hold(call.contact_id, hold)
        except ROUTING_REFUSALS as error:
            log.warning("hold of %s not noted: %s", call.contact_id, error)

    async def agent_gone(self, call: Call, leg: int, code: int) -> None:
        agent = call.agent
        if agent is None or agent.leg != leg:
            return
        agent.leg = None
        if call.state == CallState.TALKING and call.calling_back:
            # The agent gave up while the customer's phone rang: an attempt not answered,
            # as when it rings out (the customer's leg ending decides: `caller_gone`).
            await self.voice.hangup(call.leg, 487)
        elif call.state == CallState.TALKING:
            await self.agent_left(call)
        elif call.state == CallState.HELD:
            await self.voice.transfer.agent_left(call)
        elif call.state == CallState.OFFERED:
            call.state = CallState.QUEUED
            if not agent.revoked:
                if code in CANNOT_TAKE:
                    log.warning(
                        "the phone of agent %s cannot take %s: it answered %d at once "
                        "(its codecs, extensions or authentication need setting up)",
                        call.agent_id,
                        call.contact_id,
                        code,
                    )
                await self._decline(call, OFFER_ENDED[unanswered(code)])
            if call.calling_back:
                self.voice.released(call)
            else:
                self.voice.waiting.resume(call)

    async def _decline(self, call: Call, reason: str) -> None:
        try:
            await self.voice.routing.decline(call.contact_id, call.agent_id, reason=reason)
        except ROUTING_REFUSALS as error:  # revoked or moved on meanwhile
            log.info("decline of %s by %s: %s", call.contact_id, call.agent_id, error)

    async def agent_left(self, call: Call) -> None:
        """The agent hung up a connected call: complete it, then survey or end the call."""
        voice = self.voice
        voice.prompter.drain(call)  # keys pressed from now on answer the survey
        if await self.finish(call) and voice.survey.offered(call):
            call.state = CallState.SURVEY
            call.script = voice.spawn(voice.survey.run(call))
        else:
            await voice.hangup(call.leg)

    async def caller_gone(self, call: Call, code: int = 0) -> None:
        """The caller's leg ended (`code`: pjsua's last status of it, see `_caller_left`):
        the outcome depends on where they were and why it ended."""
        voice = self.voice
        if not call.callback:
            self._stop_script(call)
        state, call.state = call.state, CallState.ENDED
        call.timestamps.setdefault("ended", voice.clock())
        if state == CallState.IVR:
            voice.ivr.caller_gone(call)  # no contact yet: the IVR's outcome says where
            return
        # The caller's leaving ends a recording whatever the call was doing: queued or
        # ringing again after a transfer, held, called back (a completion ended it first).
        await voice.recording.stop(call)
        if state == CallState.SURVEY:
            # The contact was completed when the agent left; leaving the survey rates nothing.
            self._stop_script(call)
            return
        await voice.monitor.end_all(call)
        if state == CallState.EXTERNAL:
            await voice.hangup(call.outside_leg)  # the contact was closed at the transfer
        elif state in WAITING:
            await voice.hangup(call.agent_leg, 487)
            reason = _caller_left(code)
            if reason == "caller_hangup":
                await self._outcome(call, "abandoned", voice.routing.abandon, reason)
            else:
                log.info("call of %s ended by the node: %s (%d)", call.contact_id, reason, code)
                await self._outcome(call, "failed", voice.routing.fail, reason)
        elif state == CallState.TALKING and call.calling_back:
            # A called-back customer who did not pick up: the agent is released.
            await voice.hangup(call.agent_leg)
            await self._callback_unanswered(call)
        elif state in (CallState.TALKING, CallState.HELD):
            await voice.transfer.drop(call)
            await self.finish(call)
            await voice.hangup(call.agent_leg)

    async def _callback_unanswered(self, call: Call) -> None:
        """The router decides: another attempt later (the contact waits on, any worker
        may call again: no outcome here) or, with none left, `failed`."""
        voice = self.voice
        try:
            contact = await voice.routing.callback_unanswered(call.contact_id)
        except ROUTING_REFUSALS as error:  # already ended elsewhere (a node taking over)
            log.warning("unanswered callback of %s not recorded: %s", call.contact_id, error)
            voice.closed(call, "failed")
            return
        if contact.state == ContactState.QUEUED:
            log.info("callback of %s unanswered: tried again later", call.contact_id)
            voice.released(call)
        else:
            voice.closed(call, "failed")

    async def _outcome(self, call: Call, outcome: str, record: Any, reason: str) -> None:
        try:
            await record(call.contact_id, reason=reason)
        except ROUTING_REFUSALS as error:  # already ended elsewhere (a node taking over)
            log.warning("%s of %s not recorded: %s", outcome, call.contact_id, error)
        self.voice.closed(call, outcome)

    async def finish(self, call: Call) -> bool:
        """Complete the contact (its agent goes to wrap-up); False when it is not ours or
        the router refused."""
        voice = self.voice
        if voice.table.by_contact.get(call.contact_id) is not call:
            return False
        await voice.recording.stop(call)
        await self.end_hold(call)
        if call.state != CallState.SURVEY:
            call.state = CallState.ENDED
        call.timestamps.setdefault("ended", voice.clock())
        try:
            await voice.routing.complete(call.contact_id, call.agent_id)
        except ROUTING_REFUSALS as error:
            log.warning("completion of %s not recorded: %s", call.contact_id, error)
            voice.closed(call, "completed")
            return False
        voice.closed(call, "completed")
        return True

    @staticmethod
    def _stop_script(call: Call) -> None:
        if call.script is not None:
            call.script.cancel()


def _caller_left(code: int) -> str:
    """Why a waiting caller's leg ended, by pjsua's last status of it: the caller's BYE
    (2xx, "Normal call clearing") is their choice, `caller_hangup` (an abandon); a 408 is
    the node ending a call whose session timer ran out (RFC 4028: the caller sent no
    refresh, or answered none of ours), `session_expired`; any other error is a call the
    node lost (a refresh answered 481, a transport failure), `call_lost`. Those two are no
    choice of the customer's: the contact fails, and is not counted as abandoned."""
    if code < 300:
        return "caller_hangup"
    return "session_expired" if code == 408 else "call_lost"


def unanswered(code: int) -> str:
    """Why a call the worker placed ended unanswered, by its last SIP status: `busy`,
    `declined`, `unreachable` (nobody there to ring, or a phone that cannot take the
    call) or `no_answer` (see BUSY...)."""
    if code in BUSY:
        return "busy"
    if code in DECLINED:
        return "declined"
    if code in UNREACHABLE or code in CANNOT_TAKE or code >= 500:
        return "unreachable"
    return "no_answer"
