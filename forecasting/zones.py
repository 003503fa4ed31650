"""The center's time zone, as its history's UTC offsets tell it.

A history carries offsets, not a zone. Forecast rows used to carry the newest offset, so
a forecast across a daylight-saving switch (a Monday after the clocks went back) wrote
every later row an hour off. When the offsets identify the zone's rules (the history
crosses a switch, and most zones that fit share their rules for the year ahead: New York,
Toronto and Detroit, not Havana), the forecast follows them; when they cannot (a summer's
history fits New York and Panama alike), the newest offset stays; `--timezone` says it.
"""

from __future__ import annotations

import functools
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, available_timezones

import numpy as np
from babel.core import get_global

from forecasting.runs import runs_of

AGREE_AHEAD = timedelta(days=366)
QUIET_SHARE = 0.05  # an hour of the day with under 5 % of the busiest hour's contacts
_SAMPLE = timedelta(hours=6)


def infer(epochs: np.ndarray, offsets: np.ndarray) -> tzinfo:
    """A zone whose offsets match every row's (`epochs` and `offsets` in seconds, one per
    distinct time) and whose year ahead is that of most zones that match; else the
    newest offset as a fixed zone."""
    order = np.argsort(epochs, kind="stable")
    epochs, offsets = epochs[order], offsets[order]
    newest = timezone(timedelta(seconds=int(offsets[-1])))
    changes = np.flatnonzero(offsets[1:] != offsets[:-1])
    if not changes.size:
        return newest  # one offset: a fixed zone and a zone with summer time fit alike
    checks = sorted({0, len(epochs) - 1, *changes.tolist(), *(changes + 1).tolist()})
    moments = [(_utc(epochs[i]), int(offsets[i])) for i in checks]
    fitting = [
        name
        for name in zone_names()
        if all(offset_seconds(ZoneInfo(name), moment) == offset for moment, offset in moments)
    ]
    if not fitting:
        return newest
    end = _utc(epochs[-1])
    ahead = [end + k * _SAMPLE for k in range(int(AGREE_AHEAD / _SAMPLE))]
    futures = {
        name: tuple(offset_seconds(ZoneInfo(name), moment) for moment in ahead) for name in fitting
    }
    votes = Counter(futures.values())
    (future, count), *_ = votes.most_common(1)
    if count * 2 <= len(fitting):
        return newest  # no rules most of the fitting zones share
    return ZoneInfo(next(name for name in fitting if futures[name] == future))


def switch_note(fixed: tzinfo, start: datetime, end: datetime) -> str | None:
    """A note for a forecast from a history of one UTC offset (`fixed`: no switch in it
    told the zone) that ends after a date on which zones at that offset change it: the
    forecast stays on the offset, an hour off after the switch if the center is in one of
    them (a summer's history of New York, forecast into November). `start` is the end of
    history, not the forecast's start: a switch in the weekend between them moves the
    Monday forecast as much as one inside it."""
    offset = offset_seconds(fixed, start)
    changing = [
        name
        for name in zone_names()
        if offset_seconds(ZoneInfo(name), start) == offset
        and offset_seconds(ZoneInfo(name), end) != offset
    ]
    if not changing:
        return None
    first = ZoneInfo(changing[0])
    moment = start
    while offset_seconds(first, moment) == offset and moment < end:
        moment += timedelta(hours=1)
    shown = ", ".join(changing[:3]) + (", …" if len(changing) > 3 else "")
    return (
        f"history: one UTC offset ({offset_text(timedelta(seconds=offset))}) all along, no "
        f"switch in it to tell the center's zone: the forecast stays on it; {shown} change "
        f"theirs on {moment.astimezone(first).date().isoformat()}, before the forecast ends: "
        "give --timezone if the center is in one of them"
    )


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(float(epoch), UTC)


def offset_seconds(zone: tzinfo, moment: datetime) -> int:
    """`zone`'s UTC offset at the aware `moment`, in seconds."""
    offset = moment.astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


@functools.cache
def zone_names() -> tuple[str, ...]:
    """Every IANA zone in the order one is taken among zones of the same rules: the zones
    CLDR maps Windows' time zones to, in its order (New York before Detroit, Berlin before
    Ceuta), then Area/City names, then the rest."""
    windows = dict.fromkeys(get_global("windows_zone_mapping").values())
    representative = {name: rank for rank, name in enumerate(windows)}
    return tuple(
        sorted(
            available_timezones(),
            key=lambda n: (
                representative.get(n, len(representative)),
                "/" not in n or n.startswith("Etc/"),
                n,
            ),
        )
    )


def working_day_offset(local_minutes: np.ndarray, contacts: np.ndarray) -> timedelta:
    """Where the center's working day starts, from midnight: 0 unless its day runs across
    midnight on the history's clock (a US center exported in UTC is open 11:00-01:00;
    an airline's desk may be open 06:00-02:00 on its own). Then the day starts in the
    middle of its longest quiet stretch, on the hour, and carries the date most of its
    open hours fall on: open 11:00-01:00 is a day from 06:00 to 06:00.

    `local_minutes` (minutes from any midnight) and `contacts` are the history's rows. An
    hour of the day is quiet under `QUIET_SHARE` of the busiest hour's contacts (a stray
    contact at night does not open it); the day runs across midnight when the hours on
    both sides of it are not quiet. A center quiet at midnight keeps it (a bank open
    until 24:00 with a few calls after), so does one never quiet (round the clock)."""
    hourly = np.bincount(np.asarray(local_minutes) // 60 % 24, weights=contacts, minlength=24)
    quiet = hourly < QUIET_SHARE * hourly.max(initial=0)
    if quiet[0] or quiet[23] or not quiet.any():
        return timedelta(0)
    first, last = max(runs_of(quiet), key=lambda run: (run[1] - run[0], -run[0]))
    hour = (first + last + 1) // 2
    return timedelta(hours=hour if hour <= 12 else hour - 24)


def occurrences(local: datetime, zone: tzinfo) -> list[datetime]:
    """The wall-clock time `local` (naive) as it occurs on `zone`'s clock: once (fold 0),
    never (skipped when the clocks go forward), or twice (in the hour repeated when they
    go back: fold 0, then fold 1, which `replace(tzinfo=zone)` keeps apart)."""
    first, second = local.replace(fold=0), local.replace(fold=1)
    moment = first.replace(tzinfo=zone)
    if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != first:
        return []  # 02:30 on the spring-forward day: no such time
    if second.replace(tzinfo=zone).utcoffset() != moment.utcoffset():
        return [first, second]
    return [first]


def instant(local: datetime, zone: tzinfo) -> float:
    """UTC seconds of the wall-clock time `local` on `zone`'s clock (its fold kept)."""
    return local.replace(tzinfo=zone).timestamp()


def offset_text(offset: timedelta | None) -> str:
    """A UTC offset as ISO 8601 writes it (+05:30, -03:00); 'none' for no offset."""
    if offset is None:
        return "none"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
