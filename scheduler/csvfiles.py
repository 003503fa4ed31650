"""Reading and writing the CSV files of the contract (DESIGN.md, "Files").

Every reader fails on the first bad cell with one line naming file, row and field,
as `InputError`, so the CLI prints it and exits 2; so does a file that cannot be read or
written (a folder, a missing folder, not UTF-8). Writers create no folders.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import math
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduler.model import Agent, CoverageRow, ForecastRow, Requirement, Segment
from scheduler.names import EXPECTED_LANGUAGE, language_hint
from scheduler.patterns import infer_interval, off_grid
from scheduler.units import parse_instant
from switchboard.common.errors import InputError
from switchboard.common.ids import STAFF_ID_PATTERN, STAFF_ID_WORDS
from switchboard.common.languages import known_to_babel, primary
from switchboard.common.textfiles import cannot, not_utf8, records, split_header

T = TypeVar("T")

# Bounds of the numbers a planner's file gives, beyond which a value is a typo or an
# overflow (a forecast's `1.8e301` contacts) that would hang the staffing search: as the
# forecaster refuses a history row of more than 10⁹ contacts, a handle time of more than
# a day, and an agent's weekly hours beyond a week's.
MAX_CONTACTS = 1e9
MAX_AHT_S = 86_400.0
WEEK_HOURS = 168.0
# The most agents a requirements file may ask for one queue in one interval: beyond any
# center (the largest run thousands of seats, not a hundred thousand on one queue at
# once), so more is a typo (`250000` for `25`, `1e9`). A requirement beyond the roster is
# no input error: it is understaffing, which `schedule` reports.
MAX_REQUIRED = 100_000.0
# `staffing --volume` → the forecast's column it staffs for: the mean or a bound of the
# prediction interval the forecaster writes (`low`, `high`).
VOLUMES = {"mean": "contacts", "high": "high", "low": "low"}

FORECAST_COLUMNS = ("interval_start", "queue", "contacts", "aht_s")
REQUIREMENT_COLUMNS = ("interval_start", "queue", "required")
AGENT_COLUMNS = ("agent_id", "region", "timezone", "skills", "languages", "min_hours", "max_hours")
SCHEDULE_COLUMNS = ("agent_id", "start", "end", "activity")
COVERAGE_COLUMNS = ("interval_start", "queue", "required", "scheduled")


class _Row:
    """One CSV row with typed accessors whose errors name file, row and field."""

    def __init__(self, path: Path, number: int, values: dict[str, str]) -> None:
        self.path, self.line, self.values = path, number, values

    def fail(self, name: str, expected: str, found: str) -> InputError:
        return InputError(
            f"{self.path}: row {self.line}: field {name}: expected {expected}, found {found!r}"
        )

    def text(self, name: str, allow_empty: bool = False) -> str:
        value = (self.values.get(name) or "").strip()
        if not value and not allow_empty:
            raise self.fail(name, "a value", value)
        return value

    def instant(self, name: str) -> datetime:
        value = self.text(name)
        try:
            return parse_instant(value)
        except ValueError:
            raise self.fail(name, "ISO 8601 time with offset", value) from None

    def number(
        self, name: str, minimum: float = 0.0, maximum: float = math.inf, means: str = ""
    ) -> float:
        """A finite number from `minimum` to `maximum` (`means`: what the bound is)."""
        value = self.text(name)
        try:
            result = float(value)
        except ValueError:
            raise self.fail(name, "a number", value) from None
        if not math.isfinite(result) or not minimum <= result <= maximum:
            bound = f" and <= {maximum:,.0f}{means}" if math.isfinite(maximum) else ""
            raise self.fail(name, f"a number >= {minimum:g}{bound}", value)
        return result


def _rows(path: Path, columns: Iterable[str], why: str = "") -> Iterator[_Row]:
    """Rows of a CSV file after checking its header; row numbers count the header as row 1.
    Column names are matched in any case and order (extra columns are ignored), and the
    fields may be separated by commas, semicolons, tabs or pipes: the separator that splits
    the header into the columns (`switchboard.common.textfiles.split_header`, as the
    forecaster's calls-csv import). Rows of blank fields are skipped; a row with more or
    fewer fields than the header is refused (a stray comma would shift every field after
    it). `why` is added to the fault of a missing column (what asked for it)."""
    columns = tuple(columns)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as error:
        raise cannot(path, "read", error) from None
    with handle:
        try:
            first = handle.readline()
            delimiter, header = split_header(first, columns)
            missing = [name for name in columns if name not in header]
            if missing:
                found = ",".join(name for name in header if name) or "nothing"
                raise InputError(
                    f"{path}: row 1: header: expected columns {','.join(columns)}, "
                    f"missing {','.join(missing)} (found {found}; names in any case and "
                    f"order, separated by commas, semicolons, tabs or pipes){why}"
                )
            twice = next((name for name in columns if header.count(name) > 1), None)
            if twice is not None:
                raise InputError(f"{path}: row 1: column {twice!r}: appears twice")
            reader = csv.reader(itertools.chain([first], handle), delimiter=delimiter)
            next(reader)  # the header, read above
            for line, values in records(reader, header, path, delimiter):
                yield _Row(path, line, values)
        except UnicodeDecodeError:
            raise not_utf8(path) from None
        except OSError as error:
            raise cannot(path, "read", error) from None


def _read(path: Path, columns: Iterable[str], build: Callable[[_Row], T]) -> list[T]:
    return [item for _, item in _numbered(path, columns, build)]


def _numbered(
    path: Path, columns: Iterable[str], build: Callable[[_Row], T], why: str = ""
) -> list[tuple[int, T]]:
    """(row number, item) of every row, for the checks across rows."""
    return [(row.line, build(row)) for row in _rows(path, columns, why)]


def _contacts(row: _Row, name: str) -> float:
    return row.number(name, maximum=MAX_CONTACTS, means=" contacts per interval")


def _volume(row: _Row, mean: float, column: str) -> tuple[str, float]:
    """(column, contacts) to staff for: the interval's bound `column` (`high` or `low`),
    checked against the other bound when the file has it; the mean where the bound lies on
    its far side. The forecaster's interval is of whole contacts, nearest its coverage: a
    mean of 0.32 has `high` 0 (half the rows of a week of the bank's quarter hours), a
    mean of 0.7 `low` 1; staffing to `high` never staffs below the mean, to `low` never
    above it."""
    bound = _contacts(row, column)
    other = "low" if column == "high" else "high"
    if row.text(other, allow_empty=True):  # the other bound, when the file has it
        limit = _contacts(row, other)
        if (bound < limit) if column == "high" else (bound > limit):
            side = ">=" if column == "high" else "<="
            raise row.fail(
                column,
                f"a number {side} {other} ({limit:g}) of the same row: the forecast's "
                "interval is low to high (columns swapped?)",
                row.text(column),
            )
    beyond = bound >= mean if column == "high" else bound <= mean
    return (column, bound) if beyond else ("contacts", mean)


def read_forecast(path: Path, volume: str = "mean") -> list[ForecastRow]:
    """The forecast rows with their row numbers; an empty aht_s (no handle time known) is
    read as 0, which `service.make_requirements` refuses unless given a handle time.
    `volume` (a key of `VOLUMES`): the contacts to staff for, the mean or a bound of the
    forecast's prediction interval (then its column must be there, a number in every row)."""
    column = VOLUMES[volume]

    def build(row: _Row) -> ForecastRow:
        used, contacts = "contacts", _contacts(row, "contacts")
        if column != "contacts":
            used, contacts = _volume(row, contacts, column)
        return ForecastRow(
            interval_start=row.instant("interval_start"),
            queue=row.text("queue"),
            contacts=contacts,
            aht_s=row.number("aht_s", maximum=MAX_AHT_S, means=" seconds (a day)")
            if row.text("aht_s", allow_empty=True)
            else 0.0,
            line=row.line,
            volume=used,
        )

    columns = FORECAST_COLUMNS if column == "contacts" else (*FORECAST_COLUMNS, column)
    why = (
        ""
        if column == "contacts"
        else f"; --volume {volume} staffs for column {column}, a bound of the forecaster's "
        "prediction interval (low, high)"
    )
    return [item for _, item in _numbered(path, columns, build, why)]


def read_requirements(path: Path) -> list[Requirement]:
    """The requirements, one row per interval and queue, each of at most `MAX_REQUIRED`
    agents: a file without rows is refused
    (it has no grid), and so is a second row for the same pair (two files joined?) rather
    than one of them silently winning, and a row off the file's grid (the width its rows
    agree on, `grid_width`, from its first row's time), which no interval of the schedule
    would hold."""
    rows = _numbered(
        path,
        REQUIREMENT_COLUMNS,
        lambda row: Requirement(
            interval_start=row.instant("interval_start"),
            queue=row.text("queue"),
            required=row.number(
                "required",
                maximum=MAX_REQUIRED,
                means=" agents for one queue in one interval (beyond any center: a typo?)",
            ),
        ),
    )
    if not rows:
        # No rows, no grid: without this the default grid's length would be blamed on the
        # rules ("expected a multiple of the 0:30:00 interval").
        raise InputError(
            f"{path}: no requirement rows (a header only): expected a row per interval and queue"
        )
    first: dict[tuple[datetime, str], int] = {}
    for number, requirement in rows:
        key = (requirement.interval_start, requirement.queue)
        if key in first:
            raise InputError(
                f"{path}: row {number}: field interval_start: duplicate interval for "
                f"queue {requirement.queue!r} (first at row {first[key]})"
            )
        first[key] = number
    starts = [requirement.interval_start for _, requirement in rows]
    width = grid_width([requirement for _, requirement in rows])
    odd = off_grid(starts, width)
    if odd is not None:
        number, requirement = rows[odd]
        raise InputError(
            f"{path}: row {number}: field interval_start: {_iso(requirement.interval_start)} "
            f"is off the file's grid of {width.total_seconds() / 60:g}-minute intervals "
            f"from {_iso(starts[0])} (row {rows[0][0]})"
        )
    return [requirement for _, requirement in rows]


def grid_width(requirements: list[Requirement]) -> timedelta:
    """The interval width most rows agree on: the smallest gap between a queue's
    consecutive starts that is common (seen at least twice and a tenth as often as the
    most common gap), when every common gap is a multiple of it. One row moved from 06:30
    to 06:35 in a quarter-hour file then does not make the grid 5 minutes (every
    requirement counting for 5 minutes) but is refused, naming it. Without such a width
    (too few rows, a tie, common gaps of no one width) it is the smallest gap."""
    by_queue: dict[str, set[datetime]] = {}
    for requirement in requirements:
        by_queue.setdefault(requirement.queue, set()).add(requirement.interval_start)
    gaps = Counter(
        later - earlier
        for starts in by_queue.values()
        for earlier, later in itertools.pairwise(sorted(starts))
    )
    smallest = infer_interval(requirement.interval_start for requirement in requirements)
    ranked = gaps.most_common()
    if not ranked or ranked[0][1] < 2 or (len(ranked) > 1 and ranked[1][1] == ranked[0][1]):
        return smallest
    common = [gap for gap, count in ranked if count >= max(2, ranked[0][1] / 10)]
    width = min(common)
    return width if all(gap % width == timedelta(0) for gap in common) else smallest


def _split(value: str) -> frozenset[str]:
    """`booking:4;baggage` → {booking, baggage}: proficiency does not matter for scheduling."""
    return frozenset(
        part.split(":", 1)[0].strip() for part in value.split(";") if part.split(":", 1)[0].strip()
    )


STAFF_ID = re.compile(STAFF_ID_PATTERN)


def _agent(row: _Row) -> Agent:
    zone = row.text("timezone")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise row.fail("timezone", "an IANA time zone like Europe/Berlin", zone) from None
    min_hours = row.number("min_hours", maximum=WEEK_HOURS, means=" (the hours of a week)")
    max_hours = row.number("max_hours", maximum=WEEK_HOURS, means=" (the hours of a week)")
    if max_hours < min_hours:
        raise row.fail("max_hours", f"at least min_hours ({min_hours:g})", row.text("max_hours"))
    skills = _split(row.text("skills"))
    languages = _split(row.text("languages", allow_empty=True))
    for tag in sorted(languages):
        if not known_to_babel(tag):
            raise row.fail("languages", EXPECTED_LANGUAGE + language_hint(tag), tag)
    agent_id = row.text("agent_id")
    if not STAFF_ID.match(agent_id):  # the roster's and the admin API's one rule
        raise row.fail("agent_id", STAFF_ID_WORDS, agent_id)
    return Agent(
        agent_id=agent_id,
        region=row.text("region"),
        timezone=zone,
        skills=skills,
        # matched on the language subtag, as routing does: `ES` and `es-MX` are `es`
        languages=frozenset(map(primary, languages)),
        min_hours=min_hours,
        max_hours=max_hours,
    )


def read_agents(path: Path) -> list[Agent]:
    """The roster: unique ids, IANA time zones, languages babel knows (`spanish` is refused
    with the tag meant, as the admin API and `agents import` refuse it), hours."""
    agents = _numbered(path, AGENT_COLUMNS, _agent)
    seen: set[str] = set()
    for number, agent in agents:
        if agent.agent_id in seen:
            raise InputError(
                f"{path}: row {number}: field agent_id: expected a unique id, "
                f"found {agent.agent_id!r} again"
            )
        seen.add(agent.agent_id)
    return [agent for _, agent in agents]


def _segment(row: _Row) -> Segment:
    start, end = row.instant("start"), row.instant("end")
    if end <= start:
        raise row.fail("end", "a time after start", row.text("end"))
    return Segment(row.text("agent_id"), start, end, row.text("activity"))


def read_schedule(path: Path) -> list[Segment]:
    return _read(path, SCHEDULE_COLUMNS, _segment)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def check_writable(path: Path) -> None:
    """Refuse, before the work, an output path that cannot be written: a folder, or a file in
    a folder that does not exist (no folder is created for it) or that is not writable."""
    if path.is_dir():
        raise InputError(f"{path}: cannot write: it is a folder, expected a file name")
    folder = path.parent
    if not folder.is_dir():
        raise InputError(f"{path}: cannot write: no folder {str(folder)!r} (it is not created)")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{path}: cannot write: folder {str(folder)!r} is not writable")


def _write(path: Path, columns: Iterable[str], rows: Iterable[Iterable[object]]) -> None:
    """Replace the file in one step (a reader never sees half of it): write a hidden
    `.NAME.partial` beside it, then rename. The folder must exist: none is created."""
    check_writable(path)
    partial = path.with_name(f".{path.name}.partial")
    try:
        with partial.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows(rows)
        os.replace(partial, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise cannot(path, "write", error) from None


def write_requirements(path: Path, rows: Iterable[Requirement]) -> None:
    _write(
        path,
        REQUIREMENT_COLUMNS,
        ((_iso(r.interval_start), r.queue, _number(r.required)) for r in rows),
    )


def write_agents(path: Path, agents: Iterable[Agent]) -> None:
    _write(
        path,
        AGENT_COLUMNS,
        (
            (
                a.agent_id,
                a.region,
                a.timezone,
                ";".join(sorted(a.skills)),
                ";".join(sorted(a.languages)),
                _number(a.min_hours),
                _number(a.max_hours),
            )
            for a in agents
        ),
    )


def write_schedule(path: Path, segments: Iterable[Segment]) -> None:
    _write(
        path,
        SCHEDULE_COLUMNS,
        ((s.agent_id, _iso(s.start), _iso(s.end), s.activity) for s in segments),
    )


def write_coverage(path: Path, rows: Iterable[CoverageRow]) -> None:
    _write(
        path,
        COVERAGE_COLUMNS,
        ((_iso(r.interval_start), r.queue, _number(r.required), r.scheduled) for r in rows),
    )
