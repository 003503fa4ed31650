"""Parsing of durations ("8h", "30m", "1h30m", "20s") and local clock times ("07:30")."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

_DURATION = re.compile(
    r"^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s)?\s*$"
)


def parse_duration(text: str) -> timedelta:
    """'8h', '30m', '1h30m', '20s' or a bare number of seconds; ValueError otherwise."""
    text = text.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return timedelta(seconds=float(text))
    match = _DURATION.match(text)
    if not match or not any(match.groups()):
        raise ValueError(f"expected a duration like 8h, 30m, 1h30m or 20s, found {text!r}")
    hours, minutes, seconds = (float(part) if part else 0.0 for part in match.groups())
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def parse_clock(text: str) -> time:
    """'07:30' → time(7, 30); '24:00' is not a clock time here."""
    try:
        return datetime.strptime(text.strip(), "%H:%M").time()
    except ValueError:
        raise ValueError(f"expected a local time HH:MM, found {text!r}") from None


def format_duration(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours}h{rest}m"
    return f"{hours}h" if hours else f"{rest}m"


def parse_instant(text: str) -> datetime:
    """ISO 8601 with an offset (a trailing Z is accepted); ValueError if naive or malformed."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("no offset")
    return value
