"""Opening hours: a daily window in a region's own time zone, open across midnight too.

Placement (is a region open for a new chat), the IVR (emergency-only outside hours),
SLA timers (business time) and the wallboard all ask this one module, so the same
hours mean the same thing everywhere: `22:00`-`06:00` is open overnight, `00:00`-`24:00`
around the clock, and an equal open and close time never open.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass
from functools import cache, cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")
CLOCK_EXPECTED = "a time of day HH:MM (00:00 to 24:00)"


def parse_clock(text: str) -> dt.time:
    """'07:30' -> 07:30; '24:00' (end of day only) -> time.max; ValueError otherwise."""
    match = _CLOCK.match(text.strip()) if isinstance(text, str) else None
    if not match or (match.group(1) == "24" and match.group(2) != "00"):
        raise ValueError(f"expected {CLOCK_EXPECTED}, found {text!r}")
    hours, minutes = int(match.group(1)), int(match.group(2))
    return dt.time.max if hours == 24 else dt.time(hours, minutes)


TIMEZONE_EXPECTED = "an IANA time zone like Europe/Paris"


class UnknownTimezone(ValueError):
    """A time zone name the tz database does not have: what was expected (with the
    nearest name it has, when one is close), and what was found."""

    def __init__(self, name: str) -> None:
        self.found = name
        nearest = _nearest_zone(name)
        self.expected = TIMEZONE_EXPECTED + (f" (did you mean {nearest}?)" if nearest else "")
        super().__init__(f"expected {self.expected}, found {name!r}")


def check_timezone(name: str) -> ZoneInfo:
    """The IANA zone `name`, spelled exactly (a configuration keeps the name as written,
    and opens it again by that name); UnknownTimezone (a ValueError) otherwise."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownTimezone(name) from None


def timezone_named(name: str) -> ZoneInfo:
    """The IANA zone a person typed: `name` as the tz database spells it, or in another
    letter case when that matches exactly one zone (`utc` is UTC, `europe/madrid`
    Europe/Madrid), though opening a zone by name is case-sensitive (no two zones differ
    in case alone). The zone's `key` is the database's spelling: what to keep and open it by again.
    UnknownTimezone (a ValueError) otherwise, with the nearest name when one is close."""
    name = name.strip()
    if name not in _zone_names():
        same_letters = _zone_names_folded().get(name.casefold(), ())
        if len(same_letters) == 1:
            name = same_letters[0]
    return check_timezone(name)


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


@cache
def _zone_names_folded() -> dict[str, tuple[str, ...]]:
    """Each zone name in lower case -> the zones spelled so in some letter case."""
    folded: dict[str, tuple[str, ...]] = {}
    for zone in sorted(_zone_names()):
        folded[zone.casefold()] = (*folded.get(zone.casefold(), ()), zone)
    return folded


def _nearest_zone(name: str) -> str | None:
    """The zone name closest to `name` whatever the letter case (difflib's ratio), if
    one is close: `Europe/Madird` and `madrid` are Europe/Madrid."""
    if len(name) > 64:  # no zone name is this long: nothing to compare
        return None
    folded = _zone_names_folded()
    close = difflib.get_close_matches(name.strip().casefold(), list(folded), n=1)
    return folded[close[0]][0] if close else None


@dataclass(frozen=True)
class OpeningHours:
    """Open from `open` until `close` (HH:MM, local to `timezone`) every day."""

    timezone: str = "UTC"
    open: str = "00:00"
    close: str = "24:00"

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def around_the_clock(self) -> bool:
        return parse_clock(self.open) == dt.time(0) and parse_clock(self.close) == dt.time.max

    def is_open(self, at: dt.datetime) -> bool:
        """Whether the aware time `at` falls inside the hours, in their own time zone."""
        local = at.astimezone(self.zone).time()
        start, end = parse_clock(self.open), parse_clock(self.close)
        if start <= end:
            return start <= local < end
        return local >= start or local < end  # open across midnight

    def local(self, at: dt.datetime) -> dt.datetime:
        return at.astimezone(self.zone)

    def next_opening(self, at: dt.datetime) -> dt.datetime:
        """The first moment at or after the aware `at` at which the hours are open (`at`
        itself when open; never open: `at`)."""
        if self.is_open(at):
            return at
        local = self.local(at)
        opens = parse_clock(self.open)
        for days in range(8):
            day = local.date() + dt.timedelta(days=days)
            candidate = dt.datetime.combine(day, opens, tzinfo=self.zone)
            if candidate > local and self.is_open(candidate):
                return candidate
        return at
