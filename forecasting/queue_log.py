"""The grammar of Asterisk's `queue_log` file: one event a line, `|`-separated.

`epoch|callid|queuename|agent|event|data1|data2|...`, as the Asterisk documentation
("Operation > Logging > Queue Logs") describes it: a Unix timestamp, the caller channel's
unique id (or NONE/REALTIME/MANAGER on lines that are no call), the queue, the member,
the event, then the event's parameters. The file always starts a line with the Unix
timestamp; a date-time `time` appears only in the realtime (database) backend's table,
which is not this file (export that table as calls-csv instead).

This module only reads lines and names their fields; what the events mean for volume is
`asterisk.py`.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from forecasting.csvtext import parse_number
from switchboard.common.errors import InputError

FIELDS = ("time", "callid", "queuename", "agent", "event")

# The parameters (data1, data2, ...) of the call events, as documented.
PARAMETERS: dict[str, tuple[str, ...]] = {
    "ENTERQUEUE": ("url", "callerid", "origposition", "calleridname"),
    "CONNECT": ("holdtime", "bridgedchanneluniqueid", "ringtime"),
    "COMPLETECALLER": ("holdtime", "calltime", "origposition"),
    "COMPLETEAGENT": ("holdtime", "calltime", "origposition"),
    # before Asterisk 1.4 TRANSFER had only extension and context
    "TRANSFER": ("extension", "context", "holdtime", "calltime", "origposition"),
    "BLINDTRANSFER": ("extension", "context", "holdtime", "calltime", "origposition"),
    "ATTENDEDTRANSFER": ("method", "method-data", "holdtime", "calltime", "origposition"),
    "ABANDON": ("position", "origposition", "waittime"),
    "EXITEMPTY": ("position", "origposition", "waittime"),
    "EXITWITHKEY": ("key", "position", "origposition", "waittime"),
    "EXITWITHTIMEOUT": ("position", "origposition", "waittime"),
    "RINGNOANSWER": ("ringtime",),
}


@dataclass(frozen=True, slots=True)
class Line:
    """One event line; `row` is its line number in the file (the first line is 1)."""

    path: Path
    row: int
    time: datetime  # aware, UTC
    callid: str
    queue: str
    agent: str
    event: str
    data: tuple[str, ...]

    def seconds(self, name: str) -> float | None:
        """The documented parameter `name` as seconds; None when the line lacks it."""
        index = PARAMETERS[self.event].index(name)
        if index >= len(self.data) or not self.data[index].strip():
            return None
        where = f"{self.path}: row {self.row}: field data{index + 1} ({name})"
        return parse_number(self.data[index].strip(), where)

    def fault(self, field: str, message: str) -> InputError:
        return InputError(f"{self.path}: row {self.row}: field {field}: {message}")


def read_lines(path: Path) -> Iterator[Line]:
    """The event lines of `path`; blank lines carry nothing and are passed over."""
    try:
        # Caller ID names may hold bytes of any encoding; no field read here depends on them.
        # A byte-order mark (a file saved by an editor) is dropped, as in every file read.
        handle = path.open(newline="", encoding="utf-8-sig", errors="replace")
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror}") from None
    with handle:
        reader = csv.reader(handle, delimiter="|", quoting=csv.QUOTE_NONE)
        for row, fields in enumerate(reader, start=1):
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            if len(fields) < len(FIELDS):
                raise InputError(
                    f"{path}: row {row}: expected at least {len(FIELDS)} |-separated fields "
                    f"({'|'.join(FIELDS)}), found {len(fields)} (not a queue_log file?)"
                )
            time_text, callid, queue, agent, event = (f.strip() for f in fields[:5])
            yield Line(
                path,
                row,
                _time(time_text, f"{path}: row {row}: field time"),
                callid,
                queue,
                agent,
                event.upper(),
                tuple(fields[5:]),
            )


def _time(text: str, where: str) -> datetime:
    try:
        epoch = float(text)
    except ValueError:
        raise InputError(
            f"{where}: expected a Unix timestamp (seconds since 1970), found {text!r}"
        ) from None
    if not math.isfinite(epoch) or epoch < 0:
        raise InputError(f"{where}: expected a Unix timestamp (seconds since 1970), found {text!r}")
    try:
        return datetime.fromtimestamp(epoch, UTC)
    except (OverflowError, OSError, ValueError):
        raise InputError(
            f"{where}: expected a Unix timestamp, found {text!r} (out of range)"
        ) from None
