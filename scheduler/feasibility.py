"""Explanations of what cannot be met, found before solving by counting.

Understaffing is a soft goal in the model, so a schedule always exists unless an
agent's minimum hours are out of reach; but a planner must hear when a requirement
can never be met by the agents given ("queue X at 07:30 needs 12 agents, 9 with
that skill are available") instead of finding it in the coverage file.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime
from difflib import get_close_matches
from zoneinfo import ZoneInfo

from scheduler.model import Agent, Rules
from scheduler.patterns import (
    Horizon,
    Pattern,
    agent_patterns,
    max_working_days,
    start_times,
    weekly_bounds,
    weeks,
)
from scheduler.units import format_duration


def shiftless_agents(
    agents: list[Agent],
    patterns: dict[str, dict[int, list[Pattern]]],
    queues: list[str],
    rules: Rules,
    horizon: Horizon,
    limit: int = 10,
) -> list[str]:
    """Agents who serve a queue but have no possible shift in the horizon, one line per
    table of shifts (time zone and availability) and reason: their local start times all
    fall between the grid's interval starts, their availability, the horizon, or their
    maximum hours (below every shift they could work, in every week of the horizon)."""
    groups: dict[tuple[int, str | None], list[Agent]] = defaultdict(list)
    for agent in agents:
        table = patterns[agent.agent_id]
        if not any(rules.can_serve(agent, q) for q in queues):
            continue
        if any(table.values()):
            capped = _capped(agent, table, rules, horizon)
            if capped is not None:
                groups[id(table), capped].append(agent)
            continue
        wishes = rules.wishes(agent.agent_id)
        if all(horizon.local_date(d) in wishes.unavailable for d in range(horizon.days)):
            continue  # unavailable all along: no shift is what is asked
        groups[id(table), None].append(agent)
    lines = []
    for (_table, reason), team in groups.items():
        ids = [a.agent_id for a in team]
        named = ", ".join(ids[:limit])
        if len(ids) > limit:
            named += f" and {len(ids) - limit} more"
        who = f"agent {named}" if len(ids) == 1 else f"agents {named}"
        why = reason or _why(team[0], rules, horizon)
        lines.append(f"{who} ({team[0].timezone}): no shift fits: {why}")
    return lines


def _capped(
    agent: Agent, table: dict[int, list[Pattern]], rules: Rules, horizon: Horizon
) -> str | None:
    """Why none of the agent's shifts fits under their maximum hours in any week of the
    horizon, or None when one does (or when their maximum is 0 h: no shift is asked)."""
    caps = []
    for week in weeks(horizon.days):
        _low, high = weekly_bounds(agent, rules, week)
        if max_working_days(rules, week) > 0 and any(
            p.paid_minutes <= high for d in week.days for p in table.get(d, ())
        ):
            return None
        caps.append(high)
    if not any(caps):
        return None
    shortest = min(p.paid_minutes for day in table.values() for p in day)
    most = min(agent.max_hours, rules.max_hours_per_week)
    cap = max(caps) / 60
    within = (
        "" if cap == most else f", at most {cap:g} h in a week of this {horizon.days}-day horizon"
    )
    return (
        f"their weekly maximum of {most:g} h (the lower of max_hours {agent.max_hours:g} and "
        f"the rules' max_hours_per_week {rules.max_hours_per_week:g}){within}, is below "
        f"their shortest shift ({shortest / 60:g} h paid)"
    )


def _why(agent: Agent, rules: Rules, horizon: Horizon) -> str:
    zone = ZoneInfo(agent.timezone)
    clocks = start_times(rules)
    starts = (
        f"{clocks[0]:%H:%M}–{clocks[-1]:%H:%M} every {format_duration(rules.start_granularity)}"
        if clocks
        else "none"
    )
    width = format_duration(horizon.interval)
    grid = f"the {width} UTC grid from {horizon.start:%H:%M}"
    if not clocks:
        return f"the rules allow no start time ({starts})"
    on_grid = [
        (day, clock)
        for day in horizon.agent_days
        for clock in clocks
        if not (
            datetime.combine(horizon.local_date(day), clock, zone).astimezone(UTC) - horizon.start
        )
        % horizon.interval
    ]
    if not on_grid:
        example = datetime.combine(horizon.local_date(0), clocks[0], zone).astimezone(UTC)
        return (
            f"their local start times ({starts}) all fall between the interval starts of "
            f"{grid} ({clocks[0]:%H:%M} local is {example:%H:%M} UTC); start times on that "
            "grid (start_granularity, earliest_start) or requirements on their grid are needed"
        )
    if any(agent_patterns(agent, replace(rules, agents={}), horizon).values()):
        wishes = rules.wishes(agent.agent_id)
        window = (
            f"from {wishes.available_from or '-'} until {wishes.available_until or '-'}"
            if wishes.available_from or wishes.available_until
            else "their unavailable days"
        )
        return f"no shift of the rules ({starts} local) fits their availability ({window})"
    lengths = ", ".join(format_duration(length) for length in rules.shift_lengths)
    return (
        f"no shift of {lengths} starting {starts} local, with its breaks, lies wholly inside "
        f"the {horizon.days}-day horizon on {grid}"
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
    # Every agent's skills, shifts or none: a queue named after its skill (`billing`) must
    # not lose that skill with its own name, else a team without shifts reads as a typo.
    known = {skill for agent in agents for skill in agent.skills}
    for queue, found in shortfalls.items():
        hint = _did_you_mean(rules.queue_rule(queue).skill, known | (set(rules.queues) - {queue}))
        if hint:
            found[0] += f" ({hint})"
        lines.extend(found[:limit])
        if len(found) > limit:
            lines.append(f"queue {queue}: {len(found) - limit} more intervals like these")
    return lines


def _did_you_mean(skill: str, known: set[str]) -> str:
    """For a skill no agent has: the known skill or queue it likely misspells (a case
    slip like `Sales`, or a small edit), as the forecaster's events file suggests."""
    if not known or skill in known:
        return ""
    lowered = {name.lower(): name for name in sorted(known)}
    close = get_close_matches(skill.lower(), list(lowered), n=1)
    if not close:
        return ""
    return f"no agent has skill {skill!r}: did you mean {lowered[close[0]]!r}?"


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
