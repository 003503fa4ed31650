"""The tour bound (column generation) is valid and at least the aggregate bound."""

from __future__ import annotations

from bench.research.tours import tour_bound
from scheduler.model import Agent
from scheduler.relaxation import lower_bound
from scheduler.solver import SolveOptions, solve

from .conftest import agent, instance, rules


def test_tour_bound_lies_between_the_aggregate_bound_and_a_schedule(team: list[Agent]) -> None:
    crew = [*team, *(agent(f"M{n}", "sales", "en", hours=(24, 40)) for n in range(3))]
    plan_rules = rules()
    inst = instance(crew, {"sales_de": (6, 18, 2), "sales_en": (7, 22, 2)}, 7, plan_rules)
    args = (crew, inst.patterns, inst.servable, inst.needs, inst.queues, plan_rules, inst.horizon)
    aggregate = lower_bound(*args, 30)
    tours = tour_bound(*args, 60)
    options = SolveOptions(
        time_limit_s=8, workers=1, seed=1, parameters={"max_deterministic_time": 4.0}
    )
    plan = solve(crew, inst.needs, inst.queues, plan_rules, inst.horizon, options)

    assert tours is not None and tours.converged and tours.tours > len(crew) // 3
    assert tours.value >= aggregate.value * (1 - 1e-5)
    assert tours.value <= plan.report.objective
    assert tours.value <= tours.lp_value
