"""A linear program written column by column and row by row, solved by HiGHS.

OR-Tools' model builder makes a Python object per term; the relaxation has a few
hundred thousand terms, so it is written here as plain lists and handed to the
builder's helper in one pass per row (about a second for 400 000 terms).
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import ortools.linear_solver.python.model_builder_helper as mbh
from ortools.linear_solver.python import model_builder as mb

log = logging.getLogger(__name__)

Terms = Iterable[tuple[int, float]]  # (column, coefficient)


@dataclass
class Solution:
    status: str  # "OPTIMAL" when solved, else the solver's status name
    objective: float


class LinearProgram:
    """Minimise cost · x subject to lower ≤ A x ≤ upper and 0 ≤ x ≤ bound."""

    def __init__(self) -> None:
        self.bounds: list[float] = []
        self.costs: list[float] = []
        self.rows: list[tuple[float, float, dict[int, float]]] = []
        self.constant = 0.0

    def column(self, bound: float = math.inf, cost: float = 0.0) -> int:
        self.bounds.append(bound)
        self.costs.append(cost)
        return len(self.bounds) - 1

    def row(self, terms: Terms, lower: float = -math.inf, upper: float = math.inf) -> None:
        """One constraint; repeated columns add up."""
        merged: dict[int, float] = defaultdict(float)
        for column, coefficient in terms:
            merged[column] += coefficient
        self.rows.append((lower, upper, merged))

    def solve(self, time_limit_s: float) -> Solution:
        """The optimum's value by the interior point method, without crossover to a
        vertex (on these LPs that takes as long again, and only the value is read). When
        that stops short of optimal (UNKNOWN_STATUS on a week of 15-minute intervals),
        the same LP again with crossover, then by simplex, in the time left."""
        model = self._model()
        deadline = time.monotonic() + max(0.5, time_limit_s)
        highs = mb.Solver("highs").solver_is_supported()
        solution = Solution("NOT_SOLVED", math.nan)
        for attempt, parameters in enumerate(ATTEMPTS if highs else (None,)):
            left = deadline - time.monotonic()
            if attempt and left < 0.1:
                break
            solution = _solve(model, parameters, max(0.1, left))
            if solution.status == "OPTIMAL":
                break
            log.info("LP %s with %s", solution.status, str(parameters).replace("\n", ", "))
        return solution

    def _model(self) -> mb.Model:
        model = mb.Model()
        helper = model.helper
        count = len(self.bounds)
        floor, ceiling = np.zeros(count), np.array(self.bounds, dtype=float)
        integral = np.zeros(count, dtype=bool)
        # OR-Tools' stubs spell numpy arrays in a form numpy's own types do not match.
        helper.add_var_array_with_bounds(floor, ceiling, integral, "")  # type: ignore[arg-type]
        variables = [mbh.Variable(helper, n) for n in range(count)]
        for lower, upper, terms in self.rows:
            index = helper.add_linear_constraint()
            helper.set_constraint_lower_bound(index, lower)
            helper.set_constraint_upper_bound(index, upper)
            used = [c for c, v in terms.items() if v]
            helper.add_terms_to_constraint(
                index, [variables[c] for c in used], [terms[c] for c in used]
            )
        helper.set_objective_coefficients(list(range(count)), self.costs)
        helper.set_objective_offset(self.constant)
        return model


# HiGHS's options, tried in turn until one solves the LP. On these degenerate covering
# LPs the simplex takes minutes, the interior point method seconds; crossover and simplex
# are the fallbacks when the interior point method alone stops short of optimal.
ATTEMPTS = (
    "solver=ipm\nrun_crossover=off\noutput_flag=false",
    "solver=ipm\nrun_crossover=on\noutput_flag=false",
    "solver=simplex\noutput_flag=false",
)


def _solve(model: mb.Model, parameters: str | None, time_limit_s: float) -> Solution:
    """One solve by HiGHS with `parameters`, by GLOP when they are None."""
    solver = mb.Solver("glop" if parameters is None else "highs")
    if parameters is not None:
        solver.set_solver_specific_parameters(parameters)
    solver.set_time_limit_in_seconds(time_limit_s)
    status = solver.solve(model)
    if status != mb.SolveStatus.OPTIMAL:
        return Solution(status.name, math.nan)
    return Solution("OPTIMAL", solver.objective_value)
