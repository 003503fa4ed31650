"""The routing state on Redis: one Lua function runs every decision atomically.

All routing keys share the hash tag `{rt}` so that a decision, which reads agents
of every region and the queue in one step, is legal on Redis Cluster (one slot).
Users, tokens and node heartbeats live outside the tag; they are never touched
by a decision.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from typing import Any

from router.library import SOURCE, RoutingLibrary
from router.model import (
    Agent,
    Channel,
    Contact,
    ContactState,
    NewContact,
    Presence,
    QueueConfig,
)


def now_ms() -> int:
    return int(time.time() * 1000)


class UnknownContact(LookupError):
    pass


class UnknownAgent(LookupError):
    pass


class UnknownQueue(LookupError):
    """The queue is not published on this Redis (no node configured it)."""


class RoutingStore:
    """Adapter between plain router objects and the Redis keys the routing function uses."""

    def __init__(self, client: Any, prefix: str = "sb", source: str = SOURCE) -> None:
        """`client` is a redis.asyncio client (plain, Sentinel or Cluster) decoding to str;
        `source` the routing Lua (a bench may measure a candidate)."""
        self.client = client
        self.prefix = prefix
        self.tag = f"{prefix}:{{rt}}:"
        self.anchor = f"{self.tag}anchor"
        self.library = RoutingLibrary(source)

    # -- the routing function -----------------------------------------------------

    async def run(self, command: str, *args: object, at_ms: int | None = None) -> Any:
        """One routing decision; `at_ms` lets a replay drive the clock."""
        stamp = now_ms() if at_ms is None else at_ms
        return await self.library.call(self.client, [self.anchor], [command, stamp, *args])

    def queue(self, pipe: Any, command: str, *args: object, at_ms: int | None = None) -> None:
        """Adds one routing call to a pipeline; `run` must have loaded the library."""
        stamp = now_ms() if at_ms is None else at_ms
        self.library.queue(pipe, [self.anchor], [command, stamp, *args])

    # -- configuration ------------------------------------------------------------

    async def publish_queues(self, queues: Sequence[QueueConfig]) -> None:
        """Write each queue's routing rules where the routing function reads them."""
        # A new config_version, written last, tells the routing function that what it
        # keeps between calls (read before, or half-way through, this rewrite) is stale.
        pipe = self.client.pipeline(transaction=False)
        for queue in queues:
            fields: dict[str, Any] = {
                "name": queue.name,
                "skill": queue.skill,
                "strategy": queue.strategy.value,
                "priority": queue.priority,
                "answer_within_s": queue.answer_within_s,
                "wrap_up_s": queue.wrap_up_s,
                "ring_s": queue.ring_s,
                "min_proficiency": queue.min_proficiency,
                "fallback_languages": json.dumps(list(queue.fallback_languages)),
                "priority_weight_s": queue.priority_weight_s,
                "overflow_queue": queue.overflow_queue or "",
            }
            for key in (
                "relax_language_after_s",
                "relax_region_after_s",
                "relax_proficiency_after_s",
                "relax_translation_after_s",
                "max_wait_s",
            ):
                value = getattr(queue, key)
                fields[key] = "" if value is None else value
            pipe.delete(f"{self.tag}qcfg:{queue.name}")
            pipe.hset(f"{self.tag}qcfg:{queue.name}", mapping=fields)
            pipe.sadd(f"{self.tag}queues", queue.name)
            pipe.hset(f"{self.tag}queue_skills", queue.name, queue.skill)
        pipe.set(f"{self.tag}config_version", uuid.uuid4().hex)
        await pipe.execute()

    async def publish_regions(self, regions: Sequence[str]) -> None:
        if regions:
            await self.client.sadd(f"{self.tag}regions", *regions)

    async def publish_translation_pairs(self, pairs: Sequence[tuple[str, str]]) -> None:
        key = f"{self.tag}translation_pairs"
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(key)
        if pairs:
            pipe.sadd(key, *[f"{source}>{target}" for source, target in pairs])
        await pipe.execute()

    # -- agents -------------------------------------------------------------------

    async def upsert_agent(self, agent: Agent, at_ms: int | None = None) -> None:
        await self.run(
            "upsert_agent",
            agent.agent_id,
            "region",
            agent.region,
            "skills",
            json.dumps(agent.skills),
            "languages",
            json.dumps(agent.languages),
            "cap_voice",
            agent.capacity.get("voice", 1),
            "cap_chat",
            agent.capacity.get("chat", 3),
            at_ms=at_ms,
        )

    async def set_login(
        self, agent_id: str, sip_uri: str, node: str, capacity: dict[str, int]
    ) -> None:
        await self.client.hset(
            self._agent_key(agent_id),
            mapping={
                "sip_uri": sip_uri,
                "node": node,
                "cap_voice": capacity.get("voice", 1),
                "cap_chat": capacity.get("chat", 3),
            },
        )

    async def set_presence(
        self, agent_id: str, presence: Presence, reason: str = "", at_ms: int | None = None
    ) -> int:
        """Returns how many offers the change produced."""
        result = await self.run("presence", agent_id, presence.value, reason, at_ms=at_ms)
        if result[0] == "unknown_agent":
            raise UnknownAgent(agent_id)
        return int(result[1])

    async def get_agent(self, agent_id: str) -> Agent | None:
        fields = await self.client.hgetall(self._agent_key(agent_id))
        return _agent(agent_id, fields) if fields else None

    async def list_agents(self) -> list[Agent]:
        ids = sorted(await self.client.smembers(f"{self.tag}agents"))
        pipe = self.client.pipeline(transaction=False)
        for agent_id in ids:
            pipe.hgetall(self._agent_key(agent_id))
        rows = await pipe.execute()
        return [_agent(agent_id, row) for agent_id, row in zip(ids, rows, strict=True) if row]

    # -- contacts -----------------------------------------------------------------

    async def create_contact(
        self, contact_id: str, new: NewContact, region: str, at_ms: int | None = None
    ) -> Contact:
        """Create, and route at once if an agent is free; raises UnknownQueue."""
        fields = {
            "contact_id": contact_id,
            "channel": new.channel.value,
            "queue": new.queue,
            "language": new.language,
            "region": region,
            "customer_id": new.customer_id,
            "customer_tier": new.customer_tier,
            "priority": str(new.priority),
            "node": new.node,
            "placement": new.placement,
            "open_regions": "1" if new.open_regions else "0",
            "skill": new.skill,
            "arrived_at": str(now_ms() if at_ms is None else at_ms),
        }
        reply = await self.run("create", contact_id, json.dumps(fields), at_ms=at_ms)
        result = [str(part) for part in reply]
        if result[0] in ("unknown_queue", "exists"):
            raise UnknownQueue(new.queue) if result[0] == "unknown_queue" else KeyError(contact_id)
        return _contact(dict(zip(result[2::2], result[3::2], strict=True)))

    async def get_contact(self, contact_id: str) -> Contact | None:
        fields = await self.client.hgetall(self._contact_key(contact_id))
        return _contact(fields) if fields else None

    async def set_contact_fields(self, contact_id: str, **fields: object) -> None:
        await self.client.hset(
            self._contact_key(contact_id), mapping={k: str(v) for k, v in fields.items()}
        )

    async def queue_position(self, queue: str, contact_id: str) -> int | None:
        rank = await self.client.zrank(f"{self.tag}queue:{queue}", contact_id)
        return None if rank is None else int(rank) + 1

    async def waiting(self, queue: str) -> list[tuple[str, float]]:
        """Contact ids in queue order with their order score."""
        return [
            (member, float(score))
            for member, score in await self.client.zrange(
                f"{self.tag}queue:{queue}", 0, -1, withscores=True
            )
        ]

    async def waiting_counts(
        self, queue: str, *fields: str, limit: int | None = None
    ) -> Counter[tuple[str, ...]]:
        """Waiting contacts counted by the values of some of their fields (one pipeline)."""
        members = await self.client.zrange(
            f"{self.tag}queue:{queue}", 0, -1 if limit is None else limit - 1
        )
        if not members:
            return Counter()
        pipe = self.client.pipeline(transaction=False)
        for contact_id in members:
            pipe.hmget(self._contact_key(contact_id), list(fields))
        rows = await pipe.execute()
        return Counter(tuple(value or "?" for value in row) for row in rows)

    async def queue_depth(self, queue: str) -> int:
        return int(await self.client.zcard(f"{self.tag}queue:{queue}"))

    async def live_contacts(self, node: str | None = None) -> set[str]:
        key = f"{self.tag}live" if node is None else f"{self.tag}live:{node}"
        return set(await self.client.smembers(key))

    async def stat_buckets(self, queue: str, since_ms: int, until_ms: int) -> list[dict[str, int]]:
        """The 5-minute counter buckets of a queue between two times."""
        bucket = 300_000
        start = since_ms - since_ms % bucket
        keys = [f"{self.tag}stat:{queue}:{at}" for at in range(start, until_ms + 1, bucket)]
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.hgetall(key)
        return [{k: int(v) for k, v in row.items()} for row in await pipe.execute()]

    async def records(
        self, since_id: str = "-", count: int = 10_000
    ) -> AsyncIterator[dict[str, str]]:
        """Finished contacts from the records stream, oldest first."""
        start = since_id
        while True:
            batch = await self.client.xrange(f"{self.tag}records", min=start, count=count)
            for entry_id, fields in batch:
                yield {"record_id": entry_id, **fields}
            if len(batch) < count:
                return
            last = batch[-1][0]
            start = f"({last}"

    # -- events -------------------------------------------------------------------

    @property
    def events_channel(self) -> str:
        return f"{self.tag}events"

    def _agent_key(self, agent_id: str) -> str:
        return f"{self.tag}agent:{agent_id}"

    def _contact_key(self, contact_id: str) -> str:
        return f"{self.tag}contact:{contact_id}"


def _int(value: str | None) -> int:
    try:
        return int(float(value or 0))
    except ValueError:
        return 0


def _agent(agent_id: str, fields: dict[str, str]) -> Agent:
    return Agent(
        agent_id=agent_id,
        region=fields.get("region", ""),
        skills={k: int(v) for k, v in json.loads(fields.get("skills") or "{}").items()},
        languages=list(json.loads(fields.get("languages") or "[]")),
        capacity={"voice": _int(fields.get("cap_voice")), "chat": _int(fields.get("cap_chat"))},
        presence=Presence(fields.get("presence", "offline")),
        reason=fields.get("reason", ""),
        sip_uri=fields.get("sip_uri", ""),
        load={"voice": _int(fields.get("load_voice")), "chat": _int(fields.get("load_chat"))},
        offers=_int(fields.get("offers")),
        wrap_up_until_ms=_int(fields.get("wrapup_until")),
        idle_since_ms=_int(fields.get("idle_since")),
        node=fields.get("node", ""),
    )


_TIMESTAMPS = (
    "call_arrived_at",
    "ivr_done_at",
    "arrived_at",
    "queued_at",
    "offered_at",
    "answered_at",
    "ended_at",
)


def _contact(fields: dict[str, str]) -> Contact:
    state = ContactState(fields.get("state", "queued"))
    return Contact(
        contact_id=fields["contact_id"],
        channel=Channel(fields.get("channel", "chat")),
        queue=fields.get("queue", ""),
        language=fields.get("language", ""),
        region=fields.get("region", ""),
        customer_id=fields.get("customer_id", ""),
        customer_tier=fields.get("customer_tier", "standard"),
        priority=_int(fields.get("priority")),
        skill=fields.get("skill", ""),
        state=state,
        outcome=state.value if state.value in ("completed", "abandoned", "failed") else "",
        reason=fields.get("reason", ""),
        agent_id=fields.get("agent_id", ""),
        node=fields.get("node", ""),
        explanation=list(json.loads(fields.get("explanation") or "[]")),
        timestamps={key: _int(fields[key]) for key in _TIMESTAMPS if fields.get(key)},
        placement=fields.get("placement", ""),
        callback_uri=fields.get("callback_uri", ""),
        transfers=list(json.loads(fields.get("transfers") or "[]")),
        recordings=list(json.loads(fields.get("recordings") or "[]")),
    )
