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
missed wishes above the worst, is not taken. From an empty schedule the same sweep
builds the first schedule (`construct`): each agent takes their cheapest week for
what the ones before leave uncovered. Prices, shift costs and break placements are
whole numpy arrays per agent (all candidate shifts of the week in one table), so a
sweep of 300 agents on a 30-minute grid costs about half a second, of 1 000 on a
15-minute grid a few seconds.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from scheduler.heuristic import Choice
from scheduler.model import Agent
from scheduler.pricing import NotPriceable, TourPricer, agent_pricers
from scheduler.problem import Problem, Split, fairness_counts, fairness_range, shift_charge

# Gains below this are rounding noise, not moves.
EPSILON = 1e-6

Coverage = dict[str, np.ndarray]  # queue → heads on it per interval
Resting = dict[str, np.ndarray]  # region → agents on a break per interval
# (group, queue, intervals, heads added at each): a change of the split, to undo it.
SplitChange = tuple[tuple[str, ...], str, np.ndarray, int]


@dataclass
class Tally:
    """The split being swept, as arrays: per group and queue, and per queue."""

    covered: Coverage  # queue → heads on it per interval
    placed: dict[tuple[tuple[str, ...], str], np.ndarray]  # (group, queue) → heads per interval

    def add(self, group: tuple[str, ...], q: str, intervals: np.ndarray, change: int) -> None:
        """Heads of a group on a queue changed at these (distinct) intervals."""
        self.covered[q][intervals] += change
        self.placed[group, q][intervals] += change

    @property
    def split(self) -> Split:
        """(group, interval, queue) → heads, the non-zero entries."""
        return {
            (group, int(i), q): int(heads[i])
            for (group, q), heads in self.placed.items()
            for i in np.flatnonzero(heads)
        }


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
    """One agent's candidate shifts of one local day (or all days, one after the other,
    `WeekShifts`), as arrays over the candidates."""

    start: np.ndarray  # first interval
    end: np.ndarray  # one past the last
    fixed: np.ndarray  # paid time and wish penalties
    breaks: tuple[np.ndarray, ...]  # per break rule: allowed first intervals, -1 padded


@dataclass(frozen=True)
class WeekShifts:
    """Every day's `DayShifts` in one table, so that pricing them is one pass of array
    operations instead of one per day; `days[n]` takes rows `bounds[n]:bounds[n + 1]`."""

    all: DayShifts
    days: list[int]
    bounds: list[int]

    @classmethod
    def of(cls, tables: dict[int, DayShifts]) -> WeekShifts:
        days = sorted(tables)
        bounds = [0]
        for d in days:
            bounds.append(bounds[-1] + len(tables[d].start))
        breaks = []
        for r in range(len(tables[days[0]].breaks) if days else 0):
            widest = max(tables[d].breaks[r].shape[1] for d in days)
            rows = [
                np.pad(
                    tables[d].breaks[r],
                    ((0, 0), (0, widest - tables[d].breaks[r].shape[1])),
                    constant_values=-1,
                )
                for d in days
            ]
            breaks.append(np.concatenate(rows))
        joined = DayShifts(
            np.concatenate([tables[d].start for d in days]),
            np.concatenate([tables[d].end for d in days]),
            np.concatenate([tables[d].fixed for d in days]),
            tuple(breaks),
        )
        return cls(joined, days, bounds)


class Responder:
    """Sweeps over the agents of one planning problem (see module doc)."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        agents = [a for a in problem.agents if problem.servable[a.agent_id]]
        self.agents = {a.agent_id: a for a in agents}
        self.pricers: dict[str, TourPricer] = {}
        try:
            self.pricers = agent_pricers(agents, problem.patterns, problem.rules, problem.horizon)
        except NotPriceable:
            self.pricers = {}
        rules, size = problem.rules, problem.horizon.size
        self.groups = sorted({problem.servable[a] for a in self.agents})
        self.spans = [int(rule.length / problem.horizon.interval) for rule in rules.breaks]
        # Between two breaks of one activity at least one interval more: touching, their
        # segments would merge into one.
        self.gaps = [
            [int(rule.activity == other.activity) for other in rules.breaks]
            for rule in rules.breaks
        ]
        self.priority = {q: rules.queue_rule(q).priority for q in problem.queues}
        # Per group: every (colleague's group, queue it could leave, queue of the group it
        # could take, that queue's place in the group), in the order `_reliefs` tries them.
        self.moves_to = {
            group: [
                (other, surplus, q, m)
                for other in self.groups
                for surplus in other
                for m, q in enumerate(group)
                if q != surplus and q in other
            ]
            for group in self.groups
        }
        self.need = {q: np.zeros(size, dtype=int) for q in problem.queues}
        for (q, i), need in problem.needs.items():
            if q in self.need and 0 <= i < size:
                self.need[q][i] = need
        shared: dict[tuple[object, ...], tuple[dict[int, DayShifts], WeekShifts]] = {}
        self.tables: dict[str, dict[int, DayShifts]] = {}
        self.weeks: dict[str, WeekShifts] = {}
        for a, agent in self.agents.items():  # one table per shared shifts, region and wishes
            key = (id(problem.patterns[a]), agent.region, rules.wishes(a))
            if key not in shared:
                tables = self._tables(agent)
                shared[key] = (tables, WeekShifts.of(tables))
            self.tables[a], self.weeks[a] = shared[key]

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
        build: bool = False,
        deadline: float = math.inf,
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
        measured in the noisy prices. With `build` every agent takes their cheapest
        week whatever their current one costs, with no fairness range to keep: from an
        empty schedule, a first schedule agent after agent (`construct`). At `deadline`
        (time.monotonic()) the sweep stops, the agents not reached keeping their weeks.
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
            if time.monotonic() >= deadline:
                break
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
            fair = (
                low[0] <= weekends <= high[0] and low[1] <= nights <= high[1] and missed <= high[2]
            )
            if (build and np.isfinite(cost)) or (cost < now - EPSILON and fair):
                gained += now - cost
                schedule[a] = week
                self.place(a, week, tally, offers)
            else:
                for group, q, intervals, change in reversed(changes):
                    tally.add(group, q, intervals, -change)
            self._rest(agent, schedule.get(a, {}), resting, 1)
        return schedule, tally.split, round(gained)

    def construct(self, order: list[str]) -> tuple[dict[str, dict[int, Choice]], Split]:
        """A first schedule: agent after agent in `order`, each their cheapest week for
        what the ones before leave uncovered (understaffing at its weight, so each
        fills holes where it can at the least surplus and paid time)."""
        schedule, split, _gain = self.sweep({}, {}, order, build=True)
        return schedule, split

    def owed(self, a: str) -> bool:
        """Whether the agent owes minimum hours in some week (an empty week breaks a rule)."""
        return any(limit.min_minutes > 0 for limit in self.pricers[a].weeks)

    def tally(self, split: Split) -> Tally:
        """`split` as arrays: heads per queue, and per group and queue."""
        size = self.problem.horizon.size
        tally = Tally(
            {q: np.zeros(size, dtype=int) for q in self.need},
            {(g, q): np.zeros(size, dtype=int) for g in self.groups for q in g},
        )
        for (group, i, q), heads in split.items():
            tally.add(group, q, np.array([i]), heads)
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

    def _working(self, a: str, days: dict[int, Choice]) -> np.ndarray:
        """The intervals the agent works (on shift and not on a break), in order."""
        table = self.tables[a]
        found = []
        for d, (k, starts) in sorted(days.items()):
            shift = np.arange(table[d].start[k], table[d].end[k])
            away = np.zeros(len(shift), dtype=bool)
            for first, span in zip(starts, self.spans, strict=True):
                if first >= 0:
                    away[first - shift[0] : first - shift[0] + span] = True
            found.append(shift[~away])
        return np.concatenate(found) if found else np.zeros(0, dtype=int)

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
        as the surplus it is rather than as a hole it would leave. Intervals do not
        touch each other's counts, so all of them are taken at once.
        """
        group = self.problem.servable[a]
        intervals = self._working(a, days)
        changes: list[SplitChange] = []

        def move(group: tuple[str, ...], q: str, where: np.ndarray, change: int) -> None:
            if len(where):
                tally.add(group, q, where, change)
                changes.append((group, q, where, change))

        placed = np.array([tally.placed[group, q][intervals] for q in group])
        spare = np.array([tally.covered[q][intervals] - self.need[q][intervals] for q in group])
        spare = np.where(placed > 0, spare, np.iinfo(int).min)
        pick = np.argmax(spare, axis=0)
        held = placed.max(axis=0, initial=0) > 0  # else the split counts fewer heads than work
        short = held & (spare[pick, np.arange(len(intervals))] <= 0)
        for other, surplus, q, where in self._reliefs(
            group, intervals[short], placed[:, short], tally
        ):
            move(other, surplus, where, -1)  # no surplus on any of theirs: a colleague moves
            move(other, q, where, 1)
            pick[np.isin(intervals, where)] = group.index(q)
        for m, q in enumerate(group):
            move(group, q, intervals[held & (pick == m)], -1)
        return changes

    def _reliefs(
        self, group: tuple[str, ...], where: np.ndarray, placed: np.ndarray, tally: Tally
    ) -> list[tuple[tuple[str, ...], str, str, np.ndarray]]:
        """(colleague's group, queue with a surplus it leaves, queue of `group` it takes,
        intervals): at each of `where`, the first such move (in the order of the groups)
        onto a queue this agent's group holds heads on there (`placed`, per queue)."""
        found: list[tuple[tuple[str, ...], str, str, np.ndarray]] = []
        open_ = np.ones(len(where), dtype=bool)
        if not len(where):
            return found
        for other, surplus, q, m in self.moves_to[group]:
            taken = open_ & (placed[m] > 0) & (tally.placed[other, surplus][where] > 0)
            taken &= tally.covered[surplus][where] > self.need[surplus][where]
            if taken.any():
                found.append((other, surplus, q, where[taken]))
                open_ &= ~taken
                if not open_.any():
                    break
        return found

    def join(self, a: str, days: dict[int, Choice], tally: Tally, under: float) -> None:
        """The agent's heads into the split, each where it is worth most: on a queue of
        theirs, or on one a colleague leaves for a queue short of heads."""
        self.place(a, days, tally, self.offers(self.problem.servable[a], tally, under))

    def place(self, a: str, days: dict[int, Choice], tally: Tally, offers: Offers) -> None:
        """`join` with the offers already read off this tally."""
        group = self.problem.servable[a]
        own, hops, moves = offers.own, offers.hops, offers.moves
        intervals = self._working(a, days)
        mine = np.argmin(own[:, intervals], axis=0)
        best_own = own[mine, intervals]
        if moves:
            hop = np.argmin(hops[:, intervals], axis=0)
            hopping = hops[hop, intervals] < best_own
        else:
            hop = np.zeros(len(intervals), dtype=int)
            hopping = np.zeros(len(intervals), dtype=bool)
        for n, q in enumerate(group):
            tally.add(group, q, intervals[~hopping & (mine == n)], 1)
        for m, (other, q, short) in enumerate(moves):
            where = intervals[hopping & (hop == m)]
            if len(where):
                tally.add(other, q, where, -1)
                tally.add(other, short, where, 1)
                tally.add(group, q, where, 1)

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
        week = self.weeks[a]
        table = week.all
        cost = table.fixed + priced[table.end] - priced[table.start]
        rows = np.arange(len(cost))
        chosen: list[tuple[np.ndarray, int]] = []
        for r, (allowed, span) in enumerate(zip(table.breaks, self.spans, strict=True)):
            if not allowed.shape[1]:
                chosen.append((np.full(len(cost), -1), span))
                continue
            valid = allowed >= 0
            first = np.where(valid, allowed, 0)
            free = valid
            if blocked is not None:
                free = free & (blocked[first + span] == blocked[first])
            for o, (other, other_span) in enumerate(chosen):
                before, gap = other[:, None], self.gaps[r][o]
                clash = (
                    (before >= 0)
                    & (first < before + other_span + gap)
                    & (before < first + span + gap)
                )
                free = free & ~clash
            saving = np.where(free, priced[first + span] - priced[first], -np.inf)
            pick = np.argmax(saving, axis=1)
            wanted, fits = valid.any(axis=1), free.any(axis=1)
            cost = np.where(wanted & fits, cost - saving[rows, pick], cost)
            cost = np.where(wanted & ~fits, np.inf, cost)
            chosen.append((np.where(wanted, first[rows, pick], -1), span))
        starts = (
            np.stack([s for s, _ in chosen], axis=1)
            if chosen
            else np.zeros((len(cost), 0), dtype=int)
        )
        bounds = week.bounds
        costs = {d: cost[bounds[n] : bounds[n + 1]] for n, d in enumerate(week.days)}
        placed = {d: starts[bounds[n] : bounds[n + 1]] for n, d in enumerate(week.days)}
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
