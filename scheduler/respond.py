"""One agent at a time: their cheapest week with everyone else fixed (a fast local search).

In a sweep (the descents of `improve.py` run them) every agent is revisited in turn.
With everyone else's shifts, breaks and split fixed, each interval gets the price of
one more working head of this agent: the understaffing it removes on their most
needed queue, or on a queue a colleague of another group can move to when this agent
takes the colleague's queue, or else the overstaffing it adds. A candidate shift
costs its paid time, its wish penalties and the prices of its intervals minus those
of its breaks, each break placed where it saves most and the region's break cap
allows; the cheapest rule-abiding week under those costs comes from the tour pricing
(`pricing.py`). The agent takes it when it is cheaper than their current week, and
the objective falls by at least the difference (a split chosen afresh could only do
better than the fixed one). Fairness cannot grow: a week that takes the agent's
weekend or night count outside everyone's range at the start of the sweep, or their
missed wishes above the worst, is not taken. Prices, shift costs and break
placements are whole numpy arrays per agent and day, so a sweep of 300 agents costs
about half a second; on the bench one sweep took 10 860 off what the neighbourhood
search had left after 120 s (378 055), which CP-SAT's neighbourhoods had not found.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scheduler import cpmodel
from scheduler.heuristic import Choice
from scheduler.model import Agent
from scheduler.pricing import NotPriceable, TourPricer
from scheduler.problem import Problem, Split, fairness_counts, fairness_range, shift_charge
from scheduler.tours import pricer_for, tour_cells

# Gains below this are rounding noise, not moves.
EPSILON = 1e-6

Coverage = dict[str, np.ndarray]  # queue → heads on it per interval
Resting = dict[str, np.ndarray]  # region → agents on a break per interval
SplitChange = tuple[tuple[tuple[str, ...], int, str], int]  # (split key, heads added)


@dataclass
class Tally:
    """The split being swept, with what the prices read of it as arrays."""

    split: Split
    covered: Coverage  # queue → heads on it per interval
    placed: dict[tuple[tuple[str, ...], str], np.ndarray]  # (group, queue) → heads per interval

    def add(self, key: tuple[tuple[str, ...], int, str], change: int) -> None:
        """One entry of the split changed, and the arrays with it."""
        group, i, q = key
        self.split[key] = self.split.get(key, 0) + change
        self.covered[q][i] += change
        self.placed[group, q][i] += change


@dataclass(frozen=True)
class Offers:
    """What one more head of a group is worth per interval, read off the tally once for
    both pricing the agent's week and placing its heads when the agent joins."""

    own: np.ndarray  # per queue of the group and interval
    hops: np.ndarray  # per colleague's move (see `Responder._hops`) and interval
    moves: list[tuple[tuple[str, ...], str, str]]  # (colleague's group, queue, short queue)

    def price(self) -> np.ndarray:
        """Per interval: the best of them."""
        best = self.own.min(axis=0)
        return np.minimum(best, self.hops.min(axis=0)) if self.moves else best


@dataclass(frozen=True)
class DayShifts:
    """One agent's candidate shifts of one local day, as arrays over the candidates."""

    start: np.ndarray  # first interval
    end: np.ndarray  # one past the last
    fixed: np.ndarray  # paid time and wish penalties
    breaks: tuple[np.ndarray, ...]  # per break rule: allowed first intervals, -1 padded


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
        rules, size = problem.rules, problem.horizon.size
        self.groups = sorted({problem.servable[a] for a in self.agents})
        self.spans = [int(rule.length / problem.horizon.interval) for rule in rules.breaks]
        self.priority = {q: rules.queue_rule(q).priority for q in problem.queues}
        self.need = {q: np.zeros(size, dtype=int) for q in problem.queues}
        for (q, i), need in problem.needs.items():
            if q in self.need and 0 <= i < size:
                self.need[q][i] = need
        self.tables = {a: self._tables(agent) for a, agent in self.agents.items()}

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
        under: float | None = None,
        jitter: float = 0.0,
        seed: int = 0,
    ) -> tuple[dict[str, dict[int, Choice]], Split, int]:
        """Each agent of `order` in turn moved to their cheapest week; returns the new
        schedule, split and the estimated gain (a lower bound on the objective's fall).

        `under` prices a missing head (per unit of queue priority) instead of the
        objective's understaffing weight: lower, holes are left more readily, and the
        gain is measured in those prices (see `improve.anneal`). `jitter` adds noise
        drawn uniformly from ±jitter (seeded by `seed`) to every interval's price, so
        that of weeks equally good for the objective one is taken at random: an agent
        moves off a needed hour onto a hole, and the hole they leave drifts on from
        agent to agent until someone with a surplus hour closes it. The gain is then
        measured in the noisy prices.
        """
        under = self.problem.rules.weights.under if under is None else under
        noise = np.random.default_rng(seed)
        schedule = {a: dict(days) for a, days in schedule.items()}
        tally = self.tally(split)
        resting = self.resting(schedule)
        low, high = fairness_range(self.problem, schedule)
        gained = 0.0
        for a in order:
            if a not in self.pricers:
                continue
            agent = self.agents[a]
            current = schedule.get(a, {})
            changes = self.leave(a, current, tally)
            self._rest(agent, current, resting, -1)
            offers = self.offers(self.problem.servable[a], tally, under)
            price = offers.price()
            if jitter:
                price = price + noise.uniform(-jitter, jitter, len(price))
            now = self.week_cost(a, current, price)
            week, cost = self.cheapest_week(a, price, resting)
            weekends, nights, missed = fairness_counts(self.problem, a, week)
            if (
                cost < now - EPSILON
                and low[0] <= weekends <= high[0]
                and low[1] <= nights <= high[1]
                and missed <= high[2]
            ):
                gained += now - cost
                schedule[a] = week
                self.place(a, week, tally, offers)
            else:
                for key, change in reversed(changes):
                    tally.add(key, -change)
            self._rest(agent, schedule.get(a, {}), resting, 1)
        return schedule, {k: v for k, v in tally.split.items() if v}, round(gained)

    def tally(self, split: Split) -> Tally:
        """A copy of `split` with the head counts per queue and per group and queue."""
        size = self.problem.horizon.size
        tally = Tally(
            {},
            {q: np.zeros(size, dtype=int) for q in self.need},
            {(g, q): np.zeros(size, dtype=int) for g in self.groups for q in g},
        )
        for key, heads in split.items():
            tally.add(key, heads)
        return tally

    def resting(self, schedule: dict[str, dict[int, Choice]]) -> Resting:
        """Agents on a break per region and interval."""
        size = self.problem.horizon.size
        resting = {agent.region: np.zeros(size, dtype=int) for agent in self.agents.values()}
        for a, days in schedule.items():
            if a in self.agents:
                self._rest(self.agents[a], days, resting, 1)
        return resting

    def cheapest_week(
        self, a: str, price: np.ndarray, resting: Resting
    ) -> tuple[dict[int, Choice], float]:
        """The agent's cheapest rule-abiding week at these interval prices, and its cost
        (infinite, with an empty week, when no week abides by the rules)."""
        costs, placed = self._shift_costs(a, price, resting)
        found = self.pricers[a].cheapest(costs)
        if not found:
            return {}, np.inf
        cost, tour = found[0]
        return {d: (k, tuple(int(s) for s in placed[d][k])) for d, k in tour}, cost

    def _working(self, a: str, days: dict[int, Choice]) -> list[int]:
        p = self.problem
        return sorted(cpmodel.working(p.patterns, {a: days}, p.rules, p.horizon)[a])

    def _rest(self, agent: Agent, days: dict[int, Choice], resting: Resting, sign: int) -> None:
        for _d, (_k, starts) in days.items():
            for first, span in zip(starts, self.spans, strict=True):
                if first >= 0:
                    resting[agent.region][first : first + span] += sign

    def leave(self, a: str, days: dict[int, Choice], tally: Tally) -> list[SplitChange]:
        """The agent's heads out of the split; returns the changes made, to undo them.

        Each head leaves the queue with most to spare. When none of theirs has any, a
        colleague of another group who works a queue with a surplus and can serve this
        one moves over first (one step of re-splitting), so the agent's hour is priced
        as the surplus it is rather than as a hole it would leave.
        """
        group = self.problem.servable[a]
        covered = tally.covered
        changes: list[SplitChange] = []

        def move(key: tuple[tuple[str, ...], int, str], change: int) -> None:
            tally.add(key, change)
            changes.append((key, change))

        for i in self._working(a, days):
            serving = [q for q in group if tally.split.get((group, i, q), 0) > 0]
            if not serving:
                continue  # the split counts fewer heads than work: nothing of theirs to take
            q = max(serving, key=lambda q: covered[q][i] - self.need[q][i])
            if covered[q][i] <= self.need[q][i]:
                relief = self._relief(serving, i, tally)
                if relief is not None:
                    other, spare, q = relief
                    move((other, i, spare), -1)
                    move((other, i, q), 1)
            move((group, i, q), -1)
        return changes

    def _relief(
        self, serving: list[str], i: int, tally: Tally
    ) -> tuple[tuple[str, ...], str, str] | None:
        """(group, queue with a surplus, queue of `serving`) for a head that can move over."""
        for other in self.groups:
            for spare in other:
                if tally.split.get((other, i, spare), 0) <= 0:
                    continue
                if tally.covered[spare][i] <= self.need[spare][i]:
                    continue
                for q in serving:
                    if q in other and q != spare:
                        return other, spare, q
        return None

    def join(self, a: str, days: dict[int, Choice], tally: Tally, under: float) -> None:
        """The agent's heads into the split, each where it is worth most: on a queue of
        theirs, or on one a colleague leaves for a queue short of heads."""
        self.place(a, days, tally, self.offers(self.problem.servable[a], tally, under))

    def place(self, a: str, days: dict[int, Choice], tally: Tally, offers: Offers) -> None:
        """`join` with the offers already read off this tally."""
        group = self.problem.servable[a]
        own, hops, moves = offers.own, offers.hops, offers.moves
        for i in self._working(a, days):
            n = int(np.argmin(own[:, i]))
            m = int(np.argmin(hops[:, i])) if moves else -1
            if m < 0 or own[n, i] <= hops[m, i]:
                tally.add((group, i, group[n]), 1)
                continue
            other, q, short = moves[m]
            tally.add((other, i, q), -1)
            tally.add((other, i, short), 1)
            tally.add((group, i, q), 1)

    def _hops(
        self, group: tuple[str, ...], tally: Tally, under: float
    ) -> tuple[np.ndarray, list[tuple[tuple[str, ...], str, str]]]:
        """Per move (a colleague of another group leaves queue q of this group for a
        queue short of heads that they serve, and this agent takes q) and interval:
        what one more head of this group changes that way (infinite: no such move)."""
        moves, rows = [], []
        for other in self.groups:
            if other == group:
                continue
            for q in other:
                if q not in group:
                    continue
                there = tally.placed[other, q] > 0
                for short in other:
                    if short == q:
                        continue
                    wanted = there & (tally.covered[short] < self.need[short])
                    if wanted.any():
                        moves.append((other, q, short))
                        rows.append(np.where(wanted, -under * self.priority[short], np.inf))
        return np.array(rows, dtype=float).reshape(len(rows), self.problem.horizon.size), moves

    def _queue_prices(self, group: tuple[str, ...], covered: Coverage, under: float) -> np.ndarray:
        """Per queue of the group and interval: what one more head there changes."""
        over = self.problem.rules.weights.over
        return np.array(
            [np.where(covered[q] < self.need[q], -under * self.priority[q], over) for q in group],
            dtype=float,
        )

    def offers(self, group: tuple[str, ...], tally: Tally, under: float) -> Offers:
        """One more head of this group, on each of its queues or through each move."""
        hops, moves = self._hops(group, tally, under)
        return Offers(self._queue_prices(group, tally.covered, under), hops, moves)

    def _tables(self, agent: Agent) -> dict[int, DayShifts]:
        """The agent's candidate shifts per day as arrays (what does not depend on prices)."""
        tables = {}
        for d, shifts in self.problem.patterns[agent.agent_id].items():
            fixed = [shift_charge(self.problem, agent, d, p) for p in shifts]
            breaks = []
            for r in range(len(self.spans)):
                widest = max((len(p.break_starts[r]) for p in shifts), default=0)
                allowed = np.full((len(shifts), widest), -1, dtype=int)
                for k, p in enumerate(shifts):
                    allowed[k, : len(p.break_starts[r])] = p.break_starts[r]
                breaks.append(allowed)
            tables[d] = DayShifts(
                np.array([p.start for p in shifts], dtype=int),
                np.array([p.end for p in shifts], dtype=int),
                np.array(fixed, dtype=float),
                tuple(breaks),
            )
        return tables

    def _shift_costs(
        self, a: str, price: np.ndarray, resting: Resting
    ) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
        """Per day and candidate shift: its cost with each break placed where it saves
        most, inside the region's cap and clear of the shift's other breaks; and those
        break starts (-1: no break of that rule). A shift whose break fits nowhere costs
        infinity."""
        cap = self.problem.rules.max_on_break
        full = resting[self.agents[a].region] >= cap if cap is not None else None
        priced = np.concatenate(([0.0], np.cumsum(price)))
        blocked = np.concatenate(([0], np.cumsum(full))) if full is not None else None
        costs: dict[int, np.ndarray] = {}
        placed: dict[int, np.ndarray] = {}
        for d, table in self.tables[a].items():
            cost = table.fixed + priced[table.end] - priced[table.start]
            rows = np.arange(len(cost))
            chosen: list[tuple[np.ndarray, int]] = []
            for allowed, span in zip(table.breaks, self.spans, strict=True):
                if not allowed.shape[1]:
                    chosen.append((np.full(len(cost), -1), span))
                    continue
                valid = allowed >= 0
                first = np.where(valid, allowed, 0)
                free = valid
                if blocked is not None:
                    free = free & (blocked[first + span] == blocked[first])
                for other, other_span in chosen:
                    before = other[:, None]
                    clash = (before >= 0) & (first < before + other_span) & (before < first + span)
                    free = free & ~clash
                saving = np.where(free, priced[first + span] - priced[first], -np.inf)
                pick = np.argmax(saving, axis=1)
                wanted, fits = valid.any(axis=1), free.any(axis=1)
                cost = np.where(wanted & fits, cost - saving[rows, pick], cost)
                cost = np.where(wanted & ~fits, np.inf, cost)
                starts = np.where(wanted, first[rows, pick], -1)
                chosen.append((starts, span))
            costs[d] = cost
            placed[d] = (
                np.stack([s for s, _ in chosen], axis=1)
                if chosen
                else np.zeros((len(cost), 0), dtype=int)
            )
        return costs, placed

    def week_cost(self, a: str, days: dict[int, Choice], price: np.ndarray) -> float:
        """A week at these prices, with its own breaks."""
        total = 0.0
        for d, (k, starts) in days.items():
            table = self.tables[a][d]
            total += table.fixed[k] + price[table.start[k] : table.end[k]].sum()
            for first, span in zip(starts, self.spans, strict=True):
                if first >= 0:
                    total -= price[first : first + span].sum()
        return total
