"""Advisories as plain data: what was declared, for whom, and what it asked of staffing."""

from __future__ import annotations

from dataclasses import dataclass, field

from switchboard.common.languages import primary

FALLBACK_LANGUAGE = "en"


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

    def text_for(self, language: str) -> tuple[str, str]:
        """(language, text) a reader of `language` gets: theirs (or its base language,
        pt for pt-BR), else English, else the first message given."""
        base = primary(language)
        for candidate in (language, base, FALLBACK_LANGUAGE):
            if candidate in self.messages:
                return candidate, self.messages[candidate]
        first = next(iter(self.messages))
        return first, self.messages[first]
