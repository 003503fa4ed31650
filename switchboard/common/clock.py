"""Wall-clock time in the unit the routing state keeps: milliseconds since the epoch.

Use cases take an optional `at_ms` so that a replay or a test drives the clock; this is
the one place that reads the real one.
"""

from __future__ import annotations

import datetime as dt
import time

DAY_MS = 86_400_000


def now_ms() -> int:
    return int(time.time() * 1000)


def utc_day_start_ms(at_ms: int | None = None) -> int:
    """Midnight UTC of the day holding `at_ms` (now by default)."""
    at = now_ms() if at_ms is None else at_ms
    return at - at % DAY_MS


def iso_utc(at_ms: int) -> str:
    """An ISO 8601 time with offset, as every file and API of the product writes times."""
    return dt.datetime.fromtimestamp(at_ms / 1000, dt.UTC).isoformat()
