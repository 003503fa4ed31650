"""History rows onto the grid of the center's working days: contacts[queue, day, slot].

Times are read on the center's wall clock (the rows' own offsets, `--timezone`'s zone, or
the zone whose switches the hours follow on a one-offset clock); the interval width is
the one the rows agree on, its grid starting where the rows do, a row off it refused; a
day is open from its first contact to its last.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

import numpy as np

from forecasting import clocks, switches, zones
from forecasting.csvtext import Codes, parse_time
from forecasting.model import (
    ALLOWED_WIDTHS,
    MINUTES_PER_DAY,
    BoolArray,
    FloatArray,
    History,
    IntArray,
)
from switchboard.common.errors import InputError
from switchboard.common.ids import NAME_PATTERN

# A change of UTC offset is a daylight-saving switch only if the new offset then holds
# for weeks; offsets that alternate faster mean rows from different time zones.
_MIN_OFFSET_RUN = timedelta(days=28)
_EPOCH = datetime(1970, 1, 1)  # wall-clock minutes count from here
# Contacts of one row beyond any center's interval: a typo or an overflow upstream (sums
# of such counts also lose the small ones: 1e20 + 3 is 1e20)
MAX_CONTACTS = 1e9
# A handle time beyond a day is a unit mistake (milliseconds) or a typo: staffing then
# refuses the forecast's row, so the history's is refused where it was written.
MAX_AHT_S = 86_400.0
# A queue's name as a node's `[[queues]]` and the admin API take it: a history row's
# `book ing` or `réservation` would be forecast as a queue that no node can have.
_QUEUE_NAME = re.compile(NAME_PATTERN)


def build(
    path: Path | str,
    numbers: IntArray,
    times: Codes,
    tidx: IntArray,
    queue_names: Codes,
    raw_q: IntArray,
    contacts: FloatArray,
    aht: FloatArray,
    zone: tzinfo | None = None,
    naive_zone: tzinfo | None = None,
) -> History:
    """The history of coded rows (`numbers` their row numbers; `tidx`, `raw_q` their codes
    in `times` and `queue_names`), on `zone`'s clock if given. Times without offset are
    on `naive_zone`'s clock if given (an export in UTC without offsets), else on `zone`'s;
    without `zone`, the center's is then found as for times with offsets."""
    rows = _coded(path, numbers, times, tidx, queue_names, raw_q, contacts, aht)
    moments = _parse(rows, naive_zone or zone)
    file_clock = None
    if zone is None:
        check_offsets(path, moments.epoch, moments.offsets, rows.first_row)
        if np.unique(moments.offsets).size == 1:  # one offset: a zone's switches may show
            per_time = _sums(rows.tidx, rows.contacts, len(moments.parsed))
            busy = per_time > 0
            offset = int(moments.offsets[0])
            zone = switches.zone_from_hours(moments.epoch[busy], offset, per_time[busy])
            file_clock = moments.parsed[0].tzinfo if zone is not None else None
    return _on_clock(rows, moments, zone, file_clock)


def build_clocks(
    path: Path | str,
    numbers: IntArray,
    times: Codes,
    tidx: IntArray,
    queue_names: Codes,
    raw_q: IntArray,
    contacts: FloatArray,
    aht: FloatArray,
    spec: clocks.Spec,
    naive_zone: tzinfo | None = None,
) -> list[tuple[clocks.Group, History]]:
    """The history of coded rows as one history per clock its queues are on (`clocks`):
    the zones `spec` gives, and for the other queues the rows' offsets, or on a clock of
    one offset the zones their own hours step with. Queues that all agree are one
    history, the same as `build` reads."""
    rows = _coded(path, numbers, times, tidx, queue_names, raw_q, contacts, aht)
    names = [str(q) for q in rows.queues]
    groups, rest = clocks.given(spec, names, path)
    read: list[tuple[clocks.Group, History]] = []
    for group in groups:
        sub = _with_contacts(rows.only(group.queues))
        read.append((group, _on_clock(sub, _parse(sub, naive_zone or group.zone), group.zone)))
    if rest:
        sub = _with_contacts(rows.only(tuple(rest)))
        moments = _parse(sub, naive_zone)
        check_offsets(path, moments.epoch, moments.offsets, sub.first_row)
        if np.unique(moments.offsets).size > 1:  # offsets that switch: they name the zone
            group = clocks.Group(tuple(rest), None, clocks.OFFSETS)
            read.append((group, _on_clock(sub, moments, None)))
        else:
            read += _by_hours(sub, moments)
    order = {name: k for k, name in enumerate(names)}
    read.sort(key=lambda part: order[part[0].queues[0]])
    return read


def _by_hours(rows: _Rows, moments: _Moments) -> list[tuple[clocks.Group, History]]:
    """Rows of one UTC offset, one history per group of queues whose hours step with the
    same zone's switches (or with none)."""
    offset = int(moments.offsets[0])
    count = len(moments.parsed)

    def hours(keep: BoolArray) -> clocks.Hours:
        per_time = _sums(rows.tidx[keep], rows.contacts[keep], count)
        busy = per_time > 0
        return moments.epoch[busy], per_time[busy]

    names = tuple(str(q) for q in rows.queues)
    every = np.ones(rows.tidx.size, dtype=bool)
    each = [hours(rows.qidx == q) for q in range(len(names))]
    read = []
    for group in clocks.by_hours(names, each, hours(every), offset):
        sub = _with_contacts(rows.only(group.queues))
        part = moments.at(sub.times) if sub is not rows else moments
        file_clock = moments.parsed[0].tzinfo if group.zone is not None else None
        read.append((group, _on_clock(sub, part, group.zone, file_clock)))
    return read


def _with_contacts(rows: _Rows) -> _Rows:
    """Rows of queues read on a clock of their own, refused without a contact: no day
    to read or forecast on it."""
    if not rows.contacts.any():
        raise InputError(
            f"{rows.path}: queues {', '.join(str(q) for q in rows.queues)}: no contacts in "
            "the history: nothing to forecast on a clock of their own"
        )
    return rows


@dataclass(frozen=True)
class _Rows:
    """A history's rows, coded: per distinct time its text and the row it first appeared
    on; per row its number, time and queue (indices), contacts and AHT. `times` are the
    indices of its distinct times among those of the rows it was taken from (`only`)."""

    path: Path | str
    numbers: IntArray
    texts: list[str]
    first_row: list[int]
    tidx: IntArray
    queues: np.ndarray
    qidx: IntArray
    contacts: FloatArray
    aht: FloatArray
    times: IntArray

    def only(self, names: tuple[str, ...]) -> _Rows:
        """The rows of the queues `names` (in the rows' order), with the times they hold."""
        keep = [k for k, name in enumerate(self.queues) if str(name) in names]
        if len(keep) == len(self.queues):
            return self
        mask = np.isin(self.qidx, keep)
        used, tidx = np.unique(self.tidx[mask], return_inverse=True)
        numbers = self.numbers[mask]
        first = np.full(used.size, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, tidx, numbers)
        remap = np.full(len(self.queues), -1, dtype=np.int64)
        remap[keep] = np.arange(len(keep))
        return _Rows(
            self.path,
            numbers,
            [self.texts[int(k)] for k in used],
            [int(row) for row in first],
            tidx,
            self.queues[keep],
            remap[self.qidx[mask]],
            self.contacts[mask],
            self.aht[mask],
            used,
        )


@dataclass(frozen=True)
class _Moments:
    """The distinct times of rows as read: aware, UTC seconds and UTC offset seconds."""

    parsed: list[datetime]
    epoch: IntArray
    offsets: IntArray

    def at(self, times: IntArray) -> _Moments:
        """These of the distinct times `times` (indices)."""
        return _Moments(
            [self.parsed[int(k)] for k in times], self.epoch[times], self.offsets[times]
        )


def _coded(
    path: Path | str,
    numbers: IntArray,
    times: Codes,
    tidx: IntArray,
    queue_names: Codes,
    raw_q: IntArray,
    contacts: FloatArray,
    aht: FloatArray,
) -> _Rows:
    """The rows checked (counts, handle times, queue names), queues sorted."""
    _check_contacts(path, numbers, contacts, aht)
    queues, qidx = _queues(path, queue_names, raw_q)
    texts = list(times.index)
    return _Rows(
        path,
        np.asarray(numbers),
        texts,
        list(times.first_row),
        tidx,
        queues,
        qidx,
        contacts,
        aht,
        np.arange(len(texts)),
    )


def _parse(rows: _Rows, written_on: tzinfo | None) -> _Moments:
    """The rows' distinct times, those without offset on `written_on`'s clock; a queue's
    interval given twice is refused."""
    path = rows.path
    parsed = [
        parse_time(text, f"{path}: row {row}: field interval_start", written_on)
        for text, row in zip(rows.texts, rows.first_row, strict=True)
    ]
    epoch = np.array([int(p.timestamp()) for p in parsed], dtype=np.int64)
    offsets = np.array([int(p.utcoffset().total_seconds()) for p in parsed])  # type: ignore[union-attr]
    twice = _passed_twice(rows.texts, parsed, written_on)[rows.tidx]
    keys = epoch[rows.tidx] * len(rows.queues) + rows.qidx
    _check_duplicates(path, rows.numbers, keys, rows.queues[rows.qidx], twice)
    return _Moments(parsed, epoch, offsets)


def _on_clock(
    rows: _Rows, moments: _Moments, zone: tzinfo | None, file_clock: tzinfo | None = None
) -> History:
    """The rows on the grid of `zone`'s working days (None: as their offsets say)."""
    path, tidx, qidx, contacts = rows.path, rows.tidx, rows.qidx, rows.contacts
    first_row, queues = rows.first_row, rows.queues
    parsed, epoch, offsets = moments.parsed, moments.epoch, moments.offsets
    if zone is not None:  # every time on the center's clock, whatever offsets the file wrote
        parsed = [moment.astimezone(zone) for moment in parsed]
    local_min = _wall_minutes(path, parsed, first_row)
    width, phase = _infer_width(path, local_min, first_row, parsed, (tidx, qidx))
    # the slots start where the rows do: on the hour, or at :30 of a 60-minute history
    # of an India center exported in UTC
    day_offset = zones.working_day_offset(local_min[tidx], contacts) + timedelta(minutes=phase)
    offset_min = int(day_offset.total_seconds() // 60)
    first_min = int((local_min.min() - offset_min) // MINUTES_PER_DAY * MINUTES_PER_DAY)
    rel = local_min[tidx] - offset_min - first_min
    day, slot = rel // MINUTES_PER_DAY, (rel % MINUTES_PER_DAY) // width
    shape = (len(queues), int(day.max()) + 1, MINUTES_PER_DAY // width)
    cell = np.ravel_multi_index((qidx, day, slot), shape)  # one cell per queue, day and slot
    grid = _sums(cell, contacts, int(np.prod(shape))).reshape(shape)
    present = np.zeros(shape[1:], dtype=bool)
    present[day, slot] = True
    present &= _between_first_and_last_contact(grid)
    return History(
        [str(q) for q in queues],
        width,
        _EPOCH + timedelta(minutes=first_min),
        grid,
        _mean_aht(cell, contacts, rows.aht, shape),
        present,
        _EPOCH + timedelta(minutes=int(local_min.max()) + width),
        zone or zones.infer(epoch, offsets),
        day_offset,
        file_clock,
    )


def _check_contacts(
    path: Path | str, numbers: IntArray, contacts: FloatArray, aht: FloatArray
) -> None:
    """Refuse absurd counts and handle times (naming the row) and a history without a
    single contact."""
    for k in np.flatnonzero(contacts > MAX_CONTACTS)[:1]:
        raise InputError(
            f"{path}: row {numbers[k]}: field contacts: expected at most {MAX_CONTACTS:.0f} "
            f"contacts per interval, found {contacts[k]:g}"
        )
    for k in np.flatnonzero(aht > MAX_AHT_S)[:1]:  # NaN (no handle time) compares False
        raise InputError(
            f"{path}: row {numbers[k]}: field aht_s: expected at most {MAX_AHT_S:.0f} "
            f"seconds (a day) per contact, found {aht[k]:g}"
        )
    if not (contacts > 0).any():
        raise InputError(
            f"{path}: no contacts in the history (every row's contacts is 0): nothing to "
            "forecast from"
        )


def _queues(path: Path | str, names: Codes, raw_q: IntArray) -> tuple[np.ndarray, IntArray]:
    """The queues, sorted, names stripped, and each row's index among them."""
    for name, row in zip(names.index, names.first_row, strict=True):
        if not name.strip():
            raise InputError(
                f"{path}: row {row}: field queue: expected a queue name, found {name!r}"
            )
        if not _QUEUE_NAME.match(name.strip()):
            raise InputError(
                f"{path}: row {row}: field queue: expected a queue name of letters, digits, "
                f"_ . - (at most 64, as a node's [[queues]] names), found {name!r}"
            )
    stripped = [name.strip() for name in names.index]
    queues = np.array(sorted(set(stripped)))
    remap = np.array([int(np.searchsorted(queues, name)) for name in stripped], dtype=np.int64)
    return queues, remap[raw_q]


def _wall_minutes(path: Path | str, parsed: list[datetime], first_row: list[int]) -> IntArray:
    """Minutes since 1970-01-01 00:00 on the wall clock of each (aware) time."""
    local = np.array([int((p.replace(tzinfo=None) - _EPOCH).total_seconds()) for p in parsed])
    for k in np.flatnonzero(local % 60):
        raise InputError(
            f"{path}: row {first_row[int(k)]}: field interval_start: expected a start on "
            f"a whole minute, found {parsed[int(k)].isoformat()}"
        )
    return local // 60


def _mean_aht(
    cell: IntArray, contacts: FloatArray, aht: FloatArray, shape: tuple[int, ...]
) -> FloatArray:
    """The contact-weighted mean AHT per cell (NaN where no contact had one), in place."""
    size = int(np.prod(shape))
    has = ~np.isnan(aht) & (contacts > 0)
    weight = _sums(cell[has], contacts[has], size)
    mean = _sums(cell[has], aht[has] * contacts[has], size)
    np.divide(mean, weight, out=mean, where=weight > 0)
    mean[weight == 0] = np.nan
    return mean.reshape(shape)


def _sums(cell: IntArray, values: FloatArray, size: int) -> FloatArray:
    """The sum of `values` per cell index, `size` cells (a bincount: no index tuples)."""
    return np.bincount(cell, weights=values, minlength=size).astype(float, copy=False)


def _between_first_and_last_contact(grid: FloatArray) -> BoolArray:
    """Per day, the slots from its first contact to its last (any queue).

    A row means open, but an export that writes every interval of every day writes zeros
    for the nights, weekends and holidays the center was closed: such leading and trailing
    zeros, and a day without a single contact, read as no row. Zeros between two contacts
    stay open (a quiet interval).
    """
    first, last = busy_span(grid.sum(axis=0) > 0)
    index = np.arange(grid.shape[2])
    return np.asarray((index >= first[:, None]) & (index <= last[:, None]), dtype=bool)


def busy_span(busy: BoolArray) -> tuple[IntArray, IntArray]:
    """Per day of `busy` [day, slot], its first and last busy slot; a day without one
    gets (slots, -1), a span that holds nothing."""
    slots = busy.shape[1]
    some = busy.any(axis=1)
    first = np.where(some, busy.argmax(axis=1), slots)
    last = np.where(some, slots - 1 - busy[:, ::-1].argmax(axis=1), -1)
    return first, last


def _passed_twice(
    texts: Iterable[str], parsed: Sequence[datetime], zone: tzinfo | None
) -> BoolArray:
    """Per distinct time, whether it was written without offset at a wall time the zone's
    clock passes twice (the hour repeated when the clocks go back)."""
    if zone is None:
        return np.zeros(len(parsed), dtype=bool)
    return np.array(
        [
            moment.replace(fold=1).utcoffset() != moment.utcoffset()
            and datetime.fromisoformat(text.strip()).tzinfo is None
            for text, moment in zip(texts, parsed, strict=True)
        ],
        dtype=bool,
    )


def _check_duplicates(
    path: Path | str, numbers: IntArray, keys: np.ndarray, queues: np.ndarray, twice: BoolArray
) -> None:
    """One row per queue and interval; two at a wall time written without offset that the
    clock passes twice: the file cannot tell its two hours apart, and the grid adds up the
    two hours of such a day into one interval anyway, as it does from offsets."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    group_start = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    rank = np.arange(ordered.size) - np.repeat(
        group_start, np.diff(np.r_[group_start, ordered.size])
    )
    extra = np.flatnonzero(rank >= np.where(twice[order], 2, 1))
    if extra.size:
        at = extra[0]
        second, first = int(order[at]), int(order[at - rank[at]])
        repeated = " (written twice at most: the hour the clocks go back)" if twice[second] else ""
        raise InputError(
            f"{path}: row {numbers[second]}: field interval_start: duplicate interval for "
            f"queue {str(queues[second])!r} (first at row {numbers[first]}){repeated}"
        )


def check_offsets(
    path: Path | str,
    epoch: np.ndarray,
    offsets: np.ndarray,
    first_row: Sequence[int],
    field: str = "interval_start",
    hint: str = "",
) -> None:
    """Reject mixed time zones; allow daylight-saving switches (offset runs of weeks).

    `epoch` and `offsets` are seconds, one per time; `first_row` its row in the file
    (`field` the column, `hint` said after the fault). The importers check calls with it,
    so that what they write is a history the forecaster reads."""
    order = np.argsort(epoch, kind="stable")
    seq = offsets[order]
    change = np.flatnonzero(seq[1:] != seq[:-1]) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change - 1, [seq.size - 1]])
    run_min = _MIN_OFFSET_RUN.total_seconds()
    for k in range(1, len(starts) - 1):
        if epoch[order[ends[k]]] - epoch[order[starts[k]]] < run_min:
            row = first_row[int(order[starts[k]])]
            raise InputError(
                f"{path}: row {row}: field {field}: mixed time zones (offset "
                f"{zones.offset_text(timedelta(seconds=int(seq[starts[k]])))} for less than "
                f"{_MIN_OFFSET_RUN.days} days among rows with other offsets){hint}"
            )
    distinct = np.unique(offsets)
    if distinct.size > 2 or (distinct.size == 2 and distinct[1] - distinct[0] > 3600):
        row = first_row[int(order[starts[1]])]
        shown = ", ".join(zones.offset_text(timedelta(seconds=int(o))) for o in distinct)
        raise InputError(
            f"{path}: row {row}: field {field}: mixed time zones (offsets {shown}){hint}"
        )


def _infer_width(
    path: Path | str,
    local_min: IntArray,
    first_row: list[int],
    parsed: list[datetime],
    rows: tuple[IntArray, IntArray],
) -> tuple[int, int]:
    """(width, phase) of the history's intervals: the width its rows agree on
    (`_agreed_width`), and the minutes past midnight its grid is moved by (a center at
    +05:30 exported in UTC starts its hours at :30). A row off that grid is refused: one
    row at 13:20 among quarter hours would otherwise make every interval 5 minutes."""
    minute_of_day = local_min % MINUTES_PER_DAY
    for j in np.flatnonzero(minute_of_day % 5):
        raise InputError(
            f"{path}: row {first_row[j]}: field interval_start: expected a start on a "
            f"5-minute grid, found {parsed[j].isoformat()}"
        )
    width = _agreed_width(local_min, *rows)
    residue = minute_of_day % width
    values, counts = np.unique(residue, return_counts=True)
    phase = int(values[np.argmax(counts)])
    off = np.flatnonzero(residue != phase)
    if off.size:
        k = int(off[np.argmin(np.asarray(first_row)[off])])
        minutes = [f":{m:02}" for m in range(phase % 60, 60, width)]
        starts = " or ".join([", ".join(minutes[:-1]), minutes[-1]] if minutes[:-1] else minutes)
        raise InputError(
            f"{path}: row {first_row[k]}: field interval_start: {parsed[k].isoformat()} is "
            f"off the history's {width}-minute grid (starts at {starts}; the other rows are "
            "on it)"
        )
    return width, phase


def _agreed_width(local_min: IntArray, tidx: IntArray, qidx: IntArray) -> int:
    """The coarsest allowed width that every common gap between a queue's consecutive
    starts is a multiple of (common: seen at least twice and a tenth as often as the most
    common gap), so that a rare odd gap (a row moved) does not shrink the grid. Without
    such gaps (too few rows, a tie for the most common) it is the coarsest width that the
    spacing of all starts is a multiple of."""
    spacing = np.asarray(local_min) - int(np.min(local_min))
    span = int(spacing.max()) + 1
    keys = np.unique(qidx.astype(np.int64) * span + spacing[tidx])
    same_queue = keys[1:] // span == keys[:-1] // span
    gaps, counts = np.unique(np.diff(keys % span)[same_queue], return_counts=True)
    top = int(counts.max()) if counts.size else 0
    if top >= 2 and int((counts == top).sum()) == 1:
        spacing = gaps[counts >= max(2, top / 10)]
    common = int(np.gcd.reduce(np.concatenate([spacing, [MINUTES_PER_DAY]])))
    return max(w for w in ALLOWED_WIDTHS if common % w == 0)  # 5 divides every spacing
