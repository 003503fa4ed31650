"""A greedy first schedule, handed to CP-SAT as a hint.

On hundreds of agents CP-SAT's own first-solution search can spend minutes finding
any schedule that meets everyone's minimum hours; this greedy one takes seconds and
is already close in coverage. First every agent gets the shifts their minimum hours
need, then, pass after pass, agents take one more shift when it mostly covers unmet
demand. Each shift is the one covering the most unmet demand on the agent's queues,
its breaks go where the region has room under the cap. Every hard rule is respected,
so CP-SAT starts from a feasible schedule and only has to improve it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from scheduler.model import Agent, Rules
from scheduler.patterns import (
    Horizon,
    Pattern,
    Week,
    max_working_days,
    paid_in_week,
    weekly_bounds,
    weeks,
)

Choice = tuple[int, tuple[int, ...]]  # pattern index of the day, break starts per rule


@dataclass
class _State:
    """What the greedy has decided so far."""

    missing: dict[tuple[str, int], float]
    on_break: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))
    plan: dict[str, dict[int, Choice]] = field(default_factory=dict)


def greedy(
    agents: list[Agent],
    patterns: dict[str, dict[int, list[Pattern]]],
    servable: dict[str, tuple[str, ...]],
    needs: dict[tuple[str, int], int],
    rules: Rules,
    horizon: Horizon,
    worth: float = 0.75,
    break_load: dict[tuple[str, int], int] | None = None,
) -> dict[str, dict[int, Choice]]:
    """agent → local day → (pattern index, break starts); days not listed are off.

    `worth` is the share of a shift's working intervals that must meet unmet demand
    for the shift to be added beyond the agent's minimum hours; `break_load` counts
    agents of other schedules already on break, per (region, interval).
    """
    state = _State({key: float(value) for key, value in needs.items()})
    state.on_break.update(break_load or {})
    staff = [a for a in agents if servable[a.agent_id]]
    for agent in staff:
        state.plan[agent.agent_id] = {}
    all_weeks = weeks(horizon.days)
    # Minimum hours first, so that the hint is feasible.
    for agent in staff:
        for week in all_weeks:
            low, _high = weekly_bounds(agent, rules, week)
            while _paid(state, agent, patterns, week) < low:
                if not _add_best(state, agent, patterns, servable, rules, horizon, week, 0.0):
                    break
    # Then more shifts while they mostly meet unmet demand, lowering the bar step by
    # step: a gap costs far more than overstaffing, so in the end any shift that
    # meets some unmet demand is worth adding.
    for bar in (worth, worth * 2 / 3, worth / 3, 1e-9):
        added = True
        while added:
            added = False
            for agent in staff:
                for week in all_weeks:
                    added |= _add_best(state, agent, patterns, servable, rules, horizon, week, bar)
    return state.plan


def _paid(state: _State, agent: Agent, patterns: dict, week: Week) -> int:
    days = patterns[agent.agent_id]
    chosen = {d: days[d][k] for d, (k, _starts) in state.plan[agent.agent_id].items()}
    return paid_in_week(chosen, week)


def _add_best(
    state: _State,
    agent: Agent,
    patterns: dict[str, dict[int, list[Pattern]]],
    servable: dict[str, tuple[str, ...]],
    rules: Rules,
    horizon: Horizon,
    week: Week,
    worth: float,
) -> bool:
    """Add the agent's best allowed shift in this week; False when none is worth it."""
    a = agent.agent_id
    chosen = state.plan[a]
    days = patterns[a]
    if sum(1 for d in week.days if d in chosen) >= max_working_days(rules, week):
        return False
    _low, high = weekly_bounds(agent, rules, week)
    paid = _paid(state, agent, patterns, week)
    queues = servable[a]
    rest = int(rules.min_rest / horizon.interval)
    best: tuple[float, int, int] | None = None
    # Prefix sums of "some queue of this agent has unmet demand" over the horizon.
    useful_before = [0]
    for i in range(horizon.size):
        wanted = any(state.missing.get((q, i), 0) > 0 for q in queues)
        useful_before.append(useful_before[-1] + wanted)
    if useful_before[-1] == 0 and worth > 0:
        return False
    for d in week.days:
        if d in chosen or not days.get(d):
            continue
        run = 1 + _run(chosen, d, -1) + _run(chosen, d, 1)
        if run > rules.max_consecutive_days:
            continue
        before = days[d - 1][chosen[d - 1][0]] if d - 1 in chosen else None
        after = days[d + 1][chosen[d + 1][0]] if d + 1 in chosen else None
        for k, p in enumerate(days[d]):
            if paid + p.paid_minutes > high:
                continue
            if before is not None and p.start < before.end + rest:
                continue
            if after is not None and after.start < p.end + rest:
                continue
            if not _breaks_fit(p, agent.region, state.on_break, rules, horizon):
                continue
            useful = useful_before[p.end] - useful_before[p.start]
            share = useful / (p.end - p.start)
            if share < worth or (worth > 0 and useful == 0):
                continue
            score = useful + share  # more demand met first, then less waste
            if best is None or score > best[0]:
                best = (score, d, k)
    if best is None:
        return False
    _score, d, k = best
    _place(state, agent, d, k, days[d][k], queues, rules, horizon)
    return True


def _place(
    state: _State,
    agent: Agent,
    day: int,
    index: int,
    pattern: Pattern,
    queues: tuple[str, ...],
    rules: Rules,
    horizon: Horizon,
) -> None:
    starts = []
    away: set[int] = set()
    kinds: dict[str, set[int]] = defaultdict(set)  # activity → intervals taken by it
    for r, rule in enumerate(rules.breaks):
        span = int(rule.length / horizon.interval)
        if not pattern.break_starts[r]:
            starts.append(-1)
            continue
        # Clear of the shift's other breaks, and not touching one of the same activity
        # (the two segments would merge into one).
        free = [
            i
            for i in pattern.break_starts[r]
            if not away.intersection(range(i, i + span))
            and not kinds[rule.activity].intersection((i - 1, i + span))
            and (
                rules.max_on_break is None
                or all(
                    state.on_break[agent.region, j] < rules.max_on_break for j in range(i, i + span)
                )
            )
        ]
        # Where the agent is least missed: the least unmet demand on their queues.
        first = min(
            free or pattern.break_starts[r],
            key=lambda i, span=span: sum(
                state.missing.get((q, j), 0) for q in queues for j in range(i, i + span)
            ),
        )
        for j in range(first, first + span):
            state.on_break[agent.region, j] += 1
            away.add(j)
            kinds[rule.activity].add(j)
        starts.append(first)
    state.plan[agent.agent_id][day] = (index, tuple(starts))
    for i in range(pattern.start, pattern.end):
        if i in away:
            continue
        target = _most_missing(state, queues, i)
        if state.missing.get((target, i), 0) > 0:
            state.missing[target, i] -= 1


def _most_missing(state: _State, queues: tuple[str, ...], interval: int) -> str:
    return max(queues, key=lambda q: state.missing.get((q, interval), 0))


def _breaks_fit(
    pattern: Pattern,
    region: str,
    on_break: dict[tuple[str, int], int],
    rules: Rules,
    horizon: Horizon,
) -> bool:
    """Every break of the shift has a slot where the region is below its cap."""
    if rules.max_on_break is None:
        return True
    for r, rule in enumerate(rules.breaks):
        span = int(rule.length / horizon.interval)
        if pattern.break_starts[r] and not any(
            all(on_break[region, j] < rules.max_on_break for j in range(i, i + span))
            for i in pattern.break_starts[r]
        ):
            return False
    return True


def _run(chosen: dict[int, Choice], day: int, step: int) -> int:
    """Consecutive chosen days next to `day` in one direction."""
    run = 0
    while day + step * (run + 1) in chosen:
        run += 1
    return run
