"""Privacy by default: masking of caller numbers and chat text, an audit log, retention.

Masking is pure text work and is used by reports and by a logging filter. The audit
log and retention touch Redis: both are small, and they keep personal data handling in
one place a reviewer can read end to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from switchboard.common.configfile import ConfigReader

log = logging.getLogger(__name__)

DAY_MS = 86_400_000

# A phone number: international (+, then at least 6 digits, possibly split by spaces,
# dots or dashes) or national (a leading 0 and 8-14 more digits). Other digit runs
# (ids, epoch times, ports) are left alone so that logs stay readable.
_PHONE = re.compile(r"(?<![\w/])(?:\+\d(?:[ .\-]?\d){5,}|0\d{8,14})(?!\w)")
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


def mask_record(record: Mapping[str, str]) -> dict[str, str]:
    """A contact record fit for a report or log: identifiers masked, times and counts kept."""
    masked = dict(record)
    for name in PERSONAL_FIELDS:
        if masked.get(name):
            masked[name] = mask_identifier(masked[name])
    return masked


class MaskingFilter(logging.Filter):
    """Logging filter that masks phone numbers and SIP users in every message.

    Install once at start-up: `install_log_masking()`; `extra={"chat_text": ...}` on a
    log call is replaced by its masked form.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = mask_phone_numbers(message)
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


# -- audit log ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditEntry:
    at_ms: int
    actor: str
    action: str
    detail: dict[str, Any]


class AuditLog:
    """Who read or exported what: an append-only Redis stream, kept a year by length."""

    MAX_ENTRIES = 1_000_000

    def __init__(self, client: Any, prefix: str = "sb") -> None:
        self.client = client
        self.key = f"{prefix}:audit"

    async def append(self, actor: str, action: str, **detail: Any) -> None:
        await self.client.xadd(
            self.key,
            {
                "at_ms": str(int(time.time() * 1000)),
                "actor": actor,
                "action": action,
                "detail": json.dumps(detail, sort_keys=True, default=str),
            },
            maxlen=self.MAX_ENTRIES,
            approximate=True,
        )

    async def entries(self, count: int = 1000) -> list[AuditEntry]:
        rows = await self.client.xrevrange(self.key, count=count)
        return [
            AuditEntry(int(f["at_ms"]), f["actor"], f["action"], json.loads(f["detail"]))
            for _, f in reversed(rows)
        ]


# -- retention ---------------------------------------------------------------------------

RETAINED = "records:retained"

# Move old records to the retained stream, without personal fields, in one atomic step,
# and delete the contact hashes they came from. Both streams share the {rt} hash tag.
_RETAIN_SCRIPT = """
local records, retained, tag = KEYS[1], KEYS[2], ARGV[1]
local cutoff, count = ARGV[2], tonumber(ARGV[3])
local personal = {customer_id = true, callback_uri = true, customer_token = true}
local batch = redis.call('XRANGE', records, '-', '(' .. cutoff .. '-0', 'COUNT', count)
local ids = {}
for _, entry in ipairs(batch) do
  local id, fields, kept, cid = entry[1], entry[2], {}, ''
  for i = 1, #fields, 2 do
    local name, value = fields[i], fields[i + 1]
    if name == 'contact_id' then cid = value end
    if personal[name] then value = '' end
    kept[#kept + 1] = name
    kept[#kept + 1] = value
  end
  redis.call('XADD', retained, id, unpack(kept))
  redis.call('XDEL', records, id)
  if cid ~= '' then redis.call('DEL', tag .. 'contact:' .. cid) end
  ids[#ids + 1] = cid
end
return ids
"""


def retention_cutoff_ms(now_ms: int, days: float) -> int:
    return now_ms - int(days * DAY_MS)


async def apply_retention(
    client: Any, prefix: str, days: float, now_ms: int | None = None, batch: int = 500
) -> int:
    """Delete contact content older than `days`, keeping every record's counts and times.

    Records move to the retained stream with customer ids blanked; chat transcripts,
    contact hashes and customer tokens go. Returns how many contacts were scrubbed.
    """
    now = int(time.time() * 1000) if now_ms is None else now_ms
    cutoff = retention_cutoff_ms(now, days)
    tag = f"{prefix}:{{rt}}:"
    script = client.register_script(_RETAIN_SCRIPT)
    scrubbed = 0
    while True:
        ids = await script(keys=[f"{tag}records", f"{tag}{RETAINED}"], args=[tag, cutoff, batch])
        contact_ids = [str(cid) for cid in ids if cid]
        if contact_ids:
            await client.delete(*[f"{prefix}:chat:{cid}" for cid in contact_ids])
        scrubbed += len(ids)
        if len(ids) < batch:
            return scrubbed


async def run_retention(
    client: Any, prefix: str, days: float, stop: asyncio.Event, every_s: float = 3600.0
) -> None:
    """Scrub old contacts hourly while the node runs; a Redis error is retried, not fatal."""
    while not stop.is_set():
        try:
            scrubbed = await apply_retention(client, prefix, days)
            if scrubbed:
                log.info("retention: scrubbed %d contacts older than %g days", scrubbed, days)
        except Exception as failure:  # Redis down: try again next round
            log.warning("retention failed: %s", failure)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)


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
