"""The first schedule improved a few agents at a time (real CP-SAT solves)."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import replace

from ortools.sat.python import cp_model

from scheduler import assign, cpmodel
from scheduler.checker import check
from scheduler.improve import Incumbent, improve, objective
from scheduler.model import SolveReport
from scheduler.problem import Problem
from scheduler.relaxation import week_mixes
from scheduler.respond import Responder
from scheduler.solver import Plan

from .conftest import DAYS, START, STEPS


def _first(problem: Problem) -> Incumbent:
    """The first schedule the solver starts from (agents in their sorted order)."""
    responder = Responder(problem)
    schedule, split = responder.construct(sorted(responder.pricers))
    return Incumbent(schedule, split, objective(problem, schedule, split))


def _plan(problem: Problem, best: Incumbent) -> Plan:
    groups = sorted({problem.servable[a.agent_id] for a in problem.agents})
    members = [
        tuple(a.agent_id for a in problem.agents if problem.servable[a.agent_id] == g)
        for g in groups
    ]
    split: dict[tuple[int, int], dict[str, int]] = defaultdict(dict)
    for (group_queues, i, q), heads in best.split.items():
        split[groups.index(group_queues), i][q] = heads
    shifts = {
        a: [(problem.patterns[a][d][k], starts) for d, (k, starts) in sorted(days.items())]
        for a, days in best.schedule.items()
    }
    report = SolveReport("FEASIBLE", 0, 0, 0, 0)
    return Plan(shifts, list(zip(members, groups, strict=True)), dict(split), report)


def test_objective_is_the_cp_sat_models(problem: Problem) -> None:
    # The whole model with every decision fixed to the first schedule: CP-SAT's objective is
    # the one `objective` computes without it.
    start = _first(problem)
    built = cpmodel.build(
        problem.agents,
        problem.patterns,
        problem.needs,
        problem.queues,
        problem.rules,
        problem.horizon,
    )
    index = {group: g for g, (_ids, group) in enumerate(built.groups)}
    split = {(index[group], i, q): heads for (group, i, q), heads in start.split.items()}
    cpmodel.add_hint(built, start.schedule, split, problem.needs)
    for (a, d, k), var in built.shift.items():
        built.model.add(var == int(start.schedule.get(a, {}).get(d, (-1, ()))[0] == k))
    for (a, d, r, i), var in built.brk.items():
        choice = start.schedule.get(a, {}).get(d)
        built.model.add(var == int(choice is not None and choice[1][r] == i))
    for key, var in built.split.items():
        built.model.add(var == split.get(key, 0))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(built.model) == cp_model.OPTIMAL
    assert solver.objective_value == start.objective


def test_improved_schedule_is_no_worse_and_obeys_every_rule(problem: Problem) -> None:
    start = _first(problem)
    seen: list[int] = []
    outcome = improve(
        problem, start, time.monotonic(), seed=1, on_improvement=seen.append, steps=STEPS
    )
    best = outcome.best
    assert outcome.descents >= 1
    assert best.objective <= start.objective
    assert seen == sorted(seen, reverse=True) and all(value < start.objective for value in seen)
    # The objective it reports is the objective of the schedule it returns.
    assert objective(problem, best.schedule, best.split) == best.objective
    segments = assign.segments(_plan(problem, best), problem.rules, problem.horizon)
    assert check(segments, problem.agents, problem.rules, set(problem.queues), START, DAYS) == []
    # The split only places agents who work: per interval as many heads as on a queue.
    counted: dict[tuple[str, int], int] = defaultdict(int)
    for segment in segments:
        if segment.activity in problem.queues:
            first = problem.horizon.index(segment.start)
            last = int((segment.end - problem.horizon.start) / problem.horizon.interval)
            assert first is not None
            for i in range(first, last):
                counted[segment.activity, i] += 1
    covered: dict[tuple[str, int], int] = defaultdict(int)
    for (_group, i, q), heads in best.split.items():
        covered[q, i] += heads
    assert dict(counted) == {key: n for key, n in covered.items() if n}


def test_without_sweeps_neighbourhoods_improve_and_keep_the_rules(problem: Problem) -> None:
    # Minimum hours made soft are beyond the sweeps: CP-SAT neighbourhoods do the work.
    soft = replace(problem, best_effort=True)
    start = _first(problem)
    start = Incumbent(start.schedule, start.split, objective(soft, start.schedule, start.split))
    outcome = improve(soft, start, time.monotonic(), seed=1, steps=3)
    assert outcome.descents == 0 and outcome.rounds >= 1
    assert outcome.best.objective <= start.objective
    segments = assign.segments(_plan(soft, outcome.best), soft.rules, soft.horizon)
    violations = check(segments, soft.agents, soft.rules, set(soft.queues), START, DAYS)
    assert {v.rule for v in violations} <= {"min_hours"}


def test_week_mixes_are_the_shift_counts_one_agent_may_work() -> None:
    # 7.5 h and 5.5 h paid shifts, at most five a week, 24 to 40 hours.
    mixes = week_mixes([330, 450], 5, 24 * 60, 40 * 60)
    assert mixes is not None
    assert (3, 1) in mixes  # 3 x 5.5 h + 7.5 h = 24 h exactly
    assert (0, 3) not in mixes  # 22.5 h: too few
    assert (0, 4) in mixes and (0, 5) in mixes  # 30 h, 37.5 h
    assert all(sum(mix) <= 5 and 1440 <= 330 * mix[0] + 450 * mix[1] <= 2400 for mix in mixes)
    assert week_mixes([330, 450], 5, 0, 2400, limit=3) is None  # too many to list


def test_window_frees_only_the_days_that_touch_it(problem: Problem) -> None:
    from scheduler.improve import _resolve

    start = _first(problem)
    team = [a.agent_id for a in problem.agents if problem.servable[a.agent_id]]
    window = (60, 84)  # intervals 60-83: day 1, 06:00-18:00 UTC
    found, _proved, _work = _resolve(problem, start, team, None, 1, 1, window)
    assert found is not None
    assert found.objective <= start.objective
    assert objective(problem, found.schedule, found.split) == found.objective
    free = pinned = 0
    for a in team:
        for d, options in problem.patterns[a].items():
            if any(p.start < window[1] and p.end > window[0] for p in options):
                free += 1
            else:
                pinned += 1
                assert found.schedule.get(a, {}).get(d) == start.schedule.get(a, {}).get(d)
    assert free and pinned
    segments = assign.segments(_plan(problem, found), problem.rules, problem.horizon)
    assert check(segments, problem.agents, problem.rules, set(problem.queues), START, DAYS) == []
