"""The HTML report's IVR section: the calls the IVR answered in the report's period, as
`report --ivr` counts them, grouped by the report's region and interval.

The outcomes are stored as telephony's worker stores them (`RoutingPort.note_ivr_outcome`,
the Router's `note_ivr_outcome`) on the real Redis; the routed call's contact is a real
one. The morning of 2026-11-20 (UTC), read in Madrid's time (UTC+1):

| answered | region | outcome | stage          | reason          |
|----------|--------|---------|----------------|-----------------|
| 08:59:59 | eu     | routed  | routing        |                 | (09:59:59 in Madrid)
| 09:10:00 | eu     | hung_up | language       |                 |
| 09:20:00 | eu     | hung_up | reason         |                 |
| 09:40:00 | us     | closed  | closed_message |                 |
| 09:45:00 | us     | hung_up | answer         |                 |
| 09:50:00 | us     | failed  | routing        | contact_refused |
| 11-21 00:30 | eu  | hung_up | language       |                 | (11-21 in Madrid: out)

By hand, for the day 2026-11-20 in Madrid: answered 6 = routed 1 + hung up 3 (answer 1,
language 1, reason 1) + closed 1 + failed 1; eu 3 (09:00 Madrid 1, 10:00 Madrid 2),
us 3 (all at 10:00 Madrid).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from html.parser import HTMLParser
from pathlib import Path

import redis.asyncio as aioredis

from router.model import Channel, NewContact
from router.service import Router
from tests.router.conftest import QUEUES
from tests.router.report_cli import config_for, run_cli
from tests.router.report_records import eu_router

T9 = int(dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC).timestamp() * 1000)
MIN = 60_000


class Rows(HTMLParser):
    """The text of each table row of a piece of HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def ivr_section(page: str) -> tuple[dict[str, str], list[dict[str, str]], str]:
    """The IVR section's tiles (label -> value), its table's rows, and its text."""
    found = re.search(r'<section id="ivr">(.*?)</section>', page, re.DOTALL)
    assert found, "the report has no IVR section"
    section = found.group(1)
    tiles = {
        html.unescape(label): html.unescape(value)
        for value, label in re.findall(
            r'<div class="value">(.*?)</div><div class="label">(.*?)</div>', section
        )
    }
    parser = Rows()
    parser.feed(section)
    header, *lines = parser.rows
    return tiles, [dict(zip(header, line, strict=True)) for line in lines], section


async def note(
    router: Router, minute: float, region: str, what: str, stage: str, **more: str
) -> None:
    at = T9 + int(minute * MIN)
    await router.note_ivr_outcome(
        {
            "outcome": what,
            "stage": stage,
            "region": region,
            "dialled": "1000",
            "language": "en",
            "node": "n1",
            "answered_at": at,
            "ended_at": at + 20_000,
            **more,
        }
    )


async def test_the_html_report_has_the_ivr_calls_of_its_period(
    redis_client: aioredis.Redis, redis_url: str, tmp_path: Path
) -> None:
    router = await eu_router(redis_client, QUEUES)
    call = NewContact(Channel.VOICE, "general", "en", customer_id="cust-1")
    routed = await router.create_contact(call, at_ms=T9 - 1000 + 20_000)
    await router.abandon(routed.contact_id, "caller_hangup", at_ms=T9 + 30_000)
    await note(
        router, -1 / 60, "eu", "routed", "routing", contact_id=routed.contact_id, queue="general"
    )
    await note(router, 10, "eu", "hung_up", "language")
    await note(router, 20, "eu", "hung_up", "reason")
    await note(router, 40, "us", "closed", "closed_message")
    await note(router, 45, "us", "hung_up", "answer")
    await note(router, 50, "us", "failed", "routing", reason="contact_refused")
    await note(router, 15 * 60 + 30, "eu", "hung_up", "language")  # the next day in Madrid

    config = config_for(redis_url, tmp_path)
    page = tmp_path / "report.html"
    day = ["report", "--from", "2026-11-20", "--to", "2026-11-20", "--tz", "Europe/Madrid"]
    html_flags = ["--format", "html", "--config", str(config), "--out", str(page)]
    by = ["--by", "region,interval", "--interval", "1h"]
    assert await run_cli([*day, *by, *html_flags]) == 0
    tiles, rows, _ = ivr_section(page.read_text())
    assert tiles == {
        "Answered by the IVR": "6",
        "Routed": "1",
        "Hung up in the IVR": "3",
        "Closed": "1",
        "Failed": "1",
    }
    total = rows[-1]
    assert (total["region"], total["period"], total["answered"]) == ("all", "all", "6")
    assert (total["routed"], total["hung_up"], total["closed"], total["failed"]) == (
        "1",
        "3",
        "1",
        "1",
    )
    stages = {stage: total[f"hung_up_{stage}"] for stage in ("answer", "language", "reason")}
    assert stages == {"answer": "1", "language": "1", "reason": "1"}
    # Every hour of the day for each region, in Madrid's time, the calls where they came.
    calls = {(row["region"], row["period"]): row["answered"] for row in rows[:-1]}
    assert len(calls) == 2 * 24
    assert calls[("eu", "2026-11-20T09:00:00+01:00")] == "1"
    assert calls[("eu", "2026-11-20T10:00:00+01:00")] == "2"
    assert calls[("us", "2026-11-20T10:00:00+01:00")] == "3"
    assert sum(int(n) for n in calls.values()) == 6
    # The CSV of `report --ivr` with the same flags has the same figures.
    ivr_csv = tmp_path / "ivr.csv"
    csv_flags = ["--ivr", "--config", str(config), "--out", str(ivr_csv)]
    assert await run_cli([*day, *by, *csv_flags]) == 0
    assert ivr_csv.read_text().splitlines()[-1] == ",".join(total.values())

    # Grouped by queue, the IVR's figures are the period's total, and the page says why.
    assert await run_cli([*day, "--by", "queue", *html_flags]) == 0
    tiles, rows, text = ivr_section(page.read_text())
    assert tiles["Answered by the IVR"] == "6" and len(rows) == 1
    assert rows[0]["failed"] == "1" and "contact_refused 1" in text
    assert "not by queue" in text
