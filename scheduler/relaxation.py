"""A proven lower bound on the schedule's objective, from an aggregate LP relaxation.

CP-SAT's own bound on a large model stays near zero for minutes. This module builds
a much smaller relaxation and solves it as a linear program (HiGHS, bundled with
OR-Tools).

Agents with the same servable queues, region and time zone ("cell") are
interchangeable for coverage and for the break cap, so the relaxation only counts
how many of a cell work each shift and how many of its breaks start at each time.
Every per-agent rule becomes its sum over the cell: one shift per agent and day,
days per week, weekly paid hours, consecutive days, and rest ("ending late on day d
plus starting early on day d+1 is at most the head count"), and per week the shifts
of each paid length add up to whole agents' mixes of lengths (`week_mixes`: no
agent reaches 24 h with fewer than four 6 h shifts, whatever the sums allow).
Summing keeps every real schedule feasible; the terms left out of the objective
(fairness, wishes, requested days off) are never negative; the coverage,
overstaffing and cost terms are the full model's. So the LP optimum is at most the
optimum of the full model, and so at most the objective of any schedule it finds.

Its size does not grow with the grid where it need not:

* breaks are placed implicitly (`breaks.py`): a count per start time and a running
  sum per cell and rule, instead of one variable per shift and start;
* head counts change only where a shift or break starts or ends (a few rows per
  shift, not one per interval it covers), and rest is a running sum per day;
* coverage may be summed over buckets of `bucket` intervals (say an hour of a
  15-minute grid): per bucket, agent-intervals on each queue against the bucket's
  summed needs, and the window, rest and break-cap rules checked at bucket
  boundaries only. Every real schedule still maps to a feasible point with an
  objective no larger (a shortfall and a surplus inside one bucket cancel), so the
  bound stays valid; it is weaker only where demand changes inside a bucket.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from scheduler import breaks
from scheduler.lp import LinearProgram
from scheduler.model import Agent, Rules
from scheduler.patterns import Horizon, Pattern, Week, max_working_days, weekly_bounds, weeks

log = logging.getLogger(__name__)

Key = tuple[int, int, int]  # (local day, first interval, end interval)
Cell = tuple[tuple[str, ...], str, str]  # (servable queues, region, time zone)
Column = tuple[int, float]  # (LP column, coefficient)

# The LP optimum is rounded down by this share before it is used as a bound, to
# absorb the solver's floating-point tolerances (about 1e-9 relative).
SAFETY = 1e-6

# Mixes of shift lengths per agent and week beyond which the mix constraint is left out.
MAX_MIXES = 5000


@dataclass
class Bound:
    value: float  # nan when the LP was not solved to optimality
    status: str
    wall_s: float
    bucket: int = 1  # intervals per bucket of its coverage (1: single intervals)


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


def bucket_steps(start: int, end: int, bucket: int) -> list[tuple[int, int]]:
    """The agent-intervals one head on [start, end) adds to each bucket, as changes from
    bucket to bucket: (bucket, change), at most four (one pair with single intervals)."""
    first, last = start // bucket, (end - 1) // bucket
    profile = [min(end, (b + 1) * bucket) - max(start, b * bucket) for b in range(first, last + 1)]
    steps = []
    previous = 0
    for b, value in enumerate([*profile, 0], start=first):
        if value != previous:
            steps.append((b, value - previous))
        previous = value
    return steps


@dataclass
class _Relaxation:
    """The LP being written, with what its rows are summed from."""

    lp: LinearProgram
    rules: Rules
    horizon: Horizon
    bucket: int  # intervals per bucket of coverage
    count: dict[tuple[Cell, Key], int] = field(default_factory=dict)  # LP column per shift
    # (group, bucket) → changes of its agent-intervals there (a shift or break starts or ends).
    change: dict[tuple[tuple[str, ...], int], list[Column]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # (group, bucket) → its agent-intervals there.
    profile: dict[tuple[tuple[str, ...], int], list[Column]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # (region, bucket) → agent-intervals on a break there.
    resting: dict[tuple[str, int], list[Column]] = field(default_factory=lambda: defaultdict(list))
    split: dict[tuple[tuple[str, ...], int, str], int] = field(default_factory=dict)

    def chain(self, changes: dict[int, list[Column]], points: Iterable[int]) -> dict[int, int]:
        """Columns holding a running sum of `changes` at `points` in order (each ≥ 0, so the
        sum never falls below zero there), by point."""
        total: dict[int, int] = {}
        previous = None
        for t in points:
            total[t] = self.lp.column()
            terms = [(total[t], 1.0)] + [(c, -v) for c, v in changes.get(t, [])]
            if previous is not None:
                terms.append((previous, -1.0))
            self.lp.row(terms, 0.0, 0.0)
            previous = total[t]
        return total

    def away(self, cell: Cell, bucket: int, terms: list[Column]) -> None:
        """Agent-intervals of the cell on a break in a bucket (buckets only, no guide)."""
        self.profile[cell[0], bucket] += [(c, -v) for c, v in terms]
        self.resting[cell[1], bucket] += terms

    def presence(self, cell: Cell, column: int, start: int, end: int, sign: int) -> None:
        """A head of the cell present (+1) or away on a break (-1) on [start, end)."""
        for b, change in bucket_steps(start, end, self.bucket):
            self.change[cell[0], b].append((column, sign * change))
        for b in range(start // self.bucket, (end - 1) // self.bucket + 1):
            inside = min(end, (b + 1) * self.bucket) - max(start, b * self.bucket)
            self.profile[cell[0], b].append((column, float(sign * inside)))
            if sign < 0:
                self.resting[cell[1], b].append((column, float(inside)))


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
    bucket: int = 1,
) -> Bound:
    """The relaxation's LP optimum (see module doc); with `soft_min_hours` no weekly minimum,
    coverage summed over `bucket` intervals."""
    started = time.monotonic()
    build = _Relaxation(LinearProgram(), rules, horizon, bucket)
    by_id = {agent.agent_id: agent for agent in agents}
    cells = cells_of(agents, servable)
    for cell, ids in cells.items():
        shifts = _cell_shifts(ids, patterns)
        for key, (p, room) in shifts.items():
            column = build.lp.column(room, shift_cost(cell[1], p.paid_minutes, rules, horizon))
            build.count[cell, key] = column
            build.presence(cell, column, p.start, p.end, 1)
        _add_breaks(build, cell, shifts)
        _add_cell_rules(build, cell, [by_id[a] for a in ids], patterns, shifts, soft_min_hours)
    if rules.max_on_break is not None:
        for resting in build.resting.values():
            build.lp.row(resting, upper=rules.max_on_break * bucket)
    _add_coverage(build, needs, queues, len(agents))
    solution = build.lp.solve(time_limit_s - (time.monotonic() - started))
    wall = time.monotonic() - started
    if solution.status != "OPTIMAL":
        log.info("relaxation not solved: %s after %.1f s", solution.status, wall)
        return Bound(math.nan, solution.status, wall)
    value = solution.objective
    return Bound(value - abs(value) * SAFETY, solution.status, wall)


def _cell_shifts(
    ids: list[str], patterns: dict[str, dict[int, list[Pattern]]]
) -> dict[Key, tuple[Pattern, int]]:
    """The cell's shifts (local day, start, end), each with how many of its agents may work it."""
    tables: dict[int, tuple[dict[int, list[Pattern]], int]] = {}
    for a in ids:  # agents often share one table of candidate shifts
        table, n = tables.get(id(patterns[a]), (patterns[a], 0))
        tables[id(table)] = (table, n + 1)
    shifts: dict[Key, tuple[Pattern, int]] = {}
    for table, n in tables.values():
        for d, day in table.items():
            for p in day:
                key = (d, p.start, p.end)
                shifts[key] = (p, shifts[key][1] + n if key in shifts else n)
    return shifts


def _add_breaks(build: _Relaxation, cell: Cell, shifts: dict[Key, tuple[Pattern, int]]) -> None:
    """Each break rule of the cell's shifts: implicit placement when the windows are
    ordered (`breaks.py`, checked at bucket boundaries), else one column per shift and start."""
    staff = sum(room for _p, room in shifts.values())
    for r, rule in enumerate(build.rules.breaks):
        span = int(rule.length / build.horizon.interval)
        needing = [(key, p) for key, (p, _room) in shifts.items() if p.break_starts[r]]
        windows = [breaks.window(p.break_starts[r]) for _key, p in needing]
        if not needing:
            continue
        if all(windows) and breaks.ordered([w for w in windows if w]):
            columns = [build.count[cell, key] for key, _p in needing]
            _implicit_breaks(build, cell, columns, [w for w in windows if w], span, staff)
            continue
        for key, p in needing:
            started = [(t, build.lp.column(staff)) for t in p.break_starts[r]]
            build.lp.row([(c, 1.0) for _t, c in started] + [(build.count[cell, key], -1.0)], 0, 0)
            for t, column in started:
                build.presence(cell, column, t, t + span, -1)


def _implicit_breaks(
    build: _Relaxation,
    cell: Cell,
    shifts: list[int],
    windows: list[breaks.Window],
    span: int,
    staff: int,
) -> None:
    """Breaks counted per start (per bucket of starts, with buckets), placed on the shifts
    (columns `shifts`, their windows `windows`) by running sums: not yet started ≥ 0
    (opened minus started) and started minus closed ≥ 0 at every point where a window
    opens, a break starts or one closes; one pair of sums per run of overlapping windows
    (a day's, mostly), which solves far faster than one sum over the week."""
    bucket = build.bucket
    per_bucket = bucket > 1 and span <= bucket
    for first, last in breaks.runs(windows):
        opened: dict[int, list[Column]] = defaultdict(list)
        closed: dict[int, list[Column]] = defaultdict(list)
        for column, (low, high) in zip(shifts, windows, strict=True):
            if first <= low <= last:
                opened[low // bucket].append((column, 1.0))
                closed[high // bucket].append((column, -1.0))
        starts = sorted(
            {t for low, high in windows if first <= low <= last for t in range(low, high + 1)}
        )
        for point in sorted({t // bucket for t in starts}) if per_bucket else starts:
            column = build.lp.column(staff)
            opened[point if per_bucket else point // bucket].append((column, -1.0))
            closed[point if per_bucket else point // bucket].append((column, 1.0))
            if not per_bucket:
                build.presence(cell, column, point, point + span, -1)
                continue
            # A break starting late in the bucket spills over into the next one: the spill
            # is free between none and all but one interval of each break.
            if span > 1:
                spill = build.lp.column(staff * (span - 1))
                build.lp.row([(spill, 1.0), (column, -(span - 1.0))], upper=0.0)
                build.away(cell, point, [(column, float(span)), (spill, -1.0)])
                build.away(cell, point + 1, [(spill, 1.0)])
            else:
                build.away(cell, point, [(column, 1.0)])
        build.chain(opened, sorted(opened))
        build.chain(closed, sorted(closed))


def _add_cell_rules(
    build: _Relaxation,
    cell: Cell,
    team: list[Agent],
    patterns: dict[str, dict[int, list[Pattern]]],
    shifts: dict[Key, tuple[Pattern, int]],
    soft_min_hours: bool,
) -> None:
    """Every per-agent rule summed over the cell's agents."""
    lp, rules, count = build.lp, build.rules, build.count
    if not shifts:  # no shift fits these agents (said by feasibility.shiftless_agents)
        return
    size = len(team)
    days = range(min(k[0] for k in shifts), max(k[0] for k in shifts) + 1)
    per_day: dict[int, list[Column]] = defaultdict(list)
    for key in shifts:
        per_day[key[0]].append((count[cell, key], 1.0))
    for d in days:
        if per_day[d]:
            lp.row(per_day[d], upper=sum(1 for a in team if patterns[a.agent_id].get(d)))
    span = rules.max_consecutive_days
    for first in range(len(days) - span):
        lp.row([t for d in days[first : first + span + 1] for t in per_day[d]], upper=size * span)
    for week in weeks(build.horizon.days):
        inside = [t for d in week.days for t in per_day[d]]
        lp.row(inside, upper=size * max_working_days(rules, week))
        bounds = [weekly_bounds(agent, rules, week) for agent in team]
        minutes = [
            (count[cell, k], float(p.paid_minutes))
            for k, (p, _n) in shifts.items()
            if k[0] in week.days
        ]
        least = float(sum(low for low, _high in bounds))
        lp.row(minutes, 0.0 if soft_min_hours else least, float(sum(high for _low, high in bounds)))
        if soft_min_hours and least > 0:
            # Soft minimums: the cell's shortfall priced as in the objective. The agents'
            # shortfalls add up to at least the cell's, so the bound stays valid.
            short = lp.column(least, float(rules.weights.under))
            lp.row([*minutes, (short, 1.0)], lower=least)
        _add_week_mixes(build, cell, shifts, week, bounds, soft_min_hours)
    _add_rest(build, cell, shifts, size, days)


def _add_rest(
    build: _Relaxation,
    cell: Cell,
    shifts: dict[Key, tuple[Pattern, int]],
    size: int,
    days: range,
) -> None:
    """Ending at t or later on day d plus starting before t + rest on day d+1 is at most
    the head count, for each end t on a bucket boundary; both sides are running sums."""
    rest = int(build.rules.min_rest / build.horizon.interval)
    count = build.count
    for d in days:
        ends = sorted({k[2] for k in shifts if k[0] == d and k[2] % build.bucket == 0})
        tomorrow = [(k, count[cell, k]) for k in shifts if k[0] == d + 1]
        if not ends or not tomorrow:
            continue
        late_by: dict[int, list[Column]] = defaultdict(list)
        for k in shifts:  # ending at t or later: counted from the last end t it reaches
            if k[0] == d and (n := _last_at_most(ends, k[2])) is not None:
                late_by[-n].append((count[cell, k], 1.0))
        late = build.chain(late_by, range(-len(ends) + 1, 1))
        early_by: dict[int, list[Column]] = defaultdict(list)
        for k, column in tomorrow:  # starting before t + rest: counted from the first end t
            n = next((n for n, t in enumerate(ends) if k[1] < t + rest), None)
            if n is not None:
                early_by[n].append((column, 1.0))
        early = build.chain(early_by, range(len(ends)))
        for n in range(len(ends)):
            if any(m <= n for m in early_by):
                build.lp.row([(late[-n], 1.0), (early[n], 1.0)], upper=size)


def _last_at_most(ends: list[int], value: int) -> int | None:
    """Index of the last of the sorted `ends` not above `value`."""
    found = None
    for n, t in enumerate(ends):
        if t > value:
            break
        found = n
    return found


def _add_week_mixes(
    build: _Relaxation,
    cell: Cell,
    shifts: dict[Key, tuple[Pattern, int]],
    week: Week,
    bounds: list[tuple[int, int]],
    soft_min_hours: bool,
) -> None:
    """Each agent works one mix of shift lengths a week: the cell's shifts are a sum of mixes.

    The weekly sums alone let the LP give every agent 3.7 shifts of 7.5 h when no one
    agent can reach 24 h with fewer than four; counting agents per mix (shifts per
    paid length, within the days and hours allowed) closes that. Every schedule maps
    to it (count each agent's mix), so the bound stays valid.
    """
    lp = build.lp
    inside = [
        (build.count[cell, k], p.paid_minutes) for k, (p, _n) in shifts.items() if k[0] in week.days
    ]
    minutes = sorted({m for _c, m in inside})
    if not minutes:
        return
    days = max_working_days(build.rules, week)
    agents_of: dict[tuple[int, int], int] = defaultdict(int)
    for low, high in bounds:
        agents_of[0 if soft_min_hours else low, high] += 1
    used: dict[int, list[Column]] = defaultdict(list)
    for (low, high), size in agents_of.items():
        mixes = week_mixes(minutes, days, low, high)
        if mixes is None:
            return
        if not mixes:
            continue  # the weekly bounds alone make the LP infeasible, as they should
        taken = [lp.column(size) for _ in mixes]
        lp.row([(c, 1.0) for c in taken], size, size)
        for t, m in enumerate(minutes):
            used[m] += [(c, float(mix[t])) for c, mix in zip(taken, mixes, strict=True) if mix[t]]
    for m in minutes:
        worked = [(c, 1.0) for c, paid in inside if paid == m]
        lp.row(worked + [(c, -v) for c, v in used[m]], 0.0, 0.0)


def _add_coverage(
    build: _Relaxation, needs: dict[tuple[str, int], int], queues: list[str], staff: int
) -> None:
    """Each group's agent-intervals per bucket split over its queues, against the bucket's
    needs; written as their changes from one bucket to the next."""
    lp, rules, weights, bucket = build.lp, build.rules, build.rules.weights, build.bucket
    coverage: dict[tuple[str, int], list[Column]] = defaultdict(list)
    reach: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for group, b in build.change:
        reach[group].append(b)
    for group, moments in reach.items():
        previous: list[Column] = []
        for b in range(min(moments), max(moments) + 1):
            here = []
            if b < max(moments):
                for q in group:
                    build.split[group, b, q] = lp.column(staff * bucket)
                    here.append((build.split[group, b, q], 1.0))
                    coverage[q, b].append((build.split[group, b, q], 1.0))
            if bucket == 1:  # single intervals: changes from one to the next, sparser
                changes = [(c, -v) for c, v in build.change.get((group, b), [])]
                lp.row(here + [(c, -v) for c, v in previous] + changes, 0.0, 0.0)
            elif here:  # buckets: each its own sum, no running sum over the week
                lp.row(here + [(c, -v) for c, v in build.profile.get((group, b), [])], 0.0, 0.0)
            previous = here
    summed: dict[tuple[str, int], int] = defaultdict(int)
    for (q, i), need in needs.items():
        summed[q, i // bucket] += need
    for q in queues:
        priority = rules.queue_rule(q).priority
        for b in range(-(-build.horizon.size // bucket)):
            need = summed.get((q, b), 0)
            if not coverage.get((q, b)):
                lp.constant += need * weights.under * priority
                continue
            under = lp.column(need, weights.under * priority)
            over = lp.column(staff * bucket, weights.over)
            lp.row([*coverage[q, b], (under, 1.0), (over, -1.0)], need, need)
