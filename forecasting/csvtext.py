"""CSV text into columns, a block of rows at a time, every fault named.

A fault is one `InputError` naming the file, the row (the header is row 1, as a
spreadsheet shows it) and the field, so that the CLI prints one line and exits 2. Files
are UTF-8 with or without a byte-order mark, CRLF or LF. Plain files (no quotes) are split
at commas a block at a time (a year of 5-minute rows of a hundred queues is millions of
rows: read whole, their strings took 1.5 GB); quoted ones go through the csv module.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path

import numpy as np

from forecasting.model import FloatArray, IntArray
from switchboard.common.errors import InputError
from switchboard.common.textfiles import DELIMITERS, separator_hint, split_header

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


def rows(
    path: Path,
    allowed: tuple[str, ...],
    required: tuple[str, ...],
    ignored: list[str] | None = None,
) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, fields) of a CSV with a checked header (`check_header`)."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror}") from None
    with handle:
        try:
            first = handle.readline()
        except UnicodeDecodeError:
            raise InputError(f"{path}: row 1: not UTF-8 text") from None
        if not first.strip():
            raise InputError(f"{path}: row 1: empty file, expected a header row")
        delimiter, header = split_header(first.rstrip("\r\n"), allowed)
        reader = csv.reader(handle, delimiter=delimiter)
        check_header(path, header, allowed, required, ignored)
        number = 1
        try:
            for fields in reader:
                number += 1
                if len(fields) != len(header):
                    if not fields or all(not f.strip() for f in fields):
                        continue
                    hint = separator_hint(delimiter.join(fields), len(header), delimiter)
                    raise InputError(
                        f"{path}: row {number}: expected {len(header)} fields, "
                        f"found {len(fields)}{hint}"
                    )
                yield number, dict(zip(header, fields, strict=True))
        except UnicodeDecodeError:
            raise InputError(f"{path}: row {number + 1}: not UTF-8 text") from None


def column_chunks(
    path: Path,
    allowed: tuple[str, ...],
    required: tuple[str, ...],
    ignored: list[str] | None = None,
) -> Iterator[tuple[list[int], dict[str, list[str]]]]:
    """Row numbers and columns of a CSV, a chunk of rows at a time (a year of 5-minute rows
    of a hundred queues is millions of rows: read whole, their strings took 1.5 GB).
    Plain files (no quotes) take a fast split path. Header as `check_header` reads it."""
    if _has_quote(path):
        yield from _chunked(rows(path, allowed, required, ignored), allowed)
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
            delimiter, header = split_header(first.rstrip("\r\n"), allowed)
            check_header(path, header, allowed, required, ignored)
            number, rest = 2, ""
            while block := handle.read(CHUNK_CHARS):
                block, rest = _whole_lines(rest + block)
                lines = block.splitlines()
                numbers, records = _split(path, lines, number, header, delimiter)
                number += len(lines)
                if numbers:
                    yield numbers, records
            if rest:
                numbers, records = _split(path, [rest], number, header, delimiter)
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
    path: Path, lines: list[str], number: int, header: list[str], delimiter: str = ","
) -> tuple[list[int], dict[str, list[str]]]:
    """Lines from row `number` on, split at `delimiter` into the header's columns."""
    width = len(header)
    if set(map(str.count, lines, itertools.repeat(delimiter))) == {width - 1}:
        # every line has the right number of fields: split the whole chunk at once
        flat = delimiter.join(lines).split(delimiter)
        numbers = list(range(number, number + len(lines)))
        return numbers, {name: flat[i::width] for i, name in enumerate(header)}
    numbers, records = [], []
    for row, line in enumerate(lines, start=number):
        parts = line.split(delimiter)
        if len(parts) != width:
            if not line.strip():
                continue
            hint = separator_hint(line, width, delimiter)
            raise InputError(
                f"{path}: row {row}: expected {width} fields, found {len(parts)}{hint}"
            )
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
class Codes:
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


def check_header(
    path: Path,
    header: list[str],
    allowed: tuple[str, ...],
    required: tuple[str, ...],
    ignored: list[str] | None = None,
) -> None:
    """The required columns are there, once each. A column not `allowed` is refused, or,
    given `ignored`, passed over and named there (an export's `site` or `channel`)."""
    unknown = [name for name in header if name not in allowed]
    other = next((sep for name in unknown for sep in DELIMITERS[1:] if sep in name), None)
    hint = f"; this file's columns are separated by {other!r}: expected ','" if other else ""
    if unknown and ignored is None:
        raise InputError(
            f"{path}: row 1: column {unknown[0]!r}: unknown column "
            f"(expected {','.join(allowed)}){hint}"
        )
    for name in required:
        if name not in header:
            found = ",".join(name or "(no name)" for name in header)
            raise InputError(
                f"{path}: row 1: column {name!r}: missing (found {found}; names in any case "
                f"and order){hint}"
            )
    read = [name for name in header if name in allowed]
    if len(set(read)) != len(read):
        raise InputError(f"{path}: row 1: a column appears twice")
    if ignored is not None:
        ignored += [name or "(no name)" for name in unknown]


def number_column(
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
            where = f"{path}: row {numbers[i]}"
            if texts[i].strip().lower() == field:
                raise InputError(f"{where}: the header again (two exports joined?): keep one")
            parse_number(texts[i], f"{where}: field {field}", allow_empty=optional)
    return values
