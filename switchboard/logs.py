"""Logging of every process (the node, one-off commands, SIP workers): level, format
(plain text or one JSON object per line) and the masking filter, set up once.

A record is one line in either format: in plain text, control characters in a message
(what a request wrote into a path, a query or an id) are escaped, so no request can
write a line of its own, a forged record, into the log; JSON escapes them anyway.
Only a traceback follows its record on lines of its own."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from router.reports.privacy import install_log_masking

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries that log what they are given: the translation engine writes each chat
# message, word by word, at INFO. They speak from WARNING up, whatever the level.
QUIET_LIBRARIES = ("argostranslate", "ctranslate2", "stanza")
FORMATS = ("text", "json")
_configured = {"format": "text"}
# What would break a line, rewrite it on a terminal or reorder what a reader sees: the
# C0 and C1 controls and DEL, Unicode's line and paragraph separators, and the
# bidirectional embeddings, overrides and isolates.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match[str]) -> str:
    character = match.group()
    code = ord(character)
    return _NAMED.get(character) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def escape_controls(text: str) -> str:
    """`text` kept on one line: each control character written as its escape (`\\n`,
    `\\r`, `\\x1b`, `\\u2028`), the rest as it is."""
    return _CONTROLS.sub(_escaped, text)


class OneLineFormatter(logging.Formatter):
    """The plain-text format, each record's line (time, level, logger, message) with its
    control characters escaped; a traceback still follows on lines of its own."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return escape_controls(super().formatMessage(record))


def configured_format() -> str:
    """The format `configure_logging` last set (SIP workers log the same way)."""
    return _configured["format"]


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler on whatever `sys.stderr` is when a record is written: one set up in a
    process whose stderr is later replaced (a test's capture, closed after it) would
    otherwise write to the closed stream ("Logging error ... closed file"). The standard
    library's last-resort handler does the same, but its class is private."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        """StreamHandler sets it on creation; the stream is always the current one."""


def _not_quiet(record: logging.LogRecord) -> bool:
    """Drops a quiet library's record below WARNING (a filter on the handler: the
    library sets its own loggers' levels when imported, e.g. argostranslate.utils INFO)."""
    quiet = record.name.split(".", 1)[0] in QUIET_LIBRARIES
    return not quiet or record.levelno >= logging.WARNING


def configure_logging(level: str = "INFO", log_format: str = "text") -> None:
    """Log to standard error at `level`, as text or JSON lines, with phone numbers, SIP
    users and chat text masked in every record, and libraries that would log chat text
    (`QUIET_LIBRARIES`) kept to warnings."""
    handler = _CurrentStderr()
    if log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(OneLineFormatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    handler.addFilter(_not_quiet)
    install_log_masking(root)
    _configured["format"] = log_format
