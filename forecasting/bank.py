"""Importer for the "Anonymous Bank" call records (Technion SEE lab, one row per call).

Each call is counted in the interval of its arrival (`date` + `vru_entry`, local time
of the bank); the queue is the call `type`. A call that reached an agent (`outcome`
AGENT) is handled with its `ser_time` (which a call no agent served may leave empty); the
counting and averaging is `calls.Intervals`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from forecasting.calls import Call, Imported, Intervals
from forecasting.csvtext import parse_number
from switchboard.common.errors import InputError

REQUIRED = ("type", "date", "vru_entry", "outcome", "ser_time")
DEFAULT_TIMEZONE = "Asia/Jerusalem"


def _clock(text: str, where: str) -> timedelta:
    parts = text.strip().split(":")
    try:
        hours, minutes, seconds = (int(p) for p in parts)
    except ValueError:
        raise InputError(f"{where}: expected a clock time H:MM:SS, found {text!r}") from None
    if not (0 <= minutes < 60 and 0 <= seconds < 60 and 0 <= hours < 24):
        raise InputError(f"{where}: expected a clock time H:MM:SS, found {text!r}")
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def read(path: Path, width_min: int, zone: ZoneInfo | None) -> Imported:
    """Aggregate the calls of `path` into history rows of `width_min` minutes; the record
    times are the wall clock of `zone` (default the bank's)."""
    zone = zone or ZoneInfo(DEFAULT_TIMEZONE)
    intervals = Intervals(width_min, zone)
    intervals.add_all(_calls(path, zone))
    if not intervals.calls:
        raise InputError(f"{path}: no calls")
    return intervals.result()


def _calls(path: Path, zone: ZoneInfo) -> Iterator[Call]:
    try:
        # Agent names and line ids may hold bytes of any encoding (other months, other
        # exports); no field read here depends on them. A byte-order mark is dropped.
        handle = path.open(newline="", encoding="utf-8-sig", errors="replace")
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror}") from None
    with handle:
        reader = csv.reader(handle, delimiter="\t")
        header = [h.strip() for h in next(reader, [])]
        for name in REQUIRED:
            if name not in header:
                raise InputError(
                    f"{path}: row 1: column {name!r}: missing (not an anonymous-bank file?)"
                )
        col = {name: header.index(name) for name in REQUIRED}
        for number, fields in enumerate(reader, start=2):
            if not fields:
                continue
            if len(fields) < len(header):
                raise InputError(
                    f"{path}: row {number}: expected {len(header)} fields, found {len(fields)}"
                )
            where = f"{path}: row {number}: field"
            date_text = fields[col["date"]].strip()
            try:
                day = datetime.strptime(date_text, "%y%m%d")
            except ValueError:
                raise InputError(f"{where} date: expected YYMMDD, found {date_text!r}") from None
            arrival = day + _clock(fields[col["vru_entry"]], f"{where} vru_entry")
            queue = fields[col["type"]].strip()
            if not queue:
                raise InputError(f"{where} type: expected a call type, found ''")
            served = fields[col["outcome"]].strip() == "AGENT"
            # a call no agent served may have no service time at all (an empty field)
            ser_time = parse_number(
                fields[col["ser_time"]].strip(), f"{where} ser_time", allow_empty=not served
            )
            yield Call(arrival.replace(tzinfo=zone), queue, ser_time if served else None)
