"""Two input gaps of the planner's files, through the commands with real files.

A requirements file's `required` had no upper bound: `250000` or `1e9` agents in one
interval went into the solve (at 1e15 CP-SAT's objective overflows). Now more than
`MAX_REQUIRED` is refused naming the file, row and field, by `schedule` and `schedule
check` alike, and `staffing` never writes a requirement beyond it. A requirement beyond
the roster stays what it was: understaffing, reported.

`staffing` read only the forecast's mean; `--volume high` (or `low`) staffs for a bound
of the forecaster's prediction interval, never below (above) the mean: an interval of
whole contacts has `high` 0 for a mean of 0.32."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from scheduler import csvfiles
from scheduler.csvfiles import MAX_REQUIRED
from switchboard.cli import main

from .conftest import Files, solve_args

HEADER = "interval_start,queue,contacts,aht_s,low,high\n"
BUSY = "2024-03-04T08:00:00+00:00,sales,100,180,80,130\n"
QUIET = "2024-03-04T08:30:00+00:00,sales,0.32,180,0,0\n"


@pytest.fixture(autouse=True)
def only_this_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real parser with the scheduler's commands only."""
    monkeypatch.setattr(
        "switchboard.cli.COMMAND_MODULES", {"scheduler.cli": ("staffing", "schedule")}
    )


def required(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        return [row["required"] for row in csv.DictReader(handle)]


def set_required(files: Files, value: str) -> int:
    """Replace one requirement of the fixture's file with `value`; its row number."""
    lines = files.requirements.read_text(encoding="utf-8").splitlines()
    number = 38  # sales_de at 09:00 UTC of the first day
    fields = lines[number - 1].split(",")
    lines[number - 1] = ",".join([*fields[:2], value])
    files.requirements.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return number


@pytest.mark.timeout(120)  # a guard: these were solved, at 1e15 with an overflowed objective
@pytest.mark.parametrize("value", ["250000", "1e9", "1e15", "100000.5"])
def test_a_requirement_beyond_any_center_is_refused_naming_file_row_and_field(
    files: Files, tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    number = set_required(files, value)
    assert main(solve_args(files, tmp_path)) == 2
    err = capsys.readouterr().err
    assert (
        f"requirements.csv: row {number}: field required: expected a number >= 0 and "
        f"<= {MAX_REQUIRED:,.0f} agents for one queue in one interval" in err
    )
    assert f"found {value!r}" in err
    assert not (tmp_path / "schedule.csv").exists()
    # `schedule check` reads the same file the same way
    schedule = tmp_path / "empty-schedule.csv"
    schedule.write_text("agent_id,start,end,activity\n", encoding="utf-8")
    check = ["schedule", "check", "--schedule", str(schedule), "--agents", str(files.agents)]
    assert main([*check, "--requirements", str(files.requirements)]) == 2
    assert f"requirements.csv: row {number}: field required:" in capsys.readouterr().err


def test_a_requirement_beyond_the_roster_is_understaffing_not_an_input_error(
    files: Files, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """At the bound the file is read: the solve's counting says what cannot be met."""
    set_required(files, f"{MAX_REQUIRED:.0f}")
    assert main(solve_args(files, tmp_path)) == 2
    err = capsys.readouterr().err
    assert "field required" not in err
    assert f"needs {MAX_REQUIRED:.0f} agents, 3 with sales and de are available" in err


@pytest.mark.timeout(120)
def test_staffing_never_writes_a_requirement_schedule_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """720 000 contacts of 200 s in half an hour are about 80 000 agents: written as they
    are, refused once shrinkage grosses them up beyond the bound."""
    forecast = tmp_path / "forecast.csv"
    huge = "2024-03-04T08:30:00+00:00,sales,720000,200,700000,740000\n"
    forecast.write_text(HEADER + BUSY + huge, encoding="utf-8")
    out = tmp_path / "req.csv"
    args = ["staffing", "--forecast", str(forecast), "--service-level", "0.8"]
    args += ["--answer-within", "20s", "--out", str(out)]
    assert main(args) == 0
    [_, many] = csvfiles.read_requirements(out)  # what staffing writes, schedule reads
    assert 80_000 < many.required <= MAX_REQUIRED
    out.unlink()
    assert main([*args, "--shrinkage", "0.3"]) == 2
    err = capsys.readouterr().err
    assert "forecast.csv: row 3: fields contacts and aht_s: 720000 contacts of 200 s in 30m" in err
    assert f"with --shrinkage 0.3): more than {MAX_REQUIRED:,.0f}" in err
    assert not out.exists()


def staffing(tmp_path: Path, text: str, *extra: str) -> tuple[int, Path]:
    forecast = tmp_path / "forecast.csv"
    forecast.write_text(text, encoding="utf-8")
    out = tmp_path / "req.csv"
    args = ["staffing", "--forecast", str(forecast), "--service-level", "0.8"]
    return main([*args, "--answer-within", "20s", "--out", str(out), *extra]), out


def test_volume_high_staffs_for_the_top_of_the_interval(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = staffing(tmp_path, HEADER + BUSY + QUIET)
    assert code == 0
    mean = [float(value) for value in required(out)]
    code, out = staffing(tmp_path, HEADER + BUSY + QUIET, "--volume", "high")
    assert code == 0
    high = [float(value) for value in required(out)]
    # 130 contacts of 3 minutes need more agents than 100; a mean of 0.32 whose interval
    # of whole contacts tops at 0 is staffed for the mean, not for no one
    assert high[0] > mean[0] and high[1] == mean[1] > 0
    err = capsys.readouterr().err
    assert "--volume high: 1 rows staffed for high, 1 for contacts (the mean)" in err
    assert "(Erlang C, volume high)" in err
    code, out = staffing(tmp_path, HEADER + BUSY + QUIET, "--volume", "low")
    assert code == 0
    low = [float(value) for value in required(out)]
    assert low[0] < mean[0] and low[1] == 0


def test_volume_mean_does_not_read_the_interval(tmp_path: Path) -> None:
    """The default is as before: a forecast without `low`/`high` (or with `inf` there)."""
    text = "".join(line.rsplit(",", 2)[0] + "\n" for line in (HEADER, BUSY, QUIET))
    assert staffing(tmp_path, text)[0] == 0
    assert staffing(tmp_path, HEADER + BUSY.replace(",130", ",inf") + QUIET)[0] == 0


def test_volume_high_without_the_column_is_refused_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "".join(line.rsplit(",", 2)[0] + "\n" for line in (HEADER, BUSY, QUIET))
    code, out = staffing(tmp_path, text, "--volume", "high")
    assert code == 2
    err = capsys.readouterr().err
    assert "forecast.csv: row 1: header: expected columns" in err
    assert "missing high" in err and "--volume high staffs for column high" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("row", "volume", "field", "expected"),
    [
        ("100,180,80,", "high", "high", "expected a value, found ''"),
        ("100,180,80,n/a", "high", "high", "expected a number, found 'n/a'"),
        ("100,180,80,inf", "high", "high", "<= 1,000,000,000 contacts per interval"),
        ("100,180,80,-5", "high", "high", "expected a number >= 0"),
        ("100,180,130,80", "high", "high", "expected a number >= low (130) of the same row"),
        ("100,180,130,80", "low", "low", "expected a number <= high (80) of the same row"),
        ("100,180,1e12,130", "low", "low", "<= 1,000,000,000 contacts per interval"),
    ],
)
def test_bad_interval_values_are_refused_naming_file_row_and_field(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    row: str,
    volume: str,
    field: str,
    expected: str,
) -> None:
    code, out = staffing(
        tmp_path, HEADER + BUSY + f"2024-03-04T08:30:00+00:00,sales,{row}\n", "--volume", volume
    )
    assert code == 2
    err = capsys.readouterr().err
    assert f"forecast.csv: row 3: field {field}: " in err and expected in err
    assert not out.exists()
