"""The shared holiday calendar: the `holidays` package's rules plus a planner's dates."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from switchboard.common.calendar import HolidayCalendar, countries, countries_at_offset
from switchboard.common.errors import InputError


def test_a_country_calendar_names_its_holidays() -> None:
    us = HolidayCalendar.parse("US")
    assert us.name(date(2025, 7, 4)) == "Independence Day"
    assert us.is_holiday(date(2025, 9, 1))  # Labor Day, first Monday of September
    assert not us.is_holiday(date(2025, 9, 2))
    assert us.name(date(2026, 7, 3)) == "Independence Day (observed)"  # the 4th is a Saturday
    autumn = us.between(date(2025, 9, 1), date(2025, 11, 30))
    assert list(autumn) == [
        date(2025, 9, 1),
        date(2025, 10, 13),
        date(2025, 11, 11),
        date(2025, 11, 27),
    ]


def test_a_subdivision_adds_its_own_days() -> None:
    patriots = date(2025, 4, 21)
    assert not HolidayCalendar.parse("US").is_holiday(patriots)
    massachusetts = HolidayCalendar.parse("us-ma")
    assert massachusetts.spec == "US-MA"
    assert massachusetts.name(patriots) == "Patriots' Day"


def test_a_planner_adds_closed_and_special_days() -> None:
    calendar = HolidayCalendar.parse("DE").with_days({date(2025, 12, 24): "Christmas Eve"})
    assert calendar.name(date(2025, 12, 24)) == "Christmas Eve"
    assert calendar.is_holiday(date(2025, 10, 3))  # German Unity Day, from the package
    only_extra = HolidayCalendar(extra={date(2025, 5, 2): "inventory"})
    assert only_extra.between(date(2025, 5, 1), date(2025, 5, 3)) == {date(2025, 5, 2): "inventory"}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("XX", "unknown country 'XX'"),
        ("US-ZZ", "US has no subdivision 'ZZ'"),
        ("-NY", "expected a country code"),
    ],
)
def test_unknown_calendars_are_refused(spec: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        HolidayCalendar.parse(spec)


def test_countries_and_the_clocks_they_hang_in() -> None:
    assert {"US", "DE", "FR", "GB", "IL"} <= set(countries())
    summer = datetime(2025, 7, 1, 12)
    eastern = countries_at_offset(timedelta(hours=-4), summer)
    assert "US" in eastern and "CA" in eastern
    assert "UM" not in eastern  # the US minor outlying islands keep other clocks
    assert "DE" in countries_at_offset(timedelta(hours=2), summer)
