"""`schedule check` without --start/--days: the weeks of the solve's horizon, the same for
every agent (a probe: each agent's own first and last shift made a partial week of a full
one, and a clean week of 340 agents had about 200 "broken rules")."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler import csvfiles
from switchboard.cli import main

from .conftest import RULES_TOML, agent
from .test_checker import shift

TEAM = [agent("B1", "sales", "de;en"), agent("B2", "sales", "en")]


def files(tmp_path: Path) -> list[str]:
    """B1 works Monday to Friday (5 days, 37.5 h paid: within 2 days off and 40 h a week),
    B2 Wednesday to Sunday: the horizon is the whole week."""
    schedule = [s for day in range(5) for s in shift("B1", day, 7)]
    schedule += [s for day in range(2, 7) for s in shift("B2", day, 7)]
    paths = tmp_path / "schedule.csv", tmp_path / "agents.csv", tmp_path / "rules.toml"
    csvfiles.write_schedule(paths[0], schedule)
    csvfiles.write_agents(paths[1], TEAM)
    paths[2].write_text(RULES_TOML, encoding="utf-8")
    return [
        *("schedule", "check", "--schedule", str(paths[0])),
        *("--agents", str(paths[1]), "--rules", str(paths[2])),
    ]


def test_a_clean_week_checked_without_its_dates_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    # B1's shifts end on Friday: counted from B1's own days, the week was 5 days long and
    # allowed only 4 of them ("days_off: week 1: works 5 days, at most 4").
    assert main(files(tmp_path)) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert (
        "horizon: from 2024-03-04 (the UTC date of the first shift) over 7 days (to the UTC "
        "day of the last shift); give --start and --days as in the solve to check another"
    ) in captured.err
    assert "0 violation(s)" in captured.err


def test_given_dates_are_taken_and_a_shorter_horizon_is_checked_pro_rata(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    args = files(tmp_path)
    assert main([*args, "--start", "2024-03-04", "--days", "7"]) == 0
    assert "horizon:" not in capsys.readouterr().err
    # Told the horizon was 5 days, B1's 5 days in it break the pro-rata days off.
    assert main([*args, "--start", "2024-03-04", "--days", "5"]) == 1
    assert "B1: days_off: week 1: works 5 days, at most 4" in capsys.readouterr().out
