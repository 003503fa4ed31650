"""The `switchboard staffing | schedule | schedule check` commands, end to end in-process."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from scheduler import csvfiles
from scheduler.model import ScheduleResult, SolveReport
from switchboard.cli import main

from .conftest import Files, requirements, solve_args


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


def staffing_args(path: Path, out: Path, *more: str) -> list[str]:
    return [
        "staffing",
        "--forecast",
        str(path),
        "--service-level",
        "0.8",
        "--answer-within",
        "20s",
        "--out",
        str(out),
        *more,
    ]


def test_staffing_without_a_handle_time_is_refused_unless_given_one(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    # A history without aht_s gives a forecast of handle time 0 (or empty): staffing it
    # as is would need no agents at all.
    path = tmp_path / "forecast.csv"
    path.write_text(
        "interval_start,queue,contacts,aht_s,low,high\n"
        "2024-03-04T08:00:00+00:00,sales,0,0,0,0\n"
        "2024-03-04T08:30:00+00:00,sales,100,0,90,110\n"
        "2024-03-04T09:00:00+00:00,sales,100,,90,110\n"
        "2024-03-04T09:30:00+00:00,sales,100,180,90,110\n",
        encoding="utf-8",
    )
    out = tmp_path / "req.csv"
    assert main(staffing_args(path, out)) == 2
    assert one_line(capsys) == (
        f"switchboard: error: {path}: row 3: field aht_s: no handle time for 100 contacts of "
        "queue sales at 2024-03-04T08:30:00+00:00; give --aht SECONDS, the handle time to "
        "assume where the forecast has none"
    )
    assert not out.exists()
    assert main(staffing_args(path, out, "--aht", "180")) == 0
    # 14 agents for 100 contacts of 180 s in half an hour (test_staffing_erlang_c_and_a);
    # the forecast's own handle time is kept where it has one.
    assert [r["required"] for r in rows(out)] == ["0", "14", "14", "14"]
    assert main(staffing_args(path, out, "--aht", "6m")) == 0
    assert [r["required"] for r in rows(out)] == ["0", "25", "25", "14"]


def test_staffing_interval_must_agree_with_the_forecasts_spacing(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "req.csv"
    args = staffing_args(forecast(tmp_path), out)
    assert main([*args, "--interval", "60m"]) == 2
    assert one_line(capsys) == (
        f"switchboard: error: --interval 1h: the forecast {tmp_path / 'forecast.csv'} has 30m "
        "intervals (its rows are 30m apart); leave --interval out, the length is taken from "
        "the forecast"
    )
    assert not out.exists()
    assert main([*args, "--interval", "30m"]) == 0
    assert [r["required"] for r in rows(out)] == ["14", "0"]


def test_staffing_refuses_a_second_row_for_an_interval_and_queue(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "forecast.csv"
    path.write_text(
        "interval_start,queue,contacts,aht_s,low,high\n"
        "2024-03-04T08:00:00+00:00,sales,100,180,90,110\n"
        "2024-03-04T08:30:00+00:00,sales,50,180,40,60\n"
        "2024-03-04T09:30:00+01:00,sales,100,180,90,110\n",
        encoding="utf-8",
    )
    out = tmp_path / "req.csv"
    assert main(staffing_args(path, out)) == 2
    assert one_line(capsys) == (
        f"switchboard: error: {path}: row 4: field interval_start: duplicate interval for "
        "queue 'sales' (first at row 3)"
    )
    assert not out.exists()


KOLKATA_RULES = """
[shifts]
lengths = ["4h"]
start_granularity = "1h"
earliest_start = "08:00"
latest_start = "10:00"
min_rest = "11h"
max_consecutive_days = 6
days_off_per_week = 1
max_hours_per_week = 48
"""


def kolkata_files(tmp_path: Path, first_utc: str) -> Files:
    """Two agents in Kolkata (UTC+05:30) starting 08:00-10:00 local (02:30-04:30 UTC), and
    hourly requirements from `first_utc`, 1 agent each hour until 06:30 UTC."""
    paths = Files(tmp_path / "req.csv", tmp_path / "agents.csv", tmp_path / "rules.toml")
    hour, minute = int(first_utc[:2]), first_utc[3:]
    paths.requirements.write_text(
        "interval_start,queue,required\n"
        + "".join(f"2024-10-01T{h:02d}:{minute}:00+00:00,q,1\n" for h in range(hour, 7)),
        encoding="utf-8",
    )
    paths.agents.write_text(
        "agent_id,region,timezone,skills,languages,min_hours,max_hours\n"
        "I1,apac,Asia/Kolkata,q,hi,0,40\n"
        "I2,apac,Asia/Kolkata,q,hi,0,40\n",
        encoding="utf-8",
    )
    paths.rules.write_text(KOLKATA_RULES, encoding="utf-8")
    return paths


def kolkata_args(files: Files, tmp_path: Path, *more: str) -> list[str]:
    args = solve_args(files, tmp_path, days=1)
    args[args.index("--start") + 1] = "2024-10-01"
    return [*args, *more]


def test_the_grid_follows_requirements_at_a_half_hour_offset(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    # A 60-minute forecast of Kolkata has its rows at :30 UTC: the grid is theirs.
    files = kolkata_files(tmp_path, "02:30")
    assert main(kolkata_args(files, tmp_path)) == 0
    err = capsys.readouterr().err
    assert "grid: 1h intervals from 00:30 UTC" in err and "Traceback" not in err
    coverage = [r for r in rows(tmp_path / "coverage.csv") if r["required"] != "0"]
    assert [(r["interval_start"][11:16], r["required"]) for r in coverage] == [
        (f"{h:02d}:30", "1") for h in range(2, 7)
    ]
    assert all(int(r["scheduled"]) >= 1 for r in coverage)
    assert rows(tmp_path / "schedule.csv")


def test_agents_without_any_possible_shift_are_named_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    # Requirements on the hour: Kolkata's 08:00 (02:30 UTC) is between two intervals.
    files = kolkata_files(tmp_path, "03:00")
    assert main(kolkata_args(files, tmp_path)) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert (
        "cannot be met: agents I1, I2 (Asia/Kolkata): no shift fits: their local start times "
        "(08:00–10:00 every 1h) all fall between the interval starts of the 1h UTC grid "
        "from 00:00 (08:00 local is 02:30 UTC)"
    ) in err
    assert not (tmp_path / "schedule.csv").exists()
    # Best effort with the bound solved in place (one worker): no crash either.
    assert main(kolkata_args(files, tmp_path, "--best-effort", "--workers", "1")) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "agents I1, I2 (Asia/Kolkata): no shift fits" in err
    assert rows(tmp_path / "schedule.csv") == []


def test_schedule_reads_a_spreadsheets_headers_and_separators(
    files: Files, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Requirements separated by ';' with `Interval_Start;Queue;Required`, agents with
    `Agent_ID, Region ,...` and a column of their own: solved as the contract's files."""
    text = files.requirements.read_text(encoding="utf-8").splitlines()
    files.requirements.write_text(
        "\n".join(["Interval_Start;Queue;Required", *(r.replace(",", ";") for r in text[1:])]),
        encoding="utf-8",
    )
    text = files.agents.read_text(encoding="utf-8").splitlines()
    files.agents.write_text(
        "\n".join(
            [
                "Agent_ID, Region ,TimeZone,Skills,Languages,Min_Hours,Max_Hours,Team",
                *(f"{r},T1" for r in text[1:]),
            ]
        ),
        encoding="utf-8",
    )
    assert main(solve_args(files, tmp_path, days=1)) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and "switchboard: error" not in err
    assert rows(tmp_path / "schedule.csv")
    assert {r["queue"] for r in rows(tmp_path / "coverage.csv")} == {"sales_de", "sales_en"}
