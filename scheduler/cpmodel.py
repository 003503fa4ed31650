"""The CP-SAT shift-scheduling model, laid out like OR-Tools' shift_scheduling_sat.py.

Sections, in order: data, variables, hard constraints, soft constraints with weighted
penalties, objective. Multi-skill without double counting: agents with the same set
of servable queues form a group, and in each interval the group's working agents (on
shift and not on break or lunch) are split over those queues by integer variables
whose sum equals the working head count. Any split of a group is realisable by
individual agents because they are interchangeable for coverage, so `assign.py`
later gives each agent exactly one activity per interval.

The same builder serves the whole team (`solver.py`) and one cell of it with the
rest of the schedule fixed (`roster.py`): then `needs` are what the others leave
uncovered and `break_load` the breaks they already take in each region.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from scheduler.heuristic import Choice
from scheduler.model import Agent, Rules
from scheduler.patterns import (
    Horizon,
    Pattern,
    max_working_days,
    misses,
    weekly_bounds,
    weeks,
)
from scheduler.relaxation import shift_cost

LinearTerms = list[tuple[cp_model.IntVar, int]]
Group = tuple[tuple[str, ...], tuple[str, ...]]  # (agent ids, queues they serve)


@dataclass
class Built:
    """The model and the variables the callers read or hint."""

    model: cp_model.CpModel
    patterns: dict[str, dict[int, list[Pattern]]]
    groups: list[Group]
    shift: dict[tuple[str, int, int], cp_model.IntVar]  # (agent, day, pattern index)
    brk: dict[tuple[str, int, int, int], cp_model.IntVar]  # (agent, day, rule, first interval)
    split: dict[tuple[int, int, str], cp_model.IntVar]  # (group, interval, queue)
    slack: dict[tuple[str, int], tuple[cp_model.IntVar, cp_model.IntVar]]  # under, over
    min_hours: dict[str, cp_model.IntVar] = field(default_factory=dict)  # agent → literal


def _spread(model: cp_model.CpModel, counts: list[Any], top: int) -> Any:
    """max - min of per-agent counts, the fairness measure."""
    high = model.new_int_var(0, top, "")
    low = model.new_int_var(0, top, "")
    model.add_max_equality(high, counts)
    model.add_min_equality(low, counts)
    return high - low


def build(
    agents: list[Agent],
    patterns: dict[str, dict[int, list[Pattern]]],
    needs: dict[tuple[str, int], int],
    queues: list[str],
    rules: Rules,
    horizon: Horizon,
    best_effort: bool = False,
    break_load: dict[tuple[str, int], int] | None = None,
    fairness: bool = True,
) -> Built:
    """The model with its objective; minimum hours hold through `Built.min_hours` literals.

    `break_load` (region, interval) → agents outside `agents` already on break, which
    lowers the break cap for these agents.
    """
    model = cp_model.CpModel()
    weights = rules.weights

    # ---- Data -------------------------------------------------------------------------
    servable = {a.agent_id: tuple(q for q in queues if rules.can_serve(a, q)) for a in agents}
    by_group: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for agent in agents:
        if servable[agent.agent_id]:
            by_group[servable[agent.agent_id]].append(agent.agent_id)
    groups = [(tuple(ids), group_queues) for group_queues, ids in by_group.items()]

    # ---- Variables --------------------------------------------------------------------
    # shift[a, d, k] = 1 when agent a works pattern k on local day d.
    shift: dict[tuple[str, int, int], cp_model.IntVar] = {}
    # brk[a, d, r, i] = 1 when agent a's break/lunch r of day d starts at interval i.
    brk: dict[tuple[str, int, int, int], cp_model.IntVar] = {}
    patterns_day: dict[int, int] = {}  # variable index → local day, to spot overlaps
    for agent in agents:
        a = agent.agent_id
        if not servable[a]:
            continue
        for d, day_patterns in patterns[a].items():
            for k, _pattern in enumerate(day_patterns):
                shift[a, d, k] = model.new_bool_var(f"shift_{a}_{d}_{k}")
                patterns_day[shift[a, d, k].index] = d
            for r in range(len(rules.breaks)):
                for i in sorted({i for p in day_patterns for i in p.break_starts[r]}):
                    brk[a, d, r, i] = model.new_bool_var(f"brk_{a}_{d}_{r}_{i}")

    # on_shift[a][i] and on_break[a][i] as linear terms over the booleans above.
    on_shift: dict[str, dict[int, LinearTerms]] = {a.agent_id: defaultdict(list) for a in agents}
    on_break: dict[str, dict[int, LinearTerms]] = {a.agent_id: defaultdict(list) for a in agents}
    for (a, d, k), var in shift.items():
        pattern = patterns[a][d][k]
        for i in range(pattern.start, pattern.end):
            on_shift[a][i].append((var, 1))
    for (a, _d, r, i), var in brk.items():
        for j in range(i, i + int(rules.breaks[r].length / horizon.interval)):
            on_break[a][j].append((var, 1))

    # split[g, i, q]: working agents of group g on queue q in interval i.
    split: dict[tuple[int, int, str], cp_model.IntVar] = {}
    for g, (ids, group_queues) in enumerate(groups):
        reachable = sorted({i for a in ids for i in on_shift[a]})
        for i in range(reachable[0], reachable[-1] + 1) if reachable else ():
            for q in group_queues:
                split[g, i, q] = model.new_int_var(0, len(ids), f"split_{g}_{i}_{q}")

    def total(terms: LinearTerms) -> cp_model.LinearExpr:
        return cp_model.LinearExpr.weighted_sum([v for v, _ in terms], [c for _, c in terms])

    # ---- Hard constraints -------------------------------------------------------------
    min_hours: dict[str, cp_model.IntVar] = {}
    penalties: list[tuple[cp_model.LinearExpr, int]] = []
    rest = int(rules.min_rest / horizon.interval)
    for agent in agents:
        a = agent.agent_id
        if not servable[a]:
            continue
        days = patterns[a]
        works = {d: sum(shift[a, d, k] for k in range(len(days[d]))) for d in days}
        # At most one shift per local day.
        for d in days:
            if days[d]:
                model.add_at_most_one(shift[a, d, k] for k in range(len(days[d])))
        # Shifts of different days never overlap.
        for terms in on_shift[a].values():
            if len(terms) > 1 and len({patterns_day[var.index] for var, _ in terms}) > 1:
                model.add(total(terms) <= 1)
        # Minimum rest: for every threshold t, a shift of day d ending at t or later and a
        # shift of day d+1 starting before t + rest exclude each other (one clique each).
        for d in days:
            for threshold in sorted({p.end for p in days[d]}):
                late = [shift[a, d, k] for k, p in enumerate(days[d]) if p.end >= threshold]
                for later in range(d + 1, max(days) + 1):
                    early = [
                        shift[a, later, m]
                        for m, p in enumerate(days[later])
                        if p.start < threshold + rest
                    ]
                    if not early:
                        break
                    model.add_at_most_one(late + early)
        # Maximum consecutive working days.
        span = rules.max_consecutive_days
        order = sorted(days)
        for first in range(len(order) - span):
            model.add(sum(works[d] for d in order[first : first + span + 1]) <= span)
        # Days off and paid hours per calendar week from the horizon start.
        for number, week in enumerate(weeks(horizon.days)):
            model.add(sum(works[d] for d in week.days) <= max_working_days(rules, week))
            low, high = weekly_bounds(agent, rules, week)
            minutes = sum(
                shift[a, d, k] * p.paid_minutes for d in week.days for k, p in enumerate(days[d])
            )
            model.add(minutes <= high)
            if low <= 0:
                continue
            if best_effort:
                short = model.new_int_var(0, low, f"short_{a}_{number}")
                model.add(minutes + short >= low)
                penalties.append((short, weights.under))
            else:
                if a not in min_hours:
                    min_hours[a] = model.new_bool_var(f"min_hours_{a}")
                model.add(minutes >= low).only_enforce_if(min_hours[a])
        # Breaks: each shift long enough has exactly one of each, inside its window
        # (windows lie inside the shift, so a break never leaves it).
        for d in days:
            for r in range(len(rules.breaks)):
                starts = sorted({i for p in days[d] for i in p.break_starts[r]})
                needing = [shift[a, d, k] for k, p in enumerate(days[d]) if p.break_starts[r]]
                model.add(sum(brk[a, d, r, i] for i in starts) == sum(needing))
                for i in starts:
                    allowed = [
                        shift[a, d, k] for k, p in enumerate(days[d]) if i in p.break_starts[r]
                    ]
                    if len(allowed) < len(needing):
                        model.add(brk[a, d, r, i] <= sum(allowed))
        # Two breaks of one shift never overlap.
        if len(rules.breaks) > 1:
            for terms in on_break[a].values():
                if len(terms) > 1:
                    model.add(total(terms) <= 1)

    # At most `max_on_break` agents of one region on break or lunch at once (those
    # outside this model, `break_load`, count too).
    if rules.max_on_break is not None:
        load = break_load or {}
        regions: dict[str, list[str]] = defaultdict(list)
        for agent in agents:
            regions[agent.region].append(agent.agent_id)
        for region, region_ids in regions.items():
            for i in range(horizon.size):
                terms = [t for a in region_ids for t in on_break[a].get(i, [])]
                room = max(0, rules.max_on_break - load.get((region, i), 0))
                if len(terms) > room:
                    model.add(total(terms) <= room)

    # Exactly one activity per working agent: the group's split adds up to its head count.
    # Written as differences between neighbouring intervals (head count changes when a
    # shift or a break starts or ends), so each shift appears in two rows, not in one
    # row per interval it covers: the same model, a much sparser LP.
    coverage: dict[tuple[str, int], list[cp_model.IntVar]] = defaultdict(list)
    for g, (ids, group_queues) in enumerate(groups):
        members = set(ids)
        change: dict[int, LinearTerms] = defaultdict(list)
        for (a, d, k), var in shift.items():
            if a in members:
                pattern = patterns[a][d][k]
                change[pattern.start].append((var, 1))
                change[pattern.end].append((var, -1))
        for (a, _d, r, i), var in brk.items():
            if a in members:
                change[i].append((var, -1))
                change[i + int(rules.breaks[r].length / horizon.interval)].append((var, 1))
        reachable = sorted({i for a in ids for i in on_shift[a]})
        previous = None
        for i in range(reachable[0], reachable[-1] + 2) if reachable else ():
            heads = (
                sum(split[g, i, q] for q in group_queues) if (g, i, group_queues[0]) in split else 0
            )
            before = sum(split[g, previous, q] for q in group_queues) if previous is not None else 0
            model.add(heads - before == total(change.get(i, [])))
            previous = i if (g, i, group_queues[0]) in split else None
            for q in group_queues:
                if (g, i, q) in split:
                    coverage[q, i].append(split[g, i, q])

    # ---- Soft constraints -------------------------------------------------------------
    # Understaffing (by queue priority) and overstaffing per queue and interval.
    slack: dict[tuple[str, int], tuple[cp_model.IntVar, cp_model.IntVar]] = {}
    for q in queues:
        priority = rules.queue_rule(q).priority
        for i in range(horizon.size):
            need = needs.get((q, i), 0)
            have = sum(coverage.get((q, i), []))
            if not coverage.get((q, i)):
                if need:
                    penalties.append((cp_model.LinearExpr.constant(need), weights.under * priority))
                continue
            under = model.new_int_var(0, need, f"under_{q}_{i}")
            over = model.new_int_var(0, len(agents), f"over_{q}_{i}")
            slack[q, i] = (under, over)
            model.add(have + under - over == need)
            penalties.append((under, weights.under * priority))
            penalties.append((over, weights.over))

    # Requested days off and early/late preferences.
    weekend_counts: list[Any] = []
    night_counts: list[Any] = []
    missed_counts: list[Any] = []
    for agent in agents:
        a = agent.agent_id
        if not servable[a]:
            continue
        wishes = rules.wishes(a)
        days = patterns[a]
        weekend, night, missed = [], [], []
        for d in days:
            local_day = horizon.local_date(d)
            for k, p in enumerate(days[d]):
                if local_day in wishes.requested_days_off:
                    penalties.append((shift[a, d, k], weights.requested_day_off))
                if local_day.weekday() >= 5:
                    weekend.append(shift[a, d, k])
                if p.night:
                    night.append(shift[a, d, k])
                if misses(wishes.prefer, p):
                    missed.append(shift[a, d, k])
                    penalties.append((shift[a, d, k], weights.preference))
                # Cost of paid time, relative to the cheapest region, per interval.
                cost = shift_cost(agent.region, p.paid_minutes, rules, horizon)
                penalties.append((shift[a, d, k], cost))
        weekend_counts.append(sum(weekend))
        night_counts.append(sum(night))
        if wishes.prefer:
            missed_counts.append(sum(missed))

    # Fairness: spread of weekends and nights over agents, worst missed preferences.
    top = len(horizon.agent_days)
    if not fairness:
        weekend_counts, night_counts, missed_counts = [], [], []
    if any(not isinstance(c, int) for c in weekend_counts):
        penalties.append((_spread(model, weekend_counts, top), weights.fairness))
    if any(not isinstance(c, int) for c in night_counts):
        penalties.append((_spread(model, night_counts, top), weights.fairness))
    if any(not isinstance(c, int) for c in missed_counts):
        worst = model.new_int_var(0, top, "worst_missed_preferences")
        model.add_max_equality(worst, missed_counts)
        penalties.append((worst, weights.fairness))

    # ---- Objective --------------------------------------------------------------------
    model.minimize(sum(expr * weight for expr, weight in penalties if weight))
    return Built(model, patterns, groups, shift, brk, split, slack, min_hours)


def working(
    patterns: dict[str, dict[int, list[Pattern]]],
    schedule: dict[str, dict[int, Choice]],
    rules: Rules,
    horizon: Horizon,
) -> dict[str, set[int]]:
    """agent → intervals on shift and not on a break, for a schedule in `Choice` form
    (`patterns`: each agent's allowed shifts per local day, which `Choice` indexes)."""
    found: dict[str, set[int]] = {}
    for a, days in schedule.items():
        intervals: set[int] = set()
        for d, (k, starts) in days.items():
            pattern = patterns[a][d][k]
            intervals.update(range(pattern.start, pattern.end))
            for first, rule in zip(starts, rules.breaks, strict=True):
                if first >= 0:
                    intervals.difference_update(
                        range(first, first + int(rule.length / horizon.interval))
                    )
        found[a] = intervals
    return found


def greedy_split(
    patterns: dict[str, dict[int, list[Pattern]]],
    groups: list[Group],
    schedule: dict[str, dict[int, Choice]],
    needs: dict[tuple[str, int], int],
    rules: Rules,
    horizon: Horizon,
) -> dict[tuple[int, int, str], int]:
    """(index in `groups`, interval, queue) → heads: each working agent on their most
    missing queue."""
    busy = working(patterns, schedule, rules, horizon)
    covered: dict[tuple[str, int], int] = defaultdict(int)
    counts: dict[tuple[int, int, str], int] = defaultdict(int)
    for g, (ids, group_queues) in enumerate(groups):
        for i in range(horizon.size):
            for a in ids:
                if i in busy.get(a, ()):
                    q = max(group_queues, key=lambda q: needs.get((q, i), 0) - covered[q, i])
                    counts[g, i, q] += 1
                    covered[q, i] += 1
    return dict(counts)


def add_hint(
    built: Built,
    schedule: dict[str, dict[int, Choice]],
    split: dict[tuple[int, int, str], int],
    needs: dict[tuple[str, int], int],
) -> None:
    """A complete hint: shifts and breaks from `schedule`, the given split, the slack it leaves."""
    model = built.model
    for literal in built.min_hours.values():
        model.add_hint(literal, 1)
    for (a, d, k), var in built.shift.items():
        model.add_hint(var, schedule.get(a, {}).get(d, (-1, ()))[0] == k)
    for (a, d, r, i), var in built.brk.items():
        choice = schedule.get(a, {}).get(d)
        model.add_hint(var, choice is not None and choice[1][r] == i)
    covered: dict[tuple[str, int], int] = defaultdict(int)
    for key, var in built.split.items():
        value = split.get(key, 0)
        model.add_hint(var, value)
        covered[key[2], key[1]] += value
    for (q, i), (under, over) in built.slack.items():
        have, wanted = covered.get((q, i), 0), needs.get((q, i), 0)
        model.add_hint(under, max(0, wanted - have))
        model.add_hint(over, max(0, have - wanted))


def read(
    built: Built, solver: cp_model.CpSolver, rules: Rules
) -> tuple[dict[str, dict[int, Choice]], dict[tuple[int, int, str], int]]:
    """The solver's schedule in `Choice` form and its split (non-zero entries)."""
    chosen: dict[str, dict[int, Choice]] = defaultdict(dict)
    for (a, d, k), var in built.shift.items():
        if solver.boolean_value(var):
            pattern = built.patterns[a][d][k]
            taken = tuple(
                next(
                    (
                        i
                        for i in pattern.break_starts[r]
                        if solver.boolean_value(built.brk[a, d, r, i])
                    ),
                    -1,
                )
                for r in range(len(rules.breaks))
            )
            chosen[a][d] = (k, taken)
    split = {key: value for key, var in built.split.items() if (value := solver.value(var))}
    return dict(chosen), split
