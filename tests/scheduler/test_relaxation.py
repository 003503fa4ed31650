"""The aggregate LP relaxation gives a valid, useful lower bound (real solves)."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from scheduler.model import Agent, AgentWishes, Rules
from scheduler.patterns import Horizon, agent_patterns
from scheduler.relaxation import lower_bound
from scheduler.service import whole_needs
from scheduler.solver import SolveOptions, solve

from .conftest import HALF_HOUR, START, agent, instance, requirements, rules


def _both(
    team: list[Agent], profile: dict, plan_rules: Rules, days: int
) -> tuple[float, float, str]:
    """(relaxation bound, objective of CP-SAT's best schedule, CP-SAT status) of one instance."""
    inst = instance(team, profile, days, plan_rules)
    horizon, needs, queues = inst.horizon, inst.needs, inst.queues
    bound = lower_bound(team, inst.patterns, inst.servable, needs, queues, plan_rules, horizon, 30)
    # One worker and a deterministic-time limit: the schedule found does not depend on
    # how busy the machine is (the wall limit is only a backstop).
    options = SolveOptions(
        time_limit_s=120,
        workers=1,
        seed=1,
        relaxation=False,
        hint=False,  # CP-SAT on the whole model, which proves small instances optimal
        parameters={"max_deterministic_time": 10.0},
    )
    plan = solve(team, needs, queues, plan_rules, horizon, options)
    assert plan.report.status in ("OPTIMAL", "FEASIBLE")
    return bound.value, plan.report.objective, plan.report.status


@pytest.mark.parametrize(
    ("profile", "days"),
    [
        ({"sales_de": (8, 15, 1), "sales_en": (8, 20, 1)}, 3),
        ({"sales_de": (6, 18, 2), "sales_en": (12, 22, 3)}, 2),
    ],
)
def test_bound_never_exceeds_a_schedule(team: list[Agent], profile: dict, days: int) -> None:
    # Any schedule's objective is at least the optimum, so at least a valid bound.
    bound, objective, _status = _both(team, profile, rules(), days)
    assert 0 < bound <= objective
    assert bound >= 0.5 * objective  # a bound near zero would be valid but useless


def test_weekly_minimum_hours_raise_the_bound() -> None:
    # Three agents who must work 24 h each in a full week, for little demand: the
    # bound must include the cost and overstaffing that the minimum hours force.
    crew = [agent(f"B{n}", "sales", "en", hours=(24, 40)) for n in range(3)]
    profile = {"sales_en": (9, 13, 1)}
    bound, objective, _status = _both(crew, profile, rules(), 7)
    free = [agent(f"B{n}", "sales", "en") for n in range(3)]
    horizon = Horizon.from_date(START, 7, HALF_HOUR)
    rows = requirements(profile, 7)
    patterns = {a.agent_id: agent_patterns(a, rules(), horizon) for a in free}
    unforced = lower_bound(
        free,
        patterns,
        {a.agent_id: ("sales_en",) for a in free},
        whole_needs(rows, horizon),
        ["sales_en"],
        rules(),
        horizon,
        30,
    )
    assert bound <= objective
    assert bound > unforced.value
    # 72 paid hours force at least 144 - 56 = 88 overstaffed intervals at 100 each.
    assert bound >= 88 * 100


def test_single_agent_bound_is_tight() -> None:
    solo = [agent("B1", "sales", "en")]
    bound, optimum, status = _both(solo, {"sales_en": (9, 15, 1)}, rules(max_on_break=None), 1)
    assert status == "OPTIMAL"
    assert math.isclose(bound, optimum, rel_tol=1e-5)


def test_soft_minimum_hours_price_the_shortfall_in_the_bound() -> None:
    # Best effort: 40 h owed, but Monday and Tuesday unavailable leave five days of at
    # most 7.5 paid hours (8 h less an unpaid lunch): 150 minutes short, each at the
    # understaffing weight. The bound counts it (and stays below the schedule's objective).
    crew = [agent("B1", "sales", "en", hours=(40, 40))]
    plan_rules = rules(
        agents={"B1": AgentWishes(unavailable=frozenset({START, START + timedelta(days=1)}))}
    )
    horizon = Horizon.from_date(START, 7, HALF_HOUR)
    needs = whole_needs(requirements({"sales_en": (9, 13, 1)}, 7), horizon)
    patterns = {"B1": agent_patterns(crew[0], plan_rules, horizon)}
    bound = lower_bound(
        crew, patterns, {"B1": ("sales_en",)}, needs, ["sales_en"], plan_rules, horizon, 30, True
    )
    short = 40 * 60 - 5 * 450
    assert bound.value >= short * plan_rules.weights.under
    options = SolveOptions(time_limit_s=30, workers=1, seed=1, best_effort=True, steps=2)
    plan = solve(crew, needs, ["sales_en"], plan_rules, horizon, options)
    assert bound.value <= plan.report.objective
