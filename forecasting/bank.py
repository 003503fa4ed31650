"""Importer for the "Anonymous Bank" call records (Technion SEE lab, one row per call).

Each call is counted in the interval of its arrival (`date` + `vru_entry`, local time
of the bank); the queue is the call `type`. AHT is the mean `ser_time` of the calls
that reached an agent (`outcome` AGENT with a service time), so abandoned calls count
as contacts but do not pull handle time down.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from forecasting.model import HistoryRow
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


def read_calls(path: Path, width_min: int, zone: ZoneInfo) -> list[HistoryRow]:
    """Aggregate the calls of `path` into history rows of `width_min` minutes."""
    counts: dict[tuple[datetime, str], int] = defaultdict(int)
    service: dict[tuple[datetime, str], list[float]] = defaultdict(list)
    try:
        handle = path.open(newline="", encoding="utf-8")
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
            minute = (arrival.hour * 60 + arrival.minute) // width_min * width_min
            start = arrival.replace(hour=minute // 60, minute=minute % 60, second=0)
            queue = fields[col["type"]].strip()
            if not queue:
                raise InputError(f"{where} type: expected a call type, found ''")
            key = (start, queue)
            counts[key] += 1
            ser_text = fields[col["ser_time"]].strip()
            try:
                ser_time = float(ser_text)
            except ValueError:
                raise InputError(
                    f"{where} ser_time: expected seconds, found {ser_text!r}"
                ) from None
            if ser_time < 0:
                raise InputError(f"{where} ser_time: expected seconds >= 0, found {ser_text!r}")
            if fields[col["outcome"]].strip() == "AGENT" and ser_time > 0:
                service[key].append(ser_time)
    rows = []
    for (start, queue), count in sorted(counts.items()):
        times = service.get((start, queue))
        aht = sum(times) / len(times) if times else None
        rows.append(HistoryRow(start.replace(tzinfo=zone), queue, float(count), aht))
    if not rows:
        raise InputError(f"{path}: no calls")
    return rows
