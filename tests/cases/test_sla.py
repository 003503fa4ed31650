"""Business-time arithmetic of SLA timers: opening hours, holidays, pauses, alarms."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from router.cases.sla import Alarm, BusinessClock, Timer, TimerKind, TimerState
from switchboard.common.calendar import HolidayCalendar
from switchboard.common.hours import OpeningHours

PARIS = ZoneInfo("Europe/Paris")
OFFICE = OpeningHours("Europe/Paris", "09:00", "18:00")
HOUR = 3600


def ms(year: int, month: int, day: int, hour: int, minute: int = 0, zone: ZoneInfo = PARIS) -> int:
    return int(dt.datetime(year, month, day, hour, minute, tzinfo=zone).timestamp() * 1000)


def test_only_open_hours_count_and_an_addition_skips_the_night() -> None:
    clock = BusinessClock(OFFICE)
    # Monday 2025-03-03 16:00 + 4 h of business time: 2 h today, 2 h tomorrow from 09:00.
    start = ms(2025, 3, 3, 16)
    assert clock.add(start, 4 * HOUR) == ms(2025, 3, 4, 11)
    assert clock.elapsed_s(start, ms(2025, 3, 4, 11)) == 4 * HOUR
    assert clock.elapsed_s(ms(2025, 3, 3, 19), ms(2025, 3, 4, 8)) == 0  # closed all night
    assert clock.add(ms(2025, 3, 3, 7), HOUR) == ms(2025, 3, 3, 10)  # before opening


def test_a_holiday_of_the_regions_calendar_does_not_count() -> None:
    # Thursday 2025-05-01 is Labour Day in France; Wednesday 16:00 + 4 h = Friday 11:00.
    plain = BusinessClock(OFFICE)
    french = BusinessClock(OFFICE, HolidayCalendar("FR"))
    start = ms(2025, 4, 30, 16)
    assert plain.add(start, 4 * HOUR) == ms(2025, 5, 1, 11)
    assert french.add(start, 4 * HOUR) == ms(2025, 5, 2, 11)
    assert french.elapsed_s(ms(2025, 5, 1, 8), ms(2025, 5, 1, 20)) == 0
    closure = HolidayCalendar(extra={dt.date(2025, 3, 4): "office move"})
    assert BusinessClock(OFFICE, closure).add(ms(2025, 3, 3, 17), 2 * HOUR) == ms(2025, 3, 5, 10)


def test_overnight_hours_and_daylight_saving() -> None:
    night = BusinessClock(OpeningHours("Europe/Paris", "22:00", "06:00"))
    assert night.add(ms(2025, 3, 3, 23), 2 * HOUR) == ms(2025, 3, 4, 1)
    assert night.add(ms(2025, 3, 3, 5), 2 * HOUR) == ms(2025, 3, 3, 23)  # 1 h left, then 22:00
    # The night of 2025-03-30 loses an hour in Paris: 22:00-06:00 lasts 7 hours.
    assert night.elapsed_s(ms(2025, 3, 29, 21), ms(2025, 3, 30, 7)) == 7 * HOUR


def test_around_the_clock_counts_every_second() -> None:
    clock = BusinessClock(OFFICE, HolidayCalendar("FR"), around_the_clock=True)
    start = ms(2025, 5, 1, 3)
    assert clock.add(start, 90) == start + 90_000
    assert clock.elapsed_s(start, start + 60_000) == 60


def test_hours_that_never_open_give_no_due_time() -> None:
    never = BusinessClock(OpeningHours("UTC", "10:00", "10:00"))
    assert never.add(ms(2025, 3, 3, 9), 60) is None
    assert never.elapsed_s(ms(2025, 3, 3, 9), ms(2025, 3, 9, 9)) == 0


def test_a_paused_timer_stops_counting_and_its_alarms_move() -> None:
    clock = BusinessClock(OFFICE)
    timer = Timer.start(TimerKind.FIRST_RESPONSE, 4 * HOUR, ms(2025, 3, 3, 10))
    assert timer.next_alarm(clock, 0.5) == (Alarm.WARNING, ms(2025, 3, 3, 12))
    timer.pause(clock, ms(2025, 3, 3, 11))
    assert timer.state == TimerState.PAUSED and timer.next_alarm(clock, 0.5) is None
    assert timer.spent_at(clock, ms(2025, 3, 3, 17)) == HOUR
    timer.resume(ms(2025, 3, 3, 14))
    assert timer.next_alarm(clock, 0.5) == (Alarm.WARNING, ms(2025, 3, 3, 15))
    assert timer.reaches_ms(clock, timer.target_s) == ms(2025, 3, 3, 17)


def test_alarms_are_raised_once_each_and_in_order() -> None:
    clock = BusinessClock(OFFICE)
    timer = Timer.start(TimerKind.RESOLUTION, 2 * HOUR, ms(2025, 3, 3, 10))
    assert timer.due_alarms(clock, 0.8, ms(2025, 3, 3, 11)) == []
    assert timer.due_alarms(clock, 0.8, ms(2025, 3, 3, 13)) == [Alarm.WARNING, Alarm.BREACH]
    assert timer.breached_ms == ms(2025, 3, 3, 12)  # when it passed, not when it was seen
    assert timer.due_alarms(clock, 0.8, ms(2025, 3, 4, 13)) == []
    timer.stop(clock, ms(2025, 3, 3, 15))
    assert timer.state == TimerState.STOPPED and timer.spent_s == 5 * HOUR
    assert Timer.from_dict(timer.as_dict()) == timer


def test_a_timer_stopped_after_its_target_before_any_alarm_is_breached() -> None:
    """The response came after the target but before a tick raised the breach (a node
    down for a while): late all the same, not met."""
    clock = BusinessClock(OFFICE)
    timer = Timer.start(TimerKind.FIRST_RESPONSE, HOUR, ms(2025, 3, 3, 10))
    timer.stop(clock, ms(2025, 3, 3, 11, 30))
    assert not timer.breached and timer.outcome == "breached"
    in_time = Timer.start(TimerKind.FIRST_RESPONSE, HOUR, ms(2025, 3, 3, 10))
    in_time.stop(clock, ms(2025, 3, 3, 10, 59))
    assert in_time.outcome == "met"
