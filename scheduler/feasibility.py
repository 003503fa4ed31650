"""Explanations of what cannot be met, found before solving by counting.

Understaffing is a soft goal in the model, so a schedule always exists unless an
agent's minimum hours are out of reach; but a planner must hear when a requirement
can never be met by the agents given ("queue X at 07:30 needs 12 agents, 9 with
that skill are available") instead of finding it in the coverage file.
"""

from __future__ import annotations

from collections import defaultdict

from scheduler.model import Agent, Rules
from scheduler.patterns import (
    Horizon,
    Pattern,
    max_working_days,
    weekly_bounds,
    weeks,
)


def unmeetable_requirements(
    agents: list[Agent],
    patterns: dict[str, dict[int, list[Pattern]]],
    needs: dict[tuple[str, int], int],
    rules: Rules,
    horizon: Horizon,
    limit: int = 5,
) -> list[str]:
    """Queue intervals needing more agents than could possibly be there with the skill."""
    # Agents sharing a table of shifts share its reach: count them per table.
    reach: dict[int, set[int]] = {}
    skilled: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    queues = {q for q, _i in needs}
    for agent in agents:
        table = patterns[agent.agent_id]
        if id(table) not in reach:
            reach[id(table)] = {
                i for day in table.values() for p in day for i in range(p.start, p.end)
            }
        for queue in queues:
            if rules.can_serve(agent, queue):
                skilled[queue][id(table)] += 1
    shortfalls: dict[str, list[str]] = defaultdict(list)
    for (queue, i), need in sorted(needs.items(), key=lambda item: (item[0][1], item[0][0])):
        available = sum(n for t, n in skilled[queue].items() if i in reach[t])
        if need > available:
            rule = rules.queue_rule(queue)
            what = "that skill" if rule.language is None else f"{rule.skill} and {rule.language}"
            at = horizon.at(i).isoformat()
            shortfalls[queue].append(
                f"queue {queue} at {at} needs {need} agents, {available} with {what} are available"
            )
    lines = []
    for queue, found in shortfalls.items():
        lines.extend(found[:limit])
        if len(found) > limit:
            lines.append(f"queue {queue}: {len(found) - limit} more intervals like these")
    return lines


def unreachable_hours(
    agents: list[Agent],
    patterns: dict[str, dict[int, list[Pattern]]],
    rules: Rules,
    horizon: Horizon,
) -> list[str]:
    """Agents whose weekly minimum exceeds what their availability and days off allow."""
    lines = []
    for agent in agents:
        days = patterns[agent.agent_id]
        for number, week in enumerate(weeks(horizon.days), start=1):
            low, _high = weekly_bounds(agent, rules, week)
            best = sorted(
                (max((p.paid_minutes for p in days[d]), default=0) for d in week.days),
                reverse=True,
            )
            reach = sum(best[: max_working_days(rules, week)])
            if reach < low:
                lines.append(
                    f"agent {agent.agent_id}: week {number} needs at least {low / 60:g} h, "
                    f"at most {reach / 60:g} h fit their availability and days off"
                )
    return lines


def idle_agents(
    agents: list[Agent], queues: list[str], rules: Rules, horizon: Horizon
) -> list[str]:
    """Agents owed minimum hours who serve none of the queues: nothing for them to do."""
    lines = []
    for agent in agents:
        if any(rules.can_serve(agent, queue) for queue in queues):
            continue
        if any(weekly_bounds(agent, rules, week)[0] > 0 for week in weeks(horizon.days)):
            lines.append(
                f"agent {agent.agent_id}: needs minimum hours but serves none of the queues "
                f"(skills {';'.join(sorted(agent.skills))}, "
                f"languages {';'.join(sorted(agent.languages))})"
            )
    return lines
