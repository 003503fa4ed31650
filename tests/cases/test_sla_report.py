"""SLA report figures: FRT and next-response time per queue, attainment and breaches per
policy, escalations by cause; from records, and from a day of cases through the command."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import redis.asyncio as aioredis

from router.cases.config import read_case_settings
from router.cases.service import Cases
from router.cases.store import CaseStore
from router.chat import Message
from router.model import Channel, NewContact, QueueConfig
from router.reports.sla import sla_report, sla_tables
from router.service import Router
from router.store import RoutingStore
from switchboard import cli
from switchboard.common.configfile import ConfigReader
from switchboard.common.hours import OpeningHours
from tests.cases.conftest import Clock, case_config, paris_ms

T0 = paris_ms(2025, 3, 3, 9)


def timer(
    queue: str, kind: str, outcome: str, wall_s: float, policy: str = "std"
) -> dict[str, str]:
    return {
        "kind": "timer",
        "queue": queue,
        "policy": policy,
        "timer": kind,
        "outcome": outcome,
        "wall_s": str(wall_s),
        "business_s": str(wall_s / 2),
        "at_ms": str(T0),
    }


def test_figures_per_queue_policy_and_cause() -> None:
    records = [
        {"kind": "case", "queue": "booking", "at_ms": str(T0)},
        {"kind": "case", "queue": "booking", "at_ms": str(T0)},
        timer("booking", "first_response", "met", 60),
        timer("booking", "first_response", "met", 120),
        timer("booking", "first_response", "breached", 600),
        timer("booking", "next_response", "met", 30),
        timer("general", "resolution", "met", 3600, policy="gold"),
        {"kind": "breach", "policy": "std", "timer": "first_response", "at_ms": str(T0)},
        {"kind": "escalation", "cause": "sla.first_response", "at_ms": str(T0)},
        {"kind": "escalation", "cause": "emotion.keyword", "at_ms": str(T0)},
        {"kind": "escalation", "cause": "emotion.keyword", "at_ms": str(T0)},
        {"kind": "escalation", "cause": "emotion.keyword", "at_ms": str(T0 - 1)},  # before
    ]
    report = sla_report(records, T0, T0 + 1)
    booking = report.queues[0].figures()
    assert booking["cases_opened"] == 2 and booking["first_responses"] == 3
    assert booking["frt_p50_s"] == 120 and booking["frt_mean_s"] == 260
    assert booking["frt_business_mean_s"] == 130 and booking["next_response_p50_s"] == 30
    assert booking["frt_business_p50_s"] == 60 and booking["next_response_business_p50_s"] == 15
    standard = next(p for p in report.policies if p.policy == "std").figures()
    assert standard["attainment"] == 0.75 and standard["breaches"] == 1
    assert (
        standard["first_response_attainment"] == 2 / 3 and standard["resolution_attainment"] is None
    )
    assert report.causes == {"emotion.keyword": 2, "sla.first_response": 1}
    assert report.breaches == 1 and report.sla_escalations == 1
    tables = sla_tables(report)
    assert tables["queue"][0][:3] == ["queue", "cases_opened", "first_responses"]
    assert tables["cause"] == [
        ["cause", "escalations"],
        ["emotion.keyword", "2"],
        ["sla.first_response", "1"],
    ]


def test_a_timer_ended_without_a_response_is_no_response_time_nor_met() -> None:
    """Solving or closing ends a response timer nobody answered: `cancelled` before its
    target (left out of the attainment), `breached` after it (missed); neither is a
    response time. Records written before `responded` existed count as before."""
    unanswered = {**timer("booking", "first_response", "cancelled", 4), "responded": "0"}
    late_unanswered = {**timer("booking", "next_response", "breached", 5400), "responded": "0"}
    records = [
        timer("booking", "first_response", "met", 60),
        unanswered,
        timer("booking", "next_response", "met", 30),
        late_unanswered,
    ]
    report = sla_report(records, T0, T0 + 1)
    booking = report.queues[0].figures()
    assert booking["first_responses"] == 1 and booking["frt_mean_s"] == 60
    assert booking["next_responses"] == 1 and booking["next_response_mean_s"] == 30
    standard = report.policies[0].figures()
    assert standard["cancelled"] == 1 and standard["timers_ended"] == 3
    assert standard["first_response_attainment"] == 1
    assert standard["next_response_attainment"] == 0.5
    assert sla_tables(report)["policy"][0][:6] == [
        "policy",
        "timers_ended",
        "met",
        "attainment",
        "breaches",
        "cancelled",
    ]


def test_a_timer_is_missed_from_the_moment_its_target_passes_and_once() -> None:
    """A probe's report read 100 % attained beside 27 breaches: customers never answered
    were missed only once their timers ended. A breach counts the miss; the timer's
    late end (marked so) does not count it again; records from before the marks count
    at the end, as they did."""
    breach = {"kind": "breach", "policy": "std", "timer": "first_response", "at_ms": str(T0)}
    overdue = [timer("booking", "first_response", "met", 60), {**breach, "missed": "1"}]
    standard = sla_report(overdue, T0, T0 + 1).policies[0].figures()
    assert standard["attainment"] == 0.5 and standard["breaches"] == 1
    assert standard["timers_ended"] == 1  # the overdue one runs on

    answered_late = {**timer("booking", "first_response", "breached", 900), "missed_at_breach": "1"}
    standard = sla_report([*overdue, answered_late], T0, T0 + 1).policies[0].figures()
    assert standard["attainment"] == 0.5 and standard["timers_ended"] == 2
    before_marks = [timer("booking", "first_response", "met", 60), breach]
    before_marks.append(timer("booking", "first_response", "breached", 900))
    standard = sla_report(before_marks, T0, T0 + 1).policies[0].figures()
    assert standard["attainment"] == 0.5 and standard["timers_ended"] == 2


async def test_a_day_of_cases_through_the_report_command(
    redis_url: str, redis_client: aioredis.Redis, tmp_path: Path
) -> None:
    config = case_config(tmp_path, '\n[[case_rules]]\nname = "every chat"\non = "contact"\n')
    config.write_text(config.read_text().replace('data_dir = "var/redis"', f'url = "{redis_url}"'))
    reader = ConfigReader.open(config)
    settings = read_case_settings(
        reader,
        {"paris": OpeningHours("Europe/Paris", "09:00", "18:00")},
        ["booking", "general", "senior"],
    )
    reader.faults.raise_if_any()
    router = Router(
        RoutingStore(redis_client),
        [
            QueueConfig("booking", "booking"),
            QueueConfig("general", "general"),
            QueueConfig("senior", "senior"),
        ],
        node_id="n1",
        region="paris",
    )
    await router.publish_configuration(["paris"])
    clock = Clock(T0)

    class Hub:
        async def publish(self, event: dict[str, object]) -> None:
            pass

    cases = Cases(CaseStore(redis_client), router, settings, Hub(), clock=clock, node_id="n1")
    router.intake = cases
    answered = []
    for index, answer_after_min in enumerate((10, 30, 300)):  # the third one is late
        clock.set(T0 + index * 60_000)
        contact = await router.create_contact(
            NewContact(Channel.CHAT, "booking", "en", customer_id=f"c-{index}"), at_ms=clock()
        )
        answered.append((contact, T0 + index * 60_000 + answer_after_min * 60_000))
    for contact, at in sorted(answered, key=lambda pair: pair[1]):
        clock.set(at)
        await cases.tick()
        message = Message("m", contact.contact_id, "ana", "hello", "en", at)
        await cases.message_posted(contact, message)
    out = tmp_path / "sla.csv"
    day = ["report", "--from", "2025-03-03", "--to", "2025-03-03", "--config", str(config)]
    assert await asyncio.to_thread(cli.main, [*day, "--sla", "queue", "--out", str(out)]) == 0
    rows = {row["queue"]: row for row in csv.DictReader(io.StringIO(out.read_text()))}
    # The late one breached at 13:01 and was escalated to general, where it was answered.
    assert rows["booking"]["cases_opened"] == "3" and rows["booking"]["first_responses"] == "2"
    assert rows["booking"]["frt_p50_s"] == "1200"  # 10 and 30 minutes
    assert rows["general"]["first_responses"] == "1" and rows["general"]["frt_p50_s"] == "18000"
    assert await asyncio.to_thread(cli.main, [*day, "--sla", "policy", "--out", str(out)]) == 0
    (policy,) = csv.DictReader(io.StringIO(out.read_text()))
    assert policy["policy"] == "standard" and policy["first_response_breaches"] == "1"
    assert policy["first_response_attainment"] == "0.6667"
    assert await asyncio.to_thread(cli.main, [*day, "--sla", "cause", "--out", str(out)]) == 0
    assert list(csv.reader(io.StringIO(out.read_text()))) == [
        ["cause", "escalations"],
        ["sla.first_response", "1"],
    ]
    for contact, _ in answered:
        await router.fail(contact.contact_id, "test over", at_ms=T0 + 3_600_000)
    listing = tmp_path / "contacts.csv"
    assert await asyncio.to_thread(cli.main, [*day, "--contacts", "--out", str(listing)]) == 0
    lines = list(csv.DictReader(io.StringIO(listing.read_text())))
    linked = {line["contact_id"]: line["case_id"] for line in lines}
    for contact, _ in answered:
        assert linked[contact.contact_id] == await CaseStore(redis_client).case_of_contact(
            contact.contact_id
        )


def test_an_empty_period_still_prints_the_headers() -> None:
    tables = sla_tables(sla_report([], T0, T0 + 1))
    assert tables["policy"][0][:4] == ["policy", "timers_ended", "met", "attainment"]
    assert tables["queue"][0][:2] == ["queue", "cases_opened"]
    assert tables["cause"] == [["cause", "escalations"]]
