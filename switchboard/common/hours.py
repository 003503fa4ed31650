"""Opening hours: a daily window in a region's own time zone, open across midnight too.

Placement (is a region open for a new chat), the IVR (emergency-only outside hours),
SLA timers (business time) and the wallboard all ask this one module, so the same
hours mean the same thing everywhere: `22:00`-`06:00` is open overnight, `00:00`-`24:00`
around the clock, and an equal open and close time never open.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")
CLOCK_EXPECTED = "a time of day HH:MM (00:00 to 24:00)"


def parse_clock(text: str) -> dt.time:
    """'07:30' -> 07:30; '24:00' (end of day only) -> time.max; ValueError otherwise."""
    match = _CLOCK.match(text.strip()) if isinstance(text, str) else None
    if not match or (match.group(1) == "24" and match.group(2) != "00"):
        raise ValueError(f"expected {CLOCK_EXPECTED}, found {text!r}")
    hours, minutes = int(match.group(1)), int(match.group(2))
    return dt.time.max if hours == 24 else dt.time(hours, minutes)


def check_timezone(name: str) -> ZoneInfo:
    """The IANA zone `name`; ValueError naming what was expected otherwise."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"expected an IANA time zone like Europe/Paris, found {name!r}") from None


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
