"""A proven lower bound on the schedule's objective, from an aggregate LP relaxation.

CP-SAT's own bound on the 300-agent model stays near zero for minutes: its LP
worker has ~110 000 columns and follows the greedy hint. This module builds a much
smaller relaxation and solves it as a linear program (HiGHS, bundled with OR-Tools).

Agents with the same servable queues, region and time zone ("cell") are
interchangeable for coverage and for the break cap, so the relaxation only counts
how many of a cell work each shift and how many take each break start. Every
per-agent rule becomes its sum over the cell: one shift per agent and day, days
per week, weekly paid hours, consecutive days, and rest ("ending late on day d plus
starting early on day d+1 is at most the head count"), and per week the shifts of
each paid length add up to whole agents' mixes of lengths (`week_mixes`: no agent
reaches 24 h with fewer than four bench shifts, whatever the sums allow). Summing
keeps every real schedule feasible; the terms left out of the objective (fairness,
wishes, requested days off) are never negative; the coverage, overstaffing and cost
terms are the full model's. So the LP optimum is at most the optimum of the full
model, and so at most the objective of any schedule it finds.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass

from ortools.linear_solver.python import model_builder as mb

from scheduler.model import Agent, Rules
from scheduler.patterns import Horizon, Pattern, Week, max_working_days, weekly_bounds, weeks

log = logging.getLogger(__name__)

Key = tuple[int, int, int]  # (local day, first interval, end interval)
Cell = tuple[tuple[str, ...], str, str]  # (servable queues, region, time zone)

# The LP optimum is rounded down by this share before it is used as a bound, to
# absorb the solver's floating-point tolerances (about 1e-9 relative).
SAFETY = 1e-6

# Mixes of shift lengths per agent and week beyond which the mix constraint is left out.
MAX_MIXES = 5000


@dataclass
class Guide:
    """The LP optimum in head counts, what `roster.py` turns into a schedule."""

    shifts: dict[tuple[Cell, Key], float]  # (cell, shift) → agents working it
    working: dict[tuple[Cell, int], float]  # (cell, interval) → on shift and not on a break
    split: dict[tuple[tuple[str, ...], int, str], float]  # (group's queues, interval, queue)


@dataclass
class Bound:
    value: float  # nan when the LP was not solved to optimality
    status: str
    wall_s: float
    guide: Guide | None = None  # the LP optimum, when solved


def shift_cost(region: str, paid_minutes: int, rules: Rules, horizon: Horizon) -> int:
    """Cost term of one shift: paid intervals x the region's hourly cost / the cheapest."""
    cheapest = min(rules.cost_per_hour.values(), default=1.0) or 1.0
    per_interval = rules.cost_per_hour.get(region, cheapest) / cheapest
    intervals = paid_minutes * 60 / horizon.interval.total_seconds()
    return round(rules.weights.cost * 10 * per_interval * intervals)


def cells_of(agents: list[Agent], servable: dict[str, tuple[str, ...]]) -> dict[Cell, list[str]]:
    """Agents grouped by what makes them interchangeable for coverage and break cap."""
    cells: dict[Cell, list[str]] = defaultdict(list)
    for agent in agents:
        if servable[agent.agent_id]:
            cells[servable[agent.agent_id], agent.region, agent.timezone].append(agent.agent_id)
    return dict(cells)


def week_mixes(
    minutes: list[int], days: int, low: int, high: int, limit: int = MAX_MIXES
) -> list[tuple[int, ...]] | None:
    """Every count of shifts per paid length one agent may work in a week, or None if too many.

    A mix has at most `days` shifts and paid minutes within [low, high].
    """
    found: list[tuple[int, ...]] = []

    def extend(prefix: tuple[int, ...], shifts: int, paid: int) -> bool:
        if len(prefix) == len(minutes):
            if low <= paid <= high:
                found.append(prefix)
            return len(found) <= limit
        m = minutes[len(prefix)]
        for n in range(days - shifts + 1):
            if paid + n * m > high:
                break
            if not extend((*prefix, n), shifts + n, paid + n * m):
                return False
        return True

    return found if extend((), 0, 0) else None


def _add_week_mixes(
    model: mb.Model,
    count: dict[tuple[Cell, Key], mb.Variable],
    cell: Cell,
    shifts: list[tuple[Key, Pattern]],
    week: Week,
    rules: Rules,
    bounds: list[tuple[int, int]],
    soft_min_hours: bool,
) -> None:
    """Each agent works one mix of shift lengths a week: the cell's shifts are a sum of mixes.

    The weekly sums alone let the LP give every agent 3.7 shifts of 7.5 h when no one
    agent can reach 24 h with fewer than four; counting agents per mix (shifts per
    paid length, within the days and hours allowed) closes that. Every schedule maps
    to it (count each agent's mix), so the bound stays valid.
    """
    inside = [(count[cell, k], p.paid_minutes) for k, p in shifts if k[0] in week.days]
    minutes = sorted({m for _v, m in inside})
    if not minutes:
        return
    days = max_working_days(rules, week)
    agents_of: dict[tuple[int, int], int] = defaultdict(int)
    for low, high in bounds:
        agents_of[0 if soft_min_hours else low, high] += 1
    used: dict[int, list[mb.LinearExpr]] = defaultdict(list)
    for (low, high), size in agents_of.items():
        mixes = week_mixes(minutes, days, low, high)
        if mixes is None:
            return
        if not mixes:
            continue  # the weekly bounds alone make the LP infeasible, as they should
        taken = [model.new_num_var(0, size, "") for _ in mixes]
        model.add(mb.LinearExpr.sum(taken) == size)
        for t, m in enumerate(minutes):
            terms = [(var, mix[t]) for var, mix in zip(taken, mixes, strict=True) if mix[t]]
            used[m].append(mb.LinearExpr.weighted_sum([v for v, _ in terms], [c for _, c in terms]))
    for m in minutes:
        worked = mb.LinearExpr.sum([v for v, paid in inside if paid == m])
        model.add(worked == mb.LinearExpr.sum(used[m]))


def lower_bound(
    agents: list[Agent],
    patterns: dict[str, dict[int, list[Pattern]]],
    servable: dict[str, tuple[str, ...]],
    needs: dict[tuple[str, int], int],
    queues: list[str],
    rules: Rules,
    horizon: Horizon,
    time_limit_s: float,
    soft_min_hours: bool = False,
) -> Bound:
    """The relaxation's LP optimum (see module doc); with `soft_min_hours` no weekly minimum."""
    started = time.monotonic()
    model = mb.Model()
    weights = rules.weights
    by_id = {agent.agent_id: agent for agent in agents}
    cells = cells_of(agents, servable)
    width = horizon.interval
    rest = int(rules.min_rest / width)

    # Head count per cell and shift (a shift = local day, start, end), and per break start.
    shape: dict[tuple[Cell, Key], Pattern] = {}
    room: dict[tuple[Cell, Key], int] = defaultdict(int)  # agents who may work it
    for cell, ids in cells.items():
        for a in ids:
            for d, day_patterns in patterns[a].items():
                for p in day_patterns:
                    shape[cell, (d, p.start, p.end)] = p
                    room[cell, (d, p.start, p.end)] += 1
    count = {key: model.new_num_var(0, room[key], "") for key in shape}
    by_cell: dict[Cell, list[tuple[Key, Pattern]]] = defaultdict(list)
    for (cell, key), p in shape.items():
        by_cell[cell].append((key, p))
    heads: dict[tuple[tuple[str, ...], int], list[tuple[mb.Variable, int]]] = defaultdict(list)
    cell_heads: dict[tuple[Cell, int], list[tuple[mb.Variable, int]]] = defaultdict(list)
    on_break: dict[tuple[str, int], list[mb.Variable]] = defaultdict(list)
    for (cell, key), p in shape.items():
        for i in range(p.start, p.end):
            heads[cell[0], i].append((count[cell, key], 1))
            cell_heads[cell, i].append((count[cell, key], 1))
        for r, starts in enumerate(p.break_starts):
            if not starts:
                continue
            taken = [model.new_num_var(0, room[cell, key], "") for _ in starts]
            model.add(mb.LinearExpr.sum(taken) == count[cell, key])
            span = int(rules.breaks[r].length / width)
            for i, var in zip(starts, taken, strict=True):
                for j in range(i, i + span):
                    heads[cell[0], j].append((var, -1))
                    cell_heads[cell, j].append((var, -1))
                    on_break[cell[1], j].append(var)
    if rules.max_on_break is not None:
        for resting in on_break.values():
            if len(resting) > rules.max_on_break:
                model.add(mb.LinearExpr.sum(resting) <= rules.max_on_break)

    # Per-agent rules summed over the cell.
    for cell, ids in cells.items():
        size = len(ids)
        shifts = by_cell[cell]
        days = list(range(min(k[0] for k, _ in shifts), max(k[0] for k, _ in shifts) + 1))
        per_day = {d: [count[cell, k] for k, _ in shifts if k[0] == d] for d in days}
        for d in days:
            if per_day[d]:
                present = sum(1 for a in ids if patterns[a].get(d))
                model.add(mb.LinearExpr.sum(per_day[d]) <= present)
        span = rules.max_consecutive_days
        for first in range(len(days) - span):
            window = [v for d in days[first : first + span + 1] for v in per_day[d]]
            model.add(mb.LinearExpr.sum(window) <= size * span)
        for week in weeks(horizon.days):
            inside = [v for d in week.days for v in per_day.get(d, [])]
            model.add(mb.LinearExpr.sum(inside) <= size * max_working_days(rules, week))
            bounds = [weekly_bounds(by_id[a], rules, week) for a in ids]
            chosen = [(count[cell, k], p.paid_minutes) for k, p in shifts if k[0] in week.days]
            minutes = mb.LinearExpr.weighted_sum([v for v, _ in chosen], [m for _, m in chosen])
            model.add(minutes <= sum(high for _low, high in bounds))
            if not soft_min_hours:
                model.add(minutes >= sum(low for low, _high in bounds))
            _add_week_mixes(model, count, cell, shifts, week, rules, bounds, soft_min_hours)
        for d in days:
            for threshold in sorted({k[2] for k, _ in shifts if k[0] == d}):
                late = [count[cell, k] for k, _ in shifts if k[0] == d and k[2] >= threshold]
                early = [
                    count[cell, k] for k, _ in shifts if k[0] == d + 1 and k[1] < threshold + rest
                ]
                if early:
                    model.add(mb.LinearExpr.sum(late + early) <= size)

    # Coverage: each group's working heads split over its queues, against the needs.
    coverage: dict[tuple[str, int], list[mb.Variable]] = defaultdict(list)
    split: dict[tuple[tuple[str, ...], int, str], mb.Variable] = {}
    for (group, i), terms in heads.items():
        parts = [model.new_num_var(0, len(agents), "") for _ in group]
        split.update({(group, i, q): var for q, var in zip(group, parts, strict=True)})
        model.add(
            mb.LinearExpr.sum(parts)
            == mb.LinearExpr.weighted_sum([v for v, _ in terms], [c for _, c in terms])
        )
        for q, var in zip(group, parts, strict=True):
            coverage[q, i].append(var)
    weighted: list[tuple[mb.Variable, float]] = []
    constant = 0.0
    for q in queues:
        priority = rules.queue_rule(q).priority
        for i in range(horizon.size):
            need = needs.get((q, i), 0)
            if not coverage.get((q, i)):
                constant += need * weights.under * priority
                continue
            under = model.new_num_var(0, need, "")
            over = model.new_num_var(0, len(agents), "")
            model.add(mb.LinearExpr.sum(coverage[q, i]) + under - over == need)
            weighted += [(under, weights.under * priority), (over, weights.over)]
    for (cell, key), p in shape.items():
        weighted.append((count[cell, key], shift_cost(cell[1], p.paid_minutes, rules, horizon)))
    model.minimize(
        mb.LinearExpr.weighted_sum([v for v, _ in weighted], [c for _, c in weighted]) + constant
    )

    solver = mb.Solver("highs")
    if not solver.solver_is_supported():
        solver = mb.Solver("glop")
    else:
        # Interior point then crossover: on this degenerate covering LP the simplex
        # alone takes minutes, the interior point method a few seconds.
        solver.set_solver_specific_parameters("solver=ipm\noutput_flag=false")
    solver.set_time_limit_in_seconds(max(1.0, time_limit_s - (time.monotonic() - started)))
    status = solver.solve(model)
    wall = time.monotonic() - started
    if status != mb.SolveStatus.OPTIMAL:
        log.info("relaxation not solved: %s after %.1f s", status.name, wall)
        return Bound(float("nan"), status.name, wall)
    value = solver.objective_value
    guide = Guide(
        {key: solver.value(var) for key, var in count.items()},
        {key: sum(solver.value(v) * c for v, c in terms) for key, terms in cell_heads.items()},
        {key: solver.value(var) for key, var in split.items()},
    )
    return Bound(value - abs(value) * SAFETY, status.name, wall, guide)
