"""CSV files of the contract: history in, events in, forecast and peaks out.

Every fault in a file is one `InputError` naming the file, the row (the header is
row 1, as a spreadsheet shows it) and the field, so that the CLI prints one line
and exits 2.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

import numpy as np

from forecasting import switches, zones
from forecasting.model import (
    ALLOWED_WIDTHS,
    MINUTES_PER_DAY,
    BoolArray,
    Event,
    FloatArray,
    Forecast,
    History,
    HistoryRow,
    IntArray,
)
from switchboard.common.errors import InputError

HISTORY_COLUMNS = ("interval_start", "queue", "contacts", "aht_s")
FORECAST_COLUMNS = ("interval_start", "queue", "contacts", "aht_s", "low", "high")
EVENT_COLUMNS = ("start", "end", "region", "queue", "kind", "factor")
# A change of UTC offset is a daylight-saving switch only if the new offset then holds
# for weeks; offsets that alternate faster mean rows from different time zones.
_MIN_OFFSET_RUN = timedelta(days=28)
CHUNK_ROWS = 100_000  # rows parsed at a time
CHUNK_CHARS = 1 << 22  # characters read at a time (about 100 000 rows)


def parse_time(text: str, where: str, zone: tzinfo | None = None) -> datetime:
    """An ISO 8601 time with a UTC offset, or without one on `zone`'s clock when a zone is
    known (a spreadsheet's export rarely writes offsets: `--timezone` says whose clock);
    `where` is the "file: row N: field F" prefix."""
    expected = "expected ISO 8601 time with offset" + (
        "" if zone else " (or give --timezone: the zone of times without one)"
    )
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{where}: {expected}, found {text!r}") from None
    if moment.tzinfo is None and zone is not None:
        return moment.replace(tzinfo=zone)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InputError(f"{where}: {expected}, found {text!r}")
    return moment


def parse_number(text: str, where: str, *, allow_empty: bool = False) -> float | None:
    if allow_empty and (not text or text.isspace()):
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{where}: expected a number, found {text!r}") from None
    if not math.isfinite(value):
        raise InputError(f"{where}: expected a finite number, found {text!r}")
    if value < 0:
        raise InputError(f"{where}: expected a number >= 0, found {text!r}")
    return value


def _rows(
    path: Path, allowed: tuple[str, ...], required: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, fields) of a CSV with a checked header."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror}") from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = [name.strip() for name in next(reader)]
        except StopIteration:
            raise InputError(f"{path}: row 1: empty file, expected a header row") from None
        except UnicodeDecodeError:
            raise InputError(f"{path}: row 1: not UTF-8 text") from None
        _check_header(path, header, allowed, required)
        number = 1
        try:
            for fields in reader:
                number += 1
                if len(fields) != len(header):
                    if not fields or all(not f.strip() for f in fields):
                        continue
                    raise InputError(
                        f"{path}: row {number}: expected {len(header)} fields, found {len(fields)}"
                    )
                yield number, dict(zip(header, fields, strict=True))
        except UnicodeDecodeError:
            raise InputError(f"{path}: row {number + 1}: not UTF-8 text") from None


def _column_chunks(
    path: Path, allowed: tuple[str, ...], required: tuple[str, ...]
) -> Iterator[tuple[list[int], dict[str, list[str]]]]:
    """Row numbers and columns of a CSV, a chunk of rows at a time (a year of 5-minute rows
    of a hundred queues is millions of rows: read whole, their strings took 1.5 GB).
    Plain files (no quotes) take a fast split path."""
    if _has_quote(path):
        yield from _chunked(_rows(path, allowed, required), allowed)
        return
    try:
        handle = path.open(encoding="utf-8-sig")
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror}") from None
    with handle:
        try:
            first = handle.readline()
            if not first:
                raise InputError(f"{path}: row 1: empty file, expected a header row")
            header = [name.strip() for name in first.rstrip("\n").split(",")]
            _check_header(path, header, allowed, required)
            number, rest = 2, ""
            while block := handle.read(CHUNK_CHARS):
                block, rest = _whole_lines(rest + block)
                lines = block.splitlines()
                numbers, records = _split(path, lines, number, header)
                number += len(lines)
                if numbers:
                    yield numbers, records
            if rest:
                numbers, records = _split(path, [rest], number, header)
                if numbers:
                    yield numbers, records
        except UnicodeDecodeError:
            raise InputError(f"{path}: not UTF-8 text") from None


def _whole_lines(text: str) -> tuple[str, str]:
    """`text` cut after its last line break: (whole lines, the start of the next)."""
    end = text.rfind("\n") + 1
    return text[:end], text[end:]


def _has_quote(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return any(b'"' in block for block in iter(lambda: handle.read(1 << 20), b""))
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror}") from None


def _split(
    path: Path, lines: list[str], number: int, header: list[str]
) -> tuple[list[int], dict[str, list[str]]]:
    """Lines from row `number` on, split at commas into the header's columns."""
    width = len(header)
    if set(map(str.count, lines, itertools.repeat(","))) == {width - 1}:
        # every line has the right number of fields: split the whole chunk at once
        flat = ",".join(lines).split(",")
        numbers = list(range(number, number + len(lines)))
        return numbers, {name: flat[i::width] for i, name in enumerate(header)}
    numbers, records = [], []
    for row, line in enumerate(lines, start=number):
        parts = line.split(",")
        if len(parts) != width:
            if not line.strip():
                continue
            raise InputError(f"{path}: row {row}: expected {width} fields, found {len(parts)}")
        numbers.append(row)
        records.append(parts)
    return numbers, _by_column(header, records)


def _chunked(
    rows: Iterator[tuple[int, dict[str, str]]], names: tuple[str, ...]
) -> Iterator[tuple[list[int], dict[str, list[str]]]]:
    """Parsed rows (the csv module's, for quoted files) in chunks of columns."""
    while chunk := list(itertools.islice(rows, CHUNK_ROWS)):
        records = [[fields.get(name, "") for name in names] for _, fields in chunk]
        yield [number for number, _ in chunk], _by_column(list(names), records)


def _by_column(header: list[str], records: list[list[str]]) -> dict[str, list[str]]:
    columns = list(zip(*records, strict=True)) if records else [() for _ in header]
    return {name: list(col) for name, col in zip(header, columns, strict=True)}


@dataclass
class _Codes:
    """The distinct texts of a column in order of first appearance, each with the row it
    first appeared on (a history repeats each time once per queue, each queue per time)."""

    index: dict[str, int] = field(default_factory=dict)
    first_row: list[int] = field(default_factory=list)

    def encode(self, texts: list[str], numbers: list[int]) -> IntArray:
        before = len(self.index)
        index = self.index
        codes = np.array([index.setdefault(t, len(index)) for t in texts], dtype=np.int64)
        fresh = np.flatnonzero(codes >= before)
        _, first = np.unique(codes[fresh], return_index=True)
        self.first_row += [numbers[int(fresh[i])] for i in first]
        return codes


def _check_header(
    path: Path, header: list[str], allowed: tuple[str, ...], required: tuple[str, ...]
) -> None:
    for name in header:
        if name not in allowed:
            raise InputError(
                f"{path}: row 1: column {name!r}: unknown column (expected {','.join(allowed)})"
            )
    for name in required:
        if name not in header:
            raise InputError(f"{path}: row 1: column {name!r}: missing")
    if len(set(header)) != len(header):
        raise InputError(f"{path}: row 1: a column appears twice")


def _numbers(
    texts: list[str], numbers: list[int], field: str, path: Path | str, optional: bool = False
) -> FloatArray:
    """Parse a numeric column at numpy speed; on a fault, find and name the first bad row."""
    empty = np.array([not t or t.isspace() for t in texts]) if optional else None
    try:
        values = np.array(
            ["nan" if empty is not None and empty[i] else t for i, t in enumerate(texts)]
            if optional
            else texts,
            dtype=object,
        ).astype(float)
        bad = ~np.isfinite(values) | (values < 0)
        if empty is not None:
            bad &= ~empty
    except ValueError:
        bad = np.ones(len(texts), dtype=bool)
    if bad.any():
        for i in np.flatnonzero(bad):
            parse_number(texts[i], f"{path}: row {numbers[i]}: field {field}", allow_empty=optional)
    return values


def read_history(path: Path, zone: tzinfo | None = None) -> History:
    """The history CSV on the center's wall clock: its rows' own offsets', or `zone`'s
    (every time converted: an export in UTC)."""
    times, queues = _Codes(), _Codes()
    parts: list[tuple[IntArray, IntArray, IntArray, FloatArray, FloatArray]] = []
    for numbers, cols in _column_chunks(path, HISTORY_COLUMNS, HISTORY_COLUMNS[:3]):
        contacts = _numbers(cols["contacts"], numbers, "contacts", path)
        aht = (
            _numbers(cols["aht_s"], numbers, "aht_s", path, optional=True)
            if "aht_s" in cols
            else np.full(len(numbers), np.nan)
        )
        tidx = times.encode(cols["interval_start"], numbers)
        qidx = queues.encode(cols["queue"], numbers)
        parts.append((np.array(numbers), tidx, qidx, contacts, aht))
    if not parts:
        raise InputError(f"{path}: no data rows")
    rows, tidx, qidx, contacts, aht = (np.concatenate(col) for col in zip(*parts, strict=True))
    return _history(path, rows, times, tidx, queues, qidx, contacts, aht, zone)


def build_history(rows: list[HistoryRow], path: Path | str, zone: tzinfo | None = None) -> History:
    """A `History` from rows already parsed (importers, tests)."""
    if not rows:
        raise InputError(f"{path}: no data rows")
    numbers = [r.row or i + 2 for i, r in enumerate(rows)]
    times, queues = _Codes(), _Codes()
    tidx = times.encode([r.interval_start.isoformat() for r in rows], numbers)
    qidx = queues.encode([r.queue for r in rows], numbers)
    aht = np.array([np.nan if r.aht_s is None else r.aht_s for r in rows], dtype=float)
    contacts = np.array([r.contacts for r in rows], dtype=float)
    return _history(path, np.array(numbers), times, tidx, queues, qidx, contacts, aht, zone)


def _history(
    path: Path | str,
    numbers: IntArray,
    times: _Codes,
    tidx: IntArray,
    queue_names: _Codes,
    raw_q: IntArray,
    contacts: FloatArray,
    aht: FloatArray,
    zone: tzinfo | None = None,
) -> History:
    first_row = times.first_row
    parsed = [
        parse_time(text, f"{path}: row {row}: field interval_start", zone)
        for text, row in zip(times.index, first_row, strict=True)
    ]
    for name, row in zip(queue_names.index, queue_names.first_row, strict=True):
        if not name.strip():
            raise InputError(
                f"{path}: row {row}: field queue: expected a queue name, found {name!r}"
            )
    stripped = [name.strip() for name in queue_names.index]
    queues = np.array(sorted(set(stripped)))
    remap = np.array([int(np.searchsorted(queues, name)) for name in stripped], dtype=np.int64)
    qidx = remap[raw_q]
    epoch = np.array([int(p.timestamp()) for p in parsed], dtype=np.int64)
    offsets = np.array([int(p.utcoffset().total_seconds()) for p in parsed])  # type: ignore[union-attr]
    _check_duplicates(path, numbers, epoch[tidx] * len(queues) + qidx, queues[qidx])
    file_clock = None
    if zone is None:
        _check_offsets(path, epoch, offsets, first_row)
        if np.unique(offsets).size == 1:  # one offset all along: a zone's switches may show
            per_time = _sums(tidx, contacts, len(parsed))
            busy = per_time > 0
            zone = switches.zone_from_hours(epoch[busy], int(offsets[0]), per_time[busy])
            file_clock = parsed[0].tzinfo if zone is not None else None
    if zone is not None:  # every time on the center's clock, whatever offsets the file wrote
        parsed = [moment.astimezone(zone) for moment in parsed]
    epoch0 = datetime(1970, 1, 1)
    local = np.array([int((p.replace(tzinfo=None) - epoch0).total_seconds()) for p in parsed])
    for k in np.flatnonzero(local % 60):
        raise InputError(
            f"{path}: row {first_row[int(k)]}: field interval_start: expected a start on "
            f"a whole minute, found {parsed[int(k)].isoformat()}"
        )
    local_min = local // 60
    width = _infer_width(path, local_min % MINUTES_PER_DAY, first_row, parsed)
    day_offset = zones.working_day_offset(local_min[tidx], contacts)
    offset_min = int(day_offset.total_seconds() // 60)
    first_min = int((local_min.min() - offset_min) // MINUTES_PER_DAY * MINUTES_PER_DAY)
    rel = local_min[tidx] - offset_min - first_min
    day, slot = rel // MINUTES_PER_DAY, (rel % MINUTES_PER_DAY) // width
    days = int(day.max()) + 1
    slots = MINUTES_PER_DAY // width
    shape = (len(queues), days, slots)
    cell = (qidx * days + day) * slots + slot  # one cell per queue, day and slot
    size = len(queues) * days * slots
    grid = _sums(cell, contacts, size).reshape(shape)
    has = ~np.isnan(aht) & (contacts > 0)  # the contact-weighted mean AHT, in place
    weight = _sums(cell[has], contacts[has], size)
    mean_aht = _sums(cell[has], aht[has] * contacts[has], size)
    np.divide(mean_aht, weight, out=mean_aht, where=weight > 0)
    mean_aht[weight == 0] = np.nan
    mean_aht = mean_aht.reshape(shape)
    del weight
    present = np.zeros((days, slots), dtype=bool)
    present[day, slot] = True
    present &= _between_first_and_last_contact(grid)
    first_day = epoch0 + timedelta(minutes=first_min)
    end = epoch0 + timedelta(minutes=int(local_min.max()) + width)
    return History(
        [str(q) for q in queues],
        width,
        first_day,
        grid,
        mean_aht,
        present,
        end,
        zone or zones.infer(epoch, offsets),
        day_offset,
        file_clock,
    )


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
    busy = grid.sum(axis=0) > 0
    slots = busy.shape[1]
    index = np.arange(slots)
    first = np.where(busy.any(axis=1), busy.argmax(axis=1), slots)
    last = slots - 1 - busy[:, ::-1].argmax(axis=1)
    return np.asarray((index >= first[:, None]) & (index <= last[:, None]), dtype=bool)


def _check_duplicates(
    path: Path | str, numbers: IntArray, keys: np.ndarray, queues: np.ndarray
) -> None:
    order = np.argsort(keys, kind="stable")
    same = np.flatnonzero(keys[order][1:] == keys[order][:-1])
    if same.size:
        first, second = sorted((int(order[same[0]]), int(order[same[0] + 1])))
        raise InputError(
            f"{path}: row {numbers[second]}: field interval_start: duplicate interval for "
            f"queue {str(queues[second])!r} (first at row {numbers[first]})"
        )


def _check_offsets(
    path: Path | str, epoch: np.ndarray, offsets: np.ndarray, first_row: list[int]
) -> None:
    """Reject mixed time zones; allow daylight-saving switches (offset runs of weeks)."""
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
                f"{path}: row {row}: field interval_start: mixed time zones (offset "
                f"{offset_text(timedelta(seconds=int(seq[starts[k]])))} among rows with "
                "other offsets)"
            )
    distinct = np.unique(offsets)
    if distinct.size > 2 or (distinct.size == 2 and distinct[1] - distinct[0] > 3600):
        row = first_row[int(order[starts[1]])]
        shown = ", ".join(offset_text(timedelta(seconds=int(o))) for o in distinct)
        raise InputError(
            f"{path}: row {row}: field interval_start: mixed time zones (offsets {shown})"
        )


def offset_text(offset: timedelta | None) -> str:
    """A UTC offset as ISO 8601 writes it (+05:30, -03:00); 'none' for no offset."""
    if offset is None:
        return "none"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _infer_width(
    path: Path | str, minute_of_day: np.ndarray, first_row: list[int], parsed: list[datetime]
) -> int:
    """The interval width of the history: the coarsest allowed grid all starts lie on."""
    common = int(np.gcd.reduce(np.concatenate([minute_of_day, [MINUTES_PER_DAY]])))
    for width in sorted(ALLOWED_WIDTHS, reverse=True):
        if common % width == 0:
            return width
    for j in np.flatnonzero(minute_of_day % 5):
        raise InputError(
            f"{path}: row {first_row[j]}: field interval_start: expected a start on a "
            f"5-minute grid, found {parsed[j].isoformat()}"
        )
    raise InputError(f"{path}: interval starts lie on no 5, 15, 30 or 60 minute grid")


def write_history(path: Path, rows: Iterable[HistoryRow], with_aht: bool = True) -> int:
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HISTORY_COLUMNS if with_aht else HISTORY_COLUMNS[:3])
        for row in rows:
            fields = [row.interval_start.isoformat(), row.queue, _num(row.contacts)]
            if with_aht:
                fields.append("" if row.aht_s is None else f"{row.aht_s:.1f}")
            writer.writerow(fields)
            count += 1
    return count


def read_events(path: Path) -> list[Event]:
    """The planner's events CSV: `start,end,region,queue,kind,factor` (region, queue, factor
    may be empty: every region, every queue, estimate the factor from history)."""
    events: list[Event] = []
    for number, fields in _rows(path, EVENT_COLUMNS, ("start", "end", "kind")):
        where = f"{path}: row {number}: field"
        start = parse_time(fields["start"], f"{where} start")
        end = parse_time(fields["end"], f"{where} end")
        if end <= start:
            raise InputError(f"{where} end: expected a time after start, found {fields['end']!r}")
        kind = fields["kind"].strip()
        if not kind:
            raise InputError(f"{where} kind: expected an event kind, found ''")
        factor = parse_number(fields.get("factor", ""), f"{where} factor", allow_empty=True)
        if factor is not None and factor <= 0:
            raise InputError(f"{where} factor: expected a number > 0, found {fields['factor']!r}")
        events.append(
            Event(
                start=start.astimezone(start.tzinfo).replace(tzinfo=None),
                end=end.astimezone(start.tzinfo).replace(tzinfo=None),
                kind=kind,
                region=fields.get("region", "").strip() or None,
                queue=fields.get("queue", "").strip() or None,
                factor=factor,
                row=number,
            )
        )
    return events


def aware(local: datetime, zone: tzinfo) -> datetime:
    """Attach the zone to a wall-clock time (fixed offsets and IANA zones alike)."""
    return local.replace(tzinfo=zone)


def stamp(local: datetime, zone: tzinfo, written: tzinfo | None) -> str:
    """A wall-clock time of `zone` as ISO 8601, on the `written` clock when given."""
    moment = aware(local, zone)
    return (moment.astimezone(written) if written is not None else moment).isoformat()


def write_forecast(
    path: Path, forecast: Forecast, zone: tzinfo, written: tzinfo | None = None
) -> int:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(FORECAST_COLUMNS)
        for row in forecast.rows:
            writer.writerow(
                [
                    stamp(row.interval_start, zone, written),
                    row.queue,
                    f"{row.contacts:.2f}",
                    f"{row.aht_s:.1f}",
                    _num(row.low),
                    _num(row.high),
                ]
            )
    return len(forecast.rows)


def write_peaks(
    path: Path, forecast: Forecast, zone: tzinfo, written: tzinfo | None = None
) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(
            ["interval_start", "queue", "contacts", "threshold", "probability", "lead_h"]
        )
        for peak in forecast.peaks:
            writer.writerow(
                [
                    stamp(peak.interval_start, zone, written),
                    peak.queue,
                    f"{peak.contacts:.2f}",
                    f"{peak.threshold:.2f}",
                    f"{peak.probability:.3f}",
                    f"{peak.lead.total_seconds() / 3600:.2f}",
                ]
            )


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"
