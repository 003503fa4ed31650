"""Today's records, which the wallboard reads incrementally, are counted once however
many wallboards refresh at once: two refreshes read the same batch after the same
cursor and both added it (a probe: four streams open, 8 abandoned chats counted 19,
for the rest of the day)."""

from __future__ import annotations

import asyncio

from router.model import Channel, NewContact
from router.reports.service import Reports
from router.reports.store import RecordStore
from router.service import Router
from router.store import now_ms


async def test_concurrent_reads_count_each_record_once(router: Router) -> None:
    reports = Reports(RecordStore(router.store))
    day_start = now_ms() - 3_600_000
    ended = []
    for _ in range(3):
        for _ in range(8):
            contact = await router.create_contact(NewContact(Channel.CHAT, "general", "en"))
            await router.abandon(contact.contact_id)
            ended.append(contact.contact_id)
        seen = await asyncio.gather(*(reports.records_today(day_start) for _ in range(4)))
        for records in seen:
            assert sorted(r["contact_id"] for r in records) == sorted(ended)
