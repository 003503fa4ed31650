"""Post-contact surveys: a 1-5 rating after a call (DTMF) or a chat (HTTP).

A rating joins its contact through `router.reports.service.Reports.rate`: the
contact's record was already appended when the contact ended, so ratings are kept
beside the records and joined when a report is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from switchboard.common.configfile import ConfigReader

SCORES = range(1, 6)


@dataclass(frozen=True)
class SurveyConfig:
    """Per queue: whether callers are offered the survey, and in which languages."""

    queue: str
    voice: bool = False
    chat: bool = True
    languages: tuple[str, ...] = ()  # empty: every language with a prompt catalog

    def offered(self, channel: str, language: str) -> bool:
        enabled = self.voice if channel == "voice" else self.chat
        return enabled and (not self.languages or language in self.languages)


def rating_from_dtmf(digits: str) -> int | None:
    """The caller's key press as a score; anything but one digit 1-5 is no rating."""
    digits = digits.strip().rstrip("#")
    if len(digits) == 1 and digits.isdigit() and int(digits) in SCORES:
        return int(digits)
    return None


@dataclass(frozen=True)
class SurveyTurn:
    """What the call does next: play these catalog prompts in the caller's language, then
    wait `wait_digit_s` for one key, or (None) end the call. `rating` once there is one."""

    prompts: tuple[str, ...]
    wait_digit_s: float | None
    rating: int | None = None

    @property
    def done(self) -> bool:
        return self.wait_digit_s is None


class SurveySession:
    """The post-call survey as a plain state machine, like the IVR: keys in, turns out.

    Asked once after the agent leaves; a wrong key re-asks up to `max_tries`; silence
    or too many wrong keys end it without a rating. Prompt keys: survey.question,
    survey.invalid, survey.thanks, survey.goodbye (i18n catalogs hold their text).
    """

    def __init__(self, language: str, max_tries: int = 2, digit_timeout_s: float = 6.0) -> None:
        self.language = language
        self.max_tries = max_tries
        self.digit_timeout_s = digit_timeout_s
        self.tries = 0
        self.rating: int | None = None
        self.finished = False

    def start(self) -> SurveyTurn:
        return SurveyTurn(("survey.question",), self.digit_timeout_s)

    def digit(self, digits: str) -> SurveyTurn:
        if self.finished:
            return SurveyTurn((), None, self.rating)
        score = rating_from_dtmf(digits)
        if score is not None:
            self.rating, self.finished = score, True
            return SurveyTurn(("survey.thanks",), None, score)
        self.tries += 1
        if self.tries >= self.max_tries:
            return self._end()
        return SurveyTurn(("survey.invalid", "survey.question"), self.digit_timeout_s)

    def timeout(self) -> SurveyTurn:
        return self._end() if not self.finished else SurveyTurn((), None, self.rating)

    def _end(self) -> SurveyTurn:
        self.finished = True
        return SurveyTurn(("survey.goodbye",), None)


def check_score(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value in SCORES:
        return value
    return None


def read_surveys(reader: ConfigReader, queues: Sequence[str]) -> dict[str, SurveyConfig]:
    """`[[surveys]]` tables: `queue`, `voice`, `chat`, `languages`; faults go to the reader.

    Queues without a table offer the chat rating only (a voice survey keeps the caller
    on the line, so it is opt-in per queue).
    """
    configs = {name: SurveyConfig(name) for name in queues}
    for section in reader.sections("surveys"):
        queue = section.string("queue")
        # Every key is read, a table of an unknown queue's too: its other faults are
        # found in the same pass, and its keys are not taken for unknown ones.
        survey = SurveyConfig(
            queue=queue or "",
            voice=section.boolean("voice", False),
            chat=section.boolean("chat", True),
            languages=tuple(section.strings("languages", []) or ()),
        )
        if queue is not None and queue not in queues:
            section.fault("queue", f"one of {', '.join(queues)}", queue)
        elif queue is not None:
            configs[queue] = survey
    return configs
