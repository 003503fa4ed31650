"""Report use cases: the inputs of a report, retention, the audit log, ratings, wrap-ups.

Everything the `report` and `privacy` commands, the wallboard and the HTTP API read or
write about finished contacts goes through `Reports`; the keys are `RecordStore`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from router.chat import FIRST_MESSAGES, from_an_agent
from router.reports.store import AuditEntry, AuditPage, RecordStore
from switchboard.common.clock import DAY_MS, now_ms

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportInputs:
    """What a report is computed from: records, ratings, each chat's first agent message
    and the wrap-ups (code, note) agents gave."""

    records: list[dict[str, str]]
    ratings: dict[str, int]
    first_agent_message_ms: dict[str, int]
    wrap_ups: dict[str, dict[str, Any]]


class ContentScrubber(Protocol):
    """Another package's personal content that retention scrubs with the contacts'
    (cases: subjects, notes, the customer's index)."""

    async def scrub_before(self, cutoff_ms: int) -> int: ...


class OutcomeObserver(Protocol):
    """Told of each wrap-up and each new rating once stored (cases: webhook events)."""

    async def contact_wrapped_up(self, contact_id: str, wrap_up: dict[str, Any]) -> None: ...

    async def contact_rated(self, contact_id: str, score: int, channel: str) -> None: ...


@dataclass
class _TodayRecords:
    day_start: int = -1
    cursor: str = "-"
    records: list[dict[str, str]] = field(default_factory=list)


class Reports:
    def __init__(self, store: RecordStore, scrubbers: tuple[ContentScrubber, ...] = ()) -> None:
        self.store = store
        self.scrubbers = scrubbers
        self._today = _TodayRecords()
        # one reader of today's records at a time: two wallboards refreshing at once read
        # the same batch after the same cursor, and both added it (a probe's 8 abandoned
        # chats counted 19 for the rest of the day)
        self._today_read = asyncio.Lock()
        self.observer: OutcomeObserver | None = None  # the cases' webhooks, when wired

    async def records_today(self, day_start_ms: int) -> list[dict[str, str]]:
        """Records of contacts that ended since `day_start_ms` (the wallboard's day), read
        incrementally: each call reads only what was appended since the last, one call at
        a time."""
        async with self._today_read:
            today = self._today
            if day_start_ms != today.day_start:
                self._today = today = _TodayRecords(day_start_ms, f"{day_start_ms}-0")
            today.cursor, found = await self.store.records_after(today.cursor)
            today.records += found
            return today.records

    async def inputs(self, start_ms: int) -> ReportInputs:
        """Records appended since `start_ms` and what is joined to them. There is no
        upper bound: a contact of the period may end late, and repeats are looked for
        after it."""
        records = await self.store.records_since(start_ms)
        ratings = await self.store.ratings()
        chats = [
            r["contact_id"] for r in records if r.get("channel") == "chat" and r.get("answered_at")
        ]
        first: dict[str, int] = {}
        transcripts = await self.store.routing.first_messages(chats, FIRST_MESSAGES)
        for contact_id, messages in transcripts.items():
            for message in messages:
                if from_an_agent(message.get("sender")) and "at_ms" in message:
                    first[contact_id] = int(message["at_ms"])
                    break
        ids = [r["contact_id"] for r in records if r.get("contact_id")]
        wrap_ups = await self.store.wrap_ups(ids)
        return ReportInputs(records, ratings, first, wrap_ups)

    async def ivr_outcomes(self, start_ms: int) -> list[dict[str, str]]:
        """The IVR's outcomes of calls that left it since `start_ms` (router/reports/ivr.py
        keeps those answered in a period)."""
        return await self.store.ivr_outcomes_since(start_ms)

    # -- privacy ---------------------------------------------------------------------------

    async def apply_retention(self, days: float, at_ms: int | None = None, batch: int = 500) -> int:
        """Delete contact content older than `days`, keeping every record's counts and times.

        Records move to the retained stream with customer ids blanked; chat transcripts,
        wrap-up notes, contact hashes and customer tokens go, the contacts leave their
        customer's history (an emptied one goes: no key names the customer), and so does
        what the scrubbers hold of that age (closed cases' subjects and notes). Returns
        how many contacts were scrubbed.
        """
        cutoff = (now_ms() if at_ms is None else at_ms) - int(days * DAY_MS)
        for scrubber in self.scrubbers:
            await scrubber.scrub_before(cutoff)
        scrubbed = 0
        while True:
            ids = await self.store.retain(cutoff, batch)
            contact_ids = [cid for cid in ids if cid]
            await self.store.routing.delete_transcripts(contact_ids)
            await self._forget_notes(contact_ids)
            scrubbed += len(ids)
            if len(ids) < batch:
                return scrubbed

    async def _forget_notes(self, contact_ids: list[str]) -> None:
        """Wrap-up codes are counts and stay; free notes are content and go."""
        kept = {
            cid: {k: v for k, v in wrap_up.items() if k != "note"}
            for cid, wrap_up in (await self.store.wrap_ups(contact_ids)).items()
        }
        for contact_id, wrap_up in kept.items():
            await self.store.set_wrap_up(contact_id, wrap_up)

    async def run_retention(
        self, days: float, stop: asyncio.Event, every_s: float = 3600.0
    ) -> None:
        """Scrub old contacts hourly while the node runs; a Redis error is retried, not fatal."""
        while not stop.is_set():
            try:
                scrubbed = await self.apply_retention(days)
                if scrubbed:
                    log.info("retention: scrubbed %d contacts older than %g days", scrubbed, days)
            except Exception as failure:  # Redis down: try again next round
                log.warning("retention failed: %s", failure)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_s)

    # -- audit -----------------------------------------------------------------------------

    async def audit(self, actor: str, action: str, **detail: Any) -> None:
        await self.store.append_audit(actor, action, detail)

    async def audit_log(self, count: int = 1000) -> list[AuditEntry]:
        """The `count` latest entries of the audit log, newest last."""
        return (await self.audit_page(count)).entries

    async def audit_page(self, count: int, before: str | None = None) -> AuditPage:
        """A page of the audit log, newest last: the `count` latest entries, or those
        before the entry `before` (the `next` of the page after it)."""
        return await self.store.audit_entries(count, before)

    # -- ratings and wrap-ups ----------------------------------------------------------------

    async def rate(self, contact_id: str, score: int, channel: str) -> bool:
        """A contact's 1-5 rating, once; False when it was already rated."""
        if score not in range(1, 6):
            raise ValueError(f"a rating is 1 to 5, found {score}")
        added = await self.store.add_rating(contact_id, score, channel)
        if added and self.observer is not None:  # webhooks: contact.rated
            await self.observer.contact_rated(contact_id, score, channel)
        return added

    async def wrap_up(self, contact_id: str, wrap_up: dict[str, Any]) -> None:
        await self.store.set_wrap_up(contact_id, wrap_up)
        if self.observer is not None:  # webhooks: contact.wrapped_up
            await self.observer.contact_wrapped_up(contact_id, wrap_up)

    async def wrap_ups(self, contact_ids: list[str]) -> dict[str, dict[str, Any]]:
        return await self.store.wrap_ups(contact_ids)

    async def add(self, contact_id: str, score: int, channel: str) -> bool:
        """`RatingPort` for the voice survey (telephony.routing)."""
        return await self.rate(contact_id, score, channel)
