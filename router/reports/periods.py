"""The bounds of a report's period, as `switchboard report --from/--to` and the HTTP
reports read them: a date is a whole day in the report's zone, a time carries its offset."""

from __future__ import annotations

import datetime as dt
import re

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
            day += dt.timedelta(days=1)
        return int(dt.datetime.combine(day, dt.time(), zone).timestamp() * 1000)
    spaced = _SPACED_OFFSET.fullmatch(text)
    if spaced:
        text = f"{spaced.group(1)}+{spaced.group(2)}"
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("a time without its UTC offset")
    return int(moment.timestamp() * 1000)
