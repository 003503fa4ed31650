"""Report intervals on a day whose clock goes back: the repeated hour is two rows, in
the order they happened, each with its own offset and its own staffed time (pure logic:
the report is a function of the recorded contacts and the schedule)."""

from __future__ import annotations

import datetime as dt

from router.reports.report import ReportOptions, Shift, build_report


def ms(utc: str) -> int:
    return int(dt.datetime.fromisoformat(utc).timestamp() * 1000)


def contact(contact_id: str, arrives: str, answered_after_s: int) -> dict[str, str]:
    arrived = ms(arrives)
    return {
        "contact_id": contact_id,
        "channel": "voice",
        "queue": "general",
        "state": "completed",
        "queued_at": str(arrived),
        "answered_at": str(arrived + answered_after_s * 1000),
        "ended_at": str(arrived + 120_000),
        "agent_id": "ana",
    }


def test_the_hour_a_clock_repeats_is_two_rows_in_time_order() -> None:
    """Paris, 25 October 2026: 02:00-03:00 happens at +02:00 (00:00-01:00 UTC), then
    again at +01:00 (01:00-02:00 UTC). ana works 00:00-01:00 UTC only."""
    records = [
        contact("first-pass", "2026-10-25T00:30:00+00:00", 5),
        contact("second-pass-a", "2026-10-25T01:10:00+00:00", 50),
        contact("second-pass-b", "2026-10-25T01:40:00+00:00", 10),
        contact("after", "2026-10-25T02:30:00+00:00", 10),
    ]
    options = ReportOptions(
        start_ms=ms("2026-10-24T22:00:00+00:00"),
        end_ms=ms("2026-10-25T23:00:00+00:00"),
        by=("interval",),
        interval_s=3600,
        timezone="Europe/Paris",
        answer_within_s={"general": 20},
    )
    shift = Shift(
        "ana", ms("2026-10-25T00:00:00+00:00"), ms("2026-10-25T01:00:00+00:00"), "general"
    )
    report = build_report(records, options, shifts=[shift])
    rows = [
        (row.key["interval"], row.volume, row.answered_in_sl, row.staffed_ms)
        for row in report.rows
        if row.volume  # every hour of the day is a row: those with contacts
    ]
    assert rows == [
        ("2026-10-25T02:00:00+02:00", 1, 1, 3_600_000),
        ("2026-10-25T02:00:00+01:00", 2, 1, 0),
        ("2026-10-25T03:00:00+01:00", 1, 1, 0),
    ]


def test_fifteen_minute_intervals_across_new_yorks_repeated_hour() -> None:
    records = [
        contact("edt", "2026-11-01T05:10:00+00:00", 5),  # 01:10 EDT
        contact("est", "2026-11-01T06:10:00+00:00", 5),  # 01:10 EST
    ]
    options = ReportOptions(
        start_ms=ms("2026-11-01T04:00:00+00:00"),
        end_ms=ms("2026-11-02T05:00:00+00:00"),
        by=("interval",),
        interval_s=900,
        timezone="America/New_York",
    )
    labels = [row.key["interval"] for row in build_report(records, options).rows if row.volume]
    assert labels == ["2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00"]
