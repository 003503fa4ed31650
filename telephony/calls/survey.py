"""The post-call DTMF survey: after the agent hangs up, the caller rates the call 1-5."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from router.model import Channel
from router.reports.survey import SurveyConfig, SurveySession, SurveyTurn
from telephony.calls.call import Call, CallState, Role
from telephony.calls.voice import Voice
from telephony.model import Prompt
from telephony.routing import ROUTING_REFUSALS, RatingPort

log = logging.getLogger(__name__)

# A called-back customer has no IVR flow to take the digit timeout from.
DEFAULT_DIGIT_TIMEOUT_S = 6.0


class SurveyController:
    def __init__(
        self, voice: Voice, surveys: Mapping[str, SurveyConfig], ratings: RatingPort | None
    ) -> None:
        self.voice = voice
        # Post-call survey per queue (`[[surveys]]` with voice = true); none without a store.
        self.surveys = dict(surveys) if ratings is not None else {}
        self.ratings = ratings

    def offered(self, call: Call) -> bool:
        """After the agent hung up: is this caller, still on the line, asked to rate?"""
        survey = self.surveys.get(call.queue)
        entry = self.voice.table.get(call.leg)
        return (
            survey is not None
            and survey.offered("voice", call.language)
            and entry is not None
            and entry[1] == Role.CALLER
            and call.customer_answered
            and bool(call.contact_id)
        )

    async def run(self, call: Call) -> None:
        """Question, one key 1-5 (re-asked after a wrong key), thanks, hang-up.

        The contact is already `completed`; the rating joins it through the rating store.
        Silence or a hang-up leaves it unrated. Timeout and tries follow the call's flow.
        """
        timeout_s = call.flow.digit_timeout_s if call.flow is not None else DEFAULT_DIGIT_TIMEOUT_S
        session = SurveySession(call.language, digit_timeout_s=timeout_s)
        call.survey = session
        prompter = self.voice.prompter
        turn = session.start()
        try:
            while True:
                digit = await prompter.play(call, self._prompts(call, turn), not turn.done)
                if turn.done:
                    break
                if digit is None:
                    digit = await prompter.next_digit(call, turn.wait_digit_s or timeout_s)
                turn = session.digit(digit) if digit else session.timeout()
                if turn.rating is not None:
                    await self._store(call, turn.rating)
        finally:
            if call.state == CallState.SURVEY:
                call.state = CallState.ENDED
                await self.voice.hangup(call.leg)

    @staticmethod
    def _prompts(call: Call, turn: SurveyTurn) -> tuple[Prompt, ...]:
        return tuple(Prompt(key, call.language) for key in turn.prompts)

    async def _store(self, call: Call, score: int) -> None:
        assert self.ratings is not None
        try:
            stored = await self.ratings.add(call.contact_id, score, Channel.VOICE.value)
        except ROUTING_REFUSALS as error:  # the caller still hears thanks; the node logs why
            log.warning("rating %d of %s not stored: %s", score, call.contact_id, error)
            return
        self.voice.report(
            {"type": "rating", "contact_id": call.contact_id, "score": score, "stored": stored}
        )
