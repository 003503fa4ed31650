"""Advisories on Redis: every key they use, each expiring when its advisory ends.

All keys share the hash tag `{adv}`, so on Redis Cluster an advisory, its customers'
index and its contacts live in one slot and are written by one script. Nothing is
kept past an advisory's `until`: every key expires then (a key several advisories share
expires with the last of them), and a save drops the ended ones from the indexes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from router.advisories.model import Advisory, Staffing

# The customer's advisories still running at ARGV[1] (KEYS[1]: advisory id -> until),
# each as its hash, in one round trip: what every new contact asks.
_OF_CUSTOMER = """
local found = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf')) do
  local fields = redis.call('HGETALL', ARGV[2] .. id)
  if #fields > 0 then found[#found + 1] = fields end
end
return found
"""

# Save an advisory (KEYS[1], ARGV[4..]: its fields) expiring at its until (ARGV[2]), and
# add its id (ARGV[1]) to each sorted set of KEYS[2..] (the index, its customers') by
# that until, dropping the members over by now (ARGV[3]), each set expiring with its
# latest member. One script, not a pipeline: a cluster client pipelines no scripts, and
# PEXPIREAT's NX/GT flags need Redis 7.
_SAVE = """
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
for i = 2, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[3])
  redis.call('ZADD', KEYS[i], ARGV[2], ARGV[1])
  local last = redis.call('ZRANGE', KEYS[i], -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', KEYS[i], last[2])
end
return 1
"""

# A contact the advisory boosted (ARGV[1]) into KEYS[1], which expires with it (ARGV[2]).
_ADD_CONTACT = """
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1
"""

# HSET on an advisory only while it exists: a write after it expired must not bring
# back a hash without expiry.
_UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""


class AdvisoryKeys:
    def __init__(self, prefix: str = "sb") -> None:
        self.tag = f"{prefix}:{{adv}}:"
        self.index = f"{self.tag}advisories"  # advisory id -> until

    def advisory(self, advisory_id: str) -> str:
        return f"{self.tag}advisory:{advisory_id}"

    def contacts(self, advisory_id: str) -> str:
        return f"{self.tag}advisory:{advisory_id}:contacts"

    def customer(self, customer_id: str) -> str:
        return f"{self.tag}customer:{customer_id}"


class AdvisoryStore:
    def __init__(self, client: Any, prefix: str = "sb") -> None:
        self.client = client
        self.keys = AdvisoryKeys(prefix)
        self._of_customer = client.register_script(_OF_CUSTOMER)
        self._update = client.register_script(_UPDATE)
        self._save = client.register_script(_SAVE)
        self._add_contact = client.register_script(_ADD_CONTACT)

    async def save(self, advisory: Advisory, customers: Sequence[str]) -> None:
        """The advisory and its customers' index, at once, all expiring at `until`."""
        keys = self.keys
        fields = [part for pair in _fields(advisory).items() for part in pair]
        await self._save(
            keys=[
                keys.advisory(advisory.advisory_id),
                keys.index,
                *(keys.customer(c) for c in customers),
            ],
            args=[advisory.advisory_id, advisory.until_ms, advisory.created_ms, *fields],
        )

    async def update(self, advisory_id: str, **fields: object) -> bool:
        """Change fields of a running advisory; False when it has expired."""
        flat = [str(part) for pair in fields.items() for part in pair]
        return bool(await self._update(keys=[self.keys.advisory(advisory_id)], args=flat))

    async def get(self, advisory_id: str) -> Advisory | None:
        found = await self.get_many([advisory_id])
        return found[0] if found else None

    async def get_many(self, advisory_ids: Sequence[str]) -> list[Advisory]:
        """The advisories that still exist, with how many contacts each boosted."""
        if not advisory_ids:
            return []
        pipe = self.client.pipeline(transaction=False)
        for advisory_id in advisory_ids:
            pipe.hgetall(self.keys.advisory(advisory_id))
            pipe.scard(self.keys.contacts(advisory_id))
        rows = await pipe.execute()
        return [
            _advisory(fields, int(count))
            for fields, count in zip(rows[::2], rows[1::2], strict=True)
            if fields
        ]

    async def running_ids(self, at_ms: int) -> list[str]:
        """Advisories whose `until` is after `at_ms` (a read: `save` drops the ones over)."""
        found = await self.client.zrangebyscore(self.keys.index, f"({at_ms}", "+inf")
        return [str(advisory_id) for advisory_id in found]

    async def of_customer(self, customer_id: str, at_ms: int) -> list[Advisory]:
        """The customer's advisories running at `at_ms` (one round trip)."""
        rows = await self._of_customer(
            keys=[self.keys.customer(customer_id)], args=[at_ms, self.keys.advisory("")]
        )
        return [_advisory(dict(zip(row[::2], row[1::2], strict=True)), 0) for row in rows]

    async def add_contact(self, advisory: Advisory, contact_id: str) -> None:
        """A contact the advisory boosted (counted per advisory)."""
        key = self.keys.contacts(advisory.advisory_id)
        await self._add_contact(keys=[key], args=[contact_id, advisory.until_ms])


def _fields(advisory: Advisory) -> dict[str, str]:
    return {
        "advisory_id": advisory.advisory_id,
        "queue": advisory.queue,
        "title": advisory.title,
        "messages": json.dumps(advisory.messages, ensure_ascii=False),
        "starts_ms": str(advisory.starts_ms),
        "until_ms": str(advisory.until_ms),
        "priority_boost": str(advisory.priority_boost),
        "created_by": advisory.created_by,
        "created_ms": str(advisory.created_ms),
        "customers": str(advisory.customers),
        "ended_ms": str(advisory.ended_ms),
        "warned": str(advisory.warned),
        "in_chat": str(advisory.in_chat),
        "staffing": json.dumps(asdict(advisory.staffing)) if advisory.staffing else "",
        "regions": json.dumps(list(advisory.regions)),
    }


def _advisory(fields: dict[str, str], contacts: int) -> Advisory:
    staffing = fields.get("staffing") or ""
    return Advisory(
        advisory_id=fields["advisory_id"],
        queue=fields.get("queue", ""),
        title=fields.get("title", ""),
        messages=dict(json.loads(fields.get("messages") or "{}")),
        starts_ms=int(fields.get("starts_ms") or 0),
        until_ms=int(fields.get("until_ms") or 0),
        priority_boost=int(fields.get("priority_boost") or 0),
        created_by=fields.get("created_by", ""),
        created_ms=int(fields.get("created_ms") or 0),
        customers=int(fields.get("customers") or 0),
        ended_ms=int(fields.get("ended_ms") or 0),
        warned=int(fields.get("warned") or 0),
        in_chat=int(fields.get("in_chat") or 0),
        contacts=contacts,
        staffing=Staffing(**json.loads(staffing)) if staffing else None,
        # saved before advisories kept their regions: every region, as they were applied
        regions=tuple(json.loads(fields.get("regions") or "[]")),
    )
