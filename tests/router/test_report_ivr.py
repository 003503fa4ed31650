"""The IVR report's aggregation (router/reports/ivr.py), pure: outcome records in, figures
per period out; and what an outcome record must hold to be stored.

The morning of 2026-11-20 (UTC), calls answered by the IVR of two regions:

| answered | region | outcome | stage          | reason          |
|----------|--------|---------|----------------|-----------------|
| 08:59:59 | eu     | routed  | routing        |                 | (before the period)
| 09:00:00 | eu     | routed  | routing        |                 |
| 09:10:00 | eu     | hung_up | language       |                 |
| 09:20:00 | eu     | hung_up | reason         |                 |
| 09:40:00 | us     | closed  | closed_message |                 |
| 09:45:00 | us     | hung_up | closed_message |                 |
| 09:50:00 | us     | failed  | routing        | contact_refused |
| 09:55:00 | us     | hung_up | consent        |                 | (a stage of a later IVR)
| 10:00:00 | eu     | routed  | routing        |                 | (the period's end: out)

By hand, 09:00-10:00: answered 7 = routed 1 + hung up 4 (language 1, reason 1,
closed_message 1, consent 1) + closed 1 + failed 1; 09:00-09:30: 3, 09:30-10:00: 4.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from router.model import Role
from router.reports.ivr import STAGES, ivr_record, ivr_report, ivr_table
from tests.nodes import http_session, login, running_node

T9 = int(dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC).timestamp() * 1000)
MIN = 60_000


def outcome(minute: float, region: str, what: str, stage: str, reason: str = "") -> dict[str, str]:
    at = T9 + int(minute * MIN)
    return ivr_record(
        {
            "outcome": what,
            "stage": stage,
            "reason": reason,
            "contact_id": "c-1" if what == "routed" else "",
            "region": region,
            "dialled": "1000",
            "answered_at": at,
            "ended_at": at + 20_000,
        }
    )


MORNING = [
    outcome(-1 / 60, "eu", "routed", "routing"),
    outcome(0, "eu", "routed", "routing"),
    outcome(10, "eu", "hung_up", "language"),
    outcome(20, "eu", "hung_up", "reason"),
    outcome(40, "us", "closed", "closed_message"),
    outcome(45, "us", "hung_up", "closed_message"),
    outcome(50, "us", "failed", "routing", "contact_refused"),
    outcome(55, "us", "hung_up", "consent"),
    outcome(60, "eu", "routed", "routing"),
]


def test_the_periods_calls_add_up_to_those_answered() -> None:
    report = ivr_report(MORNING, T9, T9 + 60 * MIN)
    (row,) = report.rows
    figures = row.figures.figures(report.stages)
    assert figures == {
        "answered": 7,
        "routed": 1,
        "hung_up": 4,
        "hung_up_by_stage": {
            "answer": 0,
            "language": 1,
            "reason": 1,
            "closed_message": 1,
            "routing": 0,
            "consent": 1,
        },
        "closed": 1,
        "failed": 1,
        "failed_by_reason": {"contact_refused": 1},
    }
    assert figures["answered"] == (
        figures["routed"] + figures["hung_up"] + figures["closed"] + figures["failed"]
    )
    # A stage the report does not know yet gets its column after the IVR's own.
    assert report.stages == (*STAGES, "consent")


def test_by_interval_every_interval_has_a_row_and_the_total_closes_them() -> None:
    report = ivr_report(MORNING, T9, T9 + 60 * MIN, by=("interval",), interval_s=1800)
    table = ivr_table(report)
    header, *lines = table
    assert header[:5] == ["region", "period", "answered", "routed", "hung_up"]
    assert header[-2:] == ["closed", "failed"]
    answered = {(line[0], line[1]): int(line[2]) for line in lines}
    assert answered == {
        ("all", "2026-11-20T09:00:00+00:00"): 3,
        ("all", "2026-11-20T09:30:00+00:00"): 4,
        ("all", "all"): 7,
    }
    # A quiet hour has its rows too, zeros.
    quiet = ivr_report([], T9, T9 + 60 * MIN, by=("interval",), interval_s=1800)
    assert [(row.period, row.figures.answered) for row in quiet.rows] == [
        ("2026-11-20T09:00:00+00:00", 0),
        ("2026-11-20T09:30:00+00:00", 0),
        ("all", 0),
    ]


def test_by_region_in_the_reports_zone() -> None:
    madrid = ZoneInfo("Europe/Madrid")
    report = ivr_report(
        MORNING, T9, T9 + 60 * MIN, by=("region", "interval"), interval_s=3600, zone=madrid
    )
    rows = [(row.region, row.period, row.figures.answered) for row in report.rows]
    assert rows == [
        ("eu", "2026-11-20T10:00:00+01:00", 3),
        ("us", "2026-11-20T10:00:00+01:00", 4),
        ("all", "all", 7),
    ]
    eu = report.rows[0].figures
    assert (eu.routed, dict(eu.hung_up), eu.closed) == (1, {"language": 1, "reason": 1}, 0)


def test_groups_other_than_region_and_interval_are_refused() -> None:
    with pytest.raises(ValueError, match="queue"):
        ivr_report(MORNING, T9, T9 + 60 * MIN, by=("queue",))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"outcome": "lost"}, "outcome.outcome"),
        ({"stage": ""}, "outcome.stage"),
        ({"outcome": "routed", "contact_id": ""}, "outcome.contact_id"),
        ({"outcome": "failed", "reason": ""}, "outcome.reason"),
        ({"answered_at": "yesterday"}, "outcome.answered_at"),
        ({"caller": "+34600000000"}, "outcome.caller"),  # nothing personal is kept
        ({"region": "x" * 200}, "outcome.region"),
    ],
)
def test_an_outcome_record_names_its_bad_field(changes: dict[str, str], field: str) -> None:
    good = {
        "outcome": "hung_up",
        "stage": "language",
        "region": "eu",
        "answered_at": str(T9),
        "ended_at": str(T9 + 1000),
    }
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        ivr_record({**good, **changes})


async def test_the_http_ivr_report_gives_the_figures_in_the_readers_scope(redis_url: str) -> None:
    """`GET /api/v1/reports/ivr`: outcomes stored through the router (as a worker's are),
    the whole figures for an admin and a planner, a booking supervisor's own calls only
    (the call routed into booking), and a bad period named."""
    password = "a-long-password"
    async with running_node(redis_url) as node:
        await node.sessions.save_user("adm", Role.ADMIN, password)
        await node.sessions.save_user("pia", Role.PLANNER, password)
        await node.sessions.save_user("sup", Role.SUPERVISOR, password, queues=("booking",))
        for record in MORNING:
            await node.router.note_ivr_outcome(
                dict(record, queue="booking") if record["outcome"] == "routed" else record
            )
        with pytest.raises(ValueError, match=r"outcome\.outcome"):
            await node.router.note_ivr_outcome({**MORNING[0], "outcome": "lost"})
        async with http_session(node) as http:
            period = {"from": "2026-11-20T09:00:00Z", "to": "2026-11-20T10:00:00Z"}
            for user in ("adm", "pia"):
                answer = await http.get(
                    "/api/v1/reports/ivr", params=period, headers=await login(http, user, password)
                )
                assert answer.status == 200, await answer.text()
                body = await answer.json()
                assert (body["answered"], body["routed"], body["hung_up"]) == (7, 1, 4)
                assert (body["closed"], body["failed"]) == (1, 1)
                assert body["hung_up_by_stage"]["closed_message"] == 1
                assert body["failed_by_reason"] == {"contact_refused": 1}
            sup = await login(http, "sup", password)
            body = await (await http.get("/api/v1/reports/ivr", params=period, headers=sup)).json()
            assert (body["answered"], body["routed"], body["hung_up"]) == (1, 1, 0)
            bad = await http.get("/api/v1/reports/ivr", params={"from": "soon"}, headers=sup)
            assert bad.status == 400 and (await bad.json())["field"] == "query.from"
