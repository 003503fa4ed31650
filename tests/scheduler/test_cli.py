"""The `switchboard staffing | schedule | schedule check` commands, end to end in-process."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from scheduler import csvfiles
from scheduler.model import ScheduleResult, SolveReport
from switchboard.cli import main

from .conftest import Files, requirements


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def forecast(tmp_path: Path) -> Path:
    path = tmp_path / "forecast.csv"
    path.write_text(
        "interval_start,queue,contacts,aht_s,low,high\n"
        "2024-03-04T08:00:00+00:00,sales,100,180,90,110\n"
        "2024-03-04T08:30:00+00:00,sales,0,180,0,0\n",
        encoding="utf-8",
    )
    return path


def test_staffing_erlang_c_and_a(tmp_path: Path) -> None:
    out = tmp_path / "req.csv"
    args = ["staffing", "--forecast", str(forecast(tmp_path)), "--service-level", "0.8"]
    assert main([*args, "--answer-within", "20s", "--out", str(out)]) == 0
    assert [r["required"] for r in rows(out)] == ["14", "0"]
    assert main([*args, "--answer-within", "20s", "--shrinkage", "0.3", "--out", str(out)]) == 0
    assert rows(out)[0]["required"] == "20"  # 14 / 0.7
    assert main([*args, "--answer-within", "20s", "--patience", "60s", "--out", str(out)]) == 0
    assert int(rows(out)[0]["required"]) <= 14


def test_staffing_bad_flag_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(
        [
            "staffing",
            "--forecast",
            str(forecast(tmp_path)),
            "--service-level",
            "1.5",
            "--answer-within",
            "20s",
            "--out",
            str(tmp_path / "r.csv"),
        ]
    )
    assert code == 2
    error = capsys.readouterr().err.strip()
    assert error == "switchboard: error: --service-level: expected a number > 0 and <= 1, found 1.5"


def solve_args(files: Files, tmp_path: Path, days: int = 3) -> list[str]:
    return [
        "schedule",
        "--requirements",
        str(files.requirements),
        "--agents",
        str(files.agents),
        "--rules",
        str(files.rules),
        "--start",
        "2024-03-04",
        "--days",
        str(days),
        "--out",
        str(tmp_path / "schedule.csv"),
        "--coverage",
        str(tmp_path / "coverage.csv"),
        "--time-limit",
        "8",
        "--seed",
        "3",
    ]


def test_schedule_then_check(files: Files, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    args = solve_args(files, tmp_path)
    args += ["--ics-dir", str(tmp_path / "ics"), "--report", str(tmp_path / "report.html")]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "best objective" in err and "gap" in err
    schedule = rows(tmp_path / "schedule.csv")
    assert schedule and set(schedule[0]) == {"agent_id", "start", "end", "activity"}
    coverage = rows(tmp_path / "coverage.csv")
    assert set(coverage[0]) == {"interval_start", "queue", "required", "scheduled"}
    assert list((tmp_path / "ics").glob("*.ics"))
    assert "<svg" in (tmp_path / "report.html").read_text(encoding="utf-8")
    code = main(
        [
            "schedule",
            "check",
            "--schedule",
            str(tmp_path / "schedule.csv"),
            "--agents",
            str(files.agents),
            "--rules",
            str(files.rules),
            "--requirements",
            str(files.requirements),
            "--start",
            "2024-03-04",
            "--days",
            "3",
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert "0 violation(s)" in err
    assert "sales_de: under" in err and "sales_en: under" in err


def test_check_lists_violations(
    files: Files, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "agent_id,start,end,activity\n"
        "B4,2024-03-04T07:00:00+00:00,2024-03-04T15:00:00+00:00,sales_de\n",
        encoding="utf-8",
    )
    code = main(
        [
            "schedule",
            "check",
            "--schedule",
            str(bad),
            "--agents",
            str(files.agents),
            "--rules",
            str(files.rules),
        ]
    )
    assert code == 1
    out = capsys.readouterr().out
    assert "B4: skill: " in out and "B4: break: " in out


def test_unmeetable_requirement_exits_2(
    files: Files, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    csvfiles.write_requirements(files.requirements, requirements({"sales_de": (9, 10, 5)}, 1))
    assert main(solve_args(files, tmp_path, days=1)) == 2
    err = capsys.readouterr().err
    assert "queue sales_de at 2024-03-04T09:00:00+00:00 needs 5 agents, 3 with sales and de" in err
    assert not (tmp_path / "schedule.csv").exists()
    assert main([*solve_args(files, tmp_path, days=1), "--best-effort"]) == 2
    assert rows(tmp_path / "schedule.csv")


def test_schedule_without_inputs_is_a_user_error(capsys: pytest.CaptureFixture) -> None:
    assert main(["schedule", "--days", "3"]) == 2
    assert "missing --requirements, --agents, --start, --out" in capsys.readouterr().err


def test_check_counts_coverage_over_the_solves_days(
    files: Files, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    # Requirements beyond --days were not asked of the schedule: not counted as under.
    needed = tmp_path / "requirements.csv"
    needed.write_text(
        "interval_start,queue,required\n"
        "2024-03-04T09:00:00+00:00,sales_de,1\n"
        "2024-03-04T09:30:00+00:00,sales_de,1\n"
        "2024-03-05T09:00:00+00:00,sales_de,3\n",
        encoding="utf-8",
    )
    empty = tmp_path / "schedule.csv"
    empty.write_text("agent_id,start,end,activity\n", encoding="utf-8")
    base = ["schedule", "check", "--schedule", str(empty), "--agents", str(files.agents)]
    base += ["--requirements", str(needed), "--start", "2024-03-04"]
    main([*base, "--days", "1"])
    assert "sales_de: under 2, over 0" in capsys.readouterr().err
    main([*base, "--days", "2"])
    assert "sales_de: under 5, over 0" in capsys.readouterr().err


def one_line(capsys: pytest.CaptureFixture) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err.strip()


def no_solve(*args: object, **kwargs: object) -> None:
    raise AssertionError("the solve must not start")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"2024-03-04T09:00:00+00:00,sales_de,1,2\n",
            "row 2: expected 3 fields (interval_start,queue,required), found 4",
        ),
        (
            b"2024-03-04T09:00:00+00:00,sales_de,1\n2024-03-04T09:00:00+00:00,sales_de,2\n",
            "row 3: field interval_start: duplicate interval for queue 'sales_de' (first at row 2)",
        ),
        (b"2024-03-04T09:00:00+00:00,sales_d\xe9,1\n", "row 2: not UTF-8 text (save it as UTF-8)"),
    ],
)
def test_bad_requirements_are_one_line_and_status_2(
    files: Files,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    content: bytes,
    message: str,
) -> None:
    monkeypatch.setattr("scheduler.service.make_schedule", no_solve)
    files.requirements.write_bytes(b"interval_start,queue,required\n" + content)
    assert main(solve_args(files, tmp_path)) == 2
    assert one_line(capsys) == f"switchboard: error: {files.requirements}: {message}"


def test_a_folder_for_an_input_is_one_line(
    files: Files, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    args = solve_args(files, tmp_path)
    args[args.index("--requirements") + 1] = str(tmp_path)
    assert main(args) == 2
    assert one_line(capsys) == f"switchboard: error: {tmp_path}: cannot read: Is a directory"


@pytest.mark.parametrize(
    ("flag", "where", "message"),
    [
        ("--out", ".", "cannot write: it is a folder, expected a file name"),
        ("--coverage", ".", "cannot write: it is a folder, expected a file name"),
        ("--report", ".", "cannot write: it is a folder, expected a file name"),
        ("--out", "missing/s.csv", "cannot write: no folder '{tmp}/missing' (it is not created)"),
        ("--ics-dir", "missing/ics", "cannot write calendars: no folder '{tmp}/missing'"),
        ("--ics-dir", "requirements.csv", "cannot write calendars: it is a file"),
    ],
)
def test_unwritable_outputs_are_refused_before_the_solve(
    files: Files,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    flag: str,
    where: str,
    message: str,
) -> None:
    monkeypatch.setattr("scheduler.service.make_schedule", no_solve)
    target = tmp_path if where == "." else tmp_path / where
    args = [*solve_args(files, tmp_path), flag, str(target)]  # a flag given twice: the last
    assert main(args) == 2
    expected = f"switchboard: error: {target}: {message.format(tmp=tmp_path)}"
    assert one_line(capsys).startswith(expected)
    assert not (tmp_path / "missing").exists()


def test_the_last_line_says_no_bound_yet_rather_than_nan(
    files: Files, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The relaxation had proven no bound when the search stopped: no "nan" anywhere.
    def unbounded(*args: object, **kwargs: object) -> ScheduleResult:
        nan = float("nan")
        return ScheduleResult([], [], SolveReport("FEASIBLE", 1200, nan, nan, 0.4))

    monkeypatch.setattr("scheduler.service.make_schedule", unbounded)
    report = tmp_path / "report.html"
    assert main([*solve_args(files, tmp_path), "--report", str(report)]) == 0
    err = capsys.readouterr().err
    assert "solver FEASIBLE: objective 1200, no bound yet, 0.4 s" in err
    assert "nan" not in err
    assert "Solver: FEASIBLE, objective 1200, no bound yet, 0.4 s." in report.read_text()


def test_the_last_line_with_a_bound(
    files: Files, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bounded(*args: object, **kwargs: object) -> ScheduleResult:
        return ScheduleResult([], [], SolveReport("FEASIBLE", 1200, 1150, 50 / 1200, 0.4))

    monkeypatch.setattr("scheduler.service.make_schedule", bounded)
    assert main(solve_args(files, tmp_path)) == 0
    assert "solver FEASIBLE: objective 1200, bound 1150.0, gap 4.17%, 0.4 s" in (
        capsys.readouterr().err
    )
