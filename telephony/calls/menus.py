"""The IVR driver: runs a caller through `IvrSession` (the pure menus) on a real call,
and records the call's one IVR outcome (routed, hung up in a stage, closed, failed).

It also tells the node (`ivr_call` reports over the worker's pipe) that the call is in
the IVR and at which stage, so that the node's pool can record the outcome of a call
whose worker dies or is stopped before it has one (`failed`: `worker_lost`,
`node_stopped`; telephony/pool.py)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from telephony.calls.call import Call, CallState
from telephony.calls.voice import Voice
from telephony.ivr import IvrSession, Stage
from telephony.model import Action, Hangup, Play, Route, WaitDigit
from telephony.routing import ROUTING_REFUSALS

log = logging.getLogger(__name__)


def guess_languages(number: str, supported: list[str]) -> list[str]:
    """Languages likely spoken at this number, most likely first (i18n, from the number's
    country); an unparsable number gives none."""
    from i18n.language import guess_languages_for_number

    return list(guess_languages_for_number(number, supported))


class IvrController:
    def __init__(self, voice: Voice) -> None:
        self.voice = voice

    async def run(self, call: Call) -> None:
        """From the answered INVITE to a queued contact (or a hang-up). The menus wait
        for the caller's ACK as well as for audio: a caller whose CANCEL crossed our
        200 OK, and who never acknowledges it, is not taken through them into a queue
        for the 32 s pjsip retransmits the 200 OK before it hangs up."""
        voice = self.voice
        self._opened(call)
        await call.media.wait()
        await call.confirmed.wait()
        if call.flow is None:
            self.failed(call, "no_flow")
            await voice.hangup(call.leg, 404)
            return
        try:
            await self._menus(call)
        except Exception as error:  # a fault of ours: the call's outcome, then logged
            self.failed(call, "ivr_error", error)
            raise

    async def _menus(self, call: Call) -> None:
        assert call.flow is not None
        languages = list(call.flow.languages)
        # One language: nothing to guess. Else a few tens of µs (metadata loaded at start).
        guessed = guess_languages(call.caller, languages) if len(languages) > 1 else languages
        region = call.flow.region
        session = IvrSession(
            call.flow,
            guessed,
            datetime.now(UTC),
            styles=lambda language: self.voice.styles(region, language),
        )
        call.ivr = session
        call.language = session.language
        actions = session.start()
        told = self._tell(call, Stage.ANSWER)
        while actions:
            actions = await self._perform(call, session, actions)
            told = self._tell(call, told)

    async def _perform(
        self, call: Call, session: IvrSession, actions: list[Action]
    ) -> list[Action]:
        """Carry out actions in order until one needs the caller's answer; what follows."""
        prompter = self.voice.prompter
        for action in actions:
            if isinstance(action, Play):
                digit = await prompter.play(call, action.prompts, action.collect)
                if digit is not None:
                    return session.digit(digit)
            elif isinstance(action, WaitDigit):
                digit = await prompter.next_digit(call, action.timeout_s)
                return session.digit(digit) if digit else session.timeout()
            elif isinstance(action, Route):
                call.language = action.language
                await self._route(call, action)
                return []
            elif isinstance(action, Hangup):
                call.state = CallState.ENDED
                self._record(call, "closed", Stage.CLOSED_MESSAGE)  # heard it all
                await self.voice.hangup(call.leg, 200)
                return []
        return []

    async def _route(self, call: Call, route: Route) -> None:
        try:
            await self.voice.waiting.enqueue(call, route)
        except ROUTING_REFUSALS as error:
            # The router refused or cannot be reached: end the call rather than leave
            # it in silence (a contact already made is ended by the caller's hang-up).
            log.error("routing leg %d to %s failed: %s", call.leg, route.queue, error)
            if not call.contact_id:
                call.state = CallState.ENDED
                self.failed(call, "contact_refused", error)
                await self.voice.hangup(call.leg, 500)

    # -- what the node is told while the call is in the IVR
    def _opened(self, call: Call) -> None:
        """The call is in the IVR: the node's pool keeps what it needs to record the
        call's outcome should this worker be lost or stopped before it does."""
        if call.ivr_outcome:
            return
        self.voice.report(
            {"type": "ivr_call", "call": call.ivr_key, "stage": Stage.ANSWER.value}
            | self._known(call)
        )

    def _known(self, call: Call) -> dict[str, Any]:
        """What the call's IVR outcome says of it, known from its answer on: what the
        pool keeps (`_opened`) and what the outcome records (`_record`)."""
        return {
            "region": call.flow.region if call.flow is not None else "",
            "dialled": call.dialled,
            "language": call.language,
            "answered_at": call.timestamps.get("arrived") or self.voice.clock(),
        }

    def _tell(self, call: Call, told: Stage) -> Stage:
        """The caller's stage (and language, chosen in the language menu) when it moved
        on from `told`: the stage a lost call's outcome names. Nothing once the call has
        its outcome."""
        if call.ivr_outcome or call.ivr is None:
            return told
        stage = call.ivr.stage
        call.language = call.ivr.language
        if stage != told:
            self.voice.report(
                {
                    "type": "ivr_call",
                    "call": call.ivr_key,
                    "stage": stage.value,
                    "language": call.language,
                }
            )
        return stage

    # -- the call's one IVR outcome
    def stage(self, call: Call) -> Stage:
        """Where the caller is: answered, the menus not begun (no ACK or audio yet), or
        the session's stage."""
        return call.ivr.stage if call.ivr is not None else Stage.ANSWER

    def caller_gone(self, call: Call) -> None:
        """The caller hung up in the IVR. While the contact is being made the making
        decides (`WaitingController`): `routed` once made (the contact's own outcome is
        then `abandoned`), `failed` when refused; a call is never counted twice."""
        stage = self.stage(call)
        if stage != Stage.ROUTING:
            self._record(call, "hung_up", stage)

    def routed(self, call: Call) -> None:
        """The contact was made: the IVR's part of the call is done."""
        self._record(call, "routed", Stage.ROUTING)

    def failed(self, call: Call, reason: str, error: BaseException | None = None) -> None:
        if error is not None:
            log.info("IVR of leg %d failed (%s): %s", call.leg, reason, error)
        self._record(call, "failed", self.stage(call), reason)

    def _record(self, call: Call, outcome: str, stage: Stage, reason: str = "") -> None:
        """Record the call's IVR outcome, once: the first to come stands."""
        if call.ivr_outcome:
            return
        call.ivr_outcome = outcome
        voice = self.voice
        record: dict[str, Any] = {
            "outcome": outcome,
            "stage": stage.value,
            "reason": reason,
            "contact_id": call.contact_id if outcome == "routed" else "",
            "queue": call.queue,
            **self._known(call),
            "node": voice.node_id,
            "ended_at": voice.clock(),
            "call": call.ivr_key,
        }
        voice.spawn(self._note(record))

    async def _note(self, record: dict[str, Any]) -> None:
        try:
            await self.voice.routing.note_ivr_outcome(record)
        except ROUTING_REFUSALS as error:  # Redis or the node out of reach: said, not fatal
            log.warning("IVR outcome %s not recorded: %s", record["outcome"], error)
