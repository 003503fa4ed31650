"""The reported bound on a 15-minute grid (planner probe 2, finding 4).

The objective charges whole agents per interval against the requirement rounded up
(`whole_needs`), so a fractional requirement adds nothing a bound could claim; what made
the probe's gap meaningless (67 %) was the relaxation summed per hour, where a shortfall
and a surplus inside one hour cancel. The solver now also solves the relaxation on single
intervals when time allows, and reports the better of the two. Real HiGHS and CP-SAT.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from scheduler import csvfiles
from scheduler.model import BreakRule, QueueRule, Requirement, Rules
from scheduler.patterns import Horizon, team_patterns
from scheduler.relaxation import lower_bound
from scheduler.service import make_schedule, whole_needs
from scheduler.solver import SolveOptions
from switchboard.cli import main

from .conftest import START, STEPS, agent

QUARTER = timedelta(minutes=15)
# One worker: the bound is solved before the search, so what it reports does not depend
# on how fast the machine is.
OPTIONS = SolveOptions(time_limit_s=20, workers=1, seed=1, steps=STEPS)


def one_hour_rules(**changes: object) -> Rules:
    """One 1-hour shift a day, starting at 07:45 or 08:00 (UTC agents), no breaks."""
    values: dict[str, object] = {
        "shift_lengths": (timedelta(hours=1),),
        "start_granularity": QUARTER,
        "earliest_start": time(7, 45),
        "latest_start": time(8),
        "days_off_per_week": 0,
        "max_hours_per_week": 40,
        "queues": {"sales_en": QueueRule("sales_en", "sales", "en")},
    }
    values.update(changes)
    return Rules(**values)  # type: ignore[arg-type]


def quarters(days: int, needs: dict[int, float]) -> list[Requirement]:
    """sales_en on a 15-minute grid: `needs` maps a quarter of the day to agents needed."""
    origin = datetime.combine(START, time(0), UTC)
    return [
        Requirement(origin + i * QUARTER, "sales_en", needs.get(i % 96, 0.0))
        for i in range(days * 96)
    ]


def hourly_bound(rows: list[Requirement], team: list, plan_rules: Rules, days: int) -> float:
    """The relaxation summed per hour: the only bound reported before this fix."""
    horizon = Horizon.from_date(START, days, QUARTER)
    patterns = team_patterns(team, plan_rules, horizon)
    servable: dict[str, tuple[str, ...]] = {a.agent_id: ("sales_en",) for a in team}
    needs = whole_needs(rows, horizon)
    found = lower_bound(
        team, patterns, servable, needs, ["sales_en"], plan_rules, horizon, 30, False, 4
    )
    assert found.status == "OPTIMAL"
    return found.value


# Half an agent at 07:45 and at 08:45 (one whole agent each), an hour apart: the one
# agent's hour-long shift, from 07:45 or 08:00, meets one of them, leaves the other short
# (10 000) and is over in the 3 quarters between (3 x 100), paid 4 intervals (40):
# 10 340, and nothing does better. Summed per hour, the 07:45 shift meets hour 7's need
# and its surplus in hour 8 pays for hour 8's: that bound is 240.
TINY = {31: 0.5, 35: 0.5}
TINY_OPTIMUM = 10_340


def test_a_tiny_quarter_hour_day_is_proven_optimal() -> None:
    team = [agent("U1", "sales", "en", zone="UTC")]
    plan_rules = one_hour_rules()
    rows = quarters(1, TINY)
    old = hourly_bound(rows, team, plan_rules, 1)
    result = make_schedule(rows, team, plan_rules, START, 1, OPTIONS)
    report = result.report
    assert result.problems == []
    assert report.objective == TINY_OPTIMUM
    assert old < 300  # summed per hour
    assert report.bound == pytest.approx(TINY_OPTIMUM, rel=1e-5)
    assert report.bound <= report.objective
    assert report.gap < 1e-5
    assert report.status == "OPTIMAL"


def test_the_bound_on_a_fractional_week_lies_between_the_hourly_one_and_the_schedule() -> None:
    # Demand that changes inside the hour (2.3 agents in the first half, 0.4 in the second)
    # with a paid break, a lunch and a break cap: the per-hour sums hide most of it.
    team = [agent(f"U{n}", "sales", "en", zone="UTC") for n in range(5)]
    plan_rules = one_hour_rules(
        shift_lengths=(timedelta(hours=6), timedelta(hours=4)),
        earliest_start=time(7),
        latest_start=time(11),
        days_off_per_week=2,
        breaks=(
            BreakRule("break", QUARTER, timedelta(hours=1.5), timedelta(hours=2.5), paid=True),
            BreakRule(
                "lunch", 2 * QUARTER, timedelta(hours=3), timedelta(hours=4), timedelta(hours=6)
            ),
        ),
        max_on_break=1,
    )
    needs = {q: (2.3 if q % 4 < 2 else 0.4) for q in range(32, 64)}
    rows = quarters(2, needs)
    old = hourly_bound(rows, team, plan_rules, 2)
    result = make_schedule(rows, team, plan_rules, START, 2, OPTIONS)
    report = result.report
    assert result.problems == []
    assert old < report.bound <= report.objective
    # What the hour hid: at least one agent-interval short per hour of demand, or surplus.
    assert report.bound - old > 1_000


def test_the_command_prints_the_proven_bound_and_gap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    requirements, agents, rules = (tmp_path / n for n in ("r.csv", "a.csv", "rules.toml"))
    csvfiles.write_requirements(requirements, quarters(1, TINY))
    csvfiles.write_agents(agents, [agent("U1", "sales", "en", zone="UTC")])
    rules.write_text(
        '[shifts]\nlengths = ["1h"]\nstart_granularity = "15m"\nearliest_start = "07:45"\n'
        'latest_start = "08:00"\ndays_off_per_week = 0\n'
        '[queues.sales_en]\nskill = "sales"\nlanguage = "en"\n',
        encoding="utf-8",
    )
    argv = ["schedule", "--requirements", str(requirements), "--agents", str(agents)]
    argv += ["--rules", str(rules), "--start", START.isoformat(), "--days", "1"]
    argv += ["--out", str(tmp_path / "s.csv"), "--time-limit", "6", "--workers", "1"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "bound 10,340  gap 0.00%" in err  # the progress line, once the bound is proven
    assert "solver OPTIMAL: objective 10340, bound 10340.0, gap 0.00%" in err
