"""The IVR as a plain state machine: digits and timeouts in, actions out.

No audio and no SIP here: the worker plays the `Play` actions, starts the timer of a
`WaitDigit` once the prompts have been played, and feeds back `digit()` and
`timeout()`. That keeps every menu rule (re-prompt, default route after N tries,
business hours, emergency around the clock) testable without a call.

How the menus speak follows the caller's locale profile (`IvrStyle`, from i18n's
profiles in config/locales.toml): formality picks the greeting, verbosity a fuller menu
(an introduction, and "press star to hear these options again") or the shortest one, and
numbers and times are said the local way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from telephony.model import Action, Hangup, IvrFlow, Play, Prompt, Reason, Route, WaitDigit

REPEAT = "*"  # repeats the current menu (the fuller menus say so)
END = "#"  # ends a choice of several keys at once ("1", "#": option 1 of a menu of 20)
# After a key that could begin a longer option ("1" in a menu of 20), how long the next
# key may take before the keys so far are the choice (IVRs' usual inter-digit timeout).
INTER_DIGIT_S = 2.0


def _hh_mm(moment: datetime) -> str:
    return moment.strftime("%H:%M")


@dataclass(frozen=True)
class IvrStyle:
    """How the IVR speaks one language in one region."""

    greeting: str = "welcome"  # the catalog key: "welcome" (formal) or "welcome_informal"
    verbose: bool = False  # fuller menus: an introduction and the repeat hint
    number: Callable[[int], str] = field(default=str, compare=False)  # 1234 -> "1.234" (de)
    # A time as it is said ("8 in the morning", "8 Uhr": telephony.style.spoken_time).
    clock: Callable[[datetime], str] = field(default=_hh_mm, compare=False)


Styles = Callable[[str], IvrStyle]  # language -> its style in the flow's region


class Step(StrEnum):
    LANGUAGE = "language"
    REASON = "reason"
    DONE = "done"


class Stage(StrEnum):
    """Where a caller is in the IVR, as its outcome record names it (docs/telephony.md,
    "IVR outcomes"): what a caller who hangs up there left."""

    ANSWER = "answer"  # answered, the ACK or the audio not there yet: no prompt heard
    LANGUAGE = "language"  # the greeting and the language menu
    REASON = "reason"  # the reason menu (after the closed-hours message when closed)
    CLOSED_MESSAGE = "closed_message"  # "we are closed", then the IVR hangs up
    ROUTING = "routing"  # the IVR chose a queue: the contact is being made


def _could_grow(entered: str, options: int) -> bool:
    """Whether more keys after `entered` could still name one of options 1..`options`
    ("1" of 20 may become 10-19; "3" of 20, or any key of a menu of 9, cannot)."""
    return entered.isdigit() and not entered.startswith("0") and int(entered) * 10 <= options


def flow_for(flows: list[IvrFlow], dialled: str) -> IvrFlow | None:
    """The flow of the dialled number, else the catch-all `*` flow."""
    for flow in flows:
        if flow.number == dialled:
            return flow
    return next((flow for flow in flows if flow.number == "*"), None)


class IvrSession:
    """One caller's way through the menus of one flow."""

    def __init__(
        self,
        flow: IvrFlow,
        guessed: list[str],
        now: datetime,
        styles: Styles = lambda language: IvrStyle(),
    ) -> None:
        self.flow = flow
        self.styles = styles
        self.now = now
        supported = [lang for lang in guessed if lang in flow.languages]
        self.language = supported[0] if supported else flow.default_language
        self.open = flow.hours.is_open(now)
        self.reasons: tuple[Reason, ...] = (
            flow.reasons if self.open else tuple(r for r in flow.reasons if r.emergency)
        )
        self.step = Step.LANGUAGE
        self.tries = 0
        self.entered = ""  # the keys of a language choice still being typed ("1" of "12")
        self.outcome: Route | Hangup | None = None

    @property
    def stage(self) -> Stage:
        """The stage the caller is in now (the menus' step, or what the IVR decided)."""
        if isinstance(self.outcome, Hangup):
            return Stage.CLOSED_MESSAGE
        if isinstance(self.outcome, Route):
            return Stage.ROUTING
        return Stage.LANGUAGE if self.step == Step.LANGUAGE else Stage.REASON

    # -- inputs
    @property
    def style(self) -> IvrStyle:
        return self.styles(self.language)

    def start(self) -> list[Action]:
        greeting = Prompt(self.style.greeting, self.language)
        if not self.open and not self.reasons:
            return self._finish(Hangup("closed"), (greeting, *self._closed()))
        if len(self.flow.languages) > 1:
            self.step = Step.LANGUAGE
            return self._menu((greeting, *self._language_menu()))
        self.step = Step.REASON
        return self._reason_menu_first((greeting,))

    def digit(self, digit: str) -> list[Action]:
        if self.step == Step.LANGUAGE:
            return self._language_key(digit)
        if self.step == Step.REASON:
            reason = next((r for r in self.reasons if r.digit == digit), None)
            if reason is not None:
                return self._finish(self._route(reason), ())
            if digit == REPEAT and not any(r.digit == REPEAT for r in self.reasons):
                return self._menu(self._reason_menu())  # asked for: not a wrong try
            return self._retry()
        return []

    def timeout(self) -> list[Action]:
        if self.step == Step.DONE:
            return []
        if self.entered:  # the inter-digit wait ran out: the keys so far are the choice
            return self._choose_language(self.entered)
        if self.step == Step.LANGUAGE and self.tries == 0:
            # Not one key since the call began (a key here chose a language, is still
            # `entered`, or was wrong and counted a try): the caller likely cannot send
            # digits (a phone or trunk without DTMF), and each round of a long language
            # menu is half a minute more of waiting. The guessed language after one silent
            # round; wrong keys still get `max_tries`.
            return self._give_up(said=(Prompt("ivr.no_input", self.language),))
        return self._retry(heard_nothing=True)

    # -- the language menu: options 1..N, two keys from option 10 on
    def _language_key(self, key: str) -> list[Action]:
        """A key of the language choice. Keys that could begin a longer option ("1" in a
        menu of 12) wait `INTER_DIGIT_S` for the next; '#' ends them at once; a choice
        that cannot grow is taken at once, so menus of up to 9 need one key, as ever."""
        if key == END and self.entered:
            return self._choose_language(self.entered)
        entered = self.entered + key
        if _could_grow(entered, len(self.flow.languages)):
            self.entered = entered
            return [WaitDigit(INTER_DIGIT_S)]
        return self._choose_language(entered)

    def _choose_language(self, entered: str) -> list[Action]:
        self.entered = ""
        index = int(entered) - 1 if entered.isdigit() else -1
        if 0 <= index < len(self.flow.languages):
            self.language = self.flow.languages[index]
            self.step = Step.REASON
            self.tries = 0
            return self._reason_menu_first(())
        return self._retry()

    # -- helpers
    def _language_menu(self) -> tuple[Prompt, ...]:
        return tuple(
            Prompt("ivr.language_option", language, (("digit", str(index)),))
            for index, language in enumerate(self.flow.languages, start=1)
        )

    def _reason_menu(self) -> tuple[Prompt, ...]:
        """The options; a verbose style opens with "please choose the reason for your call"
        and ends with how to hear them again, a brief one says the options alone."""
        options = tuple(
            Prompt(
                "ivr.reason_option",
                self.language,
                (("digit", reason.digit), ("reason", reason.name)),
            )
            for reason in self.reasons
        )
        if not self.style.verbose:
            return options
        intro, hint = (
            Prompt("choose_reason", self.language),
            Prompt("menu_repeat_hint", self.language),
        )
        return (intro, *options, hint)

    def _closed(self) -> tuple[Prompt, ...]:
        """ "We are closed", and when we open again, said as the caller's locale says it
        (hours that never open, an equal open and close time, have no "we open at")."""
        closed = Prompt("ivr.closed", self.language)
        opens = self.flow.hours.next_opening(self.now)
        if opens <= self.now:
            return (closed,)
        at = (("time", self.style.clock(opens)),)
        return (closed, Prompt("ivr.opens_at", self.language, at))

    def _reason_menu_first(self, before: tuple[Prompt, ...]) -> list[Action]:
        if not self.open:
            before = (*before, *self._closed())
        return self._menu((*before, *self._reason_menu()))

    def _menu(self, prompts: tuple[Prompt, ...]) -> list[Action]:
        return [Play(prompts, collect=True), WaitDigit(self.flow.digit_timeout_s)]

    def _retry(self, heard_nothing: bool = False) -> list[Action]:
        """A wrong try: "not a valid choice", or "we did not hear a choice" when the
        caller pressed nothing (being told a choice was wrong when none was made misleads),
        then the menu again; after `max_tries`, give up."""
        self.entered = ""
        self.tries += 1
        if self.tries >= self.flow.max_tries:
            return self._give_up()
        menu = self._language_menu() if self.step == Step.LANGUAGE else self._reason_menu()
        said = "ivr.no_input" if heard_nothing else "ivr.invalid"
        return self._menu((Prompt(said, self.language), *menu))

    def _give_up(self, said: tuple[Prompt, ...] = ()) -> list[Action]:
        if self.step == Step.LANGUAGE:
            # Keep the guessed language and move on to the reasons.
            self.step = Step.REASON
            self.tries = 0
            return self._reason_menu_first(said)
        if not self.open:
            return self._finish(Hangup("closed"), self._closed())
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
