"""Cases, SLA timers, emotion triggers and webhook deliveries on Redis: every key they use.

All keys share the hash tag `{cs}`, so a case, its history, the timers' schedule, the
report records and the webhook outbox live in one Cluster slot and change together in
one atomic step. A change is optimistic: the case is read with its version, the service
decides, and `commit` applies everything the decision wrote only if the version is still
the one read (`_COMMIT`); otherwise the service reads again and decides again.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from redis.exceptions import ResponseError

from router.cases.lifecycle import Write
from router.cases.model import Case, CaseSource, CaseStatus, HistoryEntry, Note
from router.cases.sla import Timer, TimerKind

# Applies a list of commands if the case's version is the expected one ('' : the case
# must not exist yet). Every key the commands name shares the case's hash tag.
# With a customer in ARGV[3] (a case a rule opens), refused too while that customer has
# a live case (KEYS[2]: customer -> live case), so that two nodes never open two.
# HDELIF deletes a hash field only while it holds the given value.
_COMMIT = """
local current = redis.call('HGET', KEYS[1], 'version') or ''
if current ~= ARGV[1] then return 0 end
if ARGV[3] ~= '' and redis.call('HEXISTS', KEYS[2], ARGV[3]) == 1 then return 0 end
for _, command in ipairs(cjson.decode(ARGV[2])) do
  if command[1] == 'HDELIF' then
    if redis.call('HGET', command[2], command[3]) == command[4] then
      redis.call('HDEL', command[2], command[3])
    end
  else
    redis.call(unpack(command))
  end
end
return 1
"""

# The case an index names (the customer's live case, a contact's case) in one round
# trip; nothing when there is none.
_INDEXED = """
local case_id = redis.call('HGET', KEYS[1], ARGV[1])
if not case_id then return {} end
return redis.call('HGETALL', ARGV[2] .. case_id)
"""

# Advances a webhook's cursor only for the node holding its lease.
_ADVANCE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
return 1
"""

# Due timers: claimed for `lease` ms (another node takes over if this one dies before
# writing the case's next due time).
_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local retry_at = tonumber(ARGV[1]) + tonumber(ARGV[2])
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], retry_at, member) end
return due
"""

# Retention: cases that closed before ARGV[1] (KEYS[1]: closed cases by when they
# closed), at most ARGV[3] of them, lose their customer, subject, notes and the subject's
# text in their history, and leave KEYS[1]; counts, times and timers stay. ARGV[2]: the
# keys' common prefix (every key shares the `{cs}` tag).
_SCRUB = """
local tag, limit = ARGV[2], tonumber(ARGV[3])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, limit)
for _, id in ipairs(due) do
  local key = tag .. 'case:' .. id
  local customer = redis.call('HGET', key, 'customer_id') or ''
  redis.call('ZREM', tag .. 'customer:' .. customer, id)
  if redis.call('EXISTS', key) == 1 then
    redis.call('HSET', key, 'customer_id', '', 'subject', '', 'notes', '[]')
  end
  local history = tag .. 'case:' .. id .. ':history'
  for i, row in ipairs(redis.call('LRANGE', history, 0, -1)) do
    local entry = cjson.decode(row)
    if entry.action == 'subject' then
      entry.detail = {}
      redis.call('LSET', history, i - 1, cjson.encode(entry))
    end
  end
  redis.call('ZREM', KEYS[1], id)
end
return #due
"""

# Kept escalations (an escalation that would have moved a waiting contact where nobody
# could take it): KEYS[1] the hash contact -> entry (JSON, with its `target` queue),
# ARGV[1] the contact, ARGV[2] the keys' common prefix; `{prefix}kept:<target>` orders a
# target's entries by when they were kept. _KEEP adds one (ARGV[3] the entry, ARGV[4]
# its time) unless the contact has one already (the older stays); _TAKE removes the
# contact's (only if its target is ARGV[3], when given) and says whether this call did:
# one caller among racing nodes takes it.
_KEEP = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[3]) == 0 then return 0 end
local target = cjson.decode(ARGV[3])['target']
redis.call('ZADD', ARGV[2] .. 'kept:' .. target, tonumber(ARGV[4]), ARGV[1])
return 1
"""

_TAKE = """
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if not entry then return 0 end
local target = cjson.decode(entry)['target']
if ARGV[3] ~= '' and target ~= ARGV[3] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', ARGV[2] .. 'kept:' .. target, ARGV[1])
return 1
"""

RECORDS_MAX = 1_000_000
OUTBOX_MAX = 1_000_000
DEAD_MAX = 10_000
HISTORY_MAX = 1_000
TRIGGERS_TTL_S = 30 * 86_400


# Moves a dead letter (KEYS[1]) whose id is ARGV[1] to the redelivery list (KEYS[2]),
# as it is stored; 0 when there is none (never dead, or already put back).
_REDELIVER = """
for _, row in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local ok, letter = pcall(cjson.decode, row)
  if ok and type(letter) == 'table' and letter['id'] == ARGV[1] then
    redis.call('LREM', KEYS[1], 1, row)
    redis.call('RPUSH', KEYS[2], row)
    return 1
  end
end
return 0
"""


class CaseKeys:
    def __init__(self, prefix: str = "sb") -> None:
        self.tag = f"{prefix}:{{cs}}:"
        self.cases = f"{self.tag}cases"
        self.due = f"{self.tag}due"
        self.records = f"{self.tag}records"
        self.outbox = f"{self.tag}outbox"
        self.contact_case = f"{self.tag}contact_case"
        self.flagged = f"{self.tag}flagged"
        self.breached = f"{self.tag}breached"
        self.live = f"{self.tag}live"
        self.closed_at = f"{self.tag}closed_at"  # closed cases by when: retention
        self.kept = f"{self.tag}kept"  # contact -> its kept escalation (JSON)

    def case(self, case_id: str) -> str:
        return f"{self.tag}case:{case_id}"

    def history(self, case_id: str) -> str:
        return f"{self.tag}case:{case_id}:history"

    def status(self, status: str) -> str:
        return f"{self.tag}status:{status}"

    def customer(self, customer_id: str) -> str:
        return f"{self.tag}customer:{customer_id}"

    def arrivals(self, customer_id: str) -> str:
        return f"{self.tag}arrivals:{customer_id}"

    def triggers(self, contact_id: str) -> str:
        return f"{self.tag}triggers:{contact_id}"

    def kept_in(self, target: str) -> str:
        """The contacts kept from moving to `target`, by when they were kept."""
        return f"{self.tag}kept:{target}"

    def cursor(self, webhook: str) -> str:
        return f"{self.tag}webhook:{webhook}:cursor"

    def lease(self, webhook: str) -> str:
        return f"{self.tag}webhook:{webhook}:lease"

    def dead(self, webhook: str) -> str:
        return f"{self.tag}webhook:{webhook}:dead"

    def redelivery(self, webhook: str) -> str:
        """Dead letters an admin put back, oldest first: sent before the outbox."""
        return f"{self.tag}webhook:{webhook}:redeliver"


@dataclass(frozen=True)
class OutboxEntry:
    entry_id: str
    event: dict[str, Any]


class CaseStore:
    def __init__(self, client: Any, prefix: str = "sb") -> None:
        self.client = client
        self.keys = CaseKeys(prefix)
        self._commit = client.register_script(_COMMIT)
        self._claim = client.register_script(_CLAIM)
        self._advance = client.register_script(_ADVANCE)
        self._indexed = client.register_script(_INDEXED)
        self._scrub = client.register_script(_SCRUB)
        self._redeliver = client.register_script(_REDELIVER)
        self._keep = client.register_script(_KEEP)
        self._take = client.register_script(_TAKE)

    # -- cases --------------------------------------------------------------------------

    async def get(self, case_id: str) -> Case | None:
        fields = await self.client.hgetall(self.keys.case(case_id))
        return _case(fields) if fields else None

    async def get_many(self, case_ids: Sequence[str]) -> list[Case]:
        if not case_ids:
            return []
        pipe = self.client.pipeline(transaction=False)
        for case_id in case_ids:
            pipe.hgetall(self.keys.case(case_id))
        return [_case(fields) for fields in await pipe.execute() if fields]

    async def commit(
        self, case: Case, before: Case | None, write: Write, *, only_case_of_customer: bool = False
    ) -> bool:
        """Store `case` as changed from `before` (None: a new case) with everything the
        decision wrote, if nobody changed it meanwhile; False otherwise. With
        `only_case_of_customer`, False too when its customer has a live case already."""
        keys = self.keys
        key = keys.case(case.case_id)
        expected = "" if before is None else str(before.version)
        case.version = (before.version if before else 0) + 1
        commands: list[list[str]] = [["DEL", key], ["HSET", key, *_flat(_fields(case))]]
        if before is None:
            commands.append(["ZADD", keys.cases, str(case.created_ms), case.case_id])
            commands.append(
                ["ZADD", keys.customer(case.customer_id), str(case.created_ms), case.case_id]
            )
        if before is None or before.status != case.status:
            if before is not None:
                commands.append(["ZREM", keys.status(before.status.value), case.case_id])
            commands.append(
                ["ZADD", keys.status(case.status.value), str(case.created_ms), case.case_id]
            )
        if case.status == CaseStatus.CLOSED and (before is None or before.status != case.status):
            commands.append(["ZADD", keys.closed_at, str(case.closed_ms), case.case_id])
        if case.is_live:
            commands.append(["HSET", keys.live, case.customer_id, case.case_id])
        else:
            commands.append(["HDELIF", keys.live, case.customer_id, case.case_id])
        for contact_id in write.linked:
            commands.append(["HSET", keys.contact_case, contact_id, case.case_id])
        for entry in write.history:
            commands.append(["RPUSH", keys.history(case.case_id), json.dumps(asdict(entry))])
        if write.history:
            commands.append(["LTRIM", keys.history(case.case_id), str(-HISTORY_MAX), "-1"])
        for record in write.records:
            commands.append(
                ["XADD", keys.records, "MAXLEN", "~", str(RECORDS_MAX), "*", *_flat(record)]
            )
        for event in write.outbox:
            commands.append(
                [
                    "XADD",
                    keys.outbox,
                    "MAXLEN",
                    "~",
                    str(OUTBOX_MAX),
                    "*",
                    "event",
                    json.dumps(event),
                ]
            )
        if write.breached:
            commands.append(["ZADD", keys.breached, str(case.updated_ms), case.case_id])
        else:
            commands.append(["ZREM", keys.breached, case.case_id])
        if write.due_ms is None:
            commands.append(["ZREM", keys.due, case.case_id])
        else:
            commands.append(["ZADD", keys.due, str(write.due_ms), case.case_id])
        guard = case.customer_id if only_case_of_customer else ""
        done = await self._commit(
            keys=[key, keys.live], args=[expected, json.dumps(commands), guard]
        )
        if not done:
            case.version -= 1
        return bool(done)

    async def live_case(self, customer_id: str) -> Case | None:
        """The customer's live case: the one most recently opened or changed that is not
        closed (one round trip)."""
        return await self._by_index(self.keys.live, customer_id)

    async def case_for_contact(self, contact_id: str) -> Case | None:
        """The case a contact is linked to (one round trip)."""
        return await self._by_index(self.keys.contact_case, contact_id)

    async def _by_index(self, index: str, field: str) -> Case | None:
        row = await self._indexed(keys=[index], args=[field, self.keys.case("")])
        fields = dict(zip(row[::2], row[1::2], strict=True))
        return _case(fields) if fields else None

    async def history(self, case_id: str) -> list[HistoryEntry]:
        rows = await self.client.lrange(self.keys.history(case_id), 0, -1)
        return [HistoryEntry(**json.loads(row)) for row in rows]

    async def case_ids(self, status: str | None, limit: int) -> list[str]:
        """Newest first; of one status, or of all."""
        key = self.keys.cases if status is None else self.keys.status(status)
        return [str(case_id) for case_id in await self.client.zrevrange(key, 0, limit - 1)]

    async def breached_ids(self, limit: int, start: int = 0) -> list[str]:
        """Live cases with a passed target nobody answered yet, latest first (`limit` of
        them from the `start`th)."""
        rows = await self.client.zrevrange(self.keys.breached, start, start + limit - 1)
        return [str(case_id) for case_id in rows]

    async def customer_case_ids(self, customer_id: str, limit: int = 20) -> list[str]:
        """The customer's cases, newest first."""
        rows = await self.client.zrevrange(self.keys.customer(customer_id), 0, limit - 1)
        return [str(case_id) for case_id in rows]

    async def case_of_contact(self, contact_id: str) -> str | None:
        found = await self.client.hget(self.keys.contact_case, contact_id)
        return str(found) if found else None

    async def cases_of_contacts(self, contact_ids: Sequence[str]) -> dict[str, str]:
        """contact -> case, for the contacts that are linked to one."""
        if not contact_ids:
            return {}
        values = await self.client.hmget(self.keys.contact_case, list(contact_ids))
        return {cid: str(v) for cid, v in zip(contact_ids, values, strict=True) if v}

    # -- timers ---------------------------------------------------------------------------

    async def claim_due(self, at_ms: int, lease_ms: int, limit: int = 200) -> list[str]:
        """Cases whose next alarm is due by `at_ms`, each claimed for `lease_ms`."""
        rows = await self._claim(keys=[self.keys.due], args=[at_ms, lease_ms, limit])
        return [str(case_id) for case_id in rows]

    async def forget_due(self, case_id: str) -> None:
        await self.client.zrem(self.keys.due, case_id)

    async def next_due_ms(self) -> int | None:
        rows = await self.client.zrange(self.keys.due, 0, 0, withscores=True)
        return int(rows[0][1]) if rows else None

    # -- customers' contacts (repeat-contact rules) ---------------------------------------

    async def count_arrivals(
        self, customer_id: str, contact_id: str, at_ms: int, within_ms: int
    ) -> int:
        """Record a contact of the customer; how many arrived within the window."""
        key = self.keys.arrivals(customer_id)
        pipe = self.client.pipeline(transaction=True)
        pipe.zadd(key, {contact_id: at_ms})
        pipe.zremrangebyscore(key, "-inf", at_ms - within_ms)
        pipe.zcard(key)
        pipe.pexpire(key, within_ms)
        return int((await pipe.execute())[2])

    # -- emotion triggers ---------------------------------------------------------------

    async def add_trigger(
        self, contact_id: str, trigger: dict[str, Any], flag_ms: int | None
    ) -> int:
        """Record a trigger on the contact; returns how many it has now. With `flag_ms`
        the contact is flagged (the wallboard lists it)."""
        key = self.keys.triggers(contact_id)
        pipe = self.client.pipeline(transaction=True)
        pipe.rpush(key, json.dumps(trigger))
        pipe.expire(key, TRIGGERS_TTL_S)
        if flag_ms is not None:
            pipe.zadd(self.keys.flagged, {contact_id: flag_ms})
        return int((await pipe.execute())[0])

    async def triggers(self, contact_id: str) -> list[dict[str, Any]]:
        return [
            json.loads(row)
            for row in await self.client.lrange(self.keys.triggers(contact_id), 0, -1)
        ]

    async def set_trigger(self, contact_id: str, index: int, trigger: dict[str, Any]) -> bool:
        """Rewrite the contact's `index`th trigger (what was done since: a kept move made
        later); False when it is gone (its list expired)."""
        try:
            await self.client.lset(self.keys.triggers(contact_id), index, json.dumps(trigger))
        except ResponseError:  # no such list, or no such index in it: nothing to rewrite
            return False
        return True

    # -- kept escalations -----------------------------------------------------------------

    async def keep(self, contact_id: str, entry: dict[str, Any], at_ms: int) -> bool:
        """Remember an escalation kept from moving the contact to `entry["target"]`; False
        when one is remembered for it already (that one, older, stays)."""
        args = [contact_id, self.keys.tag, json.dumps(entry), at_ms]
        return bool(await self._keep(keys=[self.keys.kept], args=args))

    async def kept_for(self, target: str, limit: int) -> list[tuple[str, dict[str, Any]]]:
        """The escalations kept from moving to `target`, oldest first (`limit` at most)."""
        found = await self.client.zrange(self.keys.kept_in(target), 0, limit - 1)
        contact_ids = [str(contact_id) for contact_id in found]
        if not contact_ids:
            return []
        rows = await self.client.hmget(self.keys.kept, contact_ids)
        return [
            (contact_id, json.loads(row))
            for contact_id, row in zip(contact_ids, rows, strict=True)
            if row is not None
        ]

    async def take_kept(self, contact_id: str, target: str = "") -> bool:
        """Take the contact's kept escalation (to `target`, when given) off the list;
        True for the one caller that did (racing nodes: one moves it)."""
        args = [contact_id, self.keys.tag, target]
        return bool(await self._take(keys=[self.keys.kept], args=args))

    async def flagged(self, limit: int = 500, start: int = 0) -> list[tuple[str, int]]:
        """Flagged contacts and when, latest first (`limit` of them from the `start`th)."""
        rows = await self.client.zrevrange(
            self.keys.flagged, start, start + limit - 1, withscores=True
        )
        return [(str(cid), int(at)) for cid, at in rows]

    async def unflag(self, contact_ids: Sequence[str]) -> None:
        if contact_ids:
            await self.client.zrem(self.keys.flagged, *contact_ids)

    # -- retention ------------------------------------------------------------------------

    async def scrub_before(self, cutoff_ms: int, batch: int = 500) -> int:
        """Scrub the personal content of cases closed before `cutoff_ms`, and webhook
        events older than that; how many cases were scrubbed."""
        keys, scrubbed = self.keys, 0
        while True:
            done = int(await self._scrub(keys=[keys.closed_at], args=[cutoff_ms, keys.tag, batch]))
            scrubbed += done
            if done < batch:
                break
        await self.client.xtrim(keys.outbox, minid=f"{cutoff_ms}-0")
        return scrubbed

    # -- report records -------------------------------------------------------------------

    async def add_records(self, records: Sequence[dict[str, str]]) -> None:
        """Records that belong to no case change (an emotion escalation of a contact)."""
        if not records:
            return
        pipe = self.client.pipeline(transaction=True)
        for record in records:
            pipe.xadd(self.keys.records, record, maxlen=RECORDS_MAX, approximate=True)
        await pipe.execute()

    async def records_since(self, start_ms: int, page: int = 5000) -> list[dict[str, str]]:
        found: list[dict[str, str]] = []
        cursor = f"{start_ms}-0"
        while True:
            batch = await self.client.xrange(self.keys.records, min=cursor, max="+", count=page)
            found += [fields for _, fields in batch]
            if len(batch) < page:
                return found
            cursor = f"({batch[-1][0]}"

    # -- webhook outbox -------------------------------------------------------------------

    async def enqueue(self, events: Sequence[dict[str, Any]]) -> None:
        """Events that change no case (contacts, emotion), in the order given."""
        if not events:
            return
        pipe = self.client.pipeline(transaction=True)
        for event in events:
            pipe.xadd(
                self.keys.outbox, {"event": json.dumps(event)}, maxlen=OUTBOX_MAX, approximate=True
            )
        await pipe.execute()

    async def outbox_after(self, cursor: str, count: int = 100) -> list[OutboxEntry]:
        start = "-" if not cursor else f"({cursor}"
        rows = await self.client.xrange(self.keys.outbox, min=start, max="+", count=count)
        return [
            OutboxEntry(str(entry_id), json.loads(fields["event"])) for entry_id, fields in rows
        ]

    async def outbox_head(self) -> str:
        """The id of the newest event ('' when none): where a new webhook starts."""
        rows = await self.client.xrevrange(self.keys.outbox, count=1)
        return str(rows[0][0]) if rows else ""

    async def cursor(self, webhook: str) -> str | None:
        value = await self.client.get(self.keys.cursor(webhook))
        return None if value is None else str(value)

    async def start_cursor(self, webhook: str, entry_id: str) -> None:
        """Where a webhook served for the first time starts (kept if one exists)."""
        await self.client.set(self.keys.cursor(webhook), entry_id, nx=True)

    async def set_cursor(self, webhook: str, entry_id: str, holder: str) -> bool:
        """Advance the cursor, only while holding the webhook's lease."""
        keys = [self.keys.lease(webhook), self.keys.cursor(webhook)]
        return bool(await self._advance(keys=keys, args=[holder, entry_id]))

    async def hold_lease(self, webhook: str, holder: str, ttl_ms: int) -> bool:
        """Take or renew the lease on delivering a webhook (one node at a time, so that
        events go out in order)."""
        key = self.keys.lease(webhook)
        if await self.client.set(key, holder, nx=True, px=ttl_ms):
            return True
        if await self.client.get(key) == holder:
            await self.client.pexpire(key, ttl_ms)
            return True
        return False

    async def release_lease(self, webhook: str, holder: str) -> None:
        key = self.keys.lease(webhook)
        if await self.client.get(key) == holder:
            await self.client.delete(key)

    async def dead_letter(self, webhook: str, letter: dict[str, Any]) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.lpush(self.keys.dead(webhook), json.dumps(letter))
        pipe.ltrim(self.keys.dead(webhook), 0, DEAD_MAX - 1)
        await pipe.execute()

    async def dead_letters(self, webhook: str, count: int = 100) -> list[dict[str, Any]]:
        rows = await self.client.lrange(self.keys.dead(webhook), 0, count - 1)
        return [json.loads(row) for row in rows]

    async def dead_count(self, webhook: str) -> int:
        return int(await self.client.llen(self.keys.dead(webhook)))

    async def redeliver(self, webhook: str, delivery_id: str) -> bool:
        """Put the dead letter `delivery_id` back for delivery; False when there is none."""
        keys = [self.keys.dead(webhook), self.keys.redelivery(webhook)]
        return bool(await self._redeliver(keys=keys, args=[delivery_id]))

    async def next_redelivery(self, webhook: str) -> str | None:
        """The oldest letter put back, as stored (None: none)."""
        row = await self.client.lindex(self.keys.redelivery(webhook), 0)
        return None if row is None else str(row)

    async def drop_redelivery(self, webhook: str, row: str) -> None:
        await self.client.lrem(self.keys.redelivery(webhook), 1, row)

    async def redelivery_count(self, webhook: str) -> int:
        return int(await self.client.llen(self.keys.redelivery(webhook)))

    async def ids_by_time(
        self, index: str, after: tuple[int, str] | None, count: int
    ) -> list[tuple[str, int]]:
        """Up to `count` (id, created ms) of an index scored by creation time after a
        place (ms, id), newest first (by time, then by id). `count` 0: only those of the
        place's own millisecond that follow it."""
        if after is None:
            rows = await self.client.zrevrange(index, 0, max(count, 1) - 1, withscores=True)
            return [(str(member), int(score)) for member, score in rows]
        at_ms, case_id = after
        same: list[str] = []
        if case_id:  # the rest of its millisecond (ties are rare: a few cases at most)
            tied = await self.client.zrangebyscore(index, at_ms, at_ms)
            same = sorted((str(m) for m in tied if str(m) < case_id), reverse=True)
        found = []
        if count > len(same):
            found = await self.client.zrevrangebyscore(
                index, f"({at_ms}", "-inf", start=0, num=count - len(same), withscores=True
            )
        return [(m, at_ms) for m in same[: count or None]] + [
            (str(member), int(score)) for member, score in found
        ]

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex


def _flat(mapping: dict[str, Any]) -> list[str]:
    flat = []
    for name, value in mapping.items():
        flat += [name, str(value)]
    return flat


def _fields(case: Case) -> dict[str, str]:
    return {
        "case_id": case.case_id,
        "customer_id": case.customer_id,
        "customer_tier": case.customer_tier,
        "subject": case.subject,
        "queue": case.queue,
        "region": case.region,
        "status": case.status.value,
        "priority": str(case.priority),
        "owner": case.owner,
        "policy": case.policy,
        "source": case.source.value,
        "created_by": case.created_by,
        "created_ms": str(case.created_ms),
        "updated_ms": str(case.updated_ms),
        "contacts": json.dumps(case.contacts),
        "notes": json.dumps([asdict(note) for note in case.notes]),
        "wrap_up_codes": json.dumps(case.wrap_up_codes),
        "timers": json.dumps({kind.value: timer.as_dict() for kind, timer in case.timers.items()}),
        "awaiting_reply": "1" if case.awaiting_reply else "0",
        "answered": "1" if case.answered else "0",
        "solved_ms": str(case.solved_ms),
        "closed_ms": str(case.closed_ms),
        "close_due_ms": str(case.close_due_ms),
        "version": str(case.version),
    }


def _case(fields: dict[str, str]) -> Case:
    timers = json.loads(fields.get("timers") or "{}")
    return Case(
        case_id=fields["case_id"],
        customer_id=fields.get("customer_id", ""),
        customer_tier=fields.get("customer_tier", "standard"),
        subject=fields.get("subject", ""),
        queue=fields.get("queue", ""),
        region=fields.get("region", ""),
        status=CaseStatus(fields.get("status", "open")),
        priority=int(fields.get("priority") or 0),
        owner=fields.get("owner", ""),
        policy=fields.get("policy", ""),
        source=CaseSource(fields.get("source", "api")),
        created_by=fields.get("created_by", ""),
        created_ms=int(fields.get("created_ms") or 0),
        updated_ms=int(fields.get("updated_ms") or 0),
        contacts=list(json.loads(fields.get("contacts") or "[]")),
        notes=[Note(**note) for note in json.loads(fields.get("notes") or "[]")],
        wrap_up_codes=list(json.loads(fields.get("wrap_up_codes") or "[]")),
        timers={TimerKind(kind): Timer.from_dict(data) for kind, data in timers.items()},
        awaiting_reply=fields.get("awaiting_reply") == "1",
        answered=fields.get("answered") == "1",
        solved_ms=int(fields.get("solved_ms") or 0),
        closed_ms=int(fields.get("closed_ms") or 0),
        close_due_ms=int(fields.get("close_due_ms") or 0),
        version=int(fields.get("version") or 0),
    )
