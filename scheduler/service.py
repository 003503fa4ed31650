"""Use cases of the planner: forecast → requirements, requirements → schedule.

Plain data in and out; the CLI reads and writes the files around these.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from scheduler import assign, feasibility
from scheduler.csvfiles import MAX_REQUIRED
from scheduler.model import (
    Agent,
    ForecastRow,
    Requirement,
    Rules,
    ScheduleResult,
    SolveReport,
)
from scheduler.patterns import Horizon, infer_interval, off_grid, team_patterns
from scheduler.solver import Plan, SolveOptions, solve
from scheduler.staffing import BeyondReach, agents_needed
from scheduler.units import format_duration
from switchboard.common.errors import InputError

NOT_SOLVED = "NOT_SOLVED"  # the report's status when what cannot be met was found by counting
# The most agents staffing computes for one queue in one interval: far beyond any center,
# and found in a fraction of a second; more is a typo (a day's contacts in one interval,
# an AHT in milliseconds) that would otherwise keep Erlang C searching for hours.
MAX_AGENTS = 1_000_000


def _where(row: ForecastRow, source: str) -> str:
    """`FILE: row N` of a row read from a file, else the row's interval and queue."""
    if row.line:
        return f"{source}: row {row.line}"
    return f"{source}: queue {row.queue} at {row.interval_start.isoformat()}"


def _check_forecast(
    forecast: list[ForecastRow], interval: timedelta | None, aht_s: float | None, source: str
) -> timedelta:
    """The interval length; refuses a forecast without rows, or of one interval without
    `interval`, a second row for an interval and queue, an interval that disagrees with
    the rows' spacing, and contacts without a handle time (no `aht_s`)."""
    first: dict[tuple[datetime, str], ForecastRow] = {}
    for row in forecast:
        key = (row.interval_start, row.queue)
        if key in first:
            earlier = first[key]
            at = f"row {earlier.line}" if earlier.line else "another row"
            raise InputError(
                f"{_where(row, source)}: field interval_start: duplicate interval for "
                f"queue {row.queue!r} (first at {at})"
            )
        first[key] = row
    starts = {row.interval_start for row in forecast}
    if not starts:
        raise InputError(f"{source}: no forecast rows (a header only)")
    if len(starts) == 1 and interval is None:
        # One interval has no spacing to read its length from; assuming 30 minutes would
        # staff a quarter hour's contacts over half an hour (half the agents).
        only = next(iter(starts))
        raise InputError(
            f"{source}: all rows are for one interval ({only.isoformat()}), so its length "
            "cannot be read from the rows' spacing; give --interval, e.g. --interval 15m"
        )
    width = interval if len(starts) == 1 and interval is not None else infer_interval(starts)
    if interval is not None and interval != width:
        raise InputError(
            f"--interval {format_duration(interval)}: the forecast {source} has "
            f"{format_duration(width)} intervals (its rows are {format_duration(width)} "
            "apart); leave --interval out, the length is taken from the forecast"
        )
    if aht_s is None:
        for row in forecast:
            if row.contacts > 0 and row.aht_s <= 0:
                raise InputError(
                    f"{_where(row, source)}: field aht_s: no handle time for "
                    f"{row.contacts:g} contacts of queue {row.queue} at "
                    f"{row.interval_start.isoformat()}; give --aht SECONDS, the handle time "
                    "to assume where the forecast has none"
                )
    return width


def make_requirements(
    forecast: list[ForecastRow],
    service_level: float,
    answer_within: timedelta,
    patience: timedelta | None = None,
    shrinkage: float = 0.0,
    max_occupancy: float = 1.0,
    interval: timedelta | None = None,
    aht_s: float | None = None,
    source: str = "forecast",
) -> list[Requirement]:
    """Agents to schedule per interval and queue: Erlang C or A, then grossed up for shrinkage.

    The interval length is the rows' spacing (`interval` only for a forecast of a single
    interval, which needs it: there is no spacing to read; one that disagrees with the
    spacing is refused). `aht_s` is the handle time
    of rows whose forecast has none (0 or empty); without it such a row with contacts is
    refused. So is a second row for an interval and queue, and one that would need more
    than `MAX_AGENTS` agents or an Erlang A search beyond `staffing.MAX_UNIFORM_*`, or a
    requirement (after shrinkage) beyond `csvfiles.MAX_REQUIRED`, which `schedule` would
    refuse to read. Errors name `source` (the file), the row and the column its contacts
    came from (`ForecastRow.volume`).
    """
    width = _check_forecast(forecast, interval, aht_s, source)
    cache: dict[tuple[float, float], int] = {}
    rows = []
    for row in sorted(forecast, key=lambda r: (r.interval_start, r.queue)):
        handle = row.aht_s if row.aht_s > 0 or aht_s is None else aht_s
        key = (row.contacts, handle)
        if key not in cache:
            try:
                cache[key] = agents_needed(
                    row.contacts,
                    handle,
                    width.total_seconds(),
                    service_level,
                    answer_within.total_seconds(),
                    max_occupancy,
                    patience.total_seconds() if patience else None,
                    limit=MAX_AGENTS,
                )
            except BeyondReach as reason:
                capped = f" with --max-occupancy {max_occupancy:g}" if max_occupancy < 1 else ""
                raise InputError(
                    f"{_where(row, source)}: fields {row.volume} and aht_s: {row.contacts:g} "
                    f"contacts of {handle:g} s in {format_duration(width)}{capped}: {reason}"
                ) from None
        required = round(cache[key] / (1 - shrinkage), 2)
        if required > MAX_REQUIRED:
            grossed = f" ({required:,.2f} with --shrinkage {shrinkage:g})" if shrinkage else ""
            raise InputError(
                f"{_where(row, source)}: fields {row.volume} and aht_s: {row.contacts:g} "
                f"contacts of {handle:g} s in {format_duration(width)} need "
                f"{cache[key]:,} agents{grossed}: more than {MAX_REQUIRED:,.0f}, the most a "
                "requirements file may ask for one queue in one interval (beyond any center)"
            )
        rows.append(Requirement(row.interval_start, row.queue, required))
    return rows


def schedule_horizon(
    requirements: list[Requirement], start: date, days: int, interval: timedelta | None = None
) -> Horizon:
    """The UTC grid of a schedule: `days` days from `start`, intervals as long as the
    requirements' spacing (or `interval`) and in their phase: a 60-minute forecast of a zone
    at a half-hour offset has its intervals at :30 UTC, and so has the grid (from 00:30 UTC).
    Requirements off one grid are refused, naming the first such row."""
    width = interval or infer_interval(r.interval_start for r in requirements)
    if not requirements:
        return Horizon.from_date(start, days, width)
    ordered = [r.interval_start for r in requirements]
    odd = off_grid(ordered, width)
    if odd is not None:
        row = requirements[odd]
        raise InputError(
            f"requirements: queue {row.queue} at {row.interval_start.astimezone(UTC).isoformat()}"
            f": off the {format_duration(width)} grid of the first row "
            f"({ordered[0].astimezone(UTC).isoformat()})"
        )
    return Horizon.from_date(start, days, width, aligned_to=ordered[0])


def outside_horizon(requirements: list[Requirement], horizon: Horizon) -> list[str]:
    """One line each for the requirement rows before and after the horizon: they are left
    out of the solve, and a planner whose forecast starts at local midnight west of UTC
    would otherwise lose the last evening without a word."""
    end = horizon.at(horizon.size)
    sides = {
        "before": [r for r in requirements if r.interval_start < horizon.start],
        "after": [r for r in requirements if r.interval_start >= end],
    }
    lines = []
    for side, rows in sides.items():
        if not rows:
            continue
        first, last = (
            f"{t.astimezone(UTC):%Y-%m-%dT%H:%MZ}"
            for t in (min(r.interval_start for r in rows), max(r.interval_start for r in rows))
        )
        counts = Counter(r.queue for r in rows)
        queues = ", ".join(f"{queue} {counts[queue]}" for queue in sorted(counts))
        lines.append(
            f"{len(rows)} requirement rows {side} the horizon were left out "
            f"({first} to {last}; {queues})"
        )
    return lines


def whole_needs(
    requirements: Iterable[Requirement], horizon: Horizon
) -> dict[tuple[str, int], int]:
    """(queue, interval) → whole agents: a fractional requirement is rounded up."""
    needs: dict[tuple[str, int], int] = {}
    for requirement in requirements:
        i = horizon.index(requirement.interval_start)
        if i is not None and requirement.required > 0:
            needs[requirement.queue, i] = math.ceil(requirement.required - 1e-9)
    return needs


def make_schedule(
    requirements: list[Requirement],
    agents: list[Agent],
    rules: Rules,
    start: date,
    days: int,
    options: SolveOptions,
    interval: timedelta | None = None,
    on_first: Callable[[ScheduleResult], None] | None = None,
    stop_on_problems: bool = False,
) -> ScheduleResult:
    """Solve, turn the plan into segments and coverage; `problems` says what cannot be met.
    With `stop_on_problems`, what counting finds before the solve ends it there (status
    NOT_SOLVED, no schedule) unless `options.best_effort`; without, the schedule is solved
    anyway (the caller decides whether to use it).

    `on_first` gets the first complete schedule as soon as there is one (before the bound
    and the search), when nothing stands against writing it (no problems, or best effort).
    """
    horizon = schedule_horizon(requirements, start, days, interval)
    queues = sorted({r.queue for r in requirements})
    needs = whole_needs(requirements, horizon)
    patterns = team_patterns(agents, rules, horizon)
    problems = feasibility.shiftless_agents(agents, patterns, queues, rules, horizon)
    problems += feasibility.unmeetable_requirements(agents, patterns, needs, rules, horizon)
    problems += feasibility.unreachable_hours(agents, patterns, rules, horizon)
    problems += feasibility.idle_agents(agents, queues, rules, horizon)
    in_horizon = [r for r in requirements if horizon.index(r.interval_start) is not None]

    def result(plan: Plan) -> ScheduleResult:
        schedule = assign.segments(plan, rules, horizon)
        return ScheduleResult(
            schedule, assign.coverage(schedule, in_horizon, horizon), plan.report, problems
        )

    if problems and stop_on_problems and not options.best_effort:
        # Counted, not searched: the answer is known now, not after --time-limit.
        return ScheduleResult(
            [], [], SolveReport(NOT_SOLVED, math.nan, math.nan, math.nan, 0.0), problems
        )
    if on_first is not None and (not problems or options.best_effort):
        options = replace(options, on_first=lambda plan: on_first(result(plan)))
    plan = solve(agents, needs, queues, rules, horizon, options, patterns)
    problems += [
        f"agent {agent_id}: minimum weekly hours cannot be met together with the other rules"
        for agent_id in plan.infeasible
        if not any(line.startswith(f"agent {agent_id}:") for line in problems)
    ]
    if not plan.shifts and plan.report.status not in ("OPTIMAL", "FEASIBLE"):
        if plan.report.status != "INFEASIBLE":
            problems.append(
                f"no schedule found within {options.time_limit_s:g} s (solver: "
                f"{plan.report.status}); allow more time with --time-limit"
            )
        return ScheduleResult([], [], plan.report, problems)
    return result(plan)
