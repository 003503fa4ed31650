"""The IVR driver: runs a caller through `IvrSession` (the pure menus) on a real call."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from telephony.calls.call import Call, CallState
from telephony.calls.voice import Voice
from telephony.ivr import IvrSession
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
        await call.media.wait()
        await call.confirmed.wait()
        if call.flow is None:
            await voice.hangup(call.leg, 404)
            return
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
        while actions:
            actions = await self._perform(call, session, actions)

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
                await self.voice.hangup(call.leg, 500)
