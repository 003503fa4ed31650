"""The master problem over weekly tours: how many agents of each cell work each tour.

Research, run from the bench only (`tours.py` beside it).

A cell is a set of agents who are interchangeable for everything hard: same servable
queues, region, candidate shifts and weekly bounds. The master chooses, per cell, a
number of agents for each tour generated so far (`tours.py`), and per shift worked a
start for each break, and per group of servable queues and interval how its working
heads split over the queues; under- and overstaffing per queue and interval are
priced as in the full model (`cpmodel.py`), as is the cost of paid time.

Rows: one convexity row per cell (its tours add up to its agents), one link row per
cell and shift (the shift's break placements add up to the tours that work it), the
head count of each group written as differences between neighbouring intervals (as
in `cpmodel.py`: four entries per placement instead of one per interval), coverage
per queue and interval, and the cap on agents of a region on break.

Solved by GLOP (OR-Tools' simplex) through pywraplp, which keeps its basis between
solves: after new tours come in, the primal simplex starts from the last optimum.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import ortools.linear_solver.pywraplp as pywraplp

from scheduler.model import Rules
from scheduler.patterns import Horizon, Pattern
from scheduler.pricing import Tour
from scheduler.relaxation import shift_cost

# Price of an agent without a tour, in units of the understaffing weight.
UNASSIGNED = 1000

Placement = tuple[int, ...]  # per break rule: its first interval, -1 when the shift has none


@dataclass
class MasterCell:
    """The master's view of one cell."""

    agents: list[str]
    queues: tuple[str, ...]
    region: str
    days: dict[int, list[Pattern]]


def placements(pattern: Pattern, rules: Rules, horizon: Horizon) -> list[Placement]:
    """Every way to place the shift's breaks: one start per rule, no two overlapping."""
    options = [starts or (-1,) for starts in pattern.break_starts]
    spans = [int(rule.length / horizon.interval) for rule in rules.breaks]
    found = []
    for combo in itertools.product(*options):
        taken = [range(i, i + span) for i, span in zip(combo, spans, strict=True) if i >= 0]
        if all(not set(a) & set(b) for a, b in itertools.combinations(taken, 2)):
            found.append(tuple(combo))
    return found


@dataclass
class _Columns:
    """The master's columns (all with lower bound 0), kept to extend the solver's model."""

    cost: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    entries: list[list[tuple[int, float]]] = field(default_factory=list)

    def add(self, cost: float, upper: float, entries: list[tuple[int, float]]) -> int:
        self.cost.append(cost)
        self.upper.append(upper)
        self.entries.append(entries)
        return len(self.cost) - 1


class TourMaster:
    """The restricted master LP over the tours added so far."""

    def __init__(
        self,
        cells: list[MasterCell],
        needs: dict[tuple[str, int], int],
        queues: list[str],
        rules: Rules,
        horizon: Horizon,
    ) -> None:
        self.cells = cells
        self.row_lower: list[float] = []
        self.row_upper: list[float] = []
        columns = _Columns()
        staff = sum(len(c.agents) for c in cells)
        self.convexity = [self._row(len(c.agents), len(c.agents)) for c in cells]
        self.shift_cost = {
            (n, d, k): shift_cost(cell.region, p.paid_minutes, rules, horizon)
            for n, cell in enumerate(cells)
            for d, shifts in cell.days.items()
            for k, p in enumerate(shifts)
        }
        self.link = {key: self._row(0, 0) for key in self.shift_cost}

        # Head count changes per group, break load per region, coverage per queue.
        groups = sorted({c.queues for c in cells})
        reach: dict[tuple[str, ...], set[int]] = defaultdict(set)
        for cell in cells:
            for shifts in cell.days.values():
                for p in shifts:
                    reach[cell.queues].update(range(p.start, p.end))
        change: dict[tuple[tuple[str, ...], int], int] = {}
        for group in groups:
            first, last = min(reach[group]), max(reach[group])
            for i in range(first, last + 2):
                change[group, i] = self._row(0, 0)
        # Every (queue, interval) some group can serve has a coverage row, needed or not
        # (overstaffing where nobody is needed costs too); needs nobody can serve are
        # a constant.
        served = sorted(
            {(q, i) for g in groups for q in g for i in range(min(reach[g]), max(reach[g]) + 1)}
        )
        wanted = {key: needs.get(key, 0) for key in served}
        coverage = {key: self._row(wanted[key], wanted[key]) for key in served}
        weights = rules.weights
        self.constant = float(
            sum(
                need * weights.under * rules.queue_rule(q).priority
                for (q, i), need in needs.items()
                if q in queues and (q, i) not in coverage
            )
        )
        resting: dict[tuple[str, int], list[int]] = defaultdict(list)

        # Break placements: one column per cell, shift and placement.
        spans = [int(rule.length / horizon.interval) for rule in rules.breaks]
        for key in self.shift_cost:
            n, d, k = key
            cell = cells[n]
            p = cell.days[d][k]
            for placed in placements(p, rules, horizon):
                entries = [(self.link[key], 1.0)]
                steps = [(p.start, 1.0), (p.end, -1.0)]
                for first, span in zip(placed, spans, strict=True):
                    if first >= 0:
                        steps += [(first, -1.0), (first + span, 1.0)]
                for i, sign in steps:
                    entries.append((change[cell.queues, i], -sign))
                column = columns.add(0.0, len(cell.agents), entries)
                for first, span in zip(placed, spans, strict=True):
                    for i in range(first, first + span) if first >= 0 else ():
                        resting[cell.region, i].append(column)

        # Splits: heads of a group on each of its queues; the rows say heads(i) - heads(i-1).
        for group in groups:
            first, last = min(reach[group]), max(reach[group])
            for i in range(first, last + 1):
                for q in group:
                    entries = [(change[group, i], 1.0), (change[group, i + 1], -1.0)]
                    entries.append((coverage[q, i], 1.0))
                    columns.add(0.0, staff, entries)

        # Under- and overstaffing, priced as in the full model.
        for (q, i), row in coverage.items():
            need = needs.get((q, i), 0)
            if need:
                columns.add(weights.under * rules.queue_rule(q).priority, need, [(row, 1.0)])
            columns.add(weights.over, staff, [(row, -1.0)])

        # Agents without a tour, at a prohibitive price: the first tours may not fit
        # together (the break cap), and the LP must still give prices to find better ones.
        for n, cell in enumerate(cells):
            columns.add(UNASSIGNED * weights.under, len(cell.agents), [(self.convexity[n], 1.0)])

        # At most `max_on_break` agents of a region on break at once.
        if rules.max_on_break is not None:
            for (_region, _i), resting_columns in resting.items():
                if len(resting_columns) > rules.max_on_break:
                    row = self._row(-math.inf, rules.max_on_break)
                    for column in resting_columns:
                        columns.entries[column].append((row, 1.0))

        self.columns = columns
        self.tours = 0
        self.lp = _build(pywraplp.Solver.CreateSolver("GLOP"), columns, self)
        # Warm starts from the last basis need the presolve off.
        self.lp.solver.SetSolverSpecificParametersAsString("use_preprocessing: false")
        self.dual: list[float] = []
        self.objective = math.nan

    def _row(self, lower: float, upper: float) -> int:
        self.row_lower.append(lower)
        self.row_upper.append(upper)
        return len(self.row_lower) - 1

    def add_tour(self, n: int, tour: Tour) -> None:
        """One more tour for cell n (its cost: the paid time of its shifts)."""
        entries = [(self.convexity[n], 1.0)] + [(self.link[n, d, k], -1.0) for d, k in tour]
        cost = float(sum(self.shift_cost[n, d, k] for d, k in tour))
        self.lp.add(self.columns.add(cost, len(self.cells[n].agents), entries), self.columns)
        self.tours += 1

    def solve_lp(self, time_limit_s: float) -> bool:
        """Solve the LP from the last basis; True when optimal."""
        solved = self.lp.solve(time_limit_s)
        if solved:
            self.dual = self.lp.duals()
            self.objective = self.lp.objective_value()
        return solved

    def prices(self, n: int) -> tuple[float, dict[int, np.ndarray]]:
        """Cell n's convexity dual and, per day, each shift's weight in the pricing."""
        dual = self.dual
        cell = self.cells[n]
        weights = {
            d: np.array(
                [self.shift_cost[n, d, k] + dual[self.link[n, d, k]] for k in range(len(shifts))]
            )
            for d, shifts in cell.days.items()
        }
        return float(dual[self.convexity[n]]), weights


class _Model:
    """The master's rows and columns in one pywraplp solver."""

    def __init__(self, solver: pywraplp.Solver, master: TourMaster) -> None:
        self.solver = solver
        bounds = zip(master.row_lower, master.row_upper, strict=True)
        self.rows = [solver.Constraint(lower, upper) for lower, upper in bounds]
        self.variables: list[pywraplp.Variable] = []
        self.objective = solver.Objective()
        self.objective.SetOffset(master.constant)
        self.objective.SetMinimization()

    def add(self, column: int, columns: _Columns) -> None:
        variable = self.solver.NumVar(0.0, columns.upper[column], "")
        self.variables.append(variable)
        self.objective.SetCoefficient(variable, columns.cost[column])
        for row, coefficient in columns.entries[column]:
            self.rows[row].SetCoefficient(variable, coefficient)

    def solve(self, time_limit_s: float) -> bool:
        self.solver.SetTimeLimit(int(max(0.1, time_limit_s) * 1000))
        return self.solver.Solve() == pywraplp.Solver.OPTIMAL

    def duals(self) -> list[float]:
        return [row.dual_value() for row in self.rows]

    def objective_value(self) -> float:
        return self.objective.Value()


def _build(solver: pywraplp.Solver, columns: _Columns, master: TourMaster) -> _Model:
    model = _Model(solver, master)
    for column in range(len(columns.cost)):
        model.add(column, columns)
    return model
