"""Files a person hands the command line, read and written so that a fault is one line
naming the file (and the row, when it is a byte that is not UTF-8): a folder given for a
file, a folder that does not exist (none is created), no permission, a full disk."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from switchboard.common.errors import InputError

if TYPE_CHECKING:
    from _csv import Reader as CsvReader
    from _csv import Writer as CsvWriter


# What separates the fields of a CSV a person hands in: the contract's comma, or what a
# spreadsheet in a locale with a decimal comma (semicolon) or another tool writes.
DELIMITERS = ",;\t|"


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


def header_names(fields: list[str]) -> list[str]:
    """Column names as the contract spells them: a spreadsheet's `Interval_Start ` and
    `Interval Start` are `interval_start`."""
    return ["_".join(name.split()).lower() for name in fields]


def split_header(line: str, wanted: Iterable[str]) -> tuple[str, list[str]]:
    """The separator of `DELIMITERS` that splits a header line into the most of the `wanted`
    column names (in any case and order), and the names so split (`header_names`); the
    comma when no other finds more."""
    wanted = tuple(wanted)
    splits = [
        (delimiter, header_names(next(csv.reader([line], delimiter=delimiter), [])))
        for delimiter in DELIMITERS
    ]
    return max(splits, key=lambda split: sum(name in split[1] for name in wanted))


def separator_hint(text: str, width: int, delimiter: str) -> str:
    """For a row that does not split into the header's `width` fields at the header's
    `delimiter`: `; this row's fields are separated by ';', the header's by ','` when
    another of `DELIMITERS` splits it so (an export with its header written by hand, or
    two files joined), else ""."""
    for other in DELIMITERS:
        if other != delimiter and len(next(csv.reader([text], delimiter=other), [])) == width:
            return (
                f"; this row's fields are separated by {other!r}, the header's by "
                f"{delimiter!r}: expected one separator all through"
            )
    return ""


def records(
    rows: CsvReader, header: list[str], source: object, delimiter: str = ","
) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows after the header, each with its row (line) number and its fields by column:
    blank rows skipped, a row with more or fewer fields than the header refused (a stray
    comma would shift every field after it). `rows`: a `csv.reader` past its header;
    `delimiter`: the separator it splits at, named in that fault when not a comma."""
    for fields in rows:
        if not any(field.strip() for field in fields):
            continue
        line = rows.line_num
        if len(fields) != len(header):
            hint = separator_hint(delimiter.join(fields), len(header), delimiter) or (
                ""
                if delimiter == ","
                else f"; fields are separated by {delimiter!r} here, so a field holding "
                f"{delimiter!r} needs quotes"
            )
            raise InputError(
                f"{source}: row {line}: expected {len(header)} fields "
                f"({','.join(header)}), found {len(fields)}{hint}"
            )
        yield line, dict(zip(header, fields, strict=True))
