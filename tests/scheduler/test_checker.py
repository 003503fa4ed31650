"""The checker on hand-made schedules: each broken rule is reported, a clean one passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler.checker import check
from scheduler.model import AgentWishes, Segment

from .conftest import START, agent, rules

TEAM = [agent("B1", "sales", "de;en"), agent("B2", "sales", "en"), agent("B3", "sales", "en")]


def at(day: int, hour: float) -> datetime:
    """UTC time on day `day` of the horizon; Berlin is UTC+1 in March before the 31st."""
    return datetime(2024, 3, 4, tzinfo=UTC) + timedelta(days=day, hours=hour)


def shift(
    agent_id: str,
    day: int,
    start: float,
    length: float = 8,
    lunch: float = 3.5,
    queue: str = "sales_en",
) -> list[Segment]:
    """A shift of `length` hours starting at UTC hour `start` with a 30-minute lunch."""
    begin, lunch_at = at(day, start), at(day, start + lunch)
    end = at(day, start + length)
    return [
        Segment(agent_id, begin, lunch_at, queue),
        Segment(agent_id, lunch_at, lunch_at + timedelta(minutes=30), "lunch"),
        Segment(agent_id, lunch_at + timedelta(minutes=30), end, queue),
    ]


def rules_of(violations) -> set[str]:
    return {v.rule for v in violations}


def test_a_clean_week_passes() -> None:
    schedule = [s for day in range(5) for s in shift("B1", day, 7)]
    assert check(schedule, TEAM, rules(), {"sales_en", "sales_de"}, START, 7) == []


def test_skill_and_language() -> None:
    schedule = shift("B2", 0, 7, queue="sales_de")  # B2 speaks no German
    assert "skill" in rules_of(check(schedule, TEAM, rules(), None, START, 7))


def test_unknown_queue_and_agent() -> None:
    schedule = shift("B1", 0, 7, queue="billing") + shift("ZZ", 0, 7)
    found = rules_of(check(schedule, TEAM, rules(), {"sales_en"}, START, 7))
    assert {"activity", "unknown_agent"} <= found


def test_rest_between_shifts() -> None:
    # Ends 15:00 UTC, next starts 05:00 UTC next day (06:00 Berlin): 14 h rest is fine;
    # a 13:00 UTC start ending 21:00 and a 05:00 start is 8 h: too short.
    schedule = shift("B1", 0, 13) + shift("B1", 1, 5)
    assert "rest" in rules_of(check(schedule, TEAM, rules(), None, START, 7))


def test_consecutive_days_and_days_off() -> None:
    schedule = [s for day in range(6) for s in shift("B1", day, 7, length=6, lunch=3)]
    found = rules_of(check(schedule, TEAM, rules(max_hours_per_week=60), None, START, 7))
    assert {"consecutive_days", "days_off"} <= found


def test_weekly_hours() -> None:
    long_week = [s for day in range(5) for s in shift("B1", day, 7)]
    found = check(long_week, TEAM, rules(max_hours_per_week=30), None, START, 7)
    assert "max_hours" in rules_of(found)
    short = shift("B1", 0, 7)
    team = [agent("B1", "sales", "en", hours=(30, 40))]
    assert "min_hours" in rules_of(check(short, team, rules(), None, START, 7))


def test_shift_length_and_start_time() -> None:
    odd = shift("B1", 0, 7, length=7)  # 7 h is not an allowed length
    assert "shift_length" in rules_of(check(odd, TEAM, rules(), None, START, 7))
    early = shift("B1", 0, 3)  # 04:00 Berlin, before the 06:00 earliest start
    assert "shift_start" in rules_of(check(early, TEAM, rules(), None, START, 7))


def test_breaks_present_and_inside_their_window() -> None:
    no_lunch = [Segment("B1", at(0, 7), at(0, 15), "sales_en")]
    assert "break" in rules_of(check(no_lunch, TEAM, rules(), None, START, 7))
    late_lunch = shift("B1", 0, 7, lunch=6)
    assert "break_window" in rules_of(check(late_lunch, TEAM, rules(), None, START, 7))


def test_break_cap_per_region() -> None:
    together = shift("B1", 0, 7) + shift("B2", 0, 7) + shift("B3", 0, 7)
    found = check(together, TEAM, rules(max_on_break=2), None, START, 7)
    assert [v.rule for v in found] == ["break_cap"]


def test_overlapping_segments_and_two_shifts_a_day() -> None:
    overlap = [*shift("B1", 0, 7), Segment("B1", at(0, 8), at(0, 9), "sales_en")]
    assert "overlap" in rules_of(check(overlap, TEAM, rules(), None, START, 7))


def test_availability() -> None:
    plan_rules = rules(agents={"B1": AgentWishes(unavailable=frozenset({START}))})
    found = check(shift("B1", 0, 7), TEAM, plan_rules, None, START, 7)
    assert "availability" in rules_of(found)


def test_an_agent_without_shifts_still_owes_minimum_hours() -> None:
    team = [*TEAM, agent("B9", "sales", "en", hours=(20, 40))]
    schedule = [s for day in range(5) for s in shift("B1", day, 7)]
    found = check(schedule, team, rules(), None, START, 7)
    assert [(v.agent_id, v.rule) for v in found] == [("B9", "min_hours")]
