"""The report grouped by the customer's language: service level, volume, abandons and
handle time per language, alone and with the queue or the interval, and through the real
`switchboard report` command (CSV and HTML).

A day played through the real Router on the real (embedded) Redis, the clock driven by
`at_ms` (as tests/router/test_report.py does), 2026-11-21 (UTC), region eu. Queues
`general` (answer within 20 s) and `billing` (30 s), no wrap-up, no language relaxation.
Agents: ana (general, billing; en, es), reza (billing; fa), sara (general; fa).

| contact | channel | queue            | lang | arrives  | what happens (times after its arrival)         |
|---------|---------|------------------|------|----------|------------------------------------------------|
| e1      | voice   | general          | en   | 09:00:00 | ana answers at 10 s, ends at 120 s              |
| f1      | voice   | general          | fa   | 09:05:00 | sara answers at 5 s, ends at 180 s              |
| f2      | voice   | general          | fa   | 09:06:00 | sara busy: the caller leaves at 30 s            |
| e2      | voice   | billing          | en   | 09:10:00 | ana answers at 40 s, ends at 240 s              |
| f3      | chat    | billing→general  | fa   | 09:20:00 | reza answers at 25 s, transfers to general at   |
|         |         |                  |      |          | 85 s; sara accepts at 92 s, ends at 150 s       |
| e3      | voice   | general          | en   | 09:30:00 | ana not ready: the caller leaves at 12 s        |
| s1      | voice   | general          | es   | 10:00:00 | ana answers at 15 s, ends at 75 s               |
| u1      | voice   | general          | (none) | 10:30:00 | nobody speaks it: the caller leaves at 50 s  |
| o1      | chat    | general          | fa   | 11:00:00 | sara answers at 5 s; not ended (open)           |

By hand, per language:
- en: e1, e2, e3: volume 3, answered 2, abandoned 1 (rate 1/3); service level 1/2 (e1's
  10 s within general's 20 s, e2's 40 s past billing's 30 s); ASA (10 + 40) / 2 = 25 s;
  AHT (110 + 200) / 2 = 155 s.
- fa: f1, f2, f3: volume 3, answered 2, abandoned 1 (rate 1/3); service level 2/2 (5 s,
  25 s within billing's 30 s); ASA 15 s; handle f1 175 s, f3 60 + 58 = 118 s (reza's
  leg and sara's), AHT 146.5 s; f3 waited 7 s between its agents (150 - 25 - 118).
  o1 is open (the command counts it there).
- es: s1: volume 1, service level 1/1, ASA 15 s, AHT 60 s.
- (unknown): u1: volume 1, abandoned 1 (rate 1), no service level, no AHT.
- all: volume 8, answered 5, abandoned 3 (3/8), service level 4/5, ASA 95 / 5 = 19 s,
  AHT 663 / 5 = 132.6 s.

By queue and language, f3 is answered and its reza leg held in billing, offered again
in general (its transfer), ended and its sara leg held there, as by queue alone:
- billing/en (e2): volume 1, service level 0, AHT 200 s.
- billing/fa (f3): volume 1, answered 1, service level 1, ASA 25 s, handled 1, AHT 60 s.
- general/en (e1, e3): volume 2, answered 1, abandoned 1, service level 1, AHT 110 s.
- general/es (s1): volume 1, AHT 60 s.
- general/fa (f1, f2, f3): volume 3, answered 1, abandoned 1 (rate 1/2), service level 1,
  ASA 5 s, handled 2 (f1 175 s, sara's 58 s), AHT 116.5 s, f3's 7 s of requeue wait.
- general/(unknown) (u1): volume 1, abandoned 1.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from router.model import Agent, Channel, NewContact, Presence, QueueConfig
from router.reports.report import (
    UNKNOWN_LANGUAGE,
    ReportOptions,
    ReportRow,
    build_report,
)
from router.service import Router
from tests.router.report_cli import config_for, run_cli
from tests.router.report_records import DAY_END, DAY_START, MIN, T0, S, eu_router, records_of

QUEUES = [
    QueueConfig(
        name="general",
        skill="general",
        answer_within_s=20,
        wrap_up_s=0,
        relax_language_after_s=None,
    ),
    QueueConfig(
        name="billing",
        skill="billing",
        answer_within_s=30,
        wrap_up_s=0,
        relax_language_after_s=None,
    ),
]
ANSWER_WITHIN = {queue.name: queue.answer_within_s for queue in QUEUES}
UNKNOWN = UNKNOWN_LANGUAGE


async def play(router: Router) -> dict[str, str]:
    """The day of the module docstring; contact ids by name."""
    ids: dict[str, str] = {}
    for agent in (
        Agent("ana", "eu", {"general": 3, "billing": 3}, ["en", "es"]),
        Agent("reza", "eu", {"billing": 3}, ["fa"]),
        Agent("sara", "eu", {"general": 3}, ["fa"]),
    ):
        await router.store.upsert_agent(agent, at_ms=T0 - 10 * MIN)
        await router.set_presence(agent.agent_id, Presence.AVAILABLE, at_ms=T0 - MIN)

    async def arrive(name: str, channel: Channel, queue: str, language: str, at: int) -> str:
        new = NewContact(channel, queue, language, customer_id=f"cust-{name}")
        ids[name] = (await router.create_contact(new, at_ms=at)).contact_id
        return ids[name]

    e1 = await arrive("e1", Channel.VOICE, "general", "en", T0)
    await router.accept(e1, "ana", at_ms=T0 + 10 * S)
    await router.complete(e1, at_ms=T0 + 120 * S)

    t = T0 + 5 * MIN
    f1 = await arrive("f1", Channel.VOICE, "general", "fa", t)
    await router.accept(f1, "sara", at_ms=t + 5 * S)
    f2 = await arrive("f2", Channel.VOICE, "general", "fa", t + MIN)  # sara is on f1
    await router.abandon(f2, at_ms=t + MIN + 30 * S)
    await router.complete(f1, at_ms=t + 180 * S)

    t = T0 + 10 * MIN
    e2 = await arrive("e2", Channel.VOICE, "billing", "en", t)
    await router.accept(e2, "ana", at_ms=t + 40 * S)
    await router.complete(e2, at_ms=t + 240 * S)

    t = T0 + 20 * MIN
    f3 = await arrive("f3", Channel.CHAT, "billing", "fa", t)
    await router.accept(f3, "reza", at_ms=t + 25 * S)
    await router.transfer(f3, "reza", to_queue="general", at_ms=t + 85 * S)
    await router.accept(f3, "sara", at_ms=t + 92 * S)
    await router.complete(f3, at_ms=t + 150 * S)

    t = T0 + 30 * MIN
    await router.set_presence("ana", Presence.NOT_READY, at_ms=t - MIN)
    e3 = await arrive("e3", Channel.VOICE, "general", "en", t)
    await router.abandon(e3, at_ms=t + 12 * S)
    await router.set_presence("ana", Presence.AVAILABLE, at_ms=T0 + 59 * MIN)

    t = T0 + 60 * MIN
    s1 = await arrive("s1", Channel.VOICE, "general", "es", t)
    await router.accept(s1, "ana", at_ms=t + 15 * S)
    await router.complete(s1, at_ms=t + 75 * S)

    t = T0 + 90 * MIN
    u1 = await arrive("u1", Channel.VOICE, "general", "", t)
    await router.abandon(u1, at_ms=t + 50 * S)

    t = T0 + 120 * MIN
    o1 = await arrive("o1", Channel.CHAT, "general", "fa", t)
    await router.accept(o1, "sara", at_ms=t + 5 * S)
    return ids


@pytest.fixture
async def records(redis_client: aioredis.Redis) -> list[dict[str, str]]:
    router = await eu_router(redis_client, QUEUES)
    await play(router)
    return await records_of(router)


def options(by: tuple[str, ...], interval_s: int = 1800) -> ReportOptions:
    return ReportOptions(
        DAY_START, DAY_END, by=by, interval_s=interval_s, answer_within_s=ANSWER_WITHIN
    )


def rows_of(
    records: list[dict[str, str]], by: tuple[str, ...], interval_s: int = 1800
) -> dict[tuple[str, ...], ReportRow]:
    report = build_report(records, options(by, interval_s))
    return {tuple(row.key.values()): row for row in [*report.rows, report.total]}


def main_figures(row: ReportRow) -> tuple[object, ...]:
    """volume, answered, abandoned, abandonment rate, service level, ASA, handled, AHT."""
    return (
        row.volume,
        row.answered,
        row.abandoned,
        row.abandonment_rate,
        row.service_level,
        row.asa_s,
        row.handled,
        row.aht_s,
    )


async def test_records_keep_the_language_routing_matched(records: list[dict[str, str]]) -> None:
    assert (
        sorted(record["language"] for record in records)
        == ["", "en", "en", "en", "es"] + ["fa"] * 3
    )


async def test_figures_per_language(records: list[dict[str, str]]) -> None:
    rows = rows_of(records, ("language",))
    assert list(rows) == [(UNKNOWN,), ("en",), ("es",), ("fa",), ("all",)]  # by name
    assert main_figures(rows[("en",)]) == (3, 2, 1, pytest.approx(1 / 3), 0.5, 25.0, 2, 155.0)
    assert main_figures(rows[("fa",)]) == (3, 2, 1, pytest.approx(1 / 3), 1.0, 15.0, 2, 146.5)
    assert main_figures(rows[("es",)]) == (1, 1, 0, 0.0, 1.0, 15.0, 1, 60.0)
    assert main_figures(rows[(UNKNOWN,)]) == (1, 0, 1, 1.0, None, None, 0, None)
    assert main_figures(rows[("all",)]) == (8, 5, 3, 0.375, 0.8, 19.0, 5, 132.6)
    assert (rows[("fa",)].waited_again, rows[("fa",)].requeue_wait_s) == (1, 7.0)
    # The languages' rows add up to the total, each contact in one language.
    languages = [row for key, row in rows.items() if key != ("all",)]
    assert sum(row.volume for row in languages) == rows[("all",)].volume
    assert sum(row.handle_ms for row in languages) == rows[("all",)].handle_ms


async def test_figures_per_queue_and_language(records: list[dict[str, str]]) -> None:
    rows = rows_of(records, ("queue", "language"))
    assert list(rows) == [
        ("billing", "en"),
        ("billing", "fa"),
        ("general", UNKNOWN),
        ("general", "en"),
        ("general", "es"),
        ("general", "fa"),
        ("all", "all"),
    ]
    assert main_figures(rows[("billing", "en")]) == (1, 1, 0, 0.0, 0.0, 40.0, 1, 200.0)
    assert main_figures(rows[("billing", "fa")]) == (1, 1, 0, 0.0, 1.0, 25.0, 1, 60.0)
    assert main_figures(rows[("general", "en")]) == (2, 1, 1, 0.5, 1.0, 10.0, 1, 110.0)
    assert main_figures(rows[("general", "es")]) == (1, 1, 0, 0.0, 1.0, 15.0, 1, 60.0)
    assert main_figures(rows[("general", "fa")]) == (3, 1, 1, 0.5, 1.0, 5.0, 2, 116.5)
    assert main_figures(rows[("general", UNKNOWN)]) == (1, 0, 1, 1.0, None, None, 0, None)
    assert rows[("general", "fa")].requeue_wait_s == 7.0
    assert rows[("billing", "fa")].waited_again == 0
    # The same split as by queue alone: a language divides a queue's row, adds nothing.
    by_queue = rows_of(records, ("queue",))
    for queue in ("billing", "general"):
        parts = [row for key, row in rows.items() if key[0] == queue]
        whole = by_queue[(queue,)]
        assert sum(row.volume for row in parts) == whole.volume
        assert sum(row.answered_in_sl for row in parts) == whole.answered_in_sl
        assert sum(row.handle_ms for row in parts) == whole.handle_ms
    assert main_figures(rows[("all", "all")]) == main_figures(by_queue[("all",)])


async def test_every_interval_of_each_language(records: list[dict[str, str]]) -> None:
    rows = rows_of(records, ("language", "interval"), interval_s=3600)
    assert len(rows) == 4 * 24 + 1  # a row per hour of the day for each language, then all
    nine, ten = "2026-11-21T09:00:00+00:00", "2026-11-21T10:00:00+00:00"
    assert main_figures(rows[("fa", nine)]) == (3, 2, 1, pytest.approx(1 / 3), 1.0, 15.0, 2, 146.5)
    assert main_figures(rows[("en", nine)]) == (3, 2, 1, pytest.approx(1 / 3), 0.5, 25.0, 2, 155.0)
    assert (rows[("es", nine)].volume, rows[("es", ten)].volume) == (0, 1)
    assert (rows[(UNKNOWN, ten)].volume, rows[(UNKNOWN, ten)].abandoned) == (1, 1)
    assert rows[("en", ten)].volume == 0


async def test_a_tag_counts_in_its_language(records: list[dict[str, str]]) -> None:
    """The row is the primary subtag, as routing matches agents: a record with a whole
    tag or an old code (written by hand, an older writer) is in its language's row."""
    written = [
        {**record, "language": {"es": "es-MX", "en": "EN_gb"}.get(record["language"], "")}
        if record["language"] in ("es", "en")
        else record
        for record in records
    ]
    rows = rows_of(written, ("language",))
    assert (rows[("es",)].volume, rows[("en",)].volume) == (1, 3)
    assert ("es-MX",) not in rows


# -- the command ---------------------------------------------------------------------------


@pytest.fixture
async def day_args(records: list[dict[str, str]], redis_url: str, tmp_path: Path) -> list[str]:
    """The played day; the command's common arguments."""
    config = config_for(redis_url, tmp_path)
    return ["report", "--from", "2026-11-21", "--to", "2026-11-21", "--config", str(config)]


async def test_report_command_by_queue_and_language(
    day_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "by-language.csv"
    assert await run_cli([*day_args, "--by", "queue,language", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("queue,language,volume,")
    rows = {(row["queue"], row["language"]): row for row in csv.DictReader(io.StringIO(text))}
    fa = rows[("general", "fa")]
    assert (fa["volume"], fa["answered"], fa["abandoned"], fa["open"]) == ("3", "1", "1", "1")
    assert (fa["service_level"], fa["aht_s"], fa["abandonment_rate"]) == ("1", "116.5", "0.5")
    assert (rows[("billing", "en")]["service_level"], rows[("billing", "en")]["aht_s"]) == (
        "0",
        "200",
    )
    assert rows[("general", UNKNOWN)]["abandoned"] == "1"
    assert (rows[("all", "all")]["volume"], rows[("all", "all")]["open"]) == ("8", "1")
    assert f"wrote 7 report rows to {out}" in capsys.readouterr().err


async def test_report_command_by_language_html(day_args: list[str], tmp_path: Path) -> None:
    out = tmp_path / "by-language.html"
    assert (
        await run_cli([*day_args, "--by", "language", "--format", "html", "--out", str(out)]) == 0
    )
    page = out.read_text(encoding="utf-8")
    assert "<th>language</th>" in page
    # The fa row: volume 3, answered 2, abandoned 1; service level 100 % (the table's cells).
    assert "<tr><td>fa</td><td>3</td><td>2</td><td>1</td>" in page
    assert "<tr><td>(unknown)</td><td>1</td><td>0</td><td>1</td>" in page
    assert (
        "not by language: the IVR&#x27;s figures (report --ivr) are not split by language" in page
    )


async def test_a_grouping_nobody_knows_is_refused_naming_language(
    day_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_cli([*day_args, "--by", "languages"]) == 2
    assert "--by: expected some of region,queue,channel,language,agent,interval" in (
        capsys.readouterr().err
    )
