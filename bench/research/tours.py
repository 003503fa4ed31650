"""How tight is the aggregate bound? Column generation over whole weekly tours.

The aggregate relaxation (`relaxation.py`) sums each per-agent rule over a cell. A
tighter relaxation keeps every per-agent rule exact: per cell (agents with the same
servable queues, region, candidate shifts and weekly bounds), a number of agents on
each weekly tour, where a tour is one agent's shifts for the whole horizon obeying
minimum rest, consecutive days, days off and weekly hours (the Dantzig-Wolfe
reformulation of the full model, fairness and wishes left out). It has far too many
tours to list, so they are generated: after each LP solve of the master over the
tours so far (`master.py`), each cell's cheapest tours under the LP's prices
(`pricing.py`) join it when their reduced cost is negative. At every iteration

    LP value + sum over cells of agents x min(0, least reduced cost)

is a proven lower bound (the Lagrangian bound); when no tour has a negative reduced
cost it equals the LP value, the reformulation's optimum.

Research code, not part of the scheduler (the package never imports it): on the
bench the column generation takes minutes (GLOP needs thousands of pivots per round
on this degenerate LP) and it ended at the aggregate bound's value.
`bench/schedule.py --tour-bound` measures it; docs/scheduling-experiments.md has
figures. The tour pricing itself (`scheduler/pricing.py`) serves the scheduler's
single-agent sweeps.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np

from scheduler.model import Agent, Rules
from scheduler.patterns import Horizon, Pattern, weekly_bounds, weeks
from scheduler.pricing import NotPriceable, TourPricer, week_limits
from scheduler.relaxation import SAFETY

from .master import MasterCell, TourMaster

log = logging.getLogger(__name__)

# Tours each cell may add per round (its cheapest, each ending in a different state):
# on the bench 4 converged in 46 rounds, 1 in 62.
TOURS_PER_ROUND = 4
# A tour joins the master when its reduced cost is below this.
IMPROVING = -1e-6


@dataclass
class TourBound:
    value: float  # proven lower bound (Lagrangian), nan when no LP was solved
    lp_value: float  # the last restricted master LP
    converged: bool  # no tour with a negative reduced cost was left
    rounds: int
    tours: int
    wall_s: float


def tour_cells(
    agents: list[Agent],
    patterns: dict[str, dict[int, list[Pattern]]],
    servable: dict[str, tuple[str, ...]],
    rules: Rules,
    horizon: Horizon,
) -> list[MasterCell]:
    """Agents grouped by everything that makes them interchangeable for the hard rules."""
    found: dict[tuple[object, ...], MasterCell] = {}
    for agent in agents:
        a = agent.agent_id
        if not servable[a]:
            continue
        shifts = tuple(
            (d, tuple((p.start, p.end, p.paid_minutes, p.break_starts) for p in days))
            for d, days in sorted(patterns[a].items())
        )
        bounds = tuple(weekly_bounds(agent, rules, week) for week in weeks(horizon.days))
        key = (servable[a], agent.region, shifts, bounds)
        if key not in found:
            found[key] = MasterCell([], servable[a], agent.region, patterns[a])
        found[key].agents.append(a)
    return list(found.values())


def pricer_for(cell: MasterCell, agent: Agent, rules: Rules, horizon: Horizon) -> TourPricer:
    """The cell's tour pricing, with the rules of one of its agents (all share them)."""
    rest = int(rules.min_rest / horizon.interval)
    return TourPricer(
        cell.days, rest, rules.max_consecutive_days, week_limits(agent, rules, horizon)
    )


def tour_bound(
    agents: list[Agent],
    patterns: dict[str, dict[int, list[Pattern]]],
    servable: dict[str, tuple[str, ...]],
    needs: dict[tuple[str, int], int],
    queues: list[str],
    rules: Rules,
    horizon: Horizon,
    time_limit_s: float,
) -> TourBound | None:
    """Column generation until no tour improves or the time is up; None when the rules
    need a state the pricing does not keep, or some cell has no tour at all."""
    started = time.monotonic()
    deadline = started + time_limit_s
    by_id = {agent.agent_id: agent for agent in agents}
    cells = tour_cells(agents, patterns, servable, rules, horizon)
    try:
        pricers = [pricer_for(cell, by_id[cell.agents[0]], rules, horizon) for cell in cells]
    except NotPriceable as reason:
        log.info("no tour bound: %s", reason)
        return None
    master = TourMaster(cells, needs, queues, rules, horizon)
    # Start from each cell's cheapest tour by paid time alone.
    for n, (cell, pricer) in enumerate(zip(cells, pricers, strict=True)):
        cost = {
            d: np.array([master.shift_cost[n, d, k] for k in range(len(shifts))])
            for d, shifts in cell.days.items()
        }
        cheapest = pricer.cheapest(cost)
        if not cheapest:
            log.info("no tour bound: a cell of %s has no tour", cell.agents[0])
            return None
        master.add_tour(n, cheapest[0][1])
    bound, rounds, converged = -math.inf, 0, False
    while time.monotonic() < deadline and master.solve_lp(deadline - time.monotonic()):
        rounds += 1
        lagrange, added = master.objective, 0
        for n, (cell, pricer) in enumerate(zip(cells, pricers, strict=True)):
            convexity, weights = master.prices(n)
            found = pricer.cheapest(weights, TOURS_PER_ROUND)
            if found:
                lagrange += len(cell.agents) * min(0.0, found[0][0] - convexity)
            for value, tour in found:
                if value - convexity < IMPROVING:
                    master.add_tour(n, tour)
                    added += 1
        bound = max(bound, lagrange)
        log.info("round %d: LP %.0f, bound %.0f, +%d", rounds, master.objective, bound, added)
        if not added:
            converged = True
            break
    value = bound - abs(bound) * SAFETY if math.isfinite(bound) else math.nan
    wall = time.monotonic() - started
    return TourBound(value, master.objective, converged, rounds, master.tours, wall)
