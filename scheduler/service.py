"""Use cases of the planner: forecast → requirements, requirements → schedule.

Plain data in and out; the CLI reads and writes the files around these.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date, datetime, timedelta

from scheduler import assign, feasibility
from scheduler.model import Agent, ForecastRow, Requirement, Rules, ScheduleResult
from scheduler.patterns import Horizon, team_patterns
from scheduler.solver import Plan, SolveOptions, solve
from scheduler.staffing import agents_needed

DEFAULT_INTERVAL = timedelta(minutes=30)


def infer_interval(starts: Iterable[datetime], default: timedelta = DEFAULT_INTERVAL) -> timedelta:
    """The smallest gap between distinct interval starts; `default` for a single interval."""
    ordered = sorted(set(starts))
    gaps = [b - a for a, b in itertools.pairwise(ordered) if b > a]
    return min(gaps, default=default)


def make_requirements(
    forecast: list[ForecastRow],
    service_level: float,
    answer_within: timedelta,
    patience: timedelta | None = None,
    shrinkage: float = 0.0,
    max_occupancy: float = 1.0,
    interval: timedelta | None = None,
) -> list[Requirement]:
    """Agents to schedule per interval and queue: Erlang C or A, then grossed up for shrinkage."""
    width = interval or infer_interval(row.interval_start for row in forecast)
    cache: dict[tuple[float, float], int] = {}
    rows = []
    for row in sorted(forecast, key=lambda r: (r.interval_start, r.queue)):
        key = (row.contacts, row.aht_s)
        if key not in cache:
            cache[key] = agents_needed(
                row.contacts,
                row.aht_s,
                width.total_seconds(),
                service_level,
                answer_within.total_seconds(),
                max_occupancy,
                patience.total_seconds() if patience else None,
            )
        rows.append(
            Requirement(row.interval_start, row.queue, round(cache[key] / (1 - shrinkage), 2))
        )
    return rows


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
) -> ScheduleResult:
    """Solve, turn the plan into segments and coverage; `problems` says what cannot be met.

    `on_first` gets the first complete schedule as soon as there is one (before the bound
    and the search), when nothing stands against writing it (no problems, or best effort).
    """
    width = interval or infer_interval(r.interval_start for r in requirements)
    horizon = Horizon.from_date(start, days, width)
    queues = sorted({r.queue for r in requirements})
    needs = whole_needs(requirements, horizon)
    patterns = team_patterns(agents, rules, horizon)
    problems = feasibility.unmeetable_requirements(agents, patterns, needs, rules, horizon)
    problems += feasibility.unreachable_hours(agents, patterns, rules, horizon)
    problems += feasibility.idle_agents(agents, queues, rules, horizon)
    in_horizon = [r for r in requirements if horizon.index(r.interval_start) is not None]

    def result(plan: Plan) -> ScheduleResult:
        schedule = assign.segments(plan, rules, horizon)
        return ScheduleResult(
            schedule, assign.coverage(schedule, in_horizon, horizon), plan.report, problems
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
