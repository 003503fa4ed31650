"""Breaks on a 15-minute grid: windows, several breaks a shift, paid and unpaid time.

Real solves of small instances (construction, sweeps, CP-SAT neighbourhoods, HiGHS),
verified by the independent checker; and the checker itself on hand-made shifts.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

from scheduler import breaks
from scheduler.checker import check
from scheduler.model import Agent, BreakRule, QueueRule, Requirement, Rules, Segment
from scheduler.patterns import Horizon, team_patterns
from scheduler.relaxation import lower_bound
from scheduler.service import make_schedule, whole_needs
from scheduler.solver import SolveOptions

from .conftest import START, STEPS, agent

QUARTER = timedelta(minutes=15)
BREAK = BreakRule("break", QUARTER, timedelta(hours=1.5), timedelta(hours=2.5), paid=True)
LUNCH = BreakRule(
    "lunch", 2 * QUARTER, timedelta(hours=3), timedelta(hours=4.5), timedelta(hours=8), False
)
AFTERNOON = BreakRule("break", QUARTER, timedelta(hours=6), timedelta(hours=7), timedelta(hours=8))
OPTIONS = SolveOptions(time_limit_s=8, workers=2, seed=1, steps=STEPS)


def quarter_rules(*rules: BreakRule, **changes: object) -> Rules:
    values: dict[str, object] = {
        "shift_lengths": (timedelta(hours=9), timedelta(hours=8), timedelta(hours=6)),
        "start_granularity": QUARTER,
        "earliest_start": time(6),
        "latest_start": time(12),
        "min_rest": timedelta(hours=11),
        "max_consecutive_days": 5,
        "days_off_per_week": 2,
        "max_hours_per_week": 40,
        "breaks": rules,
        "max_on_break": 3,
        "queues": {"sales_en": QueueRule("sales_en", "sales", "en")},
    }
    values.update(changes)
    return Rules(**values)  # type: ignore[arg-type]


def quarter_requirements(days: int, profile: dict[int, int]) -> list[Requirement]:
    """sales_en: `profile` maps a UTC hour to agents needed in each of its quarters."""
    origin = datetime.combine(START, time(0), UTC)
    return [
        Requirement(origin + i * QUARTER, "sales_en", profile.get((i % 96) // 4, 0))
        for i in range(days * 96)
    ]


DAY = {hour: 2 if 8 <= hour < 12 else 3 if 12 <= hour < 16 else 1 for hour in range(6, 20)}


def shifts_of(segments: list[Segment]) -> list[list[Segment]]:
    """Each agent's segments grouped into shifts (touching segments)."""
    found: list[list[Segment]] = []
    for segment in sorted(segments, key=lambda s: (s.agent_id, s.start)):
        last = found[-1][-1] if found else None
        if last is not None and last.agent_id == segment.agent_id and last.end == segment.start:
            found[-1].append(segment)
        else:
            found.append([segment])
    return found


def crew(count: int, hours: tuple[float, float] = (0, 40)) -> list[Agent]:
    return [agent(f"B{n}", "sales", "en", hours=hours) for n in range(count)]


def test_break_windows_are_honoured_on_a_15_minute_grid() -> None:
    plan_rules = quarter_rules(BREAK, LUNCH)
    team = crew(6)
    result = make_schedule(quarter_requirements(3, DAY), team, plan_rules, START, 3, OPTIONS)
    assert result.problems == []
    assert check(result.segments, team, plan_rules, {"sales_en"}, START, 3) == []
    found = shifts_of(result.segments)
    assert found
    for shift in found:
        begin, length = shift[0].start, shift[-1].end - shift[0].start
        taken = [s for s in shift if s.activity == "break"]
        assert len(taken) == 1 and taken[0].end - taken[0].start == QUARTER
        assert timedelta(hours=1.5) <= taken[0].start - begin <= timedelta(hours=2.5)
        lunches = [s for s in shift if s.activity == "lunch"]
        assert len(lunches) == (1 if length >= timedelta(hours=8) else 0)
        for lunch in lunches:
            assert timedelta(hours=3) <= lunch.start - begin <= timedelta(hours=4.5)
        # Every segment boundary lies on the quarter-hour grid.
        assert all(s.start.minute % 15 == 0 and s.end.minute % 15 == 0 for s in shift)
    assert sum(max(0, r.required - r.scheduled) for r in result.coverage) == 0


def test_a_long_shift_has_two_breaks_and_a_lunch_each_in_its_window() -> None:
    plan_rules = quarter_rules(BREAK, LUNCH, AFTERNOON, shift_lengths=(timedelta(hours=9),))
    team = crew(5)
    result = make_schedule(quarter_requirements(2, DAY), team, plan_rules, START, 2, OPTIONS)
    assert check(result.segments, team, plan_rules, {"sales_en"}, START, 2) == []
    found = shifts_of(result.segments)
    assert found
    for shift in found:
        begin = shift[0].start
        offsets = sorted(s.start - begin for s in shift if s.activity == "break")
        assert len(offsets) == 2
        assert timedelta(hours=1.5) <= offsets[0] <= timedelta(hours=2.5)
        assert timedelta(hours=6) <= offsets[1] <= timedelta(hours=7)
        assert [s.activity for s in shift].count("lunch") == 1


def test_a_paid_break_counts_towards_weekly_hours_and_an_unpaid_lunch_does_not() -> None:
    # Four 9 h shifts with a paid 15-minute break and an unpaid 30-minute lunch are
    # 4 x 8.5 h = 34 h paid. An agent who must work exactly 34 h gets such a week only
    # when the break is paid (without it 4 x 8.25 h = 33 h) and the lunch is not (with
    # it 4 x 9 h = 36 h): the solver finds it, the checker counts it the same way.
    plan_rules = quarter_rules(BREAK, LUNCH, shift_lengths=(timedelta(hours=9),))
    team = crew(1, hours=(34, 34))
    rows = quarter_requirements(7, {hour: 1 for hour in range(7, 15)})
    result = make_schedule(rows, team, plan_rules, START, 7, OPTIONS)
    assert result.problems == []
    assert check(result.segments, team, plan_rules, {"sales_en"}, START, 7) == []
    found = shifts_of(result.segments)
    assert len(found) == 4
    paid = sum(
        (s.end - s.start for shift in found for s in shift if s.activity != "lunch"),
        timedelta(0),
    )
    assert paid == timedelta(hours=34)

    # The checker alone: the same week with the lunch paid is 36 h, with the break
    # unpaid 33 h: one breaks the agent's maximum, the other their minimum.
    paid_lunch = quarter_rules(BREAK, replace(LUNCH, paid=True))
    unpaid_break = quarter_rules(replace(BREAK, paid=False), LUNCH)
    assert {v.rule for v in check(result.segments, team, paid_lunch, None, START, 7)} == {
        "max_hours"
    }
    assert {v.rule for v in check(result.segments, team, unpaid_break, None, START, 7)} == {
        "min_hours"
    }


def _shift(day: int, start: float, parts: list[tuple[float, str]]) -> list[Segment]:
    """Hand-made: consecutive segments of (hours, activity) from UTC hour `start`."""
    moment = datetime.combine(START, time(0), UTC) + timedelta(days=day, hours=start)
    found = []
    for hours, activity in parts:
        found.append(Segment("B0", moment, moment + timedelta(hours=hours), activity))
        moment += timedelta(hours=hours)
    return found


def test_the_checker_matches_two_breaks_of_one_activity_to_their_windows() -> None:
    plan_rules = quarter_rules(BREAK, LUNCH, AFTERNOON)
    team = crew(1)
    good = _shift(
        0,
        7,
        [
            (2, "sales_en"),
            (0.25, "break"),
            (1.25, "sales_en"),
            (0.5, "lunch"),
            (2.5, "sales_en"),
            (0.25, "break"),
            (2.25, "sales_en"),
        ],
    )  # breaks 2 h and 6.5 h in, lunch 3.5 h in: a 9 h shift
    assert check(good, team, plan_rules, {"sales_en"}, START, 7) == []
    late = _shift(
        0,
        7,
        [
            (2, "sales_en"),
            (0.25, "break"),
            (1.25, "sales_en"),
            (0.5, "lunch"),
            (3.5, "sales_en"),
            (0.25, "break"),
            (1.25, "sales_en"),
        ],
    )  # the afternoon break 7.5 h in: outside 6-7 h
    assert {v.rule for v in check(late, team, plan_rules, {"sales_en"}, START, 7)} == {
        "break_window"
    }
    one = _shift(
        0,
        7,
        [(2, "sales_en"), (0.25, "break"), (1.25, "sales_en"), (0.5, "lunch"), (5, "sales_en")],
    )
    messages = [v.message for v in check(one, team, plan_rules, {"sales_en"}, START, 7)]
    assert any("has 1 break segments, needs 2" in m for m in messages)


def test_breaks_are_placed_first_come_first_served_when_the_counts_allow() -> None:
    windows = [(4, 8), (6, 10), (5, 9)]  # same width, so ordered
    assert breaks.ordered(windows)
    assert breaks.place(windows, [9, 5, 6]) == [5, 9, 6]
    assert breaks.place(windows, [4, 4, 9]) is None  # two at 4: only one window opens by then
    assert not breaks.ordered([(4, 10), (5, 6)])  # one window inside another
    assert breaks.runs([(1, 3), (2, 5), (8, 9)]) == [(1, 5), (8, 9)]
    assert breaks.independent(quarter_rules(BREAK, LUNCH, AFTERNOON), QUARTER)
    assert not breaks.independent(quarter_rules(BREAK, BREAK), QUARTER)


def test_the_bound_summed_per_hour_stays_below_the_exact_one_and_a_schedule() -> None:
    plan_rules = quarter_rules(BREAK, LUNCH)
    team = crew(6)
    rows = quarter_requirements(3, DAY)
    result = make_schedule(rows, team, plan_rules, START, 3, OPTIONS)
    horizon = Horizon.from_date(START, 3, QUARTER)
    patterns = team_patterns(team, plan_rules, horizon)
    servable: dict[str, tuple[str, ...]] = {a.agent_id: ("sales_en",) for a in team}
    args = (team, patterns, servable, whole_needs(rows, horizon), ["sales_en"], plan_rules)
    exact = lower_bound(*args, horizon, 30)
    hourly = lower_bound(*args, horizon, 30, bucket=4)
    assert 0 < hourly.value <= exact.value * (1 + 1e-6)
    assert exact.value <= result.report.objective
    # The solver sums per hour first, then solves single intervals when time allows.
    assert hourly.value * (1 - 1e-6) <= result.report.bound <= exact.value * (1 + 1e-6)


def test_a_shift_from_the_first_interval_without_the_lunch_of_longer_shifts() -> None:
    # 06:00 in Dhaka is 00:00 UTC, the horizon's first interval: a 6 h shift from there
    # takes the break but not the lunch of 8 h shifts, and its first quarters are work.
    plan_rules = quarter_rules(BREAK, LUNCH, shift_lengths=(timedelta(hours=6),))
    team = [agent(f"D{n}", "sales", "en", zone="Asia/Dhaka", region="apac") for n in range(4)]
    dawn = {hour: 1 for hour in range(0, 6)}
    rows = quarter_requirements(2, dawn)
    result = make_schedule(rows, team, plan_rules, START, 2, OPTIONS)
    assert result.problems == []
    assert check(result.segments, team, plan_rules, {"sales_en"}, START, 2) == []
    assert not any(s.activity == "lunch" for s in result.segments)
    first = min(result.segments, key=lambda s: s.start)
    assert first.activity == "sales_en" and first.start == datetime.combine(START, time(0), UTC)
    assert sum(max(0, r.required - r.scheduled) for r in result.coverage) == 0
