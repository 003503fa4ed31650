"""Holiday calendars: is this date a public holiday (or a closed day) for a region?

A region's calendar is a country, optionally one of its subdivisions (`US`, `US-NY`,
`DE-BY`), from the `holidays` package, whose maintainers track the rules and their
changes year by year, plus any dates a planner adds (closures, special days). Forecasting
uses it to close or reshape days; placement, IVR and SLA timers can ask the same object.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from babel.core import get_global

from switchboard.common.errors import InputError


@functools.cache
def countries() -> tuple[str, ...]:
    """ISO 3166-1 alpha-2 codes that have a calendar."""
    return tuple(sorted(code for code in holidays.list_supported_countries() if len(code) == 2))


def countries_at_offset(offset: timedelta, moment: datetime) -> frozenset[str]:
    """Countries with a time zone whose UTC offset is `offset` at `moment` (naive: UTC),
    from CLDR's zones per territory: where a clock showing that offset may hang."""
    found = set()
    for country, zones in get_global("territory_zones").items():
        for name in zones:
            try:
                if ZoneInfo(name).utcoffset(moment) == offset:
                    found.add(country)
                    break
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return frozenset(found)


def is_territory(country: str) -> bool:
    """Whether `country` is a territory of another (Puerto Rico, the US Minor Outlying
    Islands, New Caledonia): the holidays package marks them with a parent entity."""
    return parent_country(country) is not None


def parent_country(country: str) -> str | None:
    """The country `country` is a territory of (`UM` -> `US`), None for a country."""
    parent = getattr(_official(country, None), "parent_entity", None)
    return getattr(parent, "country", None) if parent is not None else None


@functools.cache
def _subdivisions(country: str) -> frozenset[str]:
    return frozenset(holidays.list_supported_countries().get(country, ()))


@functools.cache
def _official(country: str, subdivision: str | None) -> holidays.HolidayBase:
    # one object per calendar: it computes each year once, on first lookup
    return holidays.country_holidays(country, subdiv=subdivision)


@dataclass(frozen=True)
class HolidayCalendar:
    """Public holidays of `country` (and `subdivision`), plus `extra` named dates.

    An empty calendar (no country) knows only its extra dates."""

    country: str | None = None
    subdivision: str | None = None
    extra: Mapping[date, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.country is not None and self.country not in countries():
            raise InputError(f"unknown country {self.country!r}: expected a code such as US or DE")
        if self.subdivision is not None and (
            self.country is None or self.subdivision not in _subdivisions(self.country)
        ):
            raise InputError(
                f"{self.country or '(no country)'} has no subdivision {self.subdivision!r}"
            )

    @classmethod
    def parse(cls, spec: str) -> HolidayCalendar:
        """`US`, `us-ny`, `DE-BY`: country, then an optional subdivision after a dash."""
        country, _, subdivision = spec.strip().upper().partition("-")
        if not country:
            raise InputError(f"expected a country code such as US or US-NY, found {spec!r}")
        return cls(country, subdivision or None)

    @property
    def spec(self) -> str:
        """The calendar as `parse` reads it (empty when it has no country)."""
        if self.country is None:
            return ""
        return self.country + (f"-{self.subdivision}" if self.subdivision else "")

    def with_days(self, days: Mapping[date, str]) -> HolidayCalendar:
        """The same calendar with more named dates (later names win)."""
        return HolidayCalendar(self.country, self.subdivision, {**self.extra, **days})

    def name(self, day: date) -> str | None:
        """The holiday's name, or None when `day` is an ordinary day."""
        if day in self.extra:
            return self.extra[day]
        if self.country is None:
            return None
        return _official(self.country, self.subdivision).get(day)

    def is_holiday(self, day: date) -> bool:
        return self.name(day) is not None

    def between(self, first: date, last: date) -> dict[date, str]:
        """Every holiday from `first` to `last`, both included, by date."""
        span = (last - first).days + 1
        days: Iterable[date] = (first + timedelta(days=k) for k in range(max(span, 0)))
        return {day: name for day in days if (name := self.name(day)) is not None}
