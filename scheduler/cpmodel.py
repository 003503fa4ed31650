"""The CP-SAT shift-scheduling model, laid out like OR-Tools' shift_scheduling_sat.py.

Sections, in order: data, variables, hard constraints, soft constraints with weighted
penalties, objective. Multi-skill without double counting: agents with the same set
of servable queues form a group, and in each interval the group's working agents (on
shift and not on break or lunch) are split over those queues by integer variables
whose sum equals the working head count. Any split of a group is realisable by
individual agents because they are interchangeable for coverage, so `assign.py`
later gives each agent exactly one activity per interval.

Each hard rule and each soft rule is a small function; a soft rule returns its
penalties, (expression, weight) pairs that the objective adds up. The same builder
serves the whole team (`solver.py`) and a few agents of it with the rest of the
schedule fixed (`improve.py`): then `needs` are what the others leave uncovered and
`break_load` the breaks they already take in each region.
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


Penalties = list[tuple[Any, int]]  # (expression, weight in the objective)


@dataclass
class _Model:
    """The model being built: its variables and what the constraints read of them."""

    model: cp_model.CpModel
    agents: list[Agent]  # those who serve some queue
    patterns: dict[str, dict[int, list[Pattern]]]
    rules: Rules
    horizon: Horizon
    groups: list[Group]
    # shift[a, d, k] = 1 when agent a works pattern k on local day d.
    shift: dict[tuple[str, int, int], cp_model.IntVar] = field(default_factory=dict)
    # brk[a, d, r, i] = 1 when agent a's break/lunch r of day d starts at interval i.
    brk: dict[tuple[str, int, int, int], cp_model.IntVar] = field(default_factory=dict)
    # on_shift[a][i] and on_break[a][i] as linear terms over the booleans above.
    on_shift: dict[str, dict[int, LinearTerms]] = field(default_factory=dict)
    on_break: dict[str, dict[int, LinearTerms]] = field(default_factory=dict)
    # split[g, i, q]: working agents of group g on queue q in interval i.
    split: dict[tuple[int, int, str], cp_model.IntVar] = field(default_factory=dict)

    def span(self, r: int) -> int:
        """Intervals of break rule r."""
        return int(self.rules.breaks[r].length / self.horizon.interval)


def _total(terms: LinearTerms) -> cp_model.LinearExpr:
    return cp_model.LinearExpr.weighted_sum([v for v, _ in terms], [c for _, c in terms])


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
    # ---- Data -------------------------------------------------------------------------
    servable = {a.agent_id: tuple(q for q in queues if rules.can_serve(a, q)) for a in agents}
    by_group: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for agent in agents:
        if servable[agent.agent_id]:
            by_group[servable[agent.agent_id]].append(agent.agent_id)
    groups = [(tuple(ids), group_queues) for group_queues, ids in by_group.items()]
    staff = [agent for agent in agents if servable[agent.agent_id]]
    m = _Model(cp_model.CpModel(), staff, patterns, rules, horizon, groups)

    # ---- Variables --------------------------------------------------------------------
    _add_variables(m)

    # ---- Hard constraints -------------------------------------------------------------
    for agent in staff:
        _one_shift_a_day(m, agent.agent_id)
        _rest(m, agent.agent_id)
        _consecutive_days(m, agent.agent_id)
        _breaks_inside_shifts(m, agent.agent_id)
    min_hours, short = _weekly_days_and_hours(m, best_effort)
    _break_cap(m, break_load or {})
    coverage = _one_activity_per_head(m)

    # ---- Soft constraints with penalties ----------------------------------------------
    slack, staffing = _staffing_penalties(m, coverage, needs, queues, len(agents))
    penalties = short + staffing + _shift_penalties(m)
    if fairness:
        penalties += _fairness_penalties(m)

    # ---- Objective --------------------------------------------------------------------
    m.model.minimize(sum(expr * weight for expr, weight in penalties if weight))
    return Built(m.model, patterns, groups, m.shift, m.brk, m.split, slack, min_hours)


def _add_variables(m: _Model) -> None:
    model = m.model
    for agent in m.agents:
        a = agent.agent_id
        for d, day_patterns in m.patterns[a].items():
            for k, _pattern in enumerate(day_patterns):
                m.shift[a, d, k] = model.new_bool_var(f"shift_{a}_{d}_{k}")
            for r in range(len(m.rules.breaks)):
                for i in sorted({i for p in day_patterns for i in p.break_starts[r]}):
                    m.brk[a, d, r, i] = model.new_bool_var(f"brk_{a}_{d}_{r}_{i}")
        m.on_shift[a] = defaultdict(list)
        m.on_break[a] = defaultdict(list)
    for (a, d, k), var in m.shift.items():
        pattern = m.patterns[a][d][k]
        for i in range(pattern.start, pattern.end):
            m.on_shift[a][i].append((var, 1))
    for (a, _d, r, i), var in m.brk.items():
        for j in range(i, i + m.span(r)):
            m.on_break[a][j].append((var, 1))
    for g, (ids, group_queues) in enumerate(m.groups):
        reachable = sorted({i for a in ids for i in m.on_shift[a]})
        for i in range(reachable[0], reachable[-1] + 1) if reachable else ():
            for q in group_queues:
                m.split[g, i, q] = model.new_int_var(0, len(ids), f"split_{g}_{i}_{q}")


def _works(m: _Model, a: str, d: int) -> Any:
    return sum(m.shift[a, d, k] for k in range(len(m.patterns[a][d])))


def _one_shift_a_day(m: _Model, a: str) -> None:
    """At most one shift per local day; shifts of different days never overlap."""
    days = m.patterns[a]
    day_of = {m.shift[a, d, k].index: d for d in days for k in range(len(days[d]))}
    for d in days:
        if days[d]:
            m.model.add_at_most_one(m.shift[a, d, k] for k in range(len(days[d])))
    for terms in m.on_shift[a].values():
        if len(terms) > 1 and len({day_of[var.index] for var, _ in terms}) > 1:
            m.model.add(_total(terms) <= 1)


def _rest(m: _Model, a: str) -> None:
    """For every threshold t, a shift of day d ending at t or later and a shift of a later
    day starting before t + rest exclude each other (one clique each)."""
    days = m.patterns[a]
    rest = int(m.rules.min_rest / m.horizon.interval)
    for d in days:
        for threshold in sorted({p.end for p in days[d]}):
            late = [m.shift[a, d, k] for k, p in enumerate(days[d]) if p.end >= threshold]
            for later in range(d + 1, max(days) + 1):
                early = [
                    m.shift[a, later, n]
                    for n, p in enumerate(days[later])
                    if p.start < threshold + rest
                ]
                if not early:
                    break
                m.model.add_at_most_one(late + early)


def _consecutive_days(m: _Model, a: str) -> None:
    span = m.rules.max_consecutive_days
    order = sorted(m.patterns[a])
    for first in range(len(order) - span):
        m.model.add(sum(_works(m, a, d) for d in order[first : first + span + 1]) <= span)


def _weekly_days_and_hours(
    m: _Model, best_effort: bool
) -> tuple[dict[str, cp_model.IntVar], Penalties]:
    """Days off and paid hours per calendar week from the horizon start. Minimum hours
    hold through one literal per agent (so that a diagnosis can ask which clash), or with
    `best_effort` are soft: returns those literals and the shortfall's penalties."""
    min_hours: dict[str, cp_model.IntVar] = {}
    penalties: Penalties = []
    for agent in m.agents:
        a, days = agent.agent_id, m.patterns[agent.agent_id]
        for number, week in enumerate(weeks(m.horizon.days)):
            m.model.add(sum(_works(m, a, d) for d in week.days) <= max_working_days(m.rules, week))
            low, high = weekly_bounds(agent, m.rules, week)
            minutes = sum(
                m.shift[a, d, k] * p.paid_minutes for d in week.days for k, p in enumerate(days[d])
            )
            m.model.add(minutes <= high)
            if low <= 0:
                continue
            if best_effort:
                short = m.model.new_int_var(0, low, f"short_{a}_{number}")
                m.model.add(minutes + short >= low)
                penalties.append((short, m.rules.weights.under))
            else:
                if a not in min_hours:
                    min_hours[a] = m.model.new_bool_var(f"min_hours_{a}")
                m.model.add(minutes >= low).only_enforce_if(min_hours[a])
    return min_hours, penalties


def _breaks_inside_shifts(m: _Model, a: str) -> None:
    """Each shift long enough has exactly one break of each rule, inside its window
    (windows lie inside the shift, so a break never leaves it); two breaks of one shift
    never overlap, and two of the same activity never touch (their segments would merge)."""
    days, rules = m.patterns[a], m.rules
    for d in days:
        for r in range(len(rules.breaks)):
            starts = sorted({i for p in days[d] for i in p.break_starts[r]})
            needing = [m.shift[a, d, k] for k, p in enumerate(days[d]) if p.break_starts[r]]
            m.model.add(sum(m.brk[a, d, r, i] for i in starts) == sum(needing))
            for i in starts:
                allowed = [
                    m.shift[a, d, k] for k, p in enumerate(days[d]) if i in p.break_starts[r]
                ]
                if len(allowed) < len(needing):
                    m.model.add(m.brk[a, d, r, i] <= sum(allowed))
        for r, o in _same_activity_pairs(rules):
            for i in sorted({i for p in days[d] for i in p.break_starts[r]}):
                for j in (i + m.span(r), i - m.span(o)):
                    if (a, d, o, j) in m.brk:
                        m.model.add_at_most_one(m.brk[a, d, r, i], m.brk[a, d, o, j])
    if len(rules.breaks) > 1:
        for terms in m.on_break[a].values():
            if len(terms) > 1:
                m.model.add(_total(terms) <= 1)


def _same_activity_pairs(rules: Rules) -> list[tuple[int, int]]:
    """Pairs of break rules (r < o) of the same activity."""
    return [
        (r, o)
        for r, rule in enumerate(rules.breaks)
        for o in range(r + 1, len(rules.breaks))
        if rules.breaks[o].activity == rule.activity
    ]


def _break_cap(m: _Model, break_load: dict[tuple[str, int], int]) -> None:
    """At most `max_on_break` agents of one region on break or lunch at once (those
    outside this model, `break_load`, count too)."""
    cap = m.rules.max_on_break
    if cap is None:
        return
    regions: dict[str, list[str]] = defaultdict(list)
    for agent in m.agents:
        regions[agent.region].append(agent.agent_id)
    for region, region_ids in regions.items():
        for i in range(m.horizon.size):
            terms = [t for a in region_ids for t in m.on_break[a].get(i, [])]
            room = max(0, cap - break_load.get((region, i), 0))
            if len(terms) > room:
                m.model.add(_total(terms) <= room)


def _one_activity_per_head(m: _Model) -> dict[tuple[str, int], list[cp_model.IntVar]]:
    """Exactly one activity per working agent: the group's split adds up to its head
    count. Written as differences between neighbouring intervals (head count changes when
    a shift or a break starts or ends), so each shift appears in two rows, not in one row
    per interval it covers: the same model, a much sparser LP. Returns the split's terms
    per (queue, interval)."""
    coverage: dict[tuple[str, int], list[cp_model.IntVar]] = defaultdict(list)
    split = m.split
    for g, (ids, group_queues) in enumerate(m.groups):
        members = set(ids)
        change: dict[int, LinearTerms] = defaultdict(list)
        for (a, d, k), var in m.shift.items():
            if a in members:
                pattern = m.patterns[a][d][k]
                change[pattern.start].append((var, 1))
                change[pattern.end].append((var, -1))
        for (a, _d, r, i), var in m.brk.items():
            if a in members:
                change[i].append((var, -1))
                change[i + m.span(r)].append((var, 1))
        reachable = sorted({i for a in ids for i in m.on_shift[a]})
        previous = None
        for i in range(reachable[0], reachable[-1] + 2) if reachable else ():
            heads = (
                sum(split[g, i, q] for q in group_queues) if (g, i, group_queues[0]) in split else 0
            )
            before = sum(split[g, previous, q] for q in group_queues) if previous is not None else 0
            m.model.add(heads - before == _total(change.get(i, [])))
            previous = i if (g, i, group_queues[0]) in split else None
            for q in group_queues:
                if (g, i, q) in split:
                    coverage[q, i].append(split[g, i, q])
    return coverage


def _staffing_penalties(
    m: _Model,
    coverage: dict[tuple[str, int], list[cp_model.IntVar]],
    needs: dict[tuple[str, int], int],
    queues: list[str],
    staff: int,
) -> tuple[dict[tuple[str, int], tuple[cp_model.IntVar, cp_model.IntVar]], Penalties]:
    """Understaffing (by queue priority) and overstaffing per queue and interval: the
    slack variables and their penalties."""
    weights = m.rules.weights
    slack: dict[tuple[str, int], tuple[cp_model.IntVar, cp_model.IntVar]] = {}
    penalties: Penalties = []
    for q in queues:
        priority = m.rules.queue_rule(q).priority
        for i in range(m.horizon.size):
            need = needs.get((q, i), 0)
            if not coverage.get((q, i)):
                if need:
                    penalties.append((cp_model.LinearExpr.constant(need), weights.under * priority))
                continue
            under = m.model.new_int_var(0, need, f"under_{q}_{i}")
            over = m.model.new_int_var(0, staff, f"over_{q}_{i}")
            slack[q, i] = (under, over)
            m.model.add(sum(coverage[q, i]) + under - over == need)
            penalties += [(under, weights.under * priority), (over, weights.over)]
    return slack, penalties


def _shift_penalties(m: _Model) -> Penalties:
    """What each shift costs by itself: a requested day off it takes, an early/late wish
    it goes against, and its paid time relative to the cheapest region."""
    weights = m.rules.weights
    penalties: Penalties = []
    for agent in m.agents:
        a, wishes = agent.agent_id, m.rules.wishes(agent.agent_id)
        for d, day in m.patterns[a].items():
            day_off = m.horizon.local_date(d) in wishes.requested_days_off
            for k, p in enumerate(day):
                if day_off:
                    penalties.append((m.shift[a, d, k], weights.requested_day_off))
                if misses(wishes.prefer, p):
                    penalties.append((m.shift[a, d, k], weights.preference))
                cost = shift_cost(agent.region, p.paid_minutes, m.rules, m.horizon)
                penalties.append((m.shift[a, d, k], cost))
    return penalties


def _fairness_penalties(m: _Model) -> Penalties:
    """Spread of weekend and night shifts over agents, worst number of missed wishes."""
    weekend_counts: list[Any] = []
    night_counts: list[Any] = []
    missed_counts: list[Any] = []
    for agent in m.agents:
        a, prefer = agent.agent_id, m.rules.wishes(agent.agent_id).prefer
        weekend, night, missed = [], [], []
        for d, day in m.patterns[a].items():
            for k, p in enumerate(day):
                if m.horizon.local_date(d).weekday() >= 5:
                    weekend.append(m.shift[a, d, k])
                if p.night:
                    night.append(m.shift[a, d, k])
                if misses(prefer, p):
                    missed.append(m.shift[a, d, k])
        weekend_counts.append(sum(weekend))
        night_counts.append(sum(night))
        if prefer:
            missed_counts.append(sum(missed))
    weight = m.rules.weights.fairness
    top = len(m.horizon.agent_days)
    penalties: Penalties = []
    for counts in (weekend_counts, night_counts):
        if any(not isinstance(c, int) for c in counts):
            penalties.append((_spread(m.model, counts, top), weight))
    if any(not isinstance(c, int) for c in missed_counts):
        worst = m.model.new_int_var(0, top, "worst_missed_preferences")
        m.model.add_max_equality(worst, missed_counts)
        penalties.append((worst, weight))
    return penalties


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
