"""Privacy by default: masking of caller numbers, card numbers and chat text, an audit
log, retention.

Masking is pure text work, used by reports and by a logging filter installed in every
process. The audit log and retention are use cases of `router.reports.service`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from router.redaction import mask_card_numbers
from switchboard.common.configfile import ConfigReader

log = logging.getLogger(__name__)

DAY_MS = 86_400_000

# A phone number: international (+, then at least 6 digits), national (a leading 0 and
# 8-14 more digits) or North American (3-3-4 digits, the area code maybe in brackets),
# each possibly split by spaces, dots or dashes. Other digit runs (ids, epoch times,
# ports) are left alone so that logs stay readable.
_SEP = r"[ .\-]"
_PHONE = re.compile(
    r"(?<![\w/])(?:"
    rf"\+\d(?:{_SEP}?\d){{5,}}"
    rf"|0\d(?:{_SEP}?\d){{7,13}}"
    rf"|(?:\(\d{{3}}\) ?|\d{{3}}{_SEP})\d{{3}}{_SEP}\d{{4}}"
    r")(?!\w)"
)
# The user part of a SIP URI (often the caller's number): sip:+4420794609@host.
_SIP_USER = re.compile(r"(sips?:)([^@\s;>]+)(@)")
# Fields of a contact record or hash that identify a person.
PERSONAL_FIELDS = ("customer_id", "callback_uri", "customer_token")


def mask_identifier(value: str, keep: int = 2) -> str:
    """Keep the last `keep` characters, hide the rest: '+442079460958' -> '•••••••••••58'."""
    if not value:
        return value
    shown = value[-keep:] if len(value) > keep + 2 else ""
    return "•" * (len(value) - len(shown)) + shown


def mask_phone_numbers(text: str) -> str:
    """Hide every phone number and SIP user in free text, keeping the last two digits."""
    text = _SIP_USER.sub(lambda m: m.group(1) + mask_identifier(m.group(2)) + m.group(3), text)
    return _PHONE.sub(lambda m: mask_identifier(re.sub(r"[ .\-]", "", m.group(0))), text)


def mask_chat_text(text: str) -> str:
    """Chat content never leaves in clear by default: only its length is shown."""
    return f"[chat text, {len(text)} characters]"


class MaskingFilter(logging.Filter):
    """Logging filter that masks card numbers, phone numbers and SIP users in every
    message. Card numbers are masked where text comes in (`router.redaction`): this is
    the second line of defence, for a number that reached a log by another way.

    Install once at start-up: `install_log_masking()`; `extra={"chat_text": ...}` on a
    log call is replaced by its masked form.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = mask_phone_numbers(mask_card_numbers(message))
        record.args = None
        if hasattr(record, "chat_text"):
            record.chat_text = mask_chat_text(str(record.chat_text))
        return True


def install_log_masking(logger: logging.Logger | None = None) -> MaskingFilter:
    """Attach the filter to every handler of `logger` (the root logger by default)."""
    target = logger or logging.getLogger()
    mask = MaskingFilter()
    for handler in target.handlers:
        handler.addFilter(mask)
    target.addFilter(mask)
    return mask


# -- configuration -----------------------------------------------------------------------


@dataclass(frozen=True)
class PrivacyConfig:
    """`[privacy]`: how long contact content is kept, and whether logs are masked."""

    retention_days: float | None = None
    mask_logs: bool = True


def read_privacy(reader: ConfigReader) -> PrivacyConfig:
    """Read `[privacy]` (optional); faults go to the reader like every other section."""
    section = reader.section("privacy")
    days = section.number("retention_days", None, minimum=1)
    return PrivacyConfig(retention_days=days, mask_logs=section.boolean("mask_logs", True))
