"""The planning data every improvement step shares, what one shift costs by itself
and what the fairness terms count.

The neighbourhood search (`improve.py`) and the single-agent sweeps (`respond.py`)
both keep the fairness terms from growing the same way: each agent's weekend and
night counts stay inside everyone's current range, their missed wishes at most the
current worst. The counts live here so that both read them alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from scheduler.heuristic import Choice
from scheduler.model import Agent, Rules
from scheduler.patterns import Horizon, Pattern, misses
from scheduler.relaxation import shift_cost

Split = dict[tuple[tuple[str, ...], int, str], int]  # (group's queues, interval, queue) → heads
Counts = tuple[int, int, int]  # weekend shifts, night shifts, missed early/late wishes


@dataclass
class Problem:
    """The planning data every neighbourhood solve shares."""

    agents: list[Agent]
    patterns: dict[str, dict[int, list[Pattern]]]
    servable: dict[str, tuple[str, ...]]
    needs: dict[tuple[str, int], int]
    queues: list[str]
    rules: Rules
    horizon: Horizon
    best_effort: bool = False


def shift_charge(problem: Problem, agent: Agent, d: int, p: Pattern) -> int:
    """What one shift adds to the objective by itself: its paid time, a requested day
    off it takes and an early/late wish it goes against."""
    rules = problem.rules
    wishes = rules.wishes(agent.agent_id)
    day_off = problem.horizon.local_date(d) in wishes.requested_days_off
    return (
        shift_cost(agent.region, p.paid_minutes, rules, problem.horizon)
        + rules.weights.requested_day_off * day_off
        + rules.weights.preference * misses(wishes.prefer, p)
    )


def fairness_counts(problem: Problem, a: str, days: dict[int, Choice]) -> Counts:
    """What the fairness terms see of one agent's schedule."""
    prefer = problem.rules.wishes(a).prefer
    chosen = [(d, problem.patterns[a][d][k]) for d, (k, _starts) in days.items()]
    return (
        sum(problem.horizon.local_date(d).weekday() >= 5 for d, _p in chosen),
        sum(p.night for _d, p in chosen),
        sum(misses(prefer, p) for _d, p in chosen),
    )


def fairness_range(
    problem: Problem, schedule: dict[str, dict[int, Choice]]
) -> tuple[Counts, Counts]:
    """Per count, its lowest and highest over every agent who can serve a queue."""
    counts = [
        fairness_counts(problem, a, schedule.get(a, {}))
        for a in problem.servable
        if problem.servable[a]
    ]
    if not counts:
        return (0, 0, 0), (0, 0, 0)
    low = tuple(min(values) for values in zip(*counts, strict=True))
    high = tuple(max(values) for values in zip(*counts, strict=True))
    return (low[0], low[1], low[2]), (high[0], high[1], high[2])
