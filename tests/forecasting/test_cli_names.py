"""What a forecast's flags and files are checked against, and faults that name their file:
a `--region` with nothing to select is refused (or, without a config, one no event names
is said), and a backtest of several histories says which one is short."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from forecasting import files, synthetic
from switchboard.cli import main


@pytest.fixture(autouse=True)
def only_this_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "switchboard.cli.COMMAND_MODULES", {"forecasting.cli": ("history", "forecast")}
    )


def forecast_args(history: Path, tmp_path: Path) -> list[str]:
    args = ["forecast", "--history", str(history), "--start", "2025-03-03T00:00:00+01:00"]
    return [*args, "--horizon", "1d", "--out", str(tmp_path / "forecast.csv")]


def test_a_region_without_events_or_config_is_refused(
    history_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*forecast_args(history_csv, tmp_path), "--region", "nowhere"]) == 2
    assert capsys.readouterr().err == (
        "switchboard: error: --region: expected --events (the region's events) or --config "
        "(its holidays) with it, found --region 'nowhere' alone\n"
    )
    assert not (tmp_path / "forecast.csv").exists()
    assert main(["forecast", "backtest", "--history", str(history_csv), "--region", "north"]) == 2
    assert capsys.readouterr().err == (
        "switchboard: error: --region: expected --config with it (whose [[regions]] holidays "
        "it selects), found --region 'north' alone\n"
    )


def test_a_region_no_event_names_is_said(
    history_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.csv"
    events.write_text(
        "start,end,region,queue,kind,factor\n"
        "2025-03-03T10:00:00+01:00,2025-03-03T12:00:00+01:00,north,booking,storm,2\n"
        "2025-03-03T10:00:00+01:00,2025-03-03T12:00:00+01:00,south,,strike,5\n",
        encoding="utf-8",
    )
    args = [*forecast_args(history_csv, tmp_path), "--events", str(events)]
    assert main([*args, "--region", "nrth"]) == 0
    assert (
        f"note: --region nrth: no event of {events} is of it (it names north, south; did you "
        "mean north?): only the events of every region apply (--config checks the name "
        "against its [[regions]])"
    ) in capsys.readouterr().out.splitlines()
    assert main([*args, "--region", "north"]) == 0
    assert "note: --region" not in capsys.readouterr().out


def test_a_backtest_names_the_history_that_is_too_short(
    center: synthetic.Synthetic,
    history_csv: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    short = tmp_path / "week.csv"
    first_week = center.rows[0].interval_start + timedelta(days=7)
    files.write_history(short, [row for row in center.rows if row.interval_start < first_week])
    args = ["forecast", "backtest", "--weeks", "1", "--history", str(history_csv)]
    assert main([*args, "--history", str(short)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"switchboard: error: {short}: a backtest needs at least 21 full days")
