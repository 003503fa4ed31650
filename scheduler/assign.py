"""From the solver's plan to schedule segments, and from segments to coverage.

The solver decides, per group of interchangeable agents and interval, how many work
on each queue. Here each working agent gets one of those queues; an agent keeps the
queue of the previous interval when the counts allow, so schedules do not hop: groups
able to take the same queues first trade their counts so that most agents can stay.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

from ortools.graph.python import min_cost_flow

from scheduler.model import CoverageRow, Requirement, Rules, Segment
from scheduler.patterns import Horizon
from scheduler.solver import Plan


def _activities(plan: Plan, rules: Rules, horizon: Horizon) -> dict[str, dict[int, str]]:
    """agent → interval → activity, for every interval the agent is on shift."""
    activity = _on_shift(plan, rules, horizon)
    for i in range(horizon.size):
        working = {
            g: [a for a in ids if activity[a].get(i) == ""]
            for g, (ids, _) in enumerate(plan.groups)
        }
        working = {g: agents for g, agents in working.items() if agents}
        split = steady_split(
            {g: plan.split.get((g, i), {}) for g in working},
            {
                g: Counter(activity[a].get(i - 1, "") for a in agents)
                for g, agents in working.items()
            },
            {g: plan.groups[g][1] for g in working},
        )
        for g, agents in working.items():
            _hand_out(agents, split[g], activity, i)
    return activity


def _on_shift(plan: Plan, rules: Rules, horizon: Horizon) -> dict[str, dict[int, str]]:
    """agent → interval → "" (working, queue not yet chosen) or the break's activity."""
    activity: dict[str, dict[int, str]] = defaultdict(dict)
    for agent_id, shifts in plan.shifts.items():
        for pattern, break_starts in shifts:
            for i in range(pattern.start, pattern.end):
                activity[agent_id][i] = ""
            for rule, first in zip(rules.breaks, break_starts, strict=True):
                if first < 0:  # a rule this shift does not take (shorter than its min_shift)
                    continue
                for i in range(first, first + int(rule.length / horizon.interval)):
                    activity[agent_id][i] = rule.activity
    return activity


def _hand_out(
    agents: list[str], heads: dict[str, int], activity: dict[str, dict[int, str]], i: int
) -> None:
    """Give each of a group's working agents one of its queues at interval `i`, keeping
    the previous interval's queue while it has room."""
    left = dict(heads)
    waiting = []
    for a in agents:
        previous = activity[a].get(i - 1, "")
        if left.get(previous, 0) > 0:
            activity[a][i] = previous
            left[previous] -= 1
        else:
            waiting.append(a)
    pool = [q for q, count in sorted(left.items()) for _ in range(count)]
    for a, q in zip(waiting, pool, strict=True):
        activity[a][i] = q


def steady_split(
    split: Mapping[int, Mapping[str, int]],
    previous: Mapping[int, Counter[str]],
    serves: Mapping[int, tuple[str, ...]],
) -> dict[int, dict[str, int]]:
    """The solver's heads per group and queue at one interval, traded between groups that
    serve the same queues so that the most agents stay on the queue they were on.

    The solver counts heads per queue, not who; two groups able to take both queues may
    each be asked to switch half their agents where swapping the counts keeps them all.
    Every queue keeps its heads and every group its working agents (coverage unchanged):
    a min-cost flow from groups to queues where a head that was on that queue the
    interval before costs 0 and any other 1 (`previous`: group → queue → heads there).
    """
    groups = sorted(g for g in split if sum(split[g].values()))
    if len(groups) < 2:
        return {g: dict(heads) for g, heads in split.items()}
    queues = sorted({q for g in groups for q in serves[g]})
    node = {q: len(groups) + k for k, q in enumerate(queues)}
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs: list[tuple[int, str, int]] = []
    for n, g in enumerate(groups):
        heads = sum(split[g].values())
        flow.set_node_supply(n, heads)
        for q in serves[g]:
            stay = min(previous[g].get(q, 0), heads)
            if stay:
                arcs.append((g, q, flow.add_arc_with_capacity_and_unit_cost(n, node[q], stay, 0)))
            arcs.append((g, q, flow.add_arc_with_capacity_and_unit_cost(n, node[q], heads, 1)))
    for q in queues:
        flow.set_node_supply(node[q], -sum(split[g].get(q, 0) for g in groups))
    if flow.solve() != flow.OPTIMAL:  # a split off the groups' queues: keep the solver's
        return {g: dict(heads) for g, heads in split.items()}
    traded: dict[int, dict[str, int]] = {g: defaultdict(int) for g in split}
    for g, q, arc in arcs:
        traded[g][q] += flow.flow(arc)
    return {g: {q: n for q, n in heads.items() if n} for g, heads in traded.items()}


def segments(plan: Plan, rules: Rules, horizon: Horizon) -> list[Segment]:
    """Schedule rows: consecutive intervals with the same activity merged into one segment."""
    rows: list[Segment] = []
    for agent_id, by_interval in sorted(_activities(plan, rules, horizon).items()):
        run_start, run_activity, previous = -1, "", -2
        for i in [*sorted(by_interval), -1]:
            current = by_interval.get(i, "")
            if i != previous + 1 or current != run_activity:
                if run_start >= 0:
                    rows.append(
                        Segment(
                            agent_id, horizon.at(run_start), horizon.at(previous + 1), run_activity
                        )
                    )
                run_start, run_activity = i, current
            previous = i
    return rows


def coverage(
    schedule: Iterable[Segment], requirements: Iterable[Requirement], horizon: Horizon
) -> list[CoverageRow]:
    """Scheduled agents per requirement row in the horizon, counted from the segments
    themselves; an interval of the horizon with agents on one of the requirements' queues
    but no requirement row is a row too, required 0."""
    counted: dict[tuple[str, int], int] = defaultdict(int)
    for segment in schedule:
        first = max(0, int((segment.start - horizon.start) / horizon.interval))
        last = min(horizon.size, -int(-(segment.end - horizon.start) // horizon.interval))
        for i in range(first, last):
            counted[segment.activity, i] += 1
    rows = []
    required: dict[tuple[str, int], float] = {}
    queues = set()
    for requirement in requirements:
        queues.add(requirement.queue)
        index = horizon.index(requirement.interval_start)
        if index is not None:
            required[requirement.queue, index] = requirement.required
    for queue, index in counted:
        if queue in queues and (queue, index) not in required:
            required[queue, index] = 0.0
    for (queue, index), need in sorted(required.items(), key=lambda item: (item[0][1], item[0][0])):
        rows.append(CoverageRow(horizon.at(index), queue, need, counted.get((queue, index), 0)))
    return rows
