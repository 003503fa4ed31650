"""From the relaxation's head counts to a schedule every agent can work, cell by cell.

The LP optimum (`relaxation.py`) says how many agents of each cell (same servable
queues, region, time zone) work in each interval, in fractions and with the
per-agent rules only summed over the cell. Rounding every cell on its own would add
up the rounding errors of some thirty cells on the shared queues. Instead the cells
are rostered one after the other, each by the full CP-SAT model (`cpmodel.py`) for
its own few agents: its needs are what the cells rostered so far and the LP's share
of the cells still to come leave uncovered, its break cap is what the rostered cells
leave free. Every per-agent rule holds because it is the same model. The first
pass offers each agent only the shifts the LP uses in its cell (CP-SAT is slow on a
cell with all its shifts and no start) and at most the cell's LP average of weekly
hours plus a little (`capped`), so that no cell fills the rounding's holes with
surplus hours; a second pass solves each cell again with all the others fixed and
its real rules (fix-and-optimise), hinted with its current roster, so it only moves
when it finds a better one. A cell the first pass leaves without a roster (the time
ran out, or CP-SAT found none in it) gets the greedy schedule for what is left to
cover, when that meets every agent's weekly minimum: the improvement makes far more
of it than CP-SAT on the whole model from a greedy start (on the bench, with the
roster's time halved: 2 408 579 that way).
"""

from __future__ import annotations

import functools
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, replace

from ortools.sat.python import cp_model

from scheduler import cpmodel
from scheduler.heuristic import Choice, greedy
from scheduler.model import Agent, Rules
from scheduler.patterns import Horizon, Pattern, paid_in_week, weekly_bounds, weeks
from scheduler.relaxation import Cell, Guide, cells_of

log = logging.getLogger(__name__)

Coverage = dict[tuple[str, int], float]  # (queue, interval) → heads

# First pass: hours a week an agent may work above their cell's LP average. Without a
# cap a cell covers every hole the rounding left with extra shifts; with it the holes
# go on to the later cells and the improvement (`improve.py`). On the bench (LP
# average about 24 h), roster and improvement together with a flat cap: none
# 421 455, 28 h 395 002, 26 h 404 513, 24 h 423 103.
FIRST_PASS_SLACK_H = 4.0
# Seconds at most per cell in the first pass: its solves are small (the LP's shifts
# only) and what they leave, the second pass or the improvement (`improve.py`) takes.
FIRST_PASS_S = 1.0


@dataclass
class Roster:
    """A complete schedule and, per group of servable queues, its split over the queues."""

    schedule: dict[str, dict[int, Choice]]  # agent → local day → (pattern index, break starts)
    split: dict[tuple[tuple[str, ...], int, str], int]  # (group's queues, interval, queue)


@dataclass(frozen=True)
class _Remaining:
    """What is left for one cell: the needs that the cells rostered so far and the LP's
    share of those to come leave uncovered, and the break load of the rostered ones."""

    residual: dict[tuple[str, int], int]  # (queue, interval) → heads still wanted
    queues: list[str]  # the cell's queues
    break_load: dict[tuple[str, int], int]  # (region, interval) → others on a break


@dataclass
class _Part:
    """One cell's current roster and what it adds to coverage and to the break load."""

    schedule: dict[str, dict[int, Choice]]
    split: dict[tuple[int, str], int]  # (interval, queue) → heads
    resting: dict[int, int]  # interval → agents of the cell on a break


def share_of(guide: Guide, cells: dict[Cell, list[str]]) -> dict[Cell, Coverage]:
    """Each cell's part of the LP coverage: its group's split in proportion to its heads."""
    group_heads: dict[tuple[tuple[str, ...], int], float] = defaultdict(float)
    for (cell, i), heads in guide.working.items():
        group_heads[cell[0], i] += heads
    shares: dict[Cell, Coverage] = {cell: defaultdict(float) for cell in cells}
    for (cell, i), heads in guide.working.items():
        whole = group_heads[cell[0], i]
        if heads <= 1e-9 or whole <= 1e-9 or cell not in shares:
            continue
        for q in cell[0]:
            shares[cell][q, i] += guide.split.get((cell[0], i, q), 0.0) * heads / whole
    return shares


def roster(
    agents: list[Agent],
    patterns: dict[str, dict[int, list[Pattern]]],
    servable: dict[str, tuple[str, ...]],
    needs: dict[tuple[str, int], int],
    rules: Rules,
    horizon: Horizon,
    guide: Guide,
    time_limit_s: float,
    workers: int = 2,
    seed: int = 0,
    best_effort: bool = False,
) -> Roster | None:
    """Cells in turn, least flexible first, then again with the rest fixed; None when a
    cell has no roster and its greedy schedule misses a weekly minimum.

    The time is shared evenly over the cells left in the pass, at most `FIRST_PASS_S`
    a cell in the first; the second pass runs only with the time the first leaves.
    """
    deadline = time.monotonic() + time_limit_s
    by_id = {agent.agent_id: agent for agent in agents}
    cells = cells_of(agents, servable)
    order = sorted(cells, key=lambda c: (len(c[0]), -len(cells[c]), c))
    expected: Coverage = defaultdict(float)  # LP coverage of the cells not rostered yet
    shares = share_of(guide, cells)
    for share in shares.values():
        for key, heads in share.items():
            expected[key] += heads
    fixed: dict[tuple[str, int], int] = defaultdict(int)  # coverage of the rostered cells
    resting: dict[tuple[str, int], int] = defaultdict(int)  # their breaks, per region
    parts: dict[Cell, _Part] = {}
    solves = [(1, cell) for cell in order] + [(2, cell) for cell in order]
    for done, (_round, cell) in enumerate(solves):
        left = deadline - time.monotonic()
        old = parts.get(cell)
        if left <= 0.05 and old is not None:
            break
        if old is None:
            for key, heads in shares[cell].items():
                expected[key] -= heads
        else:
            _apply(old, cell, fixed, resting, -1)
        residual = {
            (q, i): wanted
            for (q, i), need in needs.items()
            if q in cell[0]
            and (wanted := round(need - fixed.get((q, i), 0) - expected.get((q, i), 0.0))) > 0
        }
        team = [by_id[a] for a in cells[cell]]
        remaining = _Remaining(
            residual,
            list(cell[0]),
            {key: n for key, n in resting.items() if key[0] == cell[1]},
        )
        part: _Part | None = None  # out of time: the greedy schedule below
        if left > 0.05:
            # First pass: only the shifts the LP uses in this cell, a much smaller search,
            # and no more hours than the LP's average in the cell and a little slack.
            used = {key for (c, key), n in guide.shifts.items() if c == cell and n > 1e-6}
            allowed = patterns if old is not None else _restricted(patterns, cells[cell], used)
            solve_cell = functools.partial(
                _solve_cell,
                remaining=remaining,
                rules=rules,
                horizon=horizon,
                old=old,
                workers=workers,
                seed=seed,
                best_effort=best_effort,
            )
            crew = team if old is not None else capped(team, cell, guide, patterns, rules, horizon)
            cells_left = len(order) - done % len(order)
            seconds = left / cells_left if old is not None else min(FIRST_PASS_S, left / cells_left)
            part = solve_cell(crew, allowed, time_limit_s=seconds)
            if part is not None and allowed is not patterns:
                part.schedule = _reindex(part.schedule, allowed, patterns)
            if part is None and allowed is not patterns:  # the first pass failed on the LP's shifts
                seconds = max(0.5, (deadline - time.monotonic()) / cells_left)
                part = solve_cell(team, patterns, time_limit_s=seconds)
        if part is None:
            part = old or _greedy_part(team, patterns, remaining, rules, horizon, best_effort)
        if part is None:
            log.info("roster: no schedule for cell %s", cell)
            return None
        parts[cell] = part
        _apply(part, cell, fixed, resting, 1)
    schedule: dict[str, dict[int, Choice]] = {}
    split: dict[tuple[tuple[str, ...], int, str], int] = defaultdict(int)
    for cell, part in parts.items():
        schedule.update(part.schedule)
        for (i, q), heads in part.split.items():
            split[cell[0], i, q] += heads
    return Roster(schedule, dict(split))


def capped(
    team: list[Agent],
    cell: Cell,
    guide: Guide,
    patterns: dict[str, dict[int, list[Pattern]]],
    rules: Rules,
    horizon: Horizon,
) -> list[Agent]:
    """The team with weekly hours capped at the cell's LP average plus the first-pass slack.

    Never below an agent's weekly minimum; the busiest week counts, partial weeks
    scaled to seven days.
    """
    paid = {
        (d, p.start, p.end): p.paid_minutes
        for agent in team
        for d, day in patterns[agent.agent_id].items()
        for p in day
    }
    shares = [(key, n) for (c, key), n in guide.shifts.items() if c == cell and n > 1e-6]
    average = 0.0
    for week in weeks(horizon.days):
        minutes = sum(n * paid.get(key, 0) for key, n in shares if key[0] in week.days)
        average = max(average, minutes / 60 / len(team) * 7 / week.calendar_days)
    floor = rules.min_hours_per_week
    return [
        replace(
            agent,
            max_hours=max(
                agent.min_hours, floor, min(agent.max_hours, average + FIRST_PASS_SLACK_H)
            ),
        )
        for agent in team
    ]


def _restricted(
    patterns: dict[str, dict[int, list[Pattern]]], ids: list[str], used: set[tuple[int, int, int]]
) -> dict[str, dict[int, list[Pattern]]]:
    """The agents' candidate shifts cut down to the (day, start, end) keys in `used`."""
    return {
        a: {d: [p for p in day if (d, p.start, p.end) in used] for d, day in patterns[a].items()}
        for a in ids
    }


def _reindex(
    schedule: dict[str, dict[int, Choice]],
    allowed: dict[str, dict[int, list[Pattern]]],
    patterns: dict[str, dict[int, list[Pattern]]],
) -> dict[str, dict[int, Choice]]:
    """Pattern indexes of a schedule found on cut-down candidates, in the full lists."""
    return {
        a: {d: (patterns[a][d].index(allowed[a][d][k]), starts) for d, (k, starts) in days.items()}
        for a, days in schedule.items()
    }


def _apply(
    part: _Part,
    cell: Cell,
    fixed: dict[tuple[str, int], int],
    resting: dict[tuple[str, int], int],
    sign: int,
) -> None:
    for (i, q), heads in part.split.items():
        fixed[q, i] += sign * heads
    for i, count in part.resting.items():
        resting[cell[1], i] += sign * count


def _solve_cell(
    team: list[Agent],
    patterns: dict[str, dict[int, list[Pattern]]],
    remaining: _Remaining,
    rules: Rules,
    horizon: Horizon,
    old: _Part | None,
    time_limit_s: float,
    workers: int,
    seed: int,
    best_effort: bool,
) -> _Part | None:
    """The cell's best roster found in the time, or None when none is found."""
    residual = remaining.residual
    queues, break_load = remaining.queues, remaining.break_load
    built = cpmodel.build(team, patterns, residual, queues, rules, horizon, best_effort, break_load)
    for literal in built.min_hours.values():
        built.model.add(literal == 1)
    if old is not None:
        split = {(0, i, q): heads for (i, q), heads in old.split.items()}
        cpmodel.add_hint(built, old.schedule, split, residual)
    else:
        start = _greedy_schedule(team, patterns, remaining, rules, horizon)
        split = cpmodel.greedy_split(built.patterns, built.groups, start, residual, rules, horizon)
        cpmodel.add_hint(built, start, split, residual)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, time_limit_s)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    status = solver.solve(built.model)
    log.debug(
        "cell of %d agents: %s, objective %.0f in %.2f s",
        len(team),
        solver.status_name(status),
        solver.objective_value,
        solver.wall_time,
    )
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    schedule, split_found = cpmodel.read(built, solver, rules)
    return _part(built.patterns, schedule, split_found, rules, horizon)


def _greedy_part(
    team: list[Agent],
    patterns: dict[str, dict[int, list[Pattern]]],
    remaining: _Remaining,
    rules: Rules,
    horizon: Horizon,
    best_effort: bool,
) -> _Part | None:
    """The cell's greedy schedule for what is left to cover, or None when it misses some
    agent's weekly minimum (then only CP-SAT on the whole model can tell why)."""
    schedule = _greedy_schedule(team, patterns, remaining, rules, horizon)
    if not best_effort and any(
        _below_minimum(agent, schedule.get(agent.agent_id, {}), patterns, rules, horizon)
        for agent in team
    ):
        return None
    group = [(tuple(agent.agent_id for agent in team), tuple(remaining.queues))]
    split = cpmodel.greedy_split(patterns, group, schedule, remaining.residual, rules, horizon)
    return _part(patterns, schedule, split, rules, horizon)


def _below_minimum(
    agent: Agent,
    days: dict[int, Choice],
    patterns: dict[str, dict[int, list[Pattern]]],
    rules: Rules,
    horizon: Horizon,
) -> bool:
    """Whether the agent works less than their minimum in some week."""
    chosen = {d: patterns[agent.agent_id][d][k] for d, (k, _starts) in days.items()}
    return any(
        paid_in_week(chosen, week) < weekly_bounds(agent, rules, week)[0]
        for week in weeks(horizon.days)
    )


def _greedy_schedule(
    team: list[Agent],
    patterns: dict[str, dict[int, list[Pattern]]],
    remaining: _Remaining,
    rules: Rules,
    horizon: Horizon,
) -> dict[str, dict[int, Choice]]:
    """The greedy schedule of one cell (every agent serves all its queues)."""
    servable = {agent.agent_id: tuple(remaining.queues) for agent in team}
    wanted, break_load = remaining.residual, remaining.break_load
    return greedy(team, patterns, servable, wanted, rules, horizon, break_load=break_load)


def _part(
    patterns: dict[str, dict[int, list[Pattern]]],
    schedule: dict[str, dict[int, Choice]],
    split: dict[tuple[int, int, str], int],
    rules: Rules,
    horizon: Horizon,
) -> _Part:
    """A cell's schedule and split (its one group), with the breaks it takes."""
    busy = cpmodel.working(patterns, schedule, rules, horizon)
    resting: dict[int, int] = defaultdict(int)
    for a, days in schedule.items():
        for d, (k, _starts) in days.items():
            pattern = patterns[a][d][k]
            for i in range(pattern.start, pattern.end):
                if i not in busy[a]:
                    resting[i] += 1
    return _Part(schedule, {(i, q): heads for (_g, i, q), heads in split.items()}, dict(resting))
