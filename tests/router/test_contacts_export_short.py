"""The contact list says which abandons were short (`short_abandon` "yes"), so a planner
counting them per queue finds the report's `short_abandoned`.

Played through the real Router on the real Redis, 2026-11-21 (UTC); `general` counts an
abandon shorter than 5 s as short, `booking` (0) counts none:

| contact | queue                  | arrives | answered | ends   | outcome                 |
|---------|------------------------|---------|----------|--------|-------------------------|
| served  | general                | 09:00   | +2 s     | +20 s  | completed               |
| misdial | general                | 09:01   | -        | +1 s   | abandoned, short        |
| oops    | general (voice)        | 09:02   | -        | +3 s   | abandoned, short        |
| gave-up | general                | 09:03   | -        | +8 s   | abandoned               |
| quick   | booking                | 09:04   | -        | +1 s   | abandoned (booking: 0)  |
| moved   | baggage, then general  | 09:05   | -        | +3 s   | abandoned, short (in general, where it ended) |

By hand: short_abandoned general 3, booking 0, baggage 0, all 3; abandoned general 1,
booking 1.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import redis.asyncio as aioredis

from router.model import Agent, Channel, NewContact, Presence, QueueConfig
from tests.router.report_cli import config_for, run_cli
from tests.router.report_records import MIN, T0, S, eu_router

QUEUES = [
    QueueConfig(name="general", skill="general", wrap_up_s=0, short_abandon_s=5),
    QueueConfig(name="booking", skill="booking", wrap_up_s=0),
    QueueConfig(name="baggage", skill="baggage", wrap_up_s=0),
]


async def test_the_contact_lists_short_abandons_are_the_reports(
    redis_client: aioredis.Redis, redis_url: str, tmp_path: Path
) -> None:
    router = await eu_router(redis_client, QUEUES)
    await router.store.upsert_agent(Agent("ana", "eu", {"general": 3}, ["en"]), at_ms=T0 - MIN)
    await router.set_presence("ana", Presence.AVAILABLE, at_ms=T0 - MIN)

    async def arrive(queue: str, at: int, channel: Channel = Channel.CHAT) -> str:
        new = NewContact(channel, queue, "en", customer_id=f"cust-{at}")
        return (await router.create_contact(new, at_ms=at)).contact_id

    served = await arrive("general", T0)
    await router.accept(served, "ana", at_ms=T0 + 2 * S)
    await router.complete(served, at_ms=T0 + 20 * S)
    await router.set_presence("ana", Presence.NOT_READY, "break", at_ms=T0 + 30 * S)
    ids = {"served": served}
    for name, queue, minute, waited_s, channel in (
        ("misdial", "general", 1, 1, Channel.CHAT),
        ("oops", "general", 2, 3, Channel.VOICE),
        ("gave-up", "general", 3, 8, Channel.CHAT),
        ("quick", "booking", 4, 1, Channel.CHAT),
    ):
        ids[name] = await arrive(queue, T0 + minute * MIN, channel)
        await router.abandon(ids[name], "customer_left", at_ms=T0 + minute * MIN + waited_s * S)
    ids["moved"] = moved = await arrive("baggage", T0 + 5 * MIN)
    await router.move(moved, "general", "supervisor sup", at_ms=T0 + 5 * MIN + S)
    await router.abandon(moved, "customer_left", at_ms=T0 + 5 * MIN + 3 * S)

    config = config_for(redis_url, tmp_path)
    day = ["report", "--from", "2026-11-21", "--to", "2026-11-21", "--config", str(config)]
    figures_csv, contacts_csv = tmp_path / "figures.csv", tmp_path / "contacts.csv"
    assert await run_cli([*day, "--by", "queue", "--out", str(figures_csv)]) == 0
    assert await run_cli([*day, "--contacts", "--out", str(contacts_csv)]) == 0
    figures = {row["queue"]: row for row in csv.DictReader(io.StringIO(figures_csv.read_text()))}
    text = contacts_csv.read_text()
    header = text.splitlines()[0].split(",")
    # Appended: the columns before it keep their places.
    assert header[-2:] == ["case_id", "short_abandon"]
    contacts = list(csv.DictReader(io.StringIO(text)))
    flagged = {line["contact_id"]: line["short_abandon"] for line in contacts}
    by_name = {name: flagged[contact_id] for name, contact_id in ids.items()}
    assert by_name == {
        "served": "",
        "misdial": "yes",
        "oops": "yes",
        "gave-up": "",
        "quick": "",
        "moved": "yes",
    }
    # A short abandon is an abandon all the same in the list.
    assert {line["state"] for line in contacts if line["short_abandon"]} == {"abandoned"}

    short = Counter(line["queue"] for line in contacts if line["short_abandon"] == "yes")
    for queue in ("general", "booking", "baggage"):
        assert figures[queue]["short_abandoned"] == str(short[queue]), queue
    assert figures["all"]["short_abandoned"] == str(sum(short.values())) == "3"
    abandons = Counter(
        line["queue"]
        for line in contacts
        if line["state"] == "abandoned" and line["short_abandon"] != "yes"
    )
    assert (figures["general"]["abandoned"], figures["booking"]["abandoned"]) == ("1", "1")
    assert (abandons["general"], abandons["booking"]) == (1, 1)

    # `history export --contacts` writes the same list, the column too.
    exported = tmp_path / "history.csv"
    command = ["history", "export", "--contacts", "--out", str(exported), "--config", str(config)]
    assert await run_cli(command) == 0
    history = list(csv.DictReader(io.StringIO(exported.read_text())))
    assert sum(line["short_abandon"] == "yes" for line in history) == 3
