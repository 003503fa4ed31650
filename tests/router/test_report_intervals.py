"""Report intervals longer than an hour on clock-change days, and interval reports of a
fixed shape (a row per interval of the period, zeros included). Pure logic: the report
is a function of the recorded contacts and the schedule.

Madrid, 2026: the clock goes forward on 29 March (02:00 CET is 03:00 CEST, at 01:00 UTC:
a 23-hour day) and back on 25 October (03:00 CEST is 02:00 CET, at 01:00 UTC: 02:00-03:00
happens twice and the day has 25 hours)."""

from __future__ import annotations

import datetime as dt

import pytest

from router.reports.periods import MAX_REPORT_ROWS
from router.reports.report import Report, ReportOptions, Shift, build_report, report_table

MADRID = "Europe/Madrid"
H = 3_600_000


def ms(utc: str) -> int:
    return int(dt.datetime.fromisoformat(utc).timestamp() * 1000)


def contact(
    contact_id: str, arrives: str, handle_s: int = 120, queue: str = "general", agent: str = "ana"
) -> dict[str, str]:
    arrived = ms(arrives)
    return {
        "contact_id": contact_id,
        "channel": "voice",
        "queue": queue,
        "state": "completed",
        "queued_at": str(arrived),
        "answered_at": str(arrived + 5_000),
        "ended_at": str(arrived + 5_000 + handle_s * 1000),
        "agent_id": agent,
    }


def options(start: str, end: str, interval_s: int) -> ReportOptions:
    return ReportOptions(
        start_ms=ms(start),
        end_ms=ms(end),
        by=("interval",),
        interval_s=interval_s,
        timezone=MADRID,
        answer_within_s={"general": 20},
    )


def staffed(report: Report) -> list[tuple[str, int, int]]:
    return [(row.key["interval"], row.volume, row.staffed_ms) for row in report.rows]


def test_daily_rows_on_a_25_hour_day_hold_the_whole_day() -> None:
    """Finding 5: shifts of an hour at 00:00 on 10-25, 23:00 on 10-25 and 00:00 on 10-26
    (local). The 10-25 row is 25 h long and holds two staffed hours and 840 s handled."""
    records = [
        contact("morning", "2026-10-25T08:00:00+00:00", 420),
        contact("late", "2026-10-25T22:30:00+00:00", 420),  # 23:30 CET, still 10-25
    ]
    shifts = [
        Shift("ana", ms("2026-10-24T22:00:00+00:00"), ms("2026-10-24T23:00:00+00:00"), "general"),
        Shift("ana", ms("2026-10-25T22:00:00+00:00"), ms("2026-10-25T23:00:00+00:00"), "general"),
        Shift("ana", ms("2026-10-25T23:00:00+00:00"), ms("2026-10-26T00:00:00+00:00"), "general"),
    ]
    day = options("2026-10-23T22:00:00+00:00", "2026-10-26T23:00:00+00:00", 86_400)
    report = build_report(records, day, shifts=shifts)
    assert staffed(report) == [
        ("2026-10-24T00:00:00+02:00", 0, 0),
        ("2026-10-25T00:00:00+02:00", 2, 2 * H),
        ("2026-10-26T00:00:00+01:00", 0, H),
    ]
    assert report.rows[1].occupancy == pytest.approx(840 / 7200)
    assert sum(row.staffed_ms for row in report.rows) == report.total.staffed_ms == 3 * H


def test_daily_rows_on_a_23_hour_day_end_at_the_next_local_midnight() -> None:
    """A shift 23:30-00:30 CEST across the night after the 23-hour day: half an hour
    each side of midnight, not the whole hour in the short day."""
    shift = Shift(
        "ana", ms("2026-03-29T21:30:00+00:00"), ms("2026-03-29T22:30:00+00:00"), "general"
    )
    records = [contact("c", "2026-03-29T10:00:00+00:00"), contact("d", "2026-03-30T10:00:00Z")]
    day = options("2026-03-28T23:00:00+00:00", "2026-03-30T22:00:00+00:00", 86_400)
    report = build_report(records, day, shifts=[shift])
    assert staffed(report) == [
        ("2026-03-29T00:00:00+01:00", 1, H // 2),
        ("2026-03-30T00:00:00+02:00", 1, H // 2),
    ]


def test_two_hour_rows_when_the_clock_goes_back_are_contiguous_and_in_order() -> None:
    """Finding 6: a row starts each time the clock shows an even hour. 02:00 shows twice:
    02:00 CEST starts a row that ends an hour later, when the clock shows 02:00 again
    (CET) and starts the next; 03:30 CET is in that second row, after 02:30 CET."""
    records = [
        contact("cest-0230", "2026-10-25T00:30:00+00:00"),
        contact("cet-0230", "2026-10-25T01:30:00+00:00"),
        contact("cet-0330", "2026-10-25T02:30:00+00:00"),
        contact("cet-0430", "2026-10-25T03:30:00+00:00"),
    ]
    shift = Shift("ana", ms("2026-10-24T23:00:00+00:00"), ms("2026-10-25T03:00:00+00:00"), "x")
    day = options("2026-10-24T22:00:00+00:00", "2026-10-25T23:00:00+00:00", 7200)
    report = build_report(records, day, shifts=[shift])
    assert staffed(report)[:4] == [
        ("2026-10-25T00:00:00+02:00", 0, H),  # 00:00-02:00 CEST, staffed from 01:00
        ("2026-10-25T02:00:00+02:00", 1, H),  # 02:00-03:00 CEST (00:00-01:00 UTC)
        ("2026-10-25T02:00:00+01:00", 2, 2 * H),  # 02:00-04:00 CET (01:00-03:00 UTC)
        ("2026-10-25T04:00:00+01:00", 1, 0),
    ]
    assert len(report.rows) == 13  # 25 hours: 11 rows of 2 h, then 02:00 twice
    assert sum(row.staffed_ms for row in report.rows) == report.total.staffed_ms == 4 * H


def test_two_hour_rows_when_the_clock_goes_forward_have_real_labels() -> None:
    """02:00 CET never happens on 29 March: the clock jumps from 02:00 CET to 03:00 CEST,
    and that row starts (and is labelled) at 03:00+02:00, an hour long."""
    records = [
        contact("cet-0130", "2026-03-29T00:30:00+00:00"),
        contact("cest-0330", "2026-03-29T01:30:00+00:00"),
    ]
    shift = Shift("ana", ms("2026-03-29T00:00:00+00:00"), ms("2026-03-29T03:00:00+00:00"), "x")
    day = options("2026-03-28T23:00:00+00:00", "2026-03-29T22:00:00+00:00", 7200)
    report = build_report(records, day, shifts=[shift])
    assert staffed(report)[:3] == [
        ("2026-03-29T00:00:00+01:00", 1, H),
        ("2026-03-29T03:00:00+02:00", 1, H),
        ("2026-03-29T04:00:00+02:00", 0, H),
    ]
    assert len(report.rows) == 12


def test_hourly_rows_are_unchanged_around_both_clock_changes() -> None:
    """1 h and shorter intervals keep their rows: the repeated hour twice, the skipped
    one not at all (25 and 23 rows)."""
    back = build_report([], options("2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", 3600))
    labels = [row.key["interval"] for row in back.rows]
    assert len(labels) == 25
    assert labels[2:5] == [
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:00:00+01:00",
        "2026-10-25T03:00:00+01:00",
    ]
    forward = build_report([], options("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", 1800))
    labels = [row.key["interval"] for row in forward.rows]
    assert len(labels) == 46
    assert labels[3:5] == ["2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00"]


def test_every_interval_of_the_period_is_a_row() -> None:
    """Finding 10: a 30-minute report of a day has 48 rows whatever arrived, zeros in
    the empty ones; grouped by queue, each defined queue has its 48 (one with no
    contacts too), and the rows still add up to the total."""
    day = ReportOptions(
        start_ms=ms("2026-11-20T00:00:00Z"),
        end_ms=ms("2026-11-21T00:00:00Z"),
        by=("interval",),
        interval_s=1800,
        answer_within_s={"general": 20, "vip": 5},
    )
    records = [contact("a", "2026-11-20T09:10:00Z"), contact("b", "2026-11-20T09:20:00Z")]
    report = build_report(records, day)
    assert len(report.rows) == 48
    assert report.rows[0].key["interval"] == "2026-11-20T00:00:00+00:00"
    assert report.rows[-1].key["interval"] == "2026-11-20T23:30:00+00:00"
    assert [row.volume for row in report.rows if row.volume] == [2]
    table = report_table(report)
    assert table[1][:3] == ["2026-11-20T00:00:00+00:00", "0", "0"]

    by_queue = build_report(records, ReportOptions(**{**day.__dict__, "by": ("queue", "interval")}))
    assert len(by_queue.rows) == 96
    assert {row.key["queue"] for row in by_queue.rows} == {"general", "vip"}
    assert sum(row.volume for row in by_queue.rows) == by_queue.total.volume == 2

    empty = build_report([], ReportOptions(**{**day.__dict__, "by": ("queue", "interval")}))
    assert len(empty.rows) == 96 and empty.total.volume == 0


def test_an_interval_report_too_large_to_read_is_refused() -> None:
    """Rows are intervals x groups: 1-minute intervals of a day for 200 agents is more
    rows than a report holds, refused with a message saying why."""
    records = [contact(f"c{n}", "2026-11-20T09:00:00Z", agent=f"agent-{n}") for n in range(200)]
    day = ReportOptions(
        start_ms=ms("2026-11-20T00:00:00Z"),
        end_ms=ms("2026-11-21T00:00:00Z"),
        by=("agent", "interval"),
        interval_s=60,
    )
    assert MAX_REPORT_ROWS < 1440 * 200
    with pytest.raises(ValueError, match=r"1440 intervals x 200 groups"):
        build_report(records, day)
    with pytest.raises(ValueError, match="intervals"):
        build_report([], ReportOptions(start_ms=0, end_ms=2**62, by=("interval",)))
