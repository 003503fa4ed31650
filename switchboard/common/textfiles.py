"""Files a person hands the command line, read and written so that a fault is one line
naming the file (and the row, when it is a byte that is not UTF-8): a folder given for a
file, a folder that does not exist (none is created), no permission, a full disk."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from switchboard.common.errors import InputError

if TYPE_CHECKING:
    from _csv import Reader as CsvReader
    from _csv import Writer as CsvWriter


def cannot(path: Path, what: str, error: OSError) -> InputError:
    """`path: cannot read: Is a directory` and the like."""
    return InputError(f"{path}: cannot {what}: {error.strerror or error}")


def not_utf8(path: Path, data: bytes | None = None) -> InputError:
    """The fault of a file that is not UTF-8, naming the row (line) of its first bad byte;
    without `data` the file is read again as bytes to find it (a reader decodes a block
    at a time, past the row it is on)."""
    try:
        raw = path.read_bytes() if data is None else data
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        row = raw.count(b"\n", 0, error.start) + 1
        return InputError(f"{path}: row {row}: not UTF-8 text (save it as UTF-8)")
    except OSError:
        pass
    return InputError(f"{path}: not UTF-8 text (save it as UTF-8)")


def read_text(path: Path) -> str:
    """A UTF-8 file (a byte-order mark allowed) as text."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as error:
        raise cannot(path, "read", error) from None
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise not_utf8(path, data) from None


@contextmanager
def writing_csv(path: Path) -> Iterator[CsvWriter]:
    """A CSV writer on `path` (UTF-8, LF); its folder must exist."""
    try:
        with path.open("w", newline="", encoding="utf-8") as handle:
            yield csv.writer(handle, lineterminator="\n")
    except OSError as error:
        raise cannot(path, "write", error) from None


def records(
    rows: CsvReader, header: list[str], source: object
) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows after the header, each with its row (line) number and its fields by column:
    blank rows skipped, a row with more or fewer fields than the header refused (a stray
    comma would shift every field after it). `rows`: a `csv.reader` past its header."""
    for fields in rows:
        if not any(field.strip() for field in fields):
            continue
        line = rows.line_num
        if len(fields) != len(header):
            raise InputError(
                f"{source}: row {line}: expected {len(header)} fields "
                f"({','.join(header)}), found {len(fields)}"
            )
        yield line, dict(zip(header, fields, strict=True))
