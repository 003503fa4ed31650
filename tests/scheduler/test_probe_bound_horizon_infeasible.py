"""The planner probe's findings: a bound when HiGHS's fast IPM gives none, requirement rows
outside the horizon announced, and "cannot be met" answered before the solve."""

from __future__ import annotations

from pathlib import Path

import pytest
from ortools.linear_solver.python import model_builder as mb

from scheduler import csvfiles, lp
from switchboard.cli import main

from .conftest import START, Files, agent, requirements, solve_args


def _triangle() -> lp.LinearProgram:
    """min x0 + x1 + x2 with every pair covering 1: optimum 1.5, at x = 0.5 each."""
    program = lp.LinearProgram()
    x = [program.column(cost=1.0) for _ in range(3)]
    for a, b in ((0, 1), (1, 2), (0, 2)):
        program.row([(x[a], 1.0), (x[b], 1.0)], lower=1.0)
    return program


def test_a_failed_interior_point_solve_is_solved_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # The probe's 15-minute week: IPM without crossover stopped at UNKNOWN_STATUS. Here the
    # fast attempt is made to stop the same way (one IPM iteration, no presolve).
    original = mb.Solver.set_solver_specific_parameters

    def stunted(solver: mb.Solver, parameters: str) -> None:
        if "run_crossover=off" in parameters:
            parameters += "\nipm_iteration_limit=1\npresolve=off"
        original(solver, parameters)

    monkeypatch.setattr(mb.Solver, "set_solver_specific_parameters", stunted)
    solution = _triangle().solve(10)
    assert solution.status == "OPTIMAL"
    assert solution.objective == pytest.approx(1.5, abs=1e-7)


def test_the_fast_path_stays_when_it_is_optimal(monkeypatch: pytest.MonkeyPatch) -> None:
    used: list[str] = []
    original = mb.Solver.set_solver_specific_parameters

    def spy(solver: mb.Solver, parameters: str) -> None:
        used.append(parameters)
        original(solver, parameters)

    monkeypatch.setattr(mb.Solver, "set_solver_specific_parameters", spy)
    solution = _triangle().solve(10)
    assert (solution.status, round(solution.objective, 7)) == ("OPTIMAL", 1.5)
    assert len(used) == 1 and "run_crossover=off" in used[0]


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (
            "2024-03-04",
            2,
            "96 requirement rows after the horizon were left out "
            "(2024-03-06T00:00Z to 2024-03-06T23:30Z; sales_de 48, sales_en 48)",
        ),
        (
            "2024-03-05",
            2,
            "96 requirement rows before the horizon were left out "
            "(2024-03-04T00:00Z to 2024-03-04T23:30Z; sales_de 48, sales_en 48)",
        ),
    ],
)
def test_requirement_rows_outside_the_horizon_are_announced(
    files: Files,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    start: str,
    days: int,
    expected: str,
) -> None:
    # The fixture's requirements cover 2024-03-04 to 03-06 (3 days, 2 queues, 48 rows each).
    assert main(solve_args(files, tmp_path, days, start, limit="2")) == 0
    err = capsys.readouterr().err
    assert expected in err.splitlines()
    assert err.count("left out") == 1
    assert csvfiles.read_schedule(tmp_path / "schedule.csv")


def test_rows_all_inside_the_horizon_say_nothing(files: Files) -> None:
    from scheduler.service import outside_horizon, schedule_horizon

    rows = csvfiles.read_requirements(files.requirements)
    assert outside_horizon(rows, schedule_horizon(rows, START, 3)) == []
    assert len(outside_horizon(rows, schedule_horizon(rows, START, 1))) == 1


def test_what_cannot_be_met_is_said_before_solving(
    files: Files, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    # Five German speakers needed, three in the team: known by counting, so no 30 s solve.
    csvfiles.write_requirements(files.requirements, requirements({"sales_de": (9, 10, 5)}, 1))
    assert main(solve_args(files, tmp_path, days=1, limit="30")) == 2
    err = capsys.readouterr().err
    assert (
        "cannot be met: queue sales_de at 2024-03-04T09:00:00+00:00 needs 5 agents, "
        "3 with sales and de are available"
    ) in err
    assert "no schedule written; --best-effort writes the best schedule anyway" in err
    assert "solver" not in err and "first schedule" not in err and "best objective" not in err
    assert not (tmp_path / "schedule.csv").exists()


def test_a_misspelt_queue_gets_a_suggestion(
    files: Files, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    csvfiles.write_requirements(
        files.requirements,
        requirements({"Sales": (9, 10, 1), "sales_en": (9, 10, 1)}, 1),
    )
    csvfiles.write_agents(files.agents, [agent("B1", "sales", "de;en"), agent("B2", "sales")])
    assert main(solve_args(files, tmp_path, days=1, limit="30")) == 2
    err = capsys.readouterr().err
    assert (
        "cannot be met: queue Sales at 2024-03-04T09:00:00+00:00 needs 1 agents, "
        "0 with that skill are available (no agent has skill 'Sales': did you mean 'sales'?)"
    ) in err.splitlines()
    assert err.count("did you mean") == 1
    assert "solver" not in err
