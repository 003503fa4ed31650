"""Inputs with no grid to read: a requirements file of a header only (a probe was sent to
fix a correct rules file: "rules.toml: shifts.start_granularity: expected a multiple of
the 0:30:00 interval"), a forecast of a single interval (staffed as 30 minutes without a
word, half the agents of a quarter hour)."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.cli import main

from .conftest import Files, solve_args
from .test_cli import one_line, rows, staffing_args


def test_a_requirements_file_without_rows_is_named(
    files: Files, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    # 15-minute rules: with no rows the grid would have been the 30-minute default.
    text = files.rules.read_text(encoding="utf-8").replace('"1h"', '"15m"', 1)
    files.rules.write_text(text, encoding="utf-8")
    files.requirements.write_text("interval_start,queue,required\n", encoding="utf-8")
    assert main(solve_args(files, tmp_path)) == 2
    assert one_line(capsys) == (
        f"switchboard: error: {files.requirements}: no requirement rows (a header only): "
        "expected a row per interval and queue"
    )
    assert not (tmp_path / "schedule.csv").exists()


def test_a_forecast_of_one_interval_needs_its_length(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "forecast.csv"
    path.write_text(
        "interval_start,queue,contacts,aht_s,low,high\n"
        "2025-03-24T10:00:00+00:00,booking_en,100,300,90,110\n"
        "2025-03-24T10:00:00+00:00,booking_es,10,300,9,11\n",
        encoding="utf-8",
    )
    out = tmp_path / "req.csv"
    assert main(staffing_args(path, out)) == 2
    assert one_line(capsys) == (
        f"switchboard: error: {path}: all rows are for one interval "
        "(2025-03-24T10:00:00+00:00), so its length cannot be read from the rows' spacing; "
        "give --interval, e.g. --interval 15m"
    )
    assert not out.exists()
    # The probe's figures: 100 contacts of 5 minutes need 39 agents in a quarter hour,
    # 21 in half an hour.
    assert main([*staffing_args(path, out), "--interval", "15m"]) == 0
    assert rows(out)[0]["required"] == "39"
    assert main([*staffing_args(path, out), "--interval", "30m"]) == 0
    assert rows(out)[0]["required"] == "21"


def test_a_forecast_without_rows_is_named(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "forecast.csv"
    path.write_text("interval_start,queue,contacts,aht_s\n", encoding="utf-8")
    out = tmp_path / "req.csv"
    assert main([*staffing_args(path, out), "--interval", "15m"]) == 2
    assert one_line(capsys) == f"switchboard: error: {path}: no forecast rows (a header only)"
    assert not out.exists()
