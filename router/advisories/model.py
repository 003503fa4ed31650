"""Advisories as plain data: what was declared, for whom, and what it asked of staffing;
and which of its messages a reader of a language tag reads (`Readers`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from switchboard.common.languages import primary


def N_(message: str) -> str:
    """Marks a customer text for the `advisories` gettext catalogs (babel extracts the
    keyword `N_` from this file, docs/i18n.md); returns it unchanged."""
    return message


FALLBACK_LANGUAGE = "en"
UNKNOWN_LANGUAGE = "und"  # BCP 47's "undetermined": a passenger with no contact yet
# The webhook events an advisory writes: its warning, and its all clear when ended early.
WARNING = "customer.advisory"
ALL_CLEAR = "customer.advisory_ended"
# The all clear's text for the languages the one ending it gives none in: the msgid of
# the `advisories` catalogs (i18n/locales/<lang>/LC_MESSAGES/advisories.po), one per
# language of the customer pages; "{title}" is the advisory's title as written.
TITLE = "{title}"
# i18n: sent by SMS and posted in the chat; keep {title}, the advisory's title as written
ALL_CLEAR_TEXT = N_('Update: the notice "{title}" has been withdrawn; it no longer applies.')

# The entry of the tags on offer for a reader of a tag (`i18n.language.match_language`),
# text written in one tag as a reader of another reads it (`i18n.chinese.for_reader`:
# Simplified and Traditional Chinese), and the tag of what a reader of a spoken language
# reads (`i18n.pages.reading_tag`: Cantonese reads written Chinese, `yue-HK` `zh-Hant-HK`).
# The node passes i18n's: routing does not import it.
Match = Callable[[str, Sequence[str]], str | None]
Convert = Callable[[str, str, str], str]
Reads = Callable[[str], str]


@dataclass(frozen=True)
class Reading:
    """The message a reader gets of texts given per language tag."""

    given: str  # the tag of the message chosen, as given
    language: str  # the tag `text` is written in: the reader's when converted to their script
    text: str
    fallback: bool  # none in the reader's language: English, else the first given


@dataclass(frozen=True)
class Readers:
    """Which of an advisory's messages each reader gets: one rule for the webhook's
    warning and the chat's notice, so both say the same."""

    match: Match
    convert: Convert
    reads: Reads

    def reading(self, messages: Mapping[str, str], tag: str) -> Reading:
        """What a reader of `tag` (`""`: not known) reads of `messages` (tag -> text): the
        message `match` picks (their own tag, else their language in their script, else
        their language: `pt-PT` reads `pt-BR`, `zh-TW` reads `zh`), else the one for what
        they read (`reads`: a `yue-HK` passenger reads `zh`, `zh-HK` or `zh-Hant`), else
        English, else the first given; written in the reader's script (Simplified Chinese
        reaches a `zh-TW` or a `yue-HK` reader in Traditional characters, and the other
        way), the text's tag then what they read (`zh-TW`, `zh-Hant-HK`)."""
        tags = list(messages)
        reads = self.reads(tag) if tag else ""
        given = (self.match(tag, tags) or self.match(reads, tags)) if tag else None
        fallback = given is None
        if given is None:
            given = self.match(FALLBACK_LANGUAGE, tags) or tags[0]
        text = self.convert(messages[given], given, reads) if tag else messages[given]
        return Reading(given, reads if text != messages[given] else given, text, fallback)


@dataclass(frozen=True)
class AllClear:
    """An advisory's all clear: the texts given when ending it (language tag -> text),
    and the catalog's default (`ALL_CLEAR_TEXT` translated, `TITLE` to fill) for every
    language they give none in. A language given wins for all its tags: `pt-BR` given,
    a `pt-PT` reader reads it rather than the catalog's `pt`."""

    given: Mapping[str, str]
    defaults: Mapping[str, str]  # tag -> the catalog's text, `TITLE` not filled yet
    title: str

    @classmethod
    def of(
        cls, given: Mapping[str, str] | None, catalog: Mapping[str, str], title: str
    ) -> AllClear:
        """`given` (possibly none), then `catalog`'s texts of the languages it lacks."""
        languages = {primary(tag) for tag in given or {}}
        defaults = {tag: text for tag, text in catalog.items() if primary(tag) not in languages}
        return cls(dict(given or {}), defaults, title)

    @property
    def texts(self) -> dict[str, str]:
        """Every text, as sent: the given ones, then the catalog's with the title."""
        filled = {tag: self._filled(text) for tag, text in self.defaults.items()}
        return {**self.given, **filled}

    def reading(self, readers: Readers, tag: str) -> Reading:
        """What a reader of `tag` reads, by the warning's rule (`Readers.reading`). A
        catalog text is converted to the reader's script before the title is put in, so
        the title reaches them as the supervisor wrote it."""
        read = readers.reading({**self.given, **self.defaults}, tag)
        if read.given in self.given:
            return read
        return replace(read, text=self._filled(read.text))

    def _filled(self, text: str) -> str:
        # `replace`, not `format`: a stray brace in a translation cannot fail the end
        return text.replace(TITLE, self.title)


@dataclass(frozen=True)
class Fallback:
    """Passengers of one language tag the messages do not speak, and what they got."""

    sent: str  # the tag of the message they were sent
    passengers: int


@dataclass(frozen=True)
class Outcomes:
    """How one webhook's deliveries of an advisory's events of one type ended: delivered,
    or dead-lettered (failed; one redelivered later moves to delivered)."""

    delivered: int = 0
    failed: int = 0


@dataclass(frozen=True)
class Staffing:
    """Agents the queue needs at the expected contact rate (Erlang C, the queue's
    service-level target) against those signed in with its skill when declared."""

    expected_contacts_per_hour: float
    handle_s: float  # the average handle time the figure assumed
    agents_needed: int
    agents_signed_in: int
    by_ms: int  # the advisory's start: when they are needed

    @property
    def agents_to_move(self) -> int:
        return max(0, self.agents_needed - self.agents_signed_in)


@dataclass(frozen=True)
class AdvisoryRequest:
    """What a supervisor (or the airline's ops system) declares."""

    queue: str
    title: str
    customers: tuple[str, ...]
    messages: dict[str, str]  # language -> text, at least one
    until_ms: int
    starts_ms: int | None = None  # None: now
    priority_boost: int = 2
    expected_contacts_per_hour: float | None = None


@dataclass
class Advisory:
    advisory_id: str
    queue: str
    title: str
    messages: dict[str, str]
    starts_ms: int
    until_ms: int
    priority_boost: int
    created_by: str
    created_ms: int
    customers: int = 0  # how many customers it names
    ended_ms: int = 0  # ended early (DELETE); 0: runs until `until_ms`
    warned: int = 0  # webhook events written, one per customer
    in_chat: int = 0  # live chats told
    # passengers warned in another language than theirs, by their tag (`und`: unknown)
    fallbacks: dict[str, Fallback] = field(default_factory=dict)
    # how the webhooks delivered its events: event type -> webhook -> outcomes
    deliveries: dict[str, dict[str, Outcomes]] = field(default_factory=dict)
    # Ended early (DELETE): the all clear, per language, and whom it reached: an event
    # per passenger warned, a notice in each chat told that is still live.
    cleared_messages: dict[str, str] = field(default_factory=dict)
    # passengers given the all clear in another language than theirs, as `fallbacks`
    cleared_fallbacks: dict[str, Fallback] = field(default_factory=dict)
    cleared: int = 0
    cleared_in_chat: int = 0
    contacts: int = 0  # contacts boosted so far
    staffing: Staffing | None = field(default=None)
    # The regions it covers: those of the region-scoped supervisor who declared it, whose
    # agents and contacts are theirs to move and boost; empty: every region (an admin's,
    # or a supervisor's whose scope names no region).
    regions: tuple[str, ...] = ()

    def in_effect(self, at_ms: int) -> bool:
        """New contacts of its customers are boosted now."""
        return not self.ended_ms and self.starts_ms <= at_ms < self.until_ms

    def covers_region(self, region: str) -> bool:
        """A contact or agent of `region` is within the advisory's reach."""
        return not self.regions or region in self.regions

    def state(self, at_ms: int) -> str:
        if self.ended_ms or at_ms >= self.until_ms:
            return "ended"
        return "live" if at_ms >= self.starts_ms else "upcoming"

    def reason(self) -> str:
        """The line a boosted contact's explanation starts with."""
        return f"advisory {self.advisory_id}: {self.title}"

    def delivered(self, event_type: str = WARNING) -> Outcomes:
        """Its events of `event_type`, delivered and failed, over every webhook."""
        each = self.deliveries.get(event_type, {}).values()
        return Outcomes(sum(o.delivered for o in each), sum(o.failed for o in each))
