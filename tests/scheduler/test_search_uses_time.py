"""More time is used (a probe: 60, 120 and 180 s gave the same schedule, the sixth and last
sweep at the objective's own weight still gaining 1 %), the best schedule of a descent
is kept as soon as it is met, and the caller can stop the search with it (Ctrl-C)."""

from __future__ import annotations

import math
import random
import threading
from pathlib import Path

import pytest

from scheduler import improve
from scheduler.improve import Incumbent, anneal
from scheduler.model import ScheduleResult, SolveReport
from scheduler.problem import Problem
from scheduler.respond import Responder
from switchboard.cli import main

from .conftest import Files, solve_args
from .test_respond import _greedy


def _counting(responder: Responder, monkeypatch: pytest.MonkeyPatch) -> list[float | None]:
    """The understaffing price of every sweep the responder makes, in order."""
    prices: list[float | None] = []
    sweep = responder.sweep

    def counted(*args: object, **kwargs: object) -> tuple:
        prices.append(args[3] if len(args) > 3 else kwargs.get("under"))  # type: ignore[arg-type]
        return sweep(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(responder, "sweep", counted)
    return prices


def test_at_its_own_weight_a_descent_sweeps_while_the_objective_falls(
    problem: Problem, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One sweep per rung of the ladder: the first rung, at the objective's own weight,
    # still sweeps until the objective stops falling, not a fixed number of times.
    monkeypatch.setattr(improve, "SWEEPS_PER_WEIGHT", 1)
    responder = Responder(problem)
    prices = _counting(responder, monkeypatch)
    start = _greedy(problem)
    anneal(problem, responder, start, random.Random(1), math.inf, (0.0, 50.0))
    own = float(problem.rules.weights.under)
    first_rung = prices[: prices.index(0.0)]
    assert len(first_rung) >= 2 and set(first_rung) == {own}
    assert prices[len(first_rung) :][:2] == [0.0, 50.0]  # the ladder: one sweep a rung
    assert set(prices[len(first_rung) + 2 :]) == {own}


def test_a_stopped_search_keeps_the_best_schedule_met_inside_a_descent(
    problem: Problem,
) -> None:
    # Stopped at the first better schedule of the first descent (Ctrl-C): that schedule is
    # the outcome, not the start the descent began from.
    stop = threading.Event()
    seen: list[int] = []

    def met(value: int) -> None:
        seen.append(value)
        stop.set()

    start = _greedy(problem)
    outcome = improve.improve(
        problem, start, math.inf, seed=1, on_improvement=met, steps=6, stop=stop.is_set
    )
    assert outcome.descents == 1 and outcome.rounds == 0
    assert len(seen) == 1 and outcome.best.objective == seen[0] < start.objective
    assert isinstance(outcome.best, Incumbent)


def test_the_last_lines_say_why_there_is_no_bound_and_what_the_search_did(
    files: Files, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A probe saw "no bound yet" on every run, however long, with no reason given.
    why = "the relaxation was still being solved after 57 s beside the search"

    def unbounded(*args: object, **kwargs: object) -> ScheduleResult:
        nan = float("nan")
        report = SolveReport("FEASIBLE", 1200, nan, nan, 60.1, no_bound=why, search="1 descent")
        return ScheduleResult([], [], report)

    monkeypatch.setattr("scheduler.service.make_schedule", unbounded)
    assert main(solve_args(files, tmp_path)) == 0
    err = capsys.readouterr().err
    assert f"solver FEASIBLE: objective 1200, no bound: {why}, 60.1 s\nsearch: 1 descent\n" in err
