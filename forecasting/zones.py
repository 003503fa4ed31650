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

AGREE_AHEAD = timedelta(days=366)
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
        for name in _zone_names()
        if all(_offset(name, moment) == offset for moment, offset in moments)
    ]
    if not fitting:
        return newest
    end = _utc(epochs[-1])
    ahead = [end + k * _SAMPLE for k in range(int(AGREE_AHEAD / _SAMPLE))]
    futures = {name: tuple(_offset(name, moment) for moment in ahead) for name in fitting}
    votes = Counter(futures.values())
    (future, count), *_ = votes.most_common(1)
    if count * 2 <= len(fitting):
        return newest  # no rules most of the fitting zones share
    return ZoneInfo(next(name for name in fitting if futures[name] == future))


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(float(epoch), UTC)


def _offset(name: str, moment: datetime) -> int:
    offset = moment.astimezone(ZoneInfo(name)).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


@functools.cache
def _zone_names() -> tuple[str, ...]:
    """Every IANA zone, Area/City names first: the one taken among zones of the same rules."""
    names = sorted(available_timezones())
    return tuple(sorted(names, key=lambda n: ("/" not in n or n.startswith("Etc/"), n)))


def day_across_midnight(open_mask: np.ndarray) -> bool:
    """Whether most open weekdays [7, S] are open at midnight on both sides but closed for
    a stretch in between: a center whose day runs 11:00-01:00 on the history's clock,
    as a US center's does in an export in UTC."""
    opened = [row for row in open_mask if row.any()]
    wraps = [bool(row[0] and row[-1] and not row.all()) for row in opened]
    return bool(opened) and sum(wraps) * 2 > len(opened)
