"""The IVR as a plain state machine: digits and timeouts in, actions out.

No audio and no SIP here: the worker plays the `Play` actions, starts the timer of a
`WaitDigit` once the prompts have been played, and feeds back `digit()` and
`timeout()`. That keeps every menu rule (re-prompt, default route after N tries,
business hours, emergency around the clock) testable without a call.
"""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from telephony.model import Action, Hangup, Hours, IvrFlow, Play, Prompt, Reason, Route, WaitDigit


class Step(StrEnum):
    LANGUAGE = "language"
    REASON = "reason"
    DONE = "done"


def _clock(text: str) -> time:
    hours, minutes = (int(part) for part in text.split(":"))
    return time.max if hours == 24 else time(hours, minutes)


def is_open(hours: Hours, now: datetime) -> bool:
    """Whether `now` (aware) falls in the opening hours, in the hours' own time zone."""
    local = now.astimezone(ZoneInfo(hours.timezone)).time()
    start, end = _clock(hours.open), _clock(hours.close)
    if start <= end:
        return start <= local < end
    return local >= start or local < end  # open across midnight


def flow_for(flows: list[IvrFlow], dialled: str) -> IvrFlow | None:
    """The flow of the dialled number, else the catch-all `*` flow."""
    for flow in flows:
        if flow.number == dialled:
            return flow
    return next((flow for flow in flows if flow.number == "*"), None)


class IvrSession:
    """One caller's way through the menus of one flow."""

    def __init__(self, flow: IvrFlow, guessed: list[str], now: datetime) -> None:
        self.flow = flow
        supported = [lang for lang in guessed if lang in flow.languages]
        self.language = supported[0] if supported else flow.default_language
        self.open = is_open(flow.hours, now)
        self.reasons: tuple[Reason, ...] = (
            flow.reasons if self.open else tuple(r for r in flow.reasons if r.emergency)
        )
        self.step = Step.LANGUAGE
        self.tries = 0
        self.outcome: Route | Hangup | None = None

    # -- inputs
    def start(self) -> list[Action]:
        greeting = Prompt("ivr.greeting", self.language)
        if not self.open and not self.reasons:
            return self._finish(Hangup("closed"), (greeting, Prompt("ivr.closed", self.language)))
        if len(self.flow.languages) > 1:
            self.step = Step.LANGUAGE
            return self._menu((greeting, *self._language_menu()))
        self.step = Step.REASON
        return self._reason_menu_first((greeting,))

    def digit(self, digit: str) -> list[Action]:
        if self.step == Step.LANGUAGE:
            index = int(digit) - 1 if digit.isdigit() else -1
            if 0 <= index < len(self.flow.languages):
                self.language = self.flow.languages[index]
                self.step = Step.REASON
                self.tries = 0
                return self._reason_menu_first(())
            return self._retry()
        if self.step == Step.REASON:
            reason = next((r for r in self.reasons if r.digit == digit), None)
            if reason is not None:
                return self._finish(self._route(reason), ())
            return self._retry()
        return []

    def timeout(self) -> list[Action]:
        if self.step == Step.DONE:
            return []
        return self._retry()

    # -- helpers
    def _language_menu(self) -> tuple[Prompt, ...]:
        return tuple(
            Prompt("ivr.language_option", language, (("digit", str(index)),))
            for index, language in enumerate(self.flow.languages, start=1)
        )

    def _reason_menu(self) -> tuple[Prompt, ...]:
        return tuple(
            Prompt(
                "ivr.reason_option",
                self.language,
                (("digit", reason.digit), ("reason", reason.name)),
            )
            for reason in self.reasons
        )

    def _reason_menu_first(self, before: tuple[Prompt, ...]) -> list[Action]:
        if not self.open:
            before = (*before, Prompt("ivr.closed", self.language))
        return self._menu((*before, *self._reason_menu()))

    def _menu(self, prompts: tuple[Prompt, ...]) -> list[Action]:
        return [Play(prompts, collect=True), WaitDigit(self.flow.digit_timeout_s)]

    def _retry(self) -> list[Action]:
        self.tries += 1
        if self.tries >= self.flow.max_tries:
            return self._give_up()
        menu = self._language_menu() if self.step == Step.LANGUAGE else self._reason_menu()
        return self._menu((Prompt("ivr.invalid", self.language), *menu))

    def _give_up(self) -> list[Action]:
        if self.step == Step.LANGUAGE:
            # Keep the guessed language and move on to the reasons.
            self.step = Step.REASON
            self.tries = 0
            return self._reason_menu_first(())
        if not self.open:
            return self._finish(Hangup("closed"), (Prompt("ivr.closed", self.language),))
        default = Route(
            queue=self.flow.default_queue,
            skill="",
            language=self.language,
            priority=0,
            reason="default",
            defaulted=True,
        )
        return self._finish(default, ())

    def _route(self, reason: Reason) -> Route:
        return Route(
            queue=reason.queue,
            skill=reason.skill,
            language=self.language,
            priority=reason.priority,
            reason=reason.name,
            emergency=reason.emergency,
        )

    def _finish(self, outcome: Route | Hangup, prompts: tuple[Prompt, ...]) -> list[Action]:
        self.step = Step.DONE
        self.outcome = outcome
        actions: list[Action] = [Play(prompts)] if prompts else []
        actions.append(outcome)
        return actions
