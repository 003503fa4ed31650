"""Single-agent sweeps (respond.py) and their descents (improve.anneal): every move keeps
the rules, and what is kept lowers the objective.

The starting schedules are the greedy one (deterministic) and what sweeps make of it,
so that each test sees the same start on every run.
"""

from __future__ import annotations

import math
import random

from scheduler import assign, cpmodel
from scheduler.checker import check
from scheduler.heuristic import greedy
from scheduler.improve import Incumbent, anneal, objective
from scheduler.problem import Problem
from scheduler.respond import Responder

from .conftest import DAYS, START
from .test_improve import _plan


def _greedy(problem: Problem) -> Incumbent:
    """The greedy schedule, each head on the queue that needs it most."""
    schedule = greedy(
        problem.agents,
        problem.patterns,
        problem.servable,
        problem.needs,
        problem.rules,
        problem.horizon,
    )
    responder = Responder(problem)
    tally = responder.tally({})
    for a in sorted(responder.pricers):
        responder.join(a, schedule.get(a, {}), tally, problem.rules.weights.under)
    return Incumbent(schedule, tally.split, objective(problem, schedule, tally.split))


def _settled(problem: Problem) -> Incumbent:
    """The greedy schedule swept at the objective's weights until no agent moves."""
    return anneal(problem, Responder(problem), _greedy(problem), random.Random(1), math.inf, ())


def _swept(
    problem: Problem,
    start: Incumbent,
    under: float | None = None,
    first: str = "",
    jitter: float = 0.0,
) -> tuple[Incumbent, int]:
    """One sweep in a fixed random order (`first` leading)."""
    responder = Responder(problem)
    assert responder.usable
    order = sorted(responder.pricers)
    random.Random(3).shuffle(order)
    order.sort(key=lambda a: a != first)
    schedule, split, gain = responder.sweep(start.schedule, start.split, order, under, jitter, 7)
    return Incumbent(schedule, split, objective(problem, schedule, split)), gain


def _paid(problem: Problem, best: Incumbent, a: str) -> int:
    days = best.schedule.get(a, {}).items()
    return sum(problem.patterns[a][d][k].paid_minutes for d, (k, _starts) in days)


def _rule_breaks(problem: Problem, best: Incumbent) -> list:
    segments = assign.segments(_plan(problem, best), problem.rules, problem.horizon)
    return check(segments, problem.agents, problem.rules, set(problem.queues), START, DAYS)


def test_a_sweep_keeps_the_rules_and_falls_by_at_least_its_estimate(problem: Problem) -> None:
    start = _greedy(problem)
    swept, gain = _swept(problem, start)
    assert gain > 0
    assert swept.objective <= start.objective - gain
    assert _rule_breaks(problem, swept) == []


def test_a_needless_shift_is_moved_away(problem: Problem) -> None:
    # B7 (no weekly minimum) gets one more shift, the latest of a free day, counted as
    # overstaffing on sales_en: a sweep starting with B7 must take it back or put it to
    # use. The start has no hole left for the planted shift to fill.
    start = _settled(problem)
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

    swept, gain = _swept(problem, planted, first="B7")

    assert gain > 0
    assert swept.objective <= planted.objective - gain
    assert swept.schedule["B7"] != days
    assert _rule_breaks(problem, swept) == []


def test_understaffing_priced_at_zero_lets_hours_above_the_minimum_go(problem: Problem) -> None:
    # B5 and B6 must work 24 h a week; the settled schedule gives them more. At the
    # objective's weights their extra hours cover demand nobody else covers, so they
    # stay; priced at zero, the holes they would leave cost nothing and both go down
    # to their minimum.
    start = _settled(problem)
    assert _paid(problem, start, "B5") > 24 * 60 and _paid(problem, start, "B6") > 24 * 60
    kept, gain = _swept(problem, start)
    assert gain == 0 and kept.schedule == start.schedule

    freed, _gain = _swept(problem, start, under=0.0)

    assert _paid(problem, freed, "B5") == _paid(problem, freed, "B6") == 24 * 60
    assert all(_paid(problem, freed, a) <= _paid(problem, start, a) for a in problem.servable)
    assert freed.objective > start.objective  # holes left: priced at zero, not at its weight
    assert _rule_breaks(problem, freed) == []


def test_noisy_prices_move_agents_between_weeks_plain_sweeps_find_equal(
    problem: Problem,
) -> None:
    # The settled schedule is where plain sweeps stop: no agent has a cheaper week. With
    # noise on the prices, some agents take another week that the noise favours; the
    # rules still hold, and a moved agent's week is no worse by more than the noise
    # can reach over one week (the objective is measured exactly, not in noisy prices).
    start = _settled(problem)
    kept, gain = _swept(problem, start)
    assert gain == 0 and kept.schedule == start.schedule
    jitter = 20.0

    moved, _gain = _swept(problem, start, jitter=jitter)

    changed = [a for a in problem.servable if moved.schedule.get(a) != start.schedule.get(a)]
    assert changed
    assert moved.objective == objective(problem, moved.schedule, moved.split)
    worst = 2 * jitter * problem.horizon.size
    assert moved.objective - start.objective <= worst * len(changed)
    assert _rule_breaks(problem, moved) == []


def test_a_descent_keeps_the_rules_and_ends_no_worse_than_plain_sweeps(problem: Problem) -> None:
    start = _greedy(problem)
    responder = Responder(problem)
    plain = anneal(problem, responder, start, random.Random(5), math.inf, ladder=())
    descended = anneal(problem, responder, start, random.Random(5), math.inf)

    assert descended.objective <= plain.objective < start.objective
    assert descended.objective == objective(problem, descended.schedule, descended.split)
    assert _rule_breaks(problem, descended) == []


def test_a_head_fills_a_queue_it_cannot_serve_when_a_colleague_moves_there(
    problem: Problem,
) -> None:
    # At 06:30 UTC sales_de needs one agent and sales_en none. A German and English
    # speaker works sales_en then: B4 (English only) is worth a sales_de head there,
    # because the colleague can move over when B4 takes sales_en.
    responder = Responder(problem)
    both, english = problem.servable["B1"], problem.servable["B4"]
    assert both == ("sales_de", "sales_en") and english == ("sales_en",)
    i = 13
    assert problem.needs[("sales_de", i)] == 1 and problem.needs.get(("sales_en", i), 0) == 0
    tally = responder.tally({(both, i, "sales_en"): 1})
    weights = problem.rules.weights

    price = responder.offers(english, tally, weights.under).price()

    assert price[i] == -weights.under * problem.rules.queue_rule("sales_de").priority
    assert price[i + 1] == weights.over  # nobody there to move over
    shifts = problem.patterns["B4"][0]
    k = next(k for k, p in enumerate(shifts) if p.start <= i < p.end and i + 4 < p.end)
    lunch = max(shifts[k].break_starts[0])
    assert lunch > i
    responder.join("B4", {0: (k, (lunch,))}, tally, weights.under)
    split = tally.split
    assert split[both, i, "sales_de"] == 1 and (both, i, "sales_en") not in split
    assert split[english, i, "sales_en"] == 1
    assert tally.covered["sales_de"][i] == 1 and tally.covered["sales_en"][i] == 1
