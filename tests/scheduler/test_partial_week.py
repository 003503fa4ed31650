"""A horizon shorter than a week (re-planning tomorrow): its maximum hours let agents work
whole shifts, and an agent whose maximum is below every shift is named before the solve."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from scheduler import csvfiles
from scheduler.checker import check
from scheduler.model import Agent, BreakRule, Requirement, Rules, ScheduleResult
from scheduler.patterns import weekly_bounds, weeks
from scheduler.service import make_schedule
from scheduler.solver import SolveOptions
from switchboard.cli import main

from .conftest import RULES_TOML, START, STEPS, Files, agent, requirements, rules, solve_args

OPTIONS = SolveOptions(time_limit_s=10, workers=2, seed=1, steps=STEPS)
# As most centres write them: a paid break in every shift, the unpaid lunch only in the
# long one, so a 6-hour shift is 6 h paid (above 40 h x 1/7 = 5.7 h).
BREAKS = (
    BreakRule(
        "break",
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=3),
        timedelta(0),
        paid=True,
    ),
    BreakRule(
        "lunch",
        timedelta(minutes=30),
        timedelta(hours=4),
        timedelta(hours=5),
        timedelta(hours=8),
        paid=False,
    ),
)


def _solve(
    team: list[Agent], rows: list[Requirement], days: int, breaks: tuple[BreakRule, ...] = BREAKS
) -> tuple[ScheduleResult, Rules]:
    plan_rules = rules(breaks=breaks, max_on_break=None)
    return make_schedule(rows, team, plan_rules, START, days, OPTIONS), plan_rules


def _paid_hours(result: ScheduleResult, agent_id: str) -> float:
    """Paid hours of an agent's segments: unpaid lunches left out."""
    minutes = sum(
        (s.end - s.start).total_seconds() / 60
        for s in result.segments
        if s.agent_id == agent_id and s.activity != "lunch"
    )
    return minutes / 60


@pytest.mark.parametrize(
    ("days", "max_hours", "days_off", "hours"),
    [
        (1, 40, 2, 8),  # a working day's share: 40 h / 5 days
        (2, 40, 2, 16),
        (3, 40, 2, 24),
        (4, 40, 2, 24),  # 3 of the 4 days may be worked (2 days off pro rata)
        (5, 40, 2, 32),
        (6, 40, 2, 40),
        (7, 40, 2, 40),  # a full week: the weekly maximum
        (1, 40, 0, 7.5),  # 40 h / 7 = 5.7 h, but one shift (8 h, 7.5 h paid) fits
        (2, 40, 0, 80 / 7),
        (1, 20, 2, 7.5),  # a part-timer (4 h a day) still works tomorrow's shift ...
        (1, 4, 2, 4),  # ... but never more than their weekly maximum
    ],
)
def test_a_partial_weeks_maximum(days: int, max_hours: float, days_off: int, hours: float) -> None:
    plan_rules = rules(breaks=BREAKS, days_off_per_week=days_off)
    staff = agent("B1", "sales", hours=(20 if days == 7 else 0, max_hours))
    first = weeks(days)[0]
    low, high = weekly_bounds(staff, plan_rules, first)
    assert high == pytest.approx(hours * 60, abs=1)
    # A partial week asks no minimum: nothing there to make the plan infeasible.
    assert low == (min(20, max_hours) * 60 if days == 7 else 0)


def test_the_one_shift_floor_is_the_longest_shifts_paid_hours() -> None:
    # 8 h with an unpaid half-hour lunch is 7.5 h paid.
    plan_rules = rules(days_off_per_week=0)
    assert weekly_bounds(agent("B1", "sales"), plan_rules, weeks(1)[0])[1] == 450


def test_a_one_day_replan_fills_the_day_with_whole_shifts() -> None:
    """Tomorrow alone: 40 h a week pro rata over 7 days was 5.7 h, below every shift, and
    the schedule came out empty, "optimal", with nobody named."""
    team = [agent(f"B{n}", "sales", "de;en") for n in range(1, 5)]
    rows = requirements({"sales_en": (6, 20, 1)}, days=1)
    result, plan_rules = _solve(team, rows, days=1)
    assert result.problems == []
    assert result.segments
    assert sum(max(0, r.required - r.scheduled) for r in result.coverage) == 0
    assert check(result.segments, team, plan_rules, {"sales_en"}, START, 1) == []
    assert 6 <= max(_paid_hours(result, a.agent_id) for a in team) <= 8


def test_a_two_day_replan_lets_one_agent_work_both_days() -> None:
    """Two days of 8 hours for one agent: 16 h, where 40 h x 2/7 = 11.4 h allowed one
    (no breaks here: they would leave holes only a second agent could fill)."""
    team = [agent("B1", "sales", "de;en")]
    rows = requirements({"sales_en": (8, 16, 1)}, days=2)
    result, plan_rules = _solve(team, rows, days=2, breaks=())
    assert result.problems == []
    assert sum(max(0, r.required - r.scheduled) for r in result.coverage) == 0
    assert check(result.segments, team, plan_rules, {"sales_en"}, START, 2) == []
    assert len({s.start.date() for s in result.segments}) == 2
    assert _paid_hours(result, "B1") == 16


def test_an_agent_whose_maximum_is_below_every_shift_is_named(
    files: Files, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """4 h a week, 6-hour shifts (5.5 h paid): no shift is possible, in a full week or a
    partial one. Named before the solve, exit 2 and nothing written (as the other agents
    with no possible shift), unless --best-effort."""
    team = [
        agent("B1", "sales", "de;en"),
        agent("B2", "sales", "de;en"),
        agent("P1", "sales", "de;en", hours=(0, 4)),
        agent("P2", "sales", "en", hours=(0, 4)),
        agent("Z1", "sales", "en", hours=(0, 0)),  # no hours at all: not asked to work
    ]
    csvfiles.write_agents(files.agents, team)
    for days in (1, 7):
        assert main(solve_args(files, tmp_path, days=days)) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err
        assert (
            "cannot be met: agents P1, P2 (Europe/Berlin): no shift fits: their weekly maximum "
            "of 4 h (the lower of max_hours 4 and the rules' max_hours_per_week 40), is below "
            "their shortest shift (5.5 h paid)"
        ) in err
        assert "Z1" not in err and "B1" not in err
        assert not (tmp_path / "schedule.csv").exists()
    assert main([*solve_args(files, tmp_path, days=1), "--best-effort"]) == 2
    assert "agents P1, P2" in capsys.readouterr().err
    assert (tmp_path / "schedule.csv").exists()


def test_a_one_day_replan_on_the_command_line(
    files: Files, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """`schedule --days 1` with 6 h paid shifts: a schedule, exit 0, checked clean."""
    toml = RULES_TOML.replace('min_shift = "6h"', 'min_shift = "8h"')
    assert toml != RULES_TOML
    files.rules.write_text(toml, encoding="utf-8")
    csvfiles.write_requirements(files.requirements, requirements({"sales_en": (8, 14, 1)}, days=1))
    out = tmp_path / "schedule.csv"
    common = ["--agents", str(files.agents), "--rules", str(files.rules), "--days", "1"]
    solve = ["schedule", "--requirements", str(files.requirements), *common]
    assert main([*solve, "--start", "2024-03-04", "--out", str(out), "--time-limit", "8"]) == 0
    err = capsys.readouterr().err
    assert "sales_en: under 0," in err
    assert csvfiles.read_schedule(out)
    check_args = ["schedule", "check", "--schedule", str(out), *common]
    assert main([*check_args, "--start", "2024-03-04"]) == 0
    assert "0 violation(s)" in capsys.readouterr().err
