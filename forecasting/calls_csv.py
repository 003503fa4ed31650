"""The generic one-row-per-call CSV (`calls-csv`) most ACD and CRM exports can be made into.

Columns, by header name in any case and order: `arrived_at` (ISO 8601, with a UTC offset
or on the `--timezone` clock) and `queue` are required; `handle_s` (talk + wrap-up seconds
of a handled call; empty or 0: not handled) and `outcome` (free text, kept for the reader,
not used) are optional; other columns are ignored. Comma, semicolon, tab or pipe separate
fields (the one that splits the header into the required names); a UTF-8 byte-order mark
is allowed.
"""

from __future__ import annotations

import csv
from array import array
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

import numpy as np

from forecasting import grid
from forecasting.calls import Call, Imported, Intervals
from forecasting.csvtext import parse_number, parse_time
from forecasting.zones import offset_text
from switchboard.common.errors import InputError
from switchboard.common.textfiles import split_header

REQUIRED = ("arrived_at", "queue")
OPTIONAL = ("handle_s", "outcome")
BOM = b"\xef\xbb\xbf"


def read(path: Path, width_min: int, zone: ZoneInfo | None) -> Imported:
    """Calls of `path` in history rows of `width_min` minutes on the wall clock of `zone`
    (each arrival's own offset when None)."""
    intervals = Intervals(width_min, zone)
    offsets: dict[timedelta, int] = {}  # offset -> first row with it
    # per call: UTC seconds, offset seconds, row (compact: a file may hold millions)
    epochs, seconds, numbers = array("q"), array("q"), array("q")
    for number, call in _calls(path, zone):
        offset = call.arrived.utcoffset() or timedelta(0)
        offsets.setdefault(offset, number)
        epochs.append(int(call.arrived.timestamp()))
        seconds.append(int(offset.total_seconds()))
        numbers.append(number)
        intervals.add(call)
    if not intervals.calls:
        raise InputError(f"{path}: no data rows")
    if zone is None:
        _check_one_zone(path, offsets)
        # two offsets an hour apart are a daylight-saving switch only if each then holds
        # for weeks, as the forecaster reads a history: else they are two zones' rows
        grid.check_offsets(
            path,
            np.frombuffer(epochs, dtype=np.int64),
            np.frombuffer(seconds, dtype=np.int64),
            numbers,
            "arrived_at",
            "; give --timezone Area/City, the centre's zone",
        )
    return intervals.result()


def _check_one_zone(path: Path, offsets: dict[timedelta, int]) -> None:
    """Without --timezone the offsets are the centre's clock: one zone, at most a
    daylight-saving hour apart, else the history would mix clocks."""
    distinct = sorted(offsets)
    if len(distinct) > 2 or (len(distinct) == 2 and distinct[1] - distinct[0] > timedelta(hours=1)):
        row = sorted(offsets.values())[1]
        shown = ", ".join(offset_text(o) for o in distinct)
        raise InputError(
            f"{path}: row {row}: field arrived_at: offsets of several time zones ({shown}); "
            "give --timezone Area/City, the centre's zone"
        )


def _calls(path: Path, zone: ZoneInfo | None) -> Iterator[tuple[int, Call]]:
    try:
        handle = path.open("rb")
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror}") from None
    with handle:
        lines = _decoded(handle)
        try:
            first = next(lines, "")
        except UnicodeDecodeError:
            raise InputError(f"{path}: row 1: not UTF-8 text") from None
        if not first.strip():
            raise InputError(f"{path}: row 1: empty, expected a header row")
        delimiter, header = _header(path, first)
        col = {name: header.index(name) for name in REQUIRED + OPTIONAL if name in header}
        reader = csv.reader(lines, delimiter=delimiter)
        number = 1
        try:
            for fields in reader:
                number += 1
                if all(not f.strip() for f in fields):
                    continue
                if len(fields) != len(header):
                    raise InputError(
                        f"{path}: row {number}: expected {len(header)} fields, found {len(fields)}"
                    )
                yield number, _call(fields, col, f"{path}: row {number}: field", zone)
        except UnicodeDecodeError:
            raise InputError(f"{path}: row {number + 1}: not UTF-8 text") from None
        except csv.Error as error:
            raise InputError(f"{path}: row {number + 1}: {error}") from None


def _decoded(handle: BinaryIO) -> Iterator[str]:
    """Lines decoded one at a time, so that a decoding fault names its row."""
    for number, raw in enumerate(handle):
        yield (raw.removeprefix(BOM) if number == 0 else raw).decode("utf-8")


def _header(path: Path, line: str) -> tuple[str, list[str]]:
    """The delimiter that splits the header line into the required names, and the names."""
    delimiter, names = split_header(line, REQUIRED)
    for name in REQUIRED:
        if name not in names:
            raise InputError(
                f"{path}: row 1: column {name!r}: missing (calls-csv needs "
                f"{', '.join(REQUIRED)}; optional {', '.join(OPTIONAL)})"
            )
    for name in REQUIRED + OPTIONAL:
        if names.count(name) > 1:
            raise InputError(f"{path}: row 1: column {name!r}: appears twice")
    return delimiter, names


def _call(fields: list[str], col: dict[str, int], where: str, zone: ZoneInfo | None) -> Call:
    arrived = parse_time(fields[col["arrived_at"]], f"{where} arrived_at", zone)
    queue = fields[col["queue"]].strip()
    if not queue:
        raise InputError(f"{where} queue: expected a queue name, found ''")
    handle_s = None
    if "handle_s" in col:
        handle_s = parse_number(
            fields[col["handle_s"]].strip(), f"{where} handle_s", allow_empty=True
        )
    return Call(arrived, queue, handle_s)
