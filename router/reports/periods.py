"""The bounds of a report's period, as `switchboard report --from/--to` and the HTTP
reports read them (a date is a whole day in the report's zone, a time carries its offset),
and the report's intervals, which follow the zone's wall clock.

An interval starts each time the local clock shows a multiple of the interval length
since midnight, or jumps past one (a clock going forward), and ends where the next one
starts. So a day is 23 or 25 hours on a clock-change day, a time a clock going back
shows twice starts two intervals (the repeated hour is its own rows, in the order they
happened), and every interval is labelled with a local time that happened.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from switchboard.common.hours import UnknownTimezone, timezone_named

# The most rows an interval report holds (intervals x groups): more is refused, not written.
MAX_REPORT_ROWS = 200_000

# A time whose offset's `+` a query string turned into a space (`...T08:00:00 01:00`).
_SPACED_OFFSET = re.compile(r"(.*T.*) (\d\d(?::?\d\d)?)")


def period_bound(text: str, zone: dt.tzinfo, *, end: bool = False) -> int:
    """A period's bound in ms, read as `switchboard report --from/--to` reads it: a date
    (YYYY-MM-DD) is a whole day in `zone` (`end`: inclusive, so up to the next local
    midnight), a time needs its UTC offset (`Z` too). ValueError when it is neither."""
    text = text.strip()
    if len(text) == 10:
        day = dt.date.fromisoformat(text)
        if end:
            day += dt.timedelta(days=1)  # OverflowError past 9999-12-31
        return int(dt.datetime.combine(day, dt.time(), zone).timestamp() * 1000)
    spaced = _SPACED_OFFSET.fullmatch(text)
    if spaced:
        text = f"{spaced.group(1)}+{spaced.group(2)}"
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("a time without its UTC offset")
    return int(moment.timestamp() * 1000)


# What a period's bounds are, in the words of both `switchboard report` and the HTTP reports.
BOUND_EXPECTED = (
    "a date like 2026-12-06 (a whole day in the time zone, to inclusive) or a time with "
    "its UTC offset like 2026-12-06T08:00:00+01:00 (to exclusive)"
)
TOO_FAR = "a period that ends before the calendar's last day, 9999-12-31 (this one runs past it)"
NOT_AFTER = "a date or time after from"
# The calendar's last day: a period ends by its local midnight, so that every time of
# the period, and every interval of it, has a date in the report's zone and in UTC.
_LAST_DAY = dt.date(9999, 12, 31)


@dataclass(frozen=True)
class Period:
    """A report's period: [start_ms, end_ms), and the zone its dates and intervals are
    read in (`zone.key`: its name as the tz database spells it)."""

    start_ms: int
    end_ms: int
    zone: ZoneInfo


class PeriodRefused(ValueError):
    """Bounds that make no report period: which one (`from`, `to`, or `tz` for the
    zone), what was expected and what was found; for a `to` not after `from`, the period
    as read (`read`), so a caller can show what each bound stood for."""

    def __init__(
        self, bound: str, expected: str, found: str | None, read: Period | None = None
    ) -> None:
        super().__init__(f"{bound}: expected {expected}, found {found!r}")
        self.bound, self.expected, self.found, self.read = bound, expected, found, read


def report_period(start: str | None, end: str | None, tz: str, *, now_ms: int) -> Period:
    """The period a person asked for, as `switchboard report --from/--to/--tz` and the
    HTTP reports' `from`/`to`/`tz` take it (one rule, so they cannot differ): `tz` an
    IANA zone in any letter case; bounds as `period_bound` reads them, `end` None for
    now. A start before 1970 is 1970 (record ids are ms since then: there is nothing
    earlier to read), so "everything" is any early date; an end past the calendar's
    last day is refused, as is an end not after the start. PeriodRefused otherwise."""
    try:
        zone = timezone_named(tz)
    except UnknownTimezone as unknown:
        raise PeriodRefused("tz", unknown.expected, tz) from None
    if not start:
        raise PeriodRefused("from", BOUND_EXPECTED, start)
    start_ms = max(0, _read_bound("from", start, zone, end=False))
    end_ms = now_ms if end is None else _read_bound("to", end, zone, end=True)
    if end_ms > _midnight(_LAST_DAY, zone):
        raise PeriodRefused("to", TOO_FAR, end)
    if end_ms <= start_ms:
        raise PeriodRefused("to", NOT_AFTER, end, read=Period(start_ms, end_ms, zone))
    return Period(start_ms, end_ms, zone)


def _read_bound(bound: str, text: str, zone: ZoneInfo, *, end: bool) -> int:
    try:
        return period_bound(text, zone, end=end)
    except OverflowError:  # a date it is, but the day after it is past year 9999
        raise PeriodRefused(bound, TOO_FAR, text) from None
    except ValueError:
        raise PeriodRefused(bound, BOUND_EXPECTED, text) from None


def _midnight(day: dt.date, zone: ZoneInfo) -> int:
    return int(dt.datetime.combine(day, dt.time(), zone).timestamp() * 1000)


def interval_count(start_ms: int, end_ms: int, interval_s: int) -> int:
    """About how many intervals a period holds (exact away from clock changes): what a
    report checks against MAX_REPORT_ROWS before building them."""
    step_ms = interval_s * 1000
    return max(0, -(-(end_ms - start_ms) // step_ms))


def interval_bounds(start_ms: int, end_ms: int, interval_s: int, zone: ZoneInfo) -> list[int]:
    """The starts (ms) of the intervals that overlap [start_ms, end_ms), then the end of
    the last one. ValueError when the period holds more than MAX_REPORT_ROWS intervals."""
    count = interval_count(start_ms, end_ms, interval_s)
    if count > MAX_REPORT_ROWS:
        raise ValueError(
            f"{count} intervals of {interval_s} s, more than a report holds ({MAX_REPORT_ROWS})"
        )
    first = _local_date(start_ms, zone) - dt.timedelta(days=1)
    last = _local_date(max(end_ms - 1, start_ms), zone) + dt.timedelta(days=1)
    bounds: set[int] = set()
    for day in range((last - first).days + 1):
        bounds.update(_day_bounds(first + dt.timedelta(days=day), interval_s, zone))
    ordered = sorted(bounds)
    low = max(bisect.bisect_right(ordered, start_ms) - 1, 0)
    high = min(bisect.bisect_left(ordered, end_ms), len(ordered) - 1)
    return ordered[low : high + 1]


def interval_start(at_ms: int, interval_s: int, zone: ZoneInfo) -> int:
    """The start (ms) of the interval holding `at_ms`."""
    bounds = _bounds_around(_local_date(at_ms, zone), interval_s, zone)
    return bounds[bisect.bisect_right(bounds, at_ms) - 1]


def interval_end(start_ms: int, interval_s: int, zone: ZoneInfo) -> int:
    """The end (ms) of the interval starting at `start_ms`: where the next one starts."""
    bounds = _bounds_around(_local_date(start_ms, zone), interval_s, zone)
    return bounds[bisect.bisect_right(bounds, start_ms)]


def local_label(at_ms: int, zone: ZoneInfo) -> str:
    """An instant as the local time it was, ISO 8601 with its offset."""
    return dt.datetime.fromtimestamp(at_ms / 1000, zone).isoformat()


def _local_date(at_ms: int, zone: ZoneInfo) -> dt.date:
    return dt.datetime.fromtimestamp(at_ms / 1000, zone).date()


@functools.lru_cache(maxsize=4096)
def _bounds_around(day: dt.date, interval_s: int, zone: ZoneInfo) -> tuple[int, ...]:
    """The interval starts of the day before, the day and the day after, in time order:
    enough to place any instant of the day (a repeat may cross midnight)."""
    days = (day - dt.timedelta(days=1), day, day + dt.timedelta(days=1))
    return tuple(sorted({b for d in days for b in _day_bounds(d, interval_s, zone)}))


@functools.lru_cache(maxsize=4096)
def _day_bounds(day: dt.date, interval_s: int, zone: ZoneInfo) -> tuple[int, ...]:
    """The instants (ms) at which the local clock of `day` shows an interval's start."""
    midnight = dt.datetime.combine(day, dt.time())
    bounds: set[int] = set()
    for offset in range(0, 86_400, interval_s):
        bounds.update(_shown_at(midnight + dt.timedelta(seconds=offset), zone))
    return tuple(sorted(bounds))


def _shown_at(wall: dt.datetime, zone: ZoneInfo) -> tuple[int, ...]:
    """When the local clock shows `wall` (naive): once; twice when a clock going back
    repeats it; when a clock going forward skips it, the moment it jumps past it."""
    first = _ms(wall.replace(tzinfo=zone, fold=0))
    second = _ms(wall.replace(tzinfo=zone, fold=1))
    if first <= second:
        return (first,) if first == second else (first, second)
    return (_jump(second, first, zone),)  # skipped: fold=0 reads it with the old offset


def _jump(before_ms: int, after_ms: int, zone: ZoneInfo) -> int:
    """The first instant in (before_ms, after_ms] with after_ms's UTC offset: where the
    clock jumped forward (offsets change on whole seconds)."""
    target = _offset(after_ms, zone)
    low, high = before_ms // 1000, after_ms // 1000  # offset(low) != target == offset(high)
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(middle * 1000, zone) == target:
            high = middle
        else:
            low = middle
    return high * 1000


def _offset(at_ms: int, zone: ZoneInfo) -> dt.timedelta | None:
    return dt.datetime.fromtimestamp(at_ms / 1000, zone).utcoffset()


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)
