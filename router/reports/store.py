"""Contact records, ratings, wrap-ups and the audit log on Redis: every key reports use.

Records are appended by the routing function when a contact ends (`records` stream);
retention moves old ones, without personal fields, to the retained stream. Ratings and
wrap-ups arrive after a contact's record was written, so they are kept beside it, keyed
by contact id, and joined when a report is read.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from router.store import RoutingStore

AUDIT_MAX_ENTRIES = 1_000_000
PAGE = 5000

# Move old records to the retained stream, without personal fields, in one atomic step,
# delete the contact hashes they came from and take those contacts out of their
# customer's history (`Keys.customer`): a history left empty goes with its last entry
# (Redis deletes an empty sorted set), so no customer id outlives its contacts in a key
# name, and a returning customer keeps their later contacts. Every key shares the {rt}
# hash tag.
_RETAIN_SCRIPT = """
local records, retained = KEYS[1], KEYS[2]
local contact_prefix, customer_prefix = ARGV[1], ARGV[4]
local cutoff, count = ARGV[2], tonumber(ARGV[3])
local personal = {customer_id = true, callback_uri = true, customer_token = true}
local batch = redis.call('XRANGE', records, '-', '(' .. cutoff .. '-0', 'COUNT', count)
local ids = {}
for _, entry in ipairs(batch) do
  local id, fields, kept, cid, customer = entry[1], entry[2], {}, '', ''
  for i = 1, #fields, 2 do
    local name, value = fields[i], fields[i + 1]
    if name == 'contact_id' then cid = value end
    if name == 'customer_id' then customer = value end
    if personal[name] then value = '' end
    kept[#kept + 1] = name
    kept[#kept + 1] = value
  end
  redis.call('XADD', retained, id, unpack(kept))
  redis.call('XDEL', records, id)
  if cid ~= '' then redis.call('DEL', contact_prefix .. cid) end
  if cid ~= '' and customer ~= '' then redis.call('ZREM', customer_prefix .. customer, cid) end
  ids[#ids + 1] = cid
end
return ids
"""


@dataclass(frozen=True)
class AuditEntry:
    at_ms: int
    actor: str
    action: str
    detail: dict[str, Any]
    entry_id: str = ""  # its place in the log: a page's `before`


@dataclass(frozen=True)
class AuditPage:
    """Entries of the audit log, newest last; `next`: the `before` of the page of older
    entries, None when there are none."""

    entries: list[AuditEntry]
    next: str | None


class RecordStore:
    """The reports' keys, beside the routing keys of the same prefix."""

    def __init__(self, routing: RoutingStore) -> None:
        self.routing = routing
        self.client = routing.client
        keys = routing.keys
        self._ratings = f"{keys.prefix}:ratings"
        self._ratings_by_channel = f"{keys.prefix}:ratings:by_channel"
        self._wrapups = f"{keys.prefix}:wrapups"
        self._audit = f"{keys.prefix}:audit"

    # -- records ----------------------------------------------------------------------

    async def records_since(self, start_ms: int) -> list[dict[str, str]]:
        """Records (retained ones too) appended since `start_ms`.

        A record's stream id is the server time it was appended, never before the
        contact arrived, so ids before the period's start cannot hold its contacts.
        """
        keys = self.routing.keys
        records: list[dict[str, str]] = []
        for stream in (keys.retained, keys.records):
            cursor = f"{start_ms}-0"
            while True:
                batch = await self.client.xrange(stream, min=cursor, max="+", count=PAGE)
                records += [fields for _, fields in batch]
                if len(batch) < PAGE:
                    break
                cursor = f"({batch[-1][0]}"
        return records

    async def ivr_outcomes_since(self, start_ms: int) -> list[dict[str, str]]:
        """IVR outcomes appended since `start_ms` (`Keys.ivr`): an outcome is appended
        when its call leaves the IVR, never before the call was answered."""
        stream = self.routing.keys.ivr
        found: list[dict[str, str]] = []
        cursor = f"{start_ms}-0"
        while True:
            batch = await self.client.xrange(stream, min=cursor, max="+", count=PAGE)
            found += [fields for _, fields in batch]
            if len(batch) < PAGE:
                return found
            cursor = f"({batch[-1][0]}"

    async def records_after(
        self, cursor: str, pages: int = 1000
    ) -> tuple[str, list[dict[str, str]]]:
        """Records appended after `cursor` (a stream id, or `<ms>-0`), and the new cursor."""
        found: list[dict[str, str]] = []
        for _ in range(pages):  # bounded: 5 million records a call
            batch = await self.client.xrange(
                self.routing.keys.records, min=cursor, max="+", count=PAGE
            )
            found += [fields for _, fields in batch]
            if batch:
                cursor = f"({batch[-1][0]}"
            if len(batch) < PAGE:
                break
        return cursor, found

    async def retain(self, cutoff_ms: int, batch: int) -> list[str]:
        """Move one batch of records older than `cutoff_ms` to the retained stream; the
        ids of the contacts whose hashes (and places in their customer's history) went."""
        keys = self.routing.keys
        script = self.client.register_script(_RETAIN_SCRIPT)
        ids = await script(
            keys=[keys.records, keys.retained],
            args=[keys.contact(""), cutoff_ms, batch, keys.customer("")],
        )
        return [str(cid) for cid in ids]

    # -- ratings and wrap-ups ---------------------------------------------------------------

    async def add_rating(self, contact_id: str, score: int, channel: str) -> bool:
        """Record a contact's rating once; False when it was already rated."""
        if not await self.client.hsetnx(self._ratings, contact_id, score):
            return False
        pipe = self.client.pipeline(transaction=False)
        pipe.hset(
            self.routing.keys.contact(contact_id),
            mapping={"rating": score, "rated_at": int(time.time() * 1000)},
        )
        pipe.hincrby(self._ratings_by_channel, channel, 1)
        await pipe.execute()
        return True

    async def ratings(self) -> dict[str, int]:
        raw = await self.client.hgetall(self._ratings)
        return {contact_id: int(score) for contact_id, score in raw.items()}

    async def set_wrap_up(self, contact_id: str, wrap_up: dict[str, Any]) -> None:
        await self.client.hset(self._wrapups, contact_id, json.dumps(wrap_up))

    async def wrap_ups(self, contact_ids: list[str] | None = None) -> dict[str, dict[str, Any]]:
        if contact_ids is None:
            raw = await self.client.hgetall(self._wrapups)
            return {cid: json.loads(value) for cid, value in raw.items()}
        if not contact_ids:
            return {}
        values = await self.client.hmget(self._wrapups, contact_ids)
        return {
            cid: json.loads(value) for cid, value in zip(contact_ids, values, strict=True) if value
        }

    async def delete_wrap_ups(self, contact_ids: list[str]) -> None:
        if contact_ids:
            await self.client.hdel(self._wrapups, *contact_ids)

    # -- audit log -------------------------------------------------------------------------

    async def append_audit(self, actor: str, action: str, detail: dict[str, Any]) -> None:
        await self.client.xadd(
            self._audit,
            {
                "at_ms": str(int(time.time() * 1000)),
                "actor": actor,
                "action": action,
                "detail": json.dumps(detail, sort_keys=True, default=str),
            },
            maxlen=AUDIT_MAX_ENTRIES,
            approximate=True,
        )

    async def audit_entries(self, count: int = 1000, before: str | None = None) -> AuditPage:
        """The `count` latest entries, or those before the entry `before` (its id)."""
        if before is not None and not any(int(part) for part in before.split("-")):
            return AuditPage([], None)  # nothing is before the first id (Redis: an error)
        newest = f"({before}" if before else "+"
        rows = await self.client.xrevrange(self._audit, max=newest, count=count + 1)
        page = rows[:count]
        entries = [
            AuditEntry(int(f["at_ms"]), f["actor"], f["action"], json.loads(f["detail"]), entry_id)
            for entry_id, f in reversed(page)
        ]
        return AuditPage(entries, page[-1][0] if len(rows) > count else None)
