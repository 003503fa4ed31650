"""Advisories on Redis: every key they use, each expiring when its advisory ends.

All keys share the hash tag `{adv}`, so on Redis Cluster an advisory, its customers'
index, its contacts, whom it warned and told, and how its events were delivered live in
one slot and are written by one script. Nothing is kept past an advisory's `until`:
every key expires then (a key several advisories share expires with the last of them),
and a save drops the ended ones from the indexes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from router.advisories.model import Advisory, Fallback, Outcomes, Staffing

DELIVERY = "delivery"  # a counter's field: delivery:<event type>:<outcome>:<webhook>
OUTCOMES = ("delivered", "failed")
KEEP_BATCH = 1000  # customers or chats written per script call

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


# End the advisory (KEYS[1]) at ARGV[1] unless it has ended already: 1 when this call
# ended it, 0 when another had, -1 when it is gone. One step, so that of two requests
# ending it at once one alone tells its passengers.
_END = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local ended = redis.call('HGET', KEYS[1], 'ended_ms')
if ended and ended ~= '0' then return 0 end
redis.call('HSET', KEYS[1], 'ended_ms', ARGV[1])
return 1
"""

# Keep fields (ARGV: field, value, ...) of the hash KEYS[2], or members of the set KEYS[2]
# (ARGV[1] 'set'), of the advisory KEYS[1], expiring with it; nothing once it is gone.
_KEEP = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] == 'set' then
  redis.call('SADD', KEYS[2], unpack(ARGV, 2))
else
  redis.call('HSET', KEYS[2], unpack(ARGV))
end
redis.call('PEXPIREAT', KEYS[2], redis.call('HGET', KEYS[1], 'until_ms'))
return 1
"""

# A webhook delivery of one of the advisory's events (ARGV[1]: webhook and event id) ended
# as the counter ARGV[2] says (delivery:<type>:<outcome>:<webhook>). Counted once per
# delivery (a retry after a node's crash is not a second), and moved from failed to
# delivered when an admin's redelivery of the dead letter goes through.
_OUTCOME = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local before = redis.call('HGET', KEYS[2], ARGV[1])
if before == ARGV[2] then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('PEXPIREAT', KEYS[2], redis.call('HGET', KEYS[1], 'until_ms'))
if before then redis.call('HINCRBY', KEYS[1], before, -1) end
redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
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

    def warned(self, advisory_id: str) -> str:
        """The customers warned -> their language tag (`""`: none known)."""
        return f"{self.tag}advisory:{advisory_id}:warned"

    def told(self, advisory_id: str) -> str:
        """The chats told in-chat (contact ids)."""
        return f"{self.tag}advisory:{advisory_id}:told"

    def outcomes(self, advisory_id: str) -> str:
        """Each delivery of its events (webhook and event id) -> the counter it is in."""
        return f"{self.tag}advisory:{advisory_id}:outcomes"


class AdvisoryStore:
    def __init__(self, client: Any, prefix: str = "sb") -> None:
        self.client = client
        self.keys = AdvisoryKeys(prefix)
        self._of_customer = client.register_script(_OF_CUSTOMER)
        self._update = client.register_script(_UPDATE)
        self._save = client.register_script(_SAVE)
        self._add_contact = client.register_script(_ADD_CONTACT)
        self._end = client.register_script(_END)
        self._keep = client.register_script(_KEEP)
        self._outcome = client.register_script(_OUTCOME)

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

    async def reached(self, advisory: Advisory) -> bool:
        """Whom it reached when declared: passengers warned (and in which fallback), chats
        told; False when it has expired."""
        return await self.update(
            advisory.advisory_id,
            warned=advisory.warned,
            in_chat=advisory.in_chat,
            fallbacks=_fallbacks_json(advisory.fallbacks),
        )

    async def cleared(self, advisory: Advisory) -> bool:
        """Its all clear, and whom it reached."""
        return await self.update(
            advisory.advisory_id,
            cleared_messages=json.dumps(advisory.cleared_messages, ensure_ascii=False),
            cleared_fallbacks=_fallbacks_json(advisory.cleared_fallbacks),
            cleared=advisory.cleared,
            cleared_in_chat=advisory.cleared_in_chat,
        )

    async def end(self, advisory_id: str, at_ms: int) -> bool | None:
        """End it at `at_ms`: True when this call ended it, False when it had ended
        already, None when it is gone (expired)."""
        done = int(await self._end(keys=[self.keys.advisory(advisory_id)], args=[at_ms]))
        return None if done < 0 else bool(done)

    async def keep_warned(self, advisory_id: str, tags: dict[str, str]) -> None:
        """The customers warned, each with the language tag they were warned for."""
        rows = list(tags.items())
        for start in range(0, len(rows), KEEP_BATCH):
            flat = [part for row in rows[start : start + KEEP_BATCH] for part in row]
            await self._keep(
                keys=[self.keys.advisory(advisory_id), self.keys.warned(advisory_id)], args=flat
            )

    async def keep_told(self, advisory_id: str, contact_ids: Sequence[str]) -> None:
        """The chats told in-chat."""
        for start in range(0, len(contact_ids), KEEP_BATCH):
            batch = list(contact_ids[start : start + KEEP_BATCH])
            await self._keep(
                keys=[self.keys.advisory(advisory_id), self.keys.told(advisory_id)],
                args=["set", *batch],
            )

    async def warned(self, advisory_id: str) -> dict[str, str]:
        """The customers warned -> the language tag they were warned for."""
        found = await self.client.hgetall(self.keys.warned(advisory_id))
        return {str(customer): str(tag) for customer, tag in found.items()}

    async def told(self, advisory_id: str) -> list[str]:
        """The chats told in-chat."""
        return sorted(
            str(contact_id)
            for contact_id in await self.client.smembers(self.keys.told(advisory_id))
        )

    async def delivery(
        self, advisory_id: str, event_type: str, webhook: str, event_id: str, delivered: bool
    ) -> bool:
        """A webhook's delivery of one of its events ended (delivered, or dead-lettered);
        False when it was counted so already, or the advisory is gone."""
        counter = f"{DELIVERY}:{event_type}:{OUTCOMES[0] if delivered else OUTCOMES[1]}:{webhook}"
        keys = [self.keys.advisory(advisory_id), self.keys.outcomes(advisory_id)]
        return bool(await self._outcome(keys=keys, args=[f"{webhook} {event_id}", counter]))

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
        "fallbacks": _fallbacks_json(advisory.fallbacks),
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
        fallbacks=_fallbacks(fields.get("fallbacks")),
        deliveries=_deliveries(fields),
        cleared_messages=dict(json.loads(fields.get("cleared_messages") or "{}")),
        cleared_fallbacks=_fallbacks(fields.get("cleared_fallbacks")),
        cleared=int(fields.get("cleared") or 0),
        cleared_in_chat=int(fields.get("cleared_in_chat") or 0),
        contacts=contacts,
        staffing=Staffing(**json.loads(staffing)) if staffing else None,
        # saved before advisories kept their regions: every region, as they were applied
        regions=tuple(json.loads(fields.get("regions") or "[]")),
    )


def _fallbacks_json(fallbacks: dict[str, Fallback]) -> str:
    return json.dumps({tag: asdict(row) for tag, row in fallbacks.items()}, ensure_ascii=False)


def _fallbacks(saved: str | None) -> dict[str, Fallback]:
    return {
        tag: Fallback(str(row["sent"]), int(row["passengers"]))
        for tag, row in json.loads(saved or "{}").items()
    }


def _deliveries(fields: dict[str, str]) -> dict[str, dict[str, Outcomes]]:
    """The delivery counters (delivery:<event type>:<outcome>:<webhook>) as event type ->
    webhook -> outcomes."""
    counts: dict[str, dict[str, dict[str, int]]] = {}
    for name, value in fields.items():
        parts = name.split(":", 3)
        if len(parts) == 4 and parts[0] == DELIVERY and parts[2] in OUTCOMES:
            _, event_type, outcome, webhook = parts
            counts.setdefault(event_type, {}).setdefault(webhook, {})[outcome] = int(value)
    return {
        event_type: {webhook: Outcomes(**row) for webhook, row in sorted(hooks.items())}
        for event_type, hooks in counts.items()
    }
