"""Calendar files and the HTML report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.exports import agent_calendar, report_html
from scheduler.model import CoverageRow, Segment, SolveReport


def test_calendar_has_one_event_per_shift() -> None:
    day = datetime(2024, 3, 4, 7, tzinfo=UTC)
    segments = [
        Segment("A1", day, day + timedelta(hours=3), "sales"),
        Segment("A1", day + timedelta(hours=3), day + timedelta(hours=3.5), "lunch"),
        Segment("A1", day + timedelta(hours=3.5), day + timedelta(hours=8), "sales"),
        Segment("A1", day + timedelta(days=1), day + timedelta(days=1, hours=6), "billing"),
        Segment("A2", day, day + timedelta(hours=6), "sales"),
    ]
    text = agent_calendar("A1", segments, day)
    assert text.count("BEGIN:VEVENT") == 2
    assert "DTSTART:20240304T070000Z" in text and "DTEND:20240304T150000Z" in text
    assert "SUMMARY:Shift: sales" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")


def test_an_agents_calendar_reads_their_own_clock() -> None:
    """The probe: a New York agent's shift description said '13:00-18:00 UTC booking'."""
    start = datetime(2024, 11, 25, 13, tzinfo=UTC)
    segments = [
        Segment("ny1", start, start + timedelta(hours=2), "booking"),
        Segment("ny1", start + timedelta(hours=2), start + timedelta(hours=2.25), "break"),
        Segment("ny1", start + timedelta(hours=2.25), start + timedelta(hours=5), "booking"),
    ]
    text = agent_calendar("ny1", segments, start, ZoneInfo("America/New_York"))
    unfolded = text.replace("\r\n ", "")
    assert "08:00-10:00 EST booking\\n10:00-10:15 EST break\\n10:15-13:00 EST booking" in unfolded
    assert "DTSTART:20241125T130000Z" in text  # the event itself stays in UTC
    assert "13:00-15:00 UTC booking" in agent_calendar("ny1", segments, start).replace("\r\n ", "")


def test_report_plots_each_queue() -> None:
    start = datetime(2024, 3, 4, tzinfo=UTC)
    rows = [
        CoverageRow(start + timedelta(minutes=30 * i), queue, 2, 2 if i % 3 else 1)
        for i in range(8)
        for queue in ("sales", "billing")
    ]
    page = report_html(rows, SolveReport("OPTIMAL", 10, 10, 0.0, 1.2), ["queue x cannot"])
    assert page.count("<svg") == 2
    assert "queue x cannot" in page
    assert "<td>sales</td>" in page
