"""Service report figures against a small recorded day computed by hand.

The day is played through the real Router on the real (embedded) Redis with the clock
driven by `at_ms`, so the records are the ones the routing script writes.

The day, 2026-11-20 (UTC), queue `general` (answer within 20 s), agent ana:

| contact | channel | customer | arrives  | answered | ends     | outcome   |
|---------|---------|----------|----------|----------|----------|-----------|
| c1      | chat    | cust-1   | 09:00:00 | 09:00:10 | 09:02:10 | completed |
| c2      | voice   | cust-2   | 09:10:00 | 09:10:30 | 09:15:30 | completed |
| c3      | voice   | cust-1   | 10:00:00 | 10:00:05 | 10:03:05 | completed |
| c4      | chat    | cust-3   | 11:00:00 | -        | 11:01:00 | abandoned |
| c5      | voice   | cust-2   | 11-22 10:00 (next-but-one day, outside period and window) |

By hand: volume 4, answered 3, abandoned 1, abandonment 1/4; waits 10, 30, 5 s, so
service level 2/3 and ASA 15 s; handle 120, 300, 180 s, so AHT 200 s; ana's phone held
c2 for 45 s, so one contact held and 15 s of hold per handled contact (22.5 s on voice); c3 repeats c1
57 min 50 s after c1 ended, so with a 24 h window FCR is 2/3 (c5 is 48 h after c2),
with a 30 min window FCR is 3/3. Ratings c1 = 5, c3 = 2: CSAT 1/2, mean 3.5.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from router.model import Agent, Channel, NewContact, Presence, QueueConfig, Role
from router.reports.privacy import (
    MaskingFilter,
    PrivacyConfig,
    mask_chat_text,
    mask_phone_numbers,
    read_privacy,
)
from router.reports.report import ReportOptions, Shift, build_report, report_table
from router.reports.service import Reports
from router.reports.store import RecordStore
from router.reports.survey import (
    SurveySession,
    SurveyTurn,
    rating_from_dtmf,
    read_surveys,
)
from router.service import Router
from router.store import RoutingStore
from switchboard.common.configfile import ConfigReader
from switchboard.node import Node
from tests.nodes import http_session, login, new_chat, running_node
from tests.router.report_cli import config_for, run_cli

T0 = int(dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC).timestamp() * 1000)
DAY_START = int(dt.datetime(2026, 11, 20, tzinfo=dt.UTC).timestamp() * 1000)
S = 1000
MIN = 60 * S


async def play_day(router: Router) -> dict[str, str]:
    """Play the day of the module docstring; return contact ids by name."""
    ids: dict[str, str] = {}
    await router.store.upsert_agent(Agent("ana", "eu", {"general": 3}, ["en"]), at_ms=T0 - 10 * MIN)

    async def arrive(name: str, channel: Channel, customer: str, at: int) -> str:
        contact = await router.create_contact(
            NewContact(channel, "general", "en", customer_id=customer), at_ms=at
        )
        ids[name] = contact.contact_id
        return contact.contact_id

    await router.set_presence("ana", Presence.AVAILABLE, at_ms=T0 - MIN)
    c1 = await arrive("c1", Channel.CHAT, "cust-1", T0)
    await router.accept(c1, "ana", at_ms=T0 + 10 * S)
    await router.complete(c1, at_ms=T0 + 130 * S)

    await router.set_presence("ana", Presence.NOT_READY, at_ms=T0 + 9 * MIN)
    c2 = await arrive("c2", Channel.VOICE, "cust-2", T0 + 10 * MIN)
    await router.set_presence("ana", Presence.AVAILABLE, at_ms=T0 + 10 * MIN + 28 * S)
    await router.accept(c2, "ana", at_ms=T0 + 10 * MIN + 30 * S)
    # ana's phone held the caller for 45 s (telephony notes it before the completion)
    await router.note_hold(c2, {"at_ms": T0 + 11 * MIN, "held_ms": 45 * S, "agent": "ana"})
    await router.complete(c2, at_ms=T0 + 15 * MIN + 30 * S)

    c3 = await arrive("c3", Channel.VOICE, "cust-1", T0 + 60 * MIN)
    await router.accept(c3, "ana", at_ms=T0 + 60 * MIN + 5 * S)
    await router.complete(c3, at_ms=T0 + 63 * MIN + 5 * S)

    await router.set_presence("ana", Presence.NOT_READY, at_ms=T0 + 100 * MIN)
    c4 = await arrive("c4", Channel.CHAT, "cust-3", T0 + 120 * MIN)
    await router.abandon(c4, at_ms=T0 + 121 * MIN)

    await router.set_presence("ana", Presence.AVAILABLE, at_ms=T0 + 49 * 60 * MIN)
    c5 = await arrive("c5", Channel.VOICE, "cust-2", T0 + 49 * 60 * MIN)
    await router.accept(c5, "ana", at_ms=T0 + 49 * 60 * MIN + 5 * S)
    await router.complete(c5, at_ms=T0 + 49 * 60 * MIN + 65 * S)
    return ids


async def general_router(redis_client: aioredis.Redis) -> Router:
    """A router of one queue, `general`, without wrap-up, in region eu."""
    router = Router(
        RoutingStore(redis_client),
        [QueueConfig(name="general", skill="general", wrap_up_s=0)],
        node_id="n1",
        region="eu",
    )
    await router.publish_configuration(["eu"])
    return router


@pytest.fixture
async def day(redis_client: aioredis.Redis) -> tuple[Router, dict[str, str]]:
    router = await general_router(redis_client)
    return router, await play_day(router)


async def records_of(router: Router) -> list[dict[str, str]]:
    return [record async for record in router.store.records()]


def reports_on(client: aioredis.Redis) -> Reports:
    return Reports(RecordStore(RoutingStore(client)))


def options(by: tuple[str, ...] = (), window_s: int = 86_400) -> ReportOptions:
    return ReportOptions(
        start_ms=DAY_START,
        end_ms=DAY_START + 86_400_000,
        by=by,
        repeat_window_s=window_s,
        answer_within_s={"general": 20.0},
    )


async def test_day_totals_match_hand_computed(day: tuple[Router, dict[str, str]]) -> None:
    router, ids = day
    records = await records_of(router)
    assert len(records) == 5
    ratings = {ids["c1"]: 5, ids["c3"]: 2}
    first_reply = {ids["c1"]: T0 + 25 * S}
    report = build_report(records, options(), ratings=ratings, first_agent_message_ms=first_reply)
    total = report.total
    assert (total.volume, total.answered, total.abandoned, total.failed) == (4, 3, 1, 0)
    assert total.abandonment_rate == pytest.approx(0.25)
    assert total.service_level == pytest.approx(2 / 3)
    assert total.asa_s == pytest.approx(15.0)
    assert total.aht_s == pytest.approx(200.0)
    assert (total.held, total.hold_s) == (1, pytest.approx(15.0))  # 45 s over 3 handled
    assert total.first_response_s == pytest.approx(25.0)
    assert total.fcr == pytest.approx(2 / 3) and total.repeated == 1
    assert total.csat == pytest.approx(0.5) and total.average_rating == pytest.approx(3.5)
    assert total.occupancy is None
    assert any("occupancy omitted" in note for note in report.notes)

    short_window = build_report(records, options(window_s=30 * 60))
    assert short_window.total.fcr == pytest.approx(1.0)
    assert short_window.total.repeated == 0


async def test_by_channel_and_interval(day: tuple[Router, dict[str, str]]) -> None:
    router, _ = day
    records = await records_of(router)
    by_channel = {
        row.key["channel"]: row for row in build_report(records, options(("channel",))).rows
    }
    chat, voice = by_channel["chat"], by_channel["voice"]
    assert (chat.volume, chat.answered, chat.abandoned) == (2, 1, 1)
    assert chat.service_level == 1.0 and chat.asa_s == 10.0 and chat.aht_s == 120.0
    assert chat.fcr == 0.0
    assert (voice.volume, voice.answered, voice.abandoned) == (2, 2, 0)
    assert voice.service_level == 0.5 and voice.asa_s == 17.5 and voice.aht_s == 240.0
    assert voice.fcr == 1.0

    by_hour = build_report(records, dataclasses.replace(options(("interval",)), interval_s=3600))
    assert len(by_hour.rows) == 24  # every hour of the day, zeros included
    assert [(row.key["interval"], row.volume) for row in by_hour.rows if row.volume] == [
        ("2026-11-20T09:00:00+00:00", 2),
        ("2026-11-20T10:00:00+00:00", 1),
        ("2026-11-20T11:00:00+00:00", 1),
    ]
    table = report_table(by_hour)
    assert table[0][:3] == ["interval", "volume", "answered"]
    assert table[-1][:3] == ["all", "4", "3"]


async def test_occupancy_from_schedule(day: tuple[Router, dict[str, str]]) -> None:
    """ana staffed 09:00-10:30 and 10:45-12:00 (a break between): 165 min, 600 s handled."""
    router, _ = day
    at = lambda h, m: int(dt.datetime(2026, 11, 20, h, m, tzinfo=dt.UTC).timestamp() * 1000)  # noqa: E731
    shifts = [
        Shift("ana", at(9, 0), at(10, 30), "general"),
        Shift("ana", at(10, 30), at(10, 45), "break"),
        Shift("ana", at(10, 45), at(12, 0), "general"),
    ]
    report = build_report(await records_of(router), options(("agent",)), shifts=shifts)
    rows = {row.key["agent"]: row for row in report.rows}
    assert rows["ana"].occupancy == pytest.approx(600 / (165 * 60))
    assert rows["(none)"].volume == 1 and rows["(none)"].occupancy is None


async def test_transferred_contacts_count_once_and_add_up(redis_client: aioredis.Redis) -> None:
    """Two chats of `general`, each answered in 0.3 s by ana and transferred 25 s later:
    t1 is taken by bob and completed 2 s after; t2's customer leaves while it waits again,
    and t3 is abandoned before anyone answers. Each counts once: answered 2 (waits 0.3 s,
    within 20 s), abandoned 1, volume 3 = answered + abandoned; t2 is completed by the
    customer. AHT is the agents' legs (25 + 2 s and 25 s), and the waits between agents
    (0.2 s and 1.7 s, from the first answer to the end less the legs) are requeue wait."""
    router = await general_router(redis_client)
    for agent, at in (("ana", T0 - MIN), ("bob", T0 - 30 * S)):
        await router.store.upsert_agent(Agent(agent, "eu", {"general": 3}, ["en"]), at_ms=at)
        await router.set_presence(agent, Presence.AVAILABLE, at_ms=at)
    await router.set_presence("bob", Presence.NOT_READY, at_ms=T0 - 20 * S)
    ids = []
    for n in range(2):
        start = T0 + n * MIN
        contact = await router.create_contact(
            NewContact(Channel.CHAT, "general", "en"), at_ms=start
        )
        ids.append(contact.contact_id)
        assert contact.agent_id == "ana"
        await router.accept(contact.contact_id, "ana", at_ms=start + 300)
    await router.set_presence("bob", Presence.AVAILABLE, at_ms=T0 + 20 * S)
    t1, t2 = ids
    moved = await router.transfer(t1, "ana", to_queue="general", at_ms=T0 + 25_300)
    assert moved.agent_id == "bob"
    await router.accept(t1, "bob", at_ms=T0 + 25_500)
    await router.complete(t1, "bob", at_ms=T0 + 27_500)
    await router.set_presence("bob", Presence.NOT_READY, at_ms=T0 + 30 * S)
    await router.transfer(t2, "ana", to_queue="general", at_ms=T0 + MIN + 25_300)
    left = await router.abandon(t2, "customer_left", at_ms=T0 + MIN + 27_000)
    assert left.state.value == "completed"
    await router.set_presence("ana", Presence.NOT_READY, at_ms=T0 + 2 * MIN)
    t3 = await router.create_contact(NewContact(Channel.CHAT, "general", "en"), at_ms=T0 + 3 * MIN)
    await router.abandon(t3.contact_id, "customer_left", at_ms=T0 + 3 * MIN + 40 * S)

    records = await records_of(router)
    assert sorted(r["state"] for r in records) == ["abandoned", "completed", "completed"]
    total = build_report(records, options()).total
    assert (total.volume, total.answered, total.abandoned, total.failed) == (3, 2, 1, 0)
    assert total.answered + total.abandoned + total.failed == total.volume
    assert total.asa_s == pytest.approx(0.3)
    assert total.service_level == pytest.approx(1.0)
    assert total.abandonment_rate == pytest.approx(1 / 3)
    assert (total.handled, total.aht_s) == (2, pytest.approx((27.0 + 25.0) / 2))
    assert (total.waited_again, total.requeue_wait_s) == (2, pytest.approx((0.2 + 1.7) / 2))
    figures = await router.last_hour("general", at_ms=T0 + 4 * MIN)
    assert (figures.answered, figures.abandoned, figures.handled) == (2, 1, 2)
    assert figures.handle_ms == total.handle_ms == 52_000  # live counters as the report
    assert (figures.answered_in_sl, figures.wait_ms) == (2, 600)
    assert figures.service_level == pytest.approx(1.0)


def test_unknown_grouping_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown grouping 'skill'"):
        build_report([], options(("skill",)))


# -- the command line ----------------------------------------------------------------------


async def test_report_command_csv_and_html(
    day: tuple[Router, dict[str, str]],
    redis_url: str,
    redis_client: aioredis.Redis,
    tmp_path: Path,
) -> None:
    _router, ids = day
    ratings = reports_on(redis_client)
    assert await ratings.rate(ids["c1"], 5, "chat")
    assert await ratings.rate(ids["c3"], 2, "voice")
    assert not await ratings.rate(ids["c3"], 4, "voice")  # rated once
    await ratings.wrap_up(
        ids["c1"], {"code": "changed", "note": "rebooked to Lyon", "agent_id": "ana"}
    )
    await ratings.wrap_up(ids["c3"], {"code": "info_only", "note": "", "agent_id": "ana"})
    config = config_for(redis_url, tmp_path)
    out = tmp_path / "report.csv"
    common = ["--from", "2026-11-20", "--to", "2026-11-20", "--config", str(config)]
    status = await run_cli(["report", *common, "--by", "channel", "--out", str(out)])
    assert status == 0
    rows = {row["channel"]: row for row in csv.DictReader(io.StringIO(out.read_text()))}
    # The queue as the node defines it (20 s), not default.toml's 60 s: c2's 30 s is late.
    assert rows["all"]["volume"] == "4" and rows["all"]["service_level"] == "0.6667"
    assert rows["all"]["aht_s"] == "200" and rows["all"]["fcr"] == "0.6667"
    assert (rows["voice"]["held"], rows["voice"]["hold_s"]) == ("1", "22.5")
    assert rows["all"]["csat"] == "0.5" and rows["voice"]["average_rating"] == "2"
    assert rows["chat"]["abandoned"] == "1" and rows["chat"]["first_response_s"] == ""
    # One column per wrap-up code agents gave.
    assert (rows["chat"]["wrap_up_changed"], rows["voice"]["wrap_up_changed"]) == ("1", "0")
    assert rows["all"]["wrap_up_info_only"] == "1"

    page = tmp_path / "report.html"
    status = await run_cli(
        ["report", *common, "--by", "queue", "--format", "html", "--out", str(page)]
    )
    assert status == 0
    html = page.read_text()
    assert html.count("data:image/png;base64,") >= 3 and "<table>" in html

    listing = tmp_path / "contacts.csv"
    assert await run_cli(["report", *common, "--contacts", "--out", str(listing)]) == 0
    lines = list(csv.DictReader(io.StringIO(listing.read_text())))
    assert [line["customer_id"] for line in lines] == ["••••-1", "••••-2", "••••-1", "••••-3"]
    assert [line["repeated"] for line in lines] == ["yes", "", "", ""]
    assert [line["rating"] for line in lines] == ["5", "", "2", ""]
    assert [line["wrap_up_code"] for line in lines] == ["changed", "", "info_only", ""]
    assert lines[0]["wrap_up_note"] == "[chat text, 16 characters]"  # masked
    assert [line["wait_s"] for line in lines] == ["10", "30", "5", ""]
    assert [line["hold_s"] for line in lines] == ["", "45", "", ""]
    assert lines[0]["arrived"] == "2026-11-20T09:00:00+00:00"
    exported = tmp_path / "history-contacts.csv"
    command = ["history", "export", "--contacts", "--out", str(exported), "--config", str(config)]
    assert await run_cli(command) == 0
    history = list(csv.DictReader(io.StringIO(exported.read_text())))
    assert [line["wrap_up_code"] for line in history] == ["changed", "", "info_only", "", ""]
    clear = ["--contacts", "--unmasked", "--out", str(listing)]
    assert await run_cli(["report", *common, *clear]) == 0
    assert "cust-1" in listing.read_text()

    entries = await reports_on(redis_client).audit_log()
    assert [entry.action for entry in entries] == ["report.export"] * 4
    assert entries[1].detail["format"] == "html"
    assert [entry.detail["unmasked"] for entry in entries] == [False, False, False, True]


async def test_privacy_commands(
    redis_url: str, redis_client: aioredis.Redis, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_for(redis_url, tmp_path)
    old = T0 - 400 * 86_400_000
    await redis_client.xadd(
        "sb:{rt}:records", {"contact_id": "old", "customer_id": "+34600000001"}, id=f"{old}-0"
    )
    assert await run_cli(["privacy", "retain", "--days", "365", "--config", str(config)]) == 0
    assert "scrubbed 1 contacts older than 365 days" in capsys.readouterr().out
    assert await run_cli(["privacy", "retain", "--days", "0", "--config", str(config)]) == 2
    assert await run_cli(["privacy", "audit", "--config", str(config)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["action"], line["detail"]) for line in lines] == [
        ("privacy.retain", {"contacts": 1, "days": 365.0})
    ]
    await reports_on(redis_client).audit("root", "test.step")
    assert await run_cli(["privacy", "audit", "--last", "1", "--config", str(config)]) == 0
    printed = capsys.readouterr()
    latest = [json.loads(line) for line in printed.out.splitlines()]
    assert [line["action"] for line in latest] == ["test.step"]
    before = printed.err.split("--before ")[1].strip()  # older entries remain
    assert before == latest[0]["entry_id"]
    older = ["privacy", "audit", "--before", before, "--config", str(config)]
    assert await run_cli(older) == 0
    printed = capsys.readouterr()
    assert [json.loads(line) for line in printed.out.splitlines()] == lines
    assert printed.err == ""  # that was the first entry
    assert await run_cli(["privacy", "audit", "--before", "x", "--config", str(config)]) == 2
    assert "--before: expected an entry_id" in capsys.readouterr().err


async def test_report_command_bad_input(
    redis_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_for(redis_url, tmp_path)
    status = await run_cli(
        ["report", "--from", "2026-13-01", "--to", "2026-11-20", "--config", str(config)]
    )
    assert status == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("switchboard: error: --from: expected a date") and "\n" not in error
    day = ["report", "--from", "2026-11-20", "--to", "2026-11-20", "--config", str(config)]
    status = await run_cli([*day, "--by", "skill"])
    assert status == 2
    assert "--by: expected some of region,queue" in capsys.readouterr().err
    status = await run_cli([*day, "--unmasked"])
    assert status == 2
    assert "--unmasked: only with --contacts" in capsys.readouterr().err
    schedule = tmp_path / "schedule.csv"
    schedule.write_text(  # saved by a spreadsheet (a byte-order mark): its header still reads
        "agent_id,start,end,activity\nana,2026-11-20 09:00,2026-11-20T10:00Z,x\n",
        encoding="utf-8-sig",
    )
    status = await run_cli([*day, "--schedule", str(schedule)])
    assert status == 2
    assert f"{schedule}: row 2: field start: expected ISO 8601" in capsys.readouterr().err


# -- surveys, privacy ------------------------------------------------------------------------


def test_dtmf_rating() -> None:
    assert [rating_from_dtmf(d) for d in ("1", "5#", "0", "6", "12", "*", "")] == [
        1,
        5,
        None,
        None,
        None,
        None,
        None,
    ]


def test_voice_survey_session() -> None:
    rated = SurveySession("es")
    assert rated.start() == SurveyTurn(("survey.question",), 6.0)
    assert rated.digit("9") == SurveyTurn(("survey.invalid", "survey.question"), 6.0)
    turn = rated.digit("4")
    assert turn == SurveyTurn(("survey.thanks",), None, 4) and turn.done and rated.rating == 4

    wrong = SurveySession("en", max_tries=2)
    wrong.start()
    wrong.digit("0")
    assert wrong.digit("*") == SurveyTurn(("survey.goodbye",), None) and wrong.rating is None

    silent = SurveySession("en")
    silent.start()
    assert silent.timeout().done and silent.rating is None


def test_masking() -> None:
    assert mask_phone_numbers("call from +44 20 7946 0958 to queue") == (
        "call from " + "•" * 11 + "58 to queue"
    )
    assert mask_phone_numbers("INVITE sip:+34911234567@10.0.0.1;transport=udp") == (
        "INVITE sip:" + "•" * 10 + "67@10.0.0.1;transport=udp"
    )
    assert mask_phone_numbers("contact 3f2a9c queue booking") == "contact 3f2a9c queue booking"
    assert mask_phone_numbers("at 1700000000000 on port 45678") == "at 1700000000000 on port 45678"
    for national in ("020 7946 0958", "06 12 34 56 78", "555-123-4567", "(555) 123.4567"):
        masked = mask_phone_numbers(f"caller {national} waits")
        assert masked.endswith(national[-2:] + " waits") and "•" in masked, masked
    for kept in ("2026-12-04 09:05:07.123", "127.0.0.1:5060", "4915112345678 ms"):
        assert mask_phone_numbers(kept) == kept
    assert mask_chat_text("my card is 4111 1111") == "[chat text, 20 characters]"

    record = logging.LogRecord("t", logging.INFO, "f", 1, "caller %s waits", ("0612345678",), None)
    MaskingFilter().filter(record)
    assert record.getMessage() == "caller " + "•" * 8 + "78 waits"


def test_survey_and_privacy_configuration(tmp_path: Path) -> None:
    path = tmp_path / "node.toml"
    path.write_text(
        "[privacy]\nretention_days = 0\n\n"
        '[[surveys]]\nqueue = "booking"\nvoice = true\nlanguages = ["en", "es"]\n\n'
        '[[surveys]]\nqueue = "nope"\n'
    )
    reader = ConfigReader.open(path)
    surveys = read_surveys(reader, ["booking", "general"])
    privacy = read_privacy(reader)
    booking, general = surveys["booking"], surveys["general"]
    assert booking.offered("voice", "es") and not booking.offered("voice", "de")
    assert not general.offered("voice", "en") and general.offered("chat", "en")
    assert privacy == PrivacyConfig(retention_days=None, mask_logs=True)
    assert reader.faults.lines == [
        f"{path}: surveys[1].queue: expected one of booking, general, found 'nope'",
        f"{path}: privacy.retention_days: expected a number >= 1, found 0",
    ]


async def test_retention_keeps_counts(redis_client: aioredis.Redis) -> None:
    """Records older than the cutoff lose personal fields and their content, not their counts."""
    tag = "sb:{rt}:"
    now = T0 + 40 * 86_400_000
    for index, ended in enumerate((T0, T0 + 86_400_000, now - 3_600_000)):
        await redis_client.xadd(
            f"{tag}records",
            {
                "contact_id": f"k{index}",
                "channel": "chat",
                "queue": "general",
                "customer_id": f"+3461234567{index}",
                "state": "completed",
                "queued_at": str(ended - 60_000),
                "answered_at": str(ended - 50_000),
                "ended_at": str(ended),
            },
            id=f"{ended}-0",
        )
        await redis_client.hset(f"{tag}contact:k{index}", mapping={"customer_token": "x"})
        await redis_client.rpush(f"sb:chat:k{index}", '{"text": "hola"}')
    assert await reports_on(redis_client).apply_retention(days=30, at_ms=now) == 2
    assert await redis_client.xlen(f"{tag}records") == 1
    retained = await redis_client.xrange(f"{tag}records:retained")
    assert retained is not None
    records = [fields for _, fields in retained if fields is not None]
    assert [fields["contact_id"] for fields in records] == ["k0", "k1"]
    assert all(fields["customer_id"] == "" for fields in records)
    assert not await redis_client.exists("sb:chat:k0", "sb:chat:k1", f"{tag}contact:k0")
    assert await redis_client.exists("sb:chat:k2", f"{tag}contact:k2") == 2

    inputs = await reports_on(redis_client).inputs(T0 - 86_400_000)
    report = build_report(
        inputs.records,
        ReportOptions(start_ms=T0 - 86_400_000, end_ms=now, answer_within_s={"general": 20}),
    )
    assert report.total.volume == 3 and report.total.asa_s == 10.0


# -- chat rating over HTTP -----------------------------------------------------------------


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    async with running_node(
        redis_url,
        users=[("ana", Role.AGENT, "ana-secret-1")],
        agents=[Agent("ana", "default", {"general": 3}, ["en"])],
    ) as node:
        yield node


async def test_chat_rating_over_http(node: Node) -> None:
    async with http_session(node) as http:
        ana = await login(http, "ana", "ana-secret-1")
        await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
        created = await new_chat(http, queue="general", customer="c-9")
        contact_id = created["contact_id"]
        customer = {"X-Customer-Token": created["customer_token"]}
        rate = f"/api/v1/contacts/{contact_id}/rating"
        early = await http.post(rate, json={"score": 4}, headers=customer)
        assert early.status == 409  # not finished yet
        await http.post(f"/api/v1/contacts/{contact_id}/accept", headers=ana)
        await http.post(f"/api/v1/contacts/{contact_id}/complete", headers=ana)
        assert (await http.post(rate, json={"score": 4})).status == 401
        bad = await http.post(rate, json={"score": 6}, headers=customer)
        assert bad.status == 400 and (await bad.json())["field"] == "$.score"
        rated = await http.post(rate, json={"score": 4}, headers=customer)
        assert rated.status == 201
        again = await http.post(rate, json={"score": 1}, headers=customer)
        assert again.status == 409
    assert await node.reports.store.ratings() == {contact_id: 4}
    assert (await node.client.hget(f"sb:{{rt}}:contact:{contact_id}", "rating")) == "4"


async def test_a_center_message_is_no_first_response(redis_client: aioredis.Redis) -> None:
    """An advisory's notice in a chat (sender `center`) came before the agent wrote: the
    first response is the agent's message, not the center's."""
    await redis_client.xadd(
        "sb:{rt}:records",
        {
            "contact_id": "told",
            "channel": "chat",
            "queue": "general",
            "state": "completed",
            "queued_at": str(T0),
            "answered_at": str(T0 + 5 * S),
            "ended_at": str(T0 + 90 * S),
        },
    )
    for sender, at in (("customer", T0), ("center", T0 + 8 * S), ("ana", T0 + 30 * S)):
        await redis_client.rpush("sb:chat:told", json.dumps({"sender": sender, "at_ms": at}))
    inputs = await reports_on(redis_client).inputs(T0 - 86_400_000)
    assert inputs.first_agent_message_ms == {"told": T0 + 30 * S}
