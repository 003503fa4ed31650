"""Exports for people: an iCalendar file per agent and an HTML coverage report.

The .ics files follow RFC 5545 (one VEVENT per shift, breaks listed in the
description) so agents can subscribe in any calendar. The report draws required vs
scheduled per queue with matplotlib as inline SVG: one self-contained file.
"""

from __future__ import annotations

import html
import io
import math
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from scheduler.model import BREAK_ACTIVITIES, CoverageRow, Segment, SolveReport
from switchboard.common.errors import InputError
from switchboard.common.textfiles import cannot


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """RFC 5545 lines are at most 75 octets; longer ones continue after CRLF and a space."""
    out, current = [], ""
    for char in line:
        if len((current + char).encode()) > 75:
            out.append(current)
            current = " "
        current += char
    out.append(current)
    return "\r\n".join(out)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def agent_calendar(
    agent_id: str, segments: list[Segment], created: datetime, zone: tzinfo = UTC
) -> str:
    """One VCALENDAR with a VEVENT per shift (contiguous segments) of one agent; the times
    in its description on the agent's clock (`zone`), as they read their day."""
    rows = sorted((s for s in segments if s.agent_id == agent_id), key=lambda s: s.start)
    shifts: list[list[Segment]] = []
    for segment in rows:
        if shifts and segment.start <= shifts[-1][-1].end:
            shifts[-1].append(segment)
        else:
            shifts.append([segment])
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Switchboard//Scheduler//EN",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{_escape(f'Shifts of {agent_id}')}",
    ]
    for shift in shifts:
        queues = sorted({s.activity for s in shift if s.activity not in BREAK_ACTIVITIES})
        details = [_local_span(s, zone) for s in shift]
        lines += [
            "BEGIN:VEVENT",
            f"UID:{agent_id}-{_stamp(shift[0].start)}@switchboard",
            f"DTSTAMP:{_stamp(created)}",
            f"DTSTART:{_stamp(shift[0].start)}",
            f"DTEND:{_stamp(shift[-1].end)}",
            f"SUMMARY:{_escape('Shift: ' + ', '.join(queues))}",
            f"DESCRIPTION:{_escape(chr(10).join(details))}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def _local_span(segment: Segment, zone: tzinfo) -> str:
    """`08:00-12:00 EST booking`: the segment on the agent's clock."""
    start, end = segment.start.astimezone(zone), segment.end.astimezone(zone)
    return f"{start:%H:%M}-{end:%H:%M} {start.tzname()} {segment.activity}"


def check_calendar_folder(directory: Path) -> None:
    """Refuse, before the solve, a calendar folder that cannot be made: the folder itself is
    created when missing, the folder it is in is not."""
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory}: cannot write calendars: it is a file, expected a folder")
    if not directory.exists() and not directory.parent.is_dir():
        raise InputError(
            f"{directory}: cannot write calendars: no folder {str(directory.parent)!r} "
            "(it is not created)"
        )


def write_calendars(
    directory: Path,
    segments: list[Segment],
    created: datetime,
    zones: Mapping[str, tzinfo] | None = None,
) -> list[Path]:
    """One `<agent_id>.ics` per agent in `directory`, created if missing (not its parents);
    `zones`: each agent's time zone (UTC for one not in it)."""
    zones = zones or {}
    check_calendar_folder(directory)
    try:
        directory.mkdir(exist_ok=True)
    except OSError as error:
        raise cannot(directory, "write calendars", error) from None
    written = []
    for agent_id in sorted({s.agent_id for s in segments}):
        path = directory / f"{agent_id}.ics"
        try:
            text = agent_calendar(agent_id, segments, created, zones.get(agent_id, UTC))
            path.write_text(text, encoding="utf-8")
        except OSError as error:
            raise cannot(path, "write", error) from None
        written.append(path)
    return written


def solve_figures(report: SolveReport) -> str:
    """The solve's figures, like `objective 1200, bound 1150.0, gap 4.17%`: "no bound yet"
    while the relaxation has proven none (a bound is a proof or nothing), with the reason
    when it is known ("no bound: the relaxation was still being solved after 57 s ..."),
    "no schedule" when none was found."""
    objective = (
        f"objective {report.objective:.0f}" if math.isfinite(report.objective) else "no schedule"
    )
    if math.isfinite(report.bound) and math.isfinite(report.gap):
        return f"{objective}, bound {report.bound:.1f}, gap {report.gap:.2%}"
    if report.no_bound:
        return f"{objective}, no bound: {report.no_bound}"
    return f"{objective}, no bound yet"


def _plot(queue: str, rows: list[CoverageRow]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    rows = sorted(rows, key=lambda r: r.interval_start)
    times: Any = [r.interval_start for r in rows]
    figure, axes = pyplot.subplots(figsize=(11, 2.8))
    axes.step(times, [r.required for r in rows], where="post", label="required", color="#c0392b")
    axes.step(times, [r.scheduled for r in rows], where="post", label="scheduled", color="#2471a3")
    axes.set_title(f"{queue}: agents per interval (UTC)")
    axes.legend(loc="upper right")
    axes.grid(alpha=0.3)
    figure.autofmt_xdate()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    pyplot.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def report_html(coverage: list[CoverageRow], report: SolveReport, problems: list[str]) -> str:
    """A self-contained page: solve figures, what cannot be met, a plot and totals per queue."""
    by_queue: dict[str, list[CoverageRow]] = defaultdict(list)
    for row in coverage:
        by_queue[row.queue].append(row)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Schedule report</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}</style></head><body>",
        "<h1>Schedule report</h1>",
        f"<p>Solver: {html.escape(report.status)}, {solve_figures(report)}, "
        f"{report.wall_s:.1f} s.</p>",
    ]
    if problems:
        parts.append("<h2>Cannot be met</h2><ul>")
        parts += [f"<li>{html.escape(line)}</li>" for line in problems]
        parts.append("</ul>")
    parts.append(
        "<h2>Totals</h2><table><tr><th>queue</th><th>understaffed agent-intervals</th>"
        "<th>overstaffed agent-intervals</th></tr>"
    )
    for queue, rows in sorted(by_queue.items()):
        under = sum(max(0.0, r.required - r.scheduled) for r in rows)
        over = sum(max(0.0, r.scheduled - r.required) for r in rows)
        parts.append(
            f"<tr><td>{html.escape(queue)}</td><td>{under:.1f}</td><td>{over:.1f}</td></tr>"
        )
    parts.append("</table>")
    for queue, rows in sorted(by_queue.items()):
        parts.append(f"<h2>{html.escape(queue)}</h2>{_plot(queue, rows)}")
    parts.append("</body></html>")
    return "\n".join(parts)
