"""Single-agent sweeps (respond.py): every move keeps the rules and lowers the objective."""

from __future__ import annotations

import random

from scheduler import assign, cpmodel
from scheduler.checker import check
from scheduler.improve import Incumbent, Problem, objective
from scheduler.respond import Responder

from .conftest import DAYS, START
from .test_improve import _plan, _rostered


def _swept(problem: Problem, start: Incumbent) -> tuple[Incumbent, int]:
    responder = Responder(problem)
    assert responder.usable
    order = sorted(responder.pricers)
    random.Random(3).shuffle(order)
    schedule, split, gain = responder.sweep(start.schedule, start.split, order)
    return Incumbent(schedule, split, objective(problem, schedule, split)), gain


def _rule_breaks(problem: Problem, best: Incumbent) -> list:
    segments = assign.segments(_plan(problem, best), problem.rules, problem.horizon)
    return check(segments, problem.agents, problem.rules, set(problem.queues), START, DAYS)


def test_a_sweep_keeps_the_rules_and_falls_by_at_least_its_estimate(problem: Problem) -> None:
    start = _rostered(problem)
    swept, gain = _swept(problem, start)
    assert gain >= 0
    assert swept.objective <= start.objective - gain
    assert _rule_breaks(problem, swept) == []


def test_a_needless_shift_is_moved_away(problem: Problem) -> None:
    # B7 (no weekly minimum) gets one more shift, the latest of a free day, counted as
    # overstaffing on sales_en: a sweep must take it back or put it to use.
    start = _rostered(problem)
    schedule = {a: dict(days) for a, days in start.schedule.items()}
    days = schedule.setdefault("B7", {})
    free = next(d for d in sorted(problem.patterns["B7"]) if d >= 0 and d not in days)
    shifts = problem.patterns["B7"][free]
    k = max(range(len(shifts)), key=lambda k: shifts[k].start)
    days[free] = (k, tuple(starts[0] if starts else -1 for starts in shifts[k].break_starts))
    split = dict(start.split)
    group = problem.servable["B7"]
    added = cpmodel.working(
        problem.patterns, {"B7": {free: days[free]}}, problem.rules, problem.horizon
    )
    for i in added["B7"]:
        split[group, i, "sales_en"] = split.get((group, i, "sales_en"), 0) + 1
    planted = Incumbent(schedule, split, objective(problem, schedule, split))
    assert planted.objective > start.objective

    swept, gain = _swept(problem, planted)

    assert gain > 0
    assert swept.objective <= planted.objective - gain
    assert swept.schedule["B7"] != days
    assert _rule_breaks(problem, swept) == []
