"""The time limit holds whatever the workers (a probe: `--workers 1 --time-limit 5` ran
33 s, `--workers 0` 47 s: the bound was solved in place to the end, HiGHS's interior
point method does not stop at its own time limit, and the search got no time at all).
With one worker the bound runs first, in a process of its own, for a quarter of the
limit, and is stopped there; `--workers 0` is one per core, as CP-SAT's `num_workers`."""

from __future__ import annotations

import math
import os
import threading
from pathlib import Path

import pytest

from scheduler import csvfiles
from scheduler.problem import Problem
from scheduler.solver import SolveOptions, solve, worker_count
from switchboard.cli import main

from .conftest import Files, agent, solve_args
from .test_cli import one_line


def _solve(problem: Problem, limit: float) -> tuple[float, str, str]:
    options = SolveOptions(time_limit_s=limit, workers=1, seed=1, steps=2)
    given = problem.agents, problem.needs, problem.queues, problem.rules, problem.horizon
    plan = solve(*given, options, problem.patterns)
    assert plan.shifts and plan.report.status in ("FEASIBLE", "OPTIMAL")
    return plan.report.bound, plan.report.no_bound, plan.report.search


def test_with_one_worker_the_bound_stops_at_its_share_of_the_time_limit(
    problem: Problem,
) -> None:
    # A quarter of 0.04 s is over before the bound's process has even started: it is
    # stopped, the search still runs (its steps), and the report says why there is no
    # bound. Solved in place, the LP of this week took no notice of its limit and proved
    # a bound.
    bound, why, search = _solve(problem, 0.04)
    assert math.isnan(bound)
    assert why == (
        "the relaxation did not finish in its share of the time limit (0.01 s of 0.04 s with "
        "one worker, before the search)"
    )
    assert search.startswith("2 descents, 0 neighbourhoods, the best schedule found after ")


def test_with_one_worker_the_bound_comes_within_its_share(problem: Problem) -> None:
    bound, why, _search = _solve(problem, 60)
    assert math.isfinite(bound) and why == ""


def test_workers_0_is_one_per_core_and_below_is_refused(
    files: Files, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    cores = len(os.sched_getaffinity(0))
    assert worker_count(0) == cores and worker_count(3) == 3
    args = solve_args(files, tmp_path, limit="1")
    assert main([*args, "--workers", "-1"]) == 2
    assert one_line(capsys) == (
        "switchboard: error: --workers: expected a whole number >= 0 (0: one per core), found -1"
    )
    # A roster skill no queue needs and rules for an agent the roster lacks are said first.
    team = [*csvfiles.read_agents(files.agents), agent("B9", "sales;salse", "en")]
    csvfiles.write_agents(files.agents, team)
    files.rules.write_text(
        files.rules.read_text(encoding="utf-8") + '\n[agents.b9]\nprefer = "early"\n',
        encoding="utf-8",
    )
    assert main([*args, "--workers", "0"]) == 0
    err = capsys.readouterr().err
    s = "" if cores == 1 else "s"
    assert f"solving 7 agents x 3 days, {cores} worker{s} (one per core), limit 1 s" in err
    assert (
        f"warning: {files.rules}: agents.b9: no agent 'b9' in {files.agents} (did you mean "
        "'B9'?); its availability and wishes apply to no one"
    ) in err
    assert (
        f"warning: {files.agents}: field skills: 'billing' (agent B3) is no queue's skill; no "
        "shift is planned for it"
    ) in err
    assert (
        f"warning: {files.agents}: field skills: 'salse' (agent B9) is no queue's skill (did "
        "you mean 'sales'?); no shift is planned for it"
    ) in err


def test_with_one_worker_a_stop_ends_the_wait_for_the_bound(problem: Problem) -> None:
    # Ctrl-C while the bound has its share (a quarter of 60 s): no waiting it out.
    stop = threading.Event()
    stop.set()
    options = SolveOptions(time_limit_s=60, workers=1, seed=1, steps=2, stop=stop)
    given = problem.agents, problem.needs, problem.queues, problem.rules, problem.horizon
    report = solve(*given, options, problem.patterns).report
    assert math.isnan(report.bound)
    assert report.no_bound == "the solve was stopped before the relaxation finished"
    assert report.search.startswith("0 descents, 0 neighbourhoods, the best schedule found")
