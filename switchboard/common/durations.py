"""The one grammar of durations, for every flag, file and configuration key.

A duration is one or more `<number><unit>` parts, largest unit first, with units
`w`, `d`, `h`, `m` (or `min`) and `s`: `20s`, `30m`, `1h30m`, `1.5h`, `7d`, `1w`.
ISO 8601 durations without years or months are accepted too: `PT30M`, `P1D`, `P1DT2H`.
A bare number is refused: `15` could mean seconds or minutes, so the unit is required.
"""

from __future__ import annotations

import re
from datetime import timedelta

from switchboard.common.errors import InputError

_UNIT_S = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "min": 60, "s": 1}
_ORDER = ("w", "d", "h", "m", "s")
_PART = re.compile(r"(\d+(?:\.\d+)?)(min|[wdhms])")
_ISO = re.compile(
    r"P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?"
)
EXPECTED = "a duration like 20s, 30m, 1h30m, 7d or PT30M"


def parse_duration(text: str, *, positive: bool = False) -> timedelta:
    """`text` as a timedelta; ValueError naming what was expected otherwise."""
    value = text.strip()
    seconds = _compact(value.lower()) if value[:1] not in ("P", "p") else _iso(value.upper())
    if seconds is None:
        hint = " (add a unit: 15m, 20s)" if re.fullmatch(r"\d+(?:\.\d+)?", value) else ""
        raise ValueError(f"expected {EXPECTED}{hint}, found {text!r}")
    if positive and seconds <= 0:
        raise ValueError(f"expected a duration above zero, found {text!r}")
    return timedelta(seconds=seconds)


def duration_arg(text: str, where: str, *, positive: bool = True) -> timedelta:
    """A duration given as a flag or file field: InputError naming `where` otherwise."""
    try:
        return parse_duration(text, positive=positive)
    except ValueError as failure:
        raise InputError(f"{where}: {failure}") from None


def duration_s(text: str, where: str) -> int:
    """A positive duration in whole seconds, as interval and window flags take it."""
    return int(duration_arg(text, where).total_seconds())


def _compact(value: str) -> float | None:
    parts = _PART.findall(value.replace(" ", ""))
    if not parts or "".join(n + u for n, u in parts) != value.replace(" ", ""):
        return None
    units = [("m" if unit == "min" else unit) for _, unit in parts]
    ranks = [_ORDER.index(unit) for unit in units]
    if ranks != sorted(set(ranks)):  # each unit once, largest first
        return None
    return sum(float(number) * _UNIT_S[unit] for number, unit in parts)


def _iso(value: str) -> float | None:
    match = _ISO.fullmatch(value)
    if not match or not any(match.groups()) or value.endswith("T"):
        return None
    weeks, days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return weeks * 604_800 + days * 86_400 + hours * 3_600 + minutes * 60 + seconds


def format_duration(value: timedelta) -> str:
    """The shortest form in the grammar: `1h30m`, `45s`, `7d`."""
    total = value.total_seconds()
    if total == 0:
        return "0s"
    parts = []
    rest = abs(total)
    for unit in _ORDER[:-1]:
        count, rest = divmod(rest, _UNIT_S[unit])
        if count:
            parts.append(f"{int(count)}{unit}")
    if rest:
        parts.append(f"{rest:g}s")
    return ("-" if total < 0 else "") + "".join(parts)
