"""From the solver's plan to schedule segments, and from segments to coverage.

The solver decides, per group of interchangeable agents and interval, how many work
on each queue. Here each working agent gets one of those queues; an agent keeps the
queue of the previous interval when the counts allow, so schedules do not hop.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from scheduler.model import CoverageRow, Requirement, Rules, Segment
from scheduler.patterns import Horizon
from scheduler.solver import Plan


def _activities(plan: Plan, rules: Rules, horizon: Horizon) -> dict[str, dict[int, str]]:
    """agent → interval → activity, for every interval the agent is on shift."""
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
    for g, (ids, _queues) in enumerate(plan.groups):
        for i in range(horizon.size):
            working = [a for a in ids if activity[a].get(i) == ""]
            if not working:
                continue
            left = dict(plan.split.get((g, i), {}))
            waiting = []
            for a in working:  # keep the previous queue when it still has room
                previous = activity[a].get(i - 1, "")
                if left.get(previous, 0) > 0:
                    activity[a][i] = previous
                    left[previous] -= 1
                else:
                    waiting.append(a)
            pool = [q for q, count in sorted(left.items()) for _ in range(count)]
            for a, q in zip(waiting, pool, strict=True):
                activity[a][i] = q
    return activity


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
