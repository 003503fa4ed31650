"""CSV files of the contract: history in, events in, forecast and peaks out.

Reading is `csvtext` (text to columns, faults named by file, row and field) and `grid`
(rows onto the center's working days); this module knows the contract's columns.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime, tzinfo
from pathlib import Path

import numpy as np

from forecasting import clocks, csvtext, grid
from forecasting.csvtext import Codes, parse_number, parse_time
from forecasting.model import (
    Event,
    FloatArray,
    Forecast,
    ForecastRow,
    History,
    HistoryRow,
    IntArray,
    Peak,
)
from switchboard.common.errors import InputError
from switchboard.common.textfiles import writing_csv

HISTORY_COLUMNS = ("interval_start", "queue", "contacts", "aht_s")
FORECAST_COLUMNS = ("interval_start", "queue", "contacts", "aht_s", "low", "high")
EVENT_COLUMNS = ("start", "end", "region", "queue", "kind", "factor")
# The largest factor a planner may give an event: twenty times an interval's usual
# contacts is beyond any campaign or disruption a forecast can still be planned on; more
# is a typo (`150` for `1.5`) or a spreadsheet's `1E+300`, which made contacts overflow.
MAX_EVENT_FACTOR = 20.0


def read_history(
    path: Path, zone: tzinfo | None = None, naive_zone: tzinfo | None = None
) -> History:
    """The history CSV on the center's wall clock: its rows' own offsets', or `zone`'s
    (every time converted: an export in UTC). Times without offset are on `naive_zone`'s
    clock if given (`--history-timezone`), else on `zone`'s."""
    unread: list[str] = []
    history = grid.build(path, *_history_columns(path, unread), zone, naive_zone)
    return dataclasses.replace(history, unread_columns=tuple(unread))


def read_histories(
    path: Path, spec: clocks.Spec, naive_zone: tzinfo | None = None
) -> list[tuple[clocks.Group, History]]:
    """The history CSV as one history per clock its queues are on (`clocks`): the zones
    `spec` (`--timezone`) gives, else those the rows' offsets or the queues' hours name.
    One history, as `read_history` reads it, when the queues agree."""
    unread: list[str] = []
    parts = grid.build_clocks(path, *_history_columns(path, unread), spec, naive_zone)
    return [
        (group, dataclasses.replace(history, unread_columns=tuple(unread)))
        for group, history in parts
    ]


def _history_columns(
    path: Path, unread: list[str]
) -> tuple[IntArray, Codes, IntArray, Codes, IntArray, FloatArray, FloatArray]:
    """The history CSV's rows, coded for `grid`: row numbers, times (codes and their
    texts), queues (the same), contacts and AHT; the columns not read added to `unread`."""
    times, queues = Codes(), Codes()
    parts: list[tuple[IntArray, IntArray, IntArray, FloatArray, FloatArray]] = []
    chunks = csvtext.column_chunks(path, HISTORY_COLUMNS, HISTORY_COLUMNS[:3], unread)
    for numbers, cols in chunks:
        contacts = csvtext.number_column(cols["contacts"], numbers, "contacts", path)
        aht = (
            csvtext.number_column(cols["aht_s"], numbers, "aht_s", path, optional=True)
            if "aht_s" in cols
            else np.full(len(numbers), np.nan)
        )
        tidx = times.encode(cols["interval_start"], numbers)
        qidx = queues.encode(cols["queue"], numbers)
        parts.append((np.array(numbers), tidx, qidx, contacts, aht))
    if not parts:
        raise InputError(f"{path}: no data rows")
    rows, tidx, qidx, contacts, aht = (np.concatenate(col) for col in zip(*parts, strict=True))
    return rows, times, tidx, queues, qidx, contacts, aht


def build_history(rows: list[HistoryRow], path: Path | str, zone: tzinfo | None = None) -> History:
    """A `History` from rows already parsed (importers, tests)."""
    if not rows:
        raise InputError(f"{path}: no data rows")
    numbers = [r.row or i + 2 for i, r in enumerate(rows)]
    times, queues = Codes(), Codes()
    tidx = times.encode([r.interval_start.isoformat() for r in rows], numbers)
    qidx = queues.encode([r.queue for r in rows], numbers)
    aht = np.array([np.nan if r.aht_s is None else r.aht_s for r in rows], dtype=float)
    contacts = np.array([r.contacts for r in rows], dtype=float)
    return grid.build(path, np.array(numbers), times, tidx, queues, qidx, contacts, aht, zone)


def write_history(path: Path, rows: Iterable[HistoryRow], with_aht: bool = True) -> int:
    count = 0
    with writing_csv(path) as writer:
        writer.writerow(HISTORY_COLUMNS if with_aht else HISTORY_COLUMNS[:3])
        for row in rows:
            fields = [row.interval_start.isoformat(), row.queue, _num(row.contacts)]
            if with_aht:
                fields.append("" if row.aht_s is None else f"{row.aht_s:.1f}")
            writer.writerow(fields)
            count += 1
    return count


def read_events(path: Path, zone: tzinfo | None = None, clock: tzinfo | None = None) -> list[Event]:
    """The planner's events CSV: `start,end,region,queue,kind,factor` (region, queue, factor
    may be empty: every region, every queue, estimate the factor from history), on the
    center's `clock` (default `zone`; events written in UTC for a center in New York), else
    each event on its own start's. Times without offset are on `zone`'s clock, refused
    without it as the history's are (`--timezone` says whose clock they are on). A row
    that repeats another's event (start, end, region, queue and kind) is refused: its
    factor would apply twice."""
    clock = clock or zone
    events: list[Event] = []
    first: dict[tuple[datetime, datetime, str | None, str | None, str], int] = {}
    for number, fields in csvtext.rows(path, EVENT_COLUMNS, ("start", "end", "kind")):
        where = f"{path}: row {number}: field"
        start = parse_time(fields["start"], f"{where} start", zone)
        end = parse_time(fields["end"], f"{where} end", zone)
        on = clock or start.tzinfo
        if end <= start:
            raise InputError(f"{where} end: expected a time after start, found {fields['end']!r}")
        kind = fields["kind"].strip()
        if not kind:
            raise InputError(f"{where} kind: expected an event kind, found ''")
        factor = parse_number(fields.get("factor", ""), f"{where} factor", allow_empty=True)
        if factor is not None and not 0 < factor <= MAX_EVENT_FACTOR:
            raise InputError(
                f"{where} factor: expected a number > 0 and at most {MAX_EVENT_FACTOR:g} "
                f"(the event's contacts over the usual; kind 'closed' closes), "
                f"found {fields['factor']!r}"
            )
        event = Event(
            start=start.astimezone(on).replace(tzinfo=None),
            end=end.astimezone(on).replace(tzinfo=None),
            kind=kind,
            region=fields.get("region", "").strip() or None,
            queue=fields.get("queue", "").strip() or None,
            factor=factor,
            row=number,
        )
        key = (event.start, event.end, event.region, event.queue, event.kind)
        if key in first:
            raise InputError(
                f"{path}: row {number}: repeats the event of row {first[key]} (the same "
                "start, end, region, queue and kind): its factor would apply twice; keep one"
            )
        first[key] = number
        events.append(event)
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
    """The rows of one history's forecast, on its clock `zone`, written on `written`."""
    return write_forecast_rows(path, ((row, zone, written) for row in forecast.rows))


def write_forecast_rows(
    path: Path, rows: Iterable[tuple[ForecastRow, tzinfo, tzinfo | None]]
) -> int:
    """Forecast rows, each with its clock and the clock it is written on (queues on
    several clocks: `service.OnClocks.rows`)."""
    count = 0
    with writing_csv(path) as writer:
        writer.writerow(FORECAST_COLUMNS)
        for row, zone, written in rows:
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
            count += 1
    return count


def write_peak_rows(path: Path, peaks: Iterable[tuple[Peak, tzinfo, tzinfo | None]]) -> None:
    """Peaks, each with its clock and the clock it is written on."""
    with writing_csv(path) as writer:
        writer.writerow(
            ["interval_start", "queue", "contacts", "threshold", "probability", "lead_h"]
        )
        for peak, zone, written in peaks:
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
