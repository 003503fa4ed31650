"""The routing state on Redis: every key the routing core uses, and every call to Redis.

All routing keys share the hash tag `{rt}` so that a decision, which reads agents of
every region and the queue in one step, is legal on Redis Cluster (one slot). Chat
transcripts live outside the tag (they are large and never read by a decision).

Decisions run in one Lua function (`routing.lua`); each answers one shape, a status
and field/value pairs, decoded here by `Reply`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any

import hiredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from router.errors import RoutingError, UnknownAgent, UnknownContact, UnknownQueue
from router.model import (
    Agent,
    Channel,
    Contact,
    ContactState,
    NewContact,
    Presence,
    QueueConfig,
    Strategy,
)
from switchboard.common.batching import CallBatcher
from switchboard.common.clock import now_ms

log = logging.getLogger(__name__)

SOURCE = (Path(__file__).parent / "routing.lua").read_text()


class RoutingLibrary:
    """Loads the library where it is missing and calls its function."""

    def __init__(self, source: str = SOURCE) -> None:
        digest = hashlib.sha1(source.encode()).hexdigest()[:12]
        self.function = f"sb_route_{digest}"
        self.code = (
            f"#!lua name=sb_routing_{digest}\nlocal FUNCTION_NAME = '{self.function}'\n{source}"
        )

    async def call(
        self, client: Any, keys: list[str], args: list[Any], batcher: CallBatcher | None = None
    ) -> Any:
        """FCALL (through `batcher` when given); a server that lacks the library (new,
        flushed, restarted without persistence) gets it loaded and the call is made
        again, once."""
        send = client.execute_command if batcher is None else batcher.execute
        command = ("FCALL", self.function, len(keys), *keys, *args)
        try:
            return await send(*command)
        except ResponseError as error:
            if "function not found" not in str(error).lower():
                raise
        await self.load(client)
        return await send(*command)

    def queue(self, pipe: Any, keys: list[str], args: list[Any]) -> None:
        """Adds a call to a pipeline (the library must be loaded already)."""
        pipe.fcall(self.function, len(keys), *keys, *args)

    async def load(self, client: Any) -> None:
        """FUNCTION LOAD (on every primary of a Cluster); another node's concurrent
        load of the same version is as good as ours."""
        try:
            await client.function_load(self.code)
        except ResponseError as error:
            if "already exists" not in str(error).lower():
                raise


# Fields of a queue's configuration the routing function reads (`qcfg:<name>`).
_QUEUE_NUMBERS = (
    "priority",
    "answer_within_s",
    "wrap_up_s",
    "ring_s",
    "min_proficiency",
    "callback_attempts",
    "callback_retry_s",
    "short_abandon_s",
)
_QUEUE_OPTIONAL = (
    "relax_language_after_s",
    "relax_region_after_s",
    "relax_proficiency_after_s",
    "relax_translation_after_s",
    "max_wait_s",
)


@dataclass(frozen=True)
class WaitHistory:
    """A queued contact's position (None: not queued), when the head of its queue started
    waiting, and the wait of the queue's last answered contact (None: none yet)."""

    position: int | None
    head_queued_at_ms: int | None
    last_wait_ms: int | None
    last_answered_at_ms: int | None


class Keys:
    """The name of every routing key under one prefix (`[redis] key_prefix`)."""

    def __init__(self, prefix: str = "sb") -> None:
        self.prefix = prefix
        self.tag = f"{prefix}:{{rt}}:"
        self.anchor = f"{self.tag}anchor"
        self.records = f"{self.tag}records"
        self.retained = f"{self.tag}records:retained"
        # Each call the IVR answered, its one outcome (a stream, `append_ivr_outcome`):
        # routed, hung up (in which stage), closed, failed; capped as the records are.
        # It holds no caller number, so retention leaves it as it leaves the retained
        # records' counts (router/reports/ivr.py reads it).
        self.ivr = f"{self.tag}ivr"
        self.events = f"{self.tag}events"
        self.regions = f"{self.tag}regions"
        self.agents = f"{self.tag}agents"
        self.translation_pairs = f"{self.tag}translation_pairs"
        # The queues whose wrap-up code is required ([[dispositions]] required = true).
        self.wrap_up_required = f"{self.tag}wrapup_required"
        self.config_version = f"{self.tag}config_version"
        self.queues = f"{self.tag}queues"
        self.queue_skills = f"{self.tag}queue_skills"
        self.queue_definitions = f"{self.tag}queue_defs"
        # The queues an admin removed: a node's file does not bring them back at start.
        self.removed_queues = f"{self.tag}queues_removed"
        # Each node's file's routing definitions and their fingerprint, written at its
        # start: the wallboard tells when live nodes run differing files.
        self.node_files = f"{self.tag}node_files"

    def contact(self, contact_id: str) -> str:
        return f"{self.tag}contact:{contact_id}"

    def agent(self, agent_id: str) -> str:
        return f"{self.tag}agent:{agent_id}"

    def queue(self, name: str) -> str:
        return f"{self.tag}queue:{name}"

    def queue_config(self, name: str) -> str:
        return f"{self.tag}qcfg:{name}"

    def queue_waits(self, name: str) -> str:
        """The wait of the last contact of the queue to be answered (`last_wait_ms`,
        `last_at`), written by the routing function at every accept."""
        return f"{self.tag}waits:{name}"

    def live(self, node: str | None = None) -> str:
        return f"{self.tag}live" if node is None else f"{self.tag}live:{node}"

    def stat(self, queue: str, bucket_ms: int) -> str:
        return f"{self.tag}stat:{queue}:{bucket_ms}"

    def chat(self, contact_id: str) -> str:
        return f"{self.prefix}:chat:{contact_id}"

    def customer(self, customer_id: str) -> str:
        return f"{self.tag}customer:{customer_id}"

    def wrap_up_pending(self, agent_id: str) -> str:
        return f"{self.tag}wrapup_pending:{agent_id}"

    def offers(self) -> str:
        return f"{self.tag}offers"

    @property
    def due(self) -> str:
        """Waiting contacts by when their rules next change (a sorted set, written by
        routing.lua `schedule_due`): a relaxation step, the maximum wait..."""
        return f"{self.tag}due"

    @property
    def callbacks(self) -> str:
        """Callbacks whose customer did not pick up (a sorted set, written by routing.lua
        `callback_unanswered`): each with when its next attempt is due (ms)."""
        return f"{self.tag}callbacks"

    def held(self, agent_id: str) -> str:
        return f"{self.tag}held:{agent_id}"

    def customer_windows(self, contact_id: str) -> str:
        """A chat's customer windows (a sorted set): each open one, by id, with the time
        (ms) until which it counts as open; `WINDOW_START` with the end of the grace
        from the chat's start, `WINDOW_LEFT` with the end of the grace from the latest
        close of a window. The customer has left once every time has passed."""
        return f"{self.tag}customer_windows:{contact_id}"

    @property
    def customer_windows_due(self) -> str:
        """The chats whose customer windows are kept (a sorted set): each with the latest
        time of its windows (ms), when its customer may have left and the chat is judged
        again; any node's sweep judges those whose time has passed."""
        return f"{self.tag}customer_windows_due"

    def chat_reads(self, contact_id: str) -> str:
        """A chat's read receipts (a hash): per reader side (`customer`, `agent`), the
        latest message of the other side it read and that message's place in the chat."""
        return f"{self.prefix}:chat_read:{contact_id}"


@dataclass(frozen=True)
class Reply:
    """One answer of the routing function: a status and the fields that go with it."""

    status: str
    fields: dict[str, str] = field(default_factory=dict)

    @classmethod
    def decode(cls, raw: Sequence[Any]) -> Reply:
        values = [str(part) for part in raw]
        return cls(values[0], dict(zip(values[1::2], values[2::2], strict=True)))

    def number(self, name: str) -> int:
        return _int(self.fields.get(name))

    def contact(self) -> Contact:
        return _contact(self.fields)

    def check(self, subject: str, action: str) -> Reply:
        """The reply itself, or the refusal it carries as an exception."""
        if self.status == "unknown_contact":
            raise UnknownContact(subject)
        if self.status == "unknown_agent":
            raise UnknownAgent(subject)
        if self.status == "unknown_queue":
            raise UnknownQueue(subject)
        if self.status in (
            "not_offered",
            "not_connected",
            "not_waiting",
            "already",
            "not_yours",
            "exists",
            "busy",
        ):
            state = self.fields.get("state") or self.status
            raise RoutingError(f"cannot {action} contact {subject}: it is {state}")
        return self


MESSAGE_TTL_S = 30 * 86400
# The IVR outcomes kept (approximately), as routing.lua caps the records stream.
IVR_MAX_ENTRIES = 1_000_000
# How many of the callbacks waiting for their next attempt a queue's status counts.
CALLBACKS_SCAN = 1000
# Names in a chat's customer windows that are no window (see `Keys.customer_windows`).
WINDOW_START = "start"
WINDOW_LEFT = "left"
# How long a chat's customer windows outlive their latest time (then: nobody is there).
WINDOWS_KEPT_MS = 3_600_000
# A chat's customer windows changed (KEYS[1], `Keys.customer_windows`) and its place in
# the index of chats to judge (KEYS[2], `Keys.customer_windows_due`) follows, in one step.
# A chat (KEYS[3], `Keys.contact`) that has ended or is unknown keeps no windows (its end
# removed them, routing.lua `finish`): a window reported after the end (the customer's
# page still open) puts nothing back, and the answer is false.
# ARGV: the operation, the contact, now (ms), how long the windows outlive their latest
# time (ms), then: `keep` a window until a time (`renew`: only in a chat whose windows
# are kept, one its customer started); `close` a window, the chat waiting until
# a time; `settle` with the grace (ms): a window whose time passed (its node stopped
# saying it is open) closed then, the grace counting from that time. Answers the latest
# member and its time, or false when there is none (nobody is there).
_WINDOWS = """
local windows, due = KEYS[1], KEYS[2]
local op, cid, now, kept = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local START, LEFT = '$START', '$LEFT'
local state = redis.call('HGET', KEYS[3], 'state')
if not state or state == 'completed' or state == 'abandoned' or state == 'failed' then
  redis.call('DEL', windows)
  redis.call('ZREM', due, cid)
  return false
end
if op == 'renew' and redis.call('EXISTS', windows) == 0 then
  return false
elseif op == 'keep' or op == 'renew' then
  redis.call('ZADD', windows, ARGV[6], ARGV[5])
elseif op == 'close' then
  redis.call('ZREM', windows, ARGV[5])
  redis.call('ZADD', windows, 'GT', ARGV[6], LEFT)
else
  local left = 0
  local lapsed = redis.call('ZRANGEBYSCORE', windows, '-inf', now, 'WITHSCORES')
  for i = 1, #lapsed, 2 do
    if lapsed[i] ~= START and lapsed[i] ~= LEFT then
      redis.call('ZREM', windows, lapsed[i])
      left = math.max(left, tonumber(lapsed[i + 1]) + tonumber(ARGV[5]))
    end
  end
  if left > 0 then redis.call('ZADD', windows, 'GT', string.format('%d', left), LEFT) end
end
local top = redis.call('ZRANGE', windows, -1, -1, 'WITHSCORES')
if #top == 0 then return false end
local latest = tonumber(top[2])
redis.call('PEXPIRE', windows, string.format('%d', math.max(latest - now, 0) + kept))
redis.call('ZADD', due, top[2], cid)
return {top[1], top[2]}
""".replace("$START", WINDOW_START).replace("$LEFT", WINDOW_LEFT)

# A message repeated with its client_message_id is looked for among the chat's latest.
REPEAT_SCAN = 500
# The reader sides of a chat's read receipts.
READERS = ("customer", "agent")

# Append a message (ARGV[1], JSON) to the chat KEYS[1] unless one of the latest
# REPEAT_SCAN (ARGV[4]) carries the same client_message_id (ARGV[3]) from the same sender
# (ARGV[2]): that one is answered instead, and nothing is stored. ARGV[5]: the TTL (s).
_APPEND_ONCE = """
local needle = '"client_message_id": ' .. cjson.encode(ARGV[3])
local latest = redis.call('LRANGE', KEYS[1], -tonumber(ARGV[4]), -1)
for i = #latest, 1, -1 do
  if string.find(latest[i], needle, 1, true) then
    local known = cjson.decode(latest[i])
    if known.sender == ARGV[2] and known.client_message_id == ARGV[3] then
      return latest[i]
    end
  end
end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return false
"""

# A reader side (ARGV[1]) read up to a message (ARGV[2]) at its place in the chat
# (ARGV[3]): kept only when later than what that side read before. ARGV[4]: the TTL (s).
_READ_UP_TO = """
local before = tonumber(redis.call('HGET', KEYS[1], ARGV[1] .. ':at') or '-1')
if tonumber(ARGV[3]) <= before then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], ARGV[1] .. ':at', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
"""
CUSTOMER_BATCH = 500  # customers read per pipeline by contacts_of_customers
SKILL_BATCH = 32  # waiting contacts re-skilled (and matched) per routing call, as a tick
STAT_BUCKET_MS = 300_000


class RoutingStore:
    """Adapter between plain router objects and the Redis keys the routing function uses."""

    def __init__(
        self,
        client: Any,
        prefix: str = "sb",
        source: str = SOURCE,
        observe: Callable[[str, float, str], None] | None = None,
    ) -> None:
        """`client` is a redis.asyncio client (plain, Sentinel or Cluster) decoding to str;
        `source` the routing Lua (a bench may measure a candidate); `observe` is told
        each routing call's command, latency and status (the node's metrics)."""
        self.client = client
        self.keys = Keys(prefix)
        self.library = RoutingLibrary(source)
        self.calls = CallBatcher(client)  # concurrent routing calls share a write
        self.observe = observe
        self._append_once = client.register_script(_APPEND_ONCE)
        self._read_up_to = client.register_script(_READ_UP_TO)
        self._windows = client.register_script(_WINDOWS)

    @property
    def prefix(self) -> str:
        return self.keys.prefix

    # -- the routing function -----------------------------------------------------

    async def run(self, command: str, *args: object, at_ms: int | None = None) -> Reply:
        """One routing decision; `at_ms` lets a replay drive the clock."""
        stamp = now_ms() if at_ms is None else at_ms
        started = time.perf_counter()
        raw = await self.library.call(
            self.client, [self.keys.anchor], [command, stamp, *args], self.calls
        )
        reply = Reply.decode(raw)
        if self.observe is not None:
            self.observe(command, time.perf_counter() - started, reply.status)
        return reply

    def queue(self, pipe: Any, command: str, *args: object, at_ms: int | None = None) -> None:
        """Adds one routing call to a pipeline; `run` must have loaded the library."""
        stamp = now_ms() if at_ms is None else at_ms
        self.library.queue(pipe, [self.keys.anchor], [command, stamp, *args])

    async def ping(self) -> None:
        await self.client.ping()

    # -- configuration ------------------------------------------------------------

    async def publish_queues(self, queues: Sequence[QueueConfig]) -> dict[str, int]:
        """Write each queue's routing rules where the routing function reads them. The
        contacts waiting in a queue whose skill this changes follow it at once
        (`follow_queue_skill`); returns how many did, per such queue."""
        names = [queue.name for queue in queues]
        skills = await self.client.hmget(self.keys.queue_skills, names) if names else []
        before = dict(zip(names, skills, strict=True))
        # A new config_version, written last, tells the routing function that what it
        # keeps between calls (read before, or half-way through, this rewrite) is stale.
        pipe = self.client.pipeline(transaction=False)
        for queue in queues:
            fields: dict[str, Any] = {
                "name": queue.name,
                "skill": queue.skill,
                "strategy": queue.strategy.value,
                "fallback_languages": json.dumps(list(queue.fallback_languages)),
                "priority_weight_s": queue.priority_weight_s,
                "overflow_queue": queue.overflow_queue or "",
            }
            fields.update({name: getattr(queue, name) for name in _QUEUE_NUMBERS})
            for name in _QUEUE_OPTIONAL:
                value = getattr(queue, name)
                fields[name] = "" if value is None else value
            pipe.delete(self.keys.queue_config(queue.name))
            pipe.hset(self.keys.queue_config(queue.name), mapping=fields)
            pipe.sadd(self.keys.queues, queue.name)
            pipe.hset(self.keys.queue_skills, queue.name, queue.skill)
        pipe.set(self.keys.config_version, uuid.uuid4().hex)
        await pipe.execute()
        return {
            queue.name: await self.follow_queue_skill(queue, old)
            for queue in queues
            if (old := before.get(queue.name)) and old != queue.skill
        }

    async def judge_again(self, queue: str) -> int:
        """The contacts waiting in `queue` are due at once: the next tick judges them by
        the queue's rules as they are now (a shorter maximum wait, an earlier
        relaxation), not at the step the old rules had set (an admin shortening the
        maximum wait in a spike saw the contacts past it overflow only at their old next
        step). Returns how many."""
        waiting = await self.client.zrange(self.keys.queue(queue), 0, -1)
        if waiting:
            await self.client.zadd(self.keys.due, dict.fromkeys(waiting, 0))
        return len(waiting)

    async def follow_queue_skill(self, queue: QueueConfig, old_skill: str) -> int:
        """The contacts waiting in `queue` whose skill was the queue's take its new one
        and are offered at once when an agent fits (routing.lua `queue_skill`): without
        this they kept the old skill, which nobody may have (an incident's re-skilling),
        and waited until the customer left. SKILL_BATCH contacts a call, so that Redis
        routes other decisions in between. Returns how many took the new skill."""
        waiting = await self.client.zrange(self.keys.queue(queue.name), 0, -1)
        changed = offered = 0
        for start in range(0, len(waiting), SKILL_BATCH):
            batch = waiting[start : start + SKILL_BATCH]
            reply = await self.run("queue_skill", queue.name, old_skill, *batch)
            changed, offered = changed + reply.number("changed"), offered + reply.number("offered")
        if changed:
            log.info(
                "queue %s now routes skill %s (was %s): %d waiting contacts follow, %d offered",
                queue.name,
                queue.skill,
                old_skill,
                changed,
                offered,
            )
        return changed

    async def save_queue_definitions(self, queues: Sequence[QueueConfig], source: str) -> None:
        """Keep each queue's whole configuration, and where it came from ('file' or
        'admin'), so that every node can load the queues an admin changed. An admin's
        definition also undoes an admin's earlier removal of the queue."""
        if queues:
            pipe = self.client.pipeline(transaction=True)
            pipe.hset(
                self.keys.queue_definitions,
                mapping={
                    queue.name: json.dumps({**queue.as_json(), "source": source})
                    for queue in queues
                },
            )
            if source == "admin":
                pipe.srem(self.keys.removed_queues, *[queue.name for queue in queues])
            await pipe.execute()

    async def queue_definitions(self) -> dict[str, tuple[QueueConfig, str]]:
        """Every kept queue configuration with its source."""
        raw = await self.client.hgetall(self.keys.queue_definitions)
        definitions = {}
        for name, text in raw.items():
            fields = json.loads(text)
            source = fields.pop("source", "file")
            definitions[name] = (_queue_config(fields), source)
        return definitions

    async def removed_queues(self) -> set[str]:
        """The queues an admin removed (and has not defined again since)."""
        return set(await self.client.smembers(self.keys.removed_queues))

    async def remove_queue(self, name: str) -> None:
        """Remove a queue's definition and routing rules, and remember that it was removed
        so that no node's configuration file brings it back (`removed_queues`)."""
        pipe = self.client.pipeline(transaction=False)
        pipe.hdel(self.keys.queue_definitions, name)
        pipe.sadd(self.keys.removed_queues, name)
        pipe.delete(self.keys.queue_config(name), self.keys.queue_waits(name))
        pipe.srem(self.keys.queues, name)
        pipe.hdel(self.keys.queue_skills, name)
        pipe.set(self.keys.config_version, uuid.uuid4().hex)
        await pipe.execute()

    async def publish_regions(self, regions: Sequence[str]) -> None:
        if regions:
            await self.client.sadd(self.keys.regions, *regions)

    async def regions(self) -> set[str]:
        """The regions the deployment has published (every node's file, the roster's)."""
        return set(await self.client.smembers(self.keys.regions))

    async def publish_node_file(self, node_id: str, entry: dict[str, Any]) -> None:
        """What the node's file defines (JSON), replacing its previous start's."""
        await self.client.hset(self.keys.node_files, node_id, json.dumps(entry))

    async def node_files(self) -> dict[str, dict[str, Any]]:
        """Every node's last published file entry (live or not), by node id."""
        raw = await self.client.hgetall(self.keys.node_files)
        return {node_id: json.loads(text) for node_id, text in raw.items()}

    async def publish_translation_pairs(self, pairs: Sequence[tuple[str, str]]) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(self.keys.translation_pairs)
        if pairs:
            pipe.sadd(self.keys.translation_pairs, *[f"{s}>{t}" for s, t in pairs])
        await pipe.execute()

    async def publish_required_wrap_ups(self, queues: Sequence[str]) -> None:
        """The queues whose wrap-up code is required: an agent who finishes one of their
        contacts takes no other until the code is given (routing.lua, complete_contact)."""
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(self.keys.wrap_up_required)
        if queues:
            pipe.sadd(self.keys.wrap_up_required, *queues)
        await pipe.execute()

    # -- agents -------------------------------------------------------------------

    async def upsert_agent(self, agent: Agent, at_ms: int | None = None) -> None:
        """Create or change an agent; a `ring_s` of None keeps the stored one."""
        ring = () if agent.ring_s is None else ("ring_s", agent.ring_s)
        await self.run(
            "upsert_agent",
            agent.agent_id,
            "region",
            agent.region,
            "skills",
            json.dumps(agent.skills),
            "languages",
            json.dumps(agent.languages),
            "roster_voice",
            agent.capacity.get("voice", 1),
            "roster_chat",
            agent.capacity.get("chat", 3),
            *ring,
            at_ms=at_ms,
        )

    async def set_login(
        self, agent_id: str, sip_uri: str, node: str, channels: dict[str, int] | None = None
    ) -> int:
        """Where to ring the agent and what it may hold (`channels`, else the roster's
        capacity), its indexes following at once; returns how many offers more room
        produced. Raises UnknownAgent."""
        channels = channels or {}
        reply = await self.run(
            "login",
            agent_id,
            sip_uri,
            node,
            channels.get("voice", ""),
            channels.get("chat", ""),
        )
        return reply.check(agent_id, "sign in").number("offers")

    async def set_presence(
        self, agent_id: str, presence: Presence, reason: str = "", at_ms: int | None = None
    ) -> int:
        """Returns how many offers the change produced; raises UnknownAgent."""
        reply = await self.run("presence", agent_id, presence.value, reason, at_ms=at_ms)
        return reply.check(agent_id, "change").number("offers")

    async def remove_agent(self, agent_id: str) -> None:
        """Raises UnknownAgent, or RoutingError while the agent holds contacts."""
        reply = await self.run("remove_agent", agent_id)
        if reply.status == "busy":
            raise RoutingError(f"agent {agent_id} holds contacts; end or move them first")
        reply.check(agent_id, "remove")

    async def get_agent(self, agent_id: str) -> Agent | None:
        fields = await self.client.hgetall(self.keys.agent(agent_id))
        return _agent(agent_id, fields) if fields else None

    async def list_agents(self) -> list[Agent]:
        ids = sorted(await self.client.smembers(self.keys.agents))
        pipe = self.client.pipeline(transaction=False)
        for agent_id in ids:
            pipe.hgetall(self.keys.agent(agent_id))
        rows = await pipe.execute()
        return [_agent(agent_id, row) for agent_id, row in zip(ids, rows, strict=True) if row]

    # -- contacts -----------------------------------------------------------------

    async def create_contact(
        self,
        contact_id: str,
        new: NewContact,
        region: str,
        *,
        customer_token: str = "",
        at_ms: int | None = None,
    ) -> Contact:
        """Create, and route at once if an agent is free; raises UnknownQueue. One clock
        reading for the arrival, the preference and the routing call (the window grace
        runs from it too)."""
        at_ms = now_ms() if at_ms is None else at_ms
        fields = {
            "contact_id": contact_id,
            "channel": new.channel.value,
            "queue": new.queue,
            "language": new.language,
            "language_tag": new.language_tag or new.language,
            "region": region,
            "customer_id": new.customer_id,
            "customer_tier": new.customer_tier,
            "priority": str(new.priority),
            "skill": new.skill,
            "node": new.node,
            "placement": new.placement,
            "open_regions": "1" if new.open_regions else "0",
            "verified": "1" if new.verified else "0",
            "arrived_at": str(at_ms),
        }
        if customer_token:
            fields["customer_token"] = customer_token
        if new.reasons:
            fields["explanation"] = json.dumps(list(new.reasons))
        if new.preferred_agent and new.prefer_s > 0:
            fields["preferred_agent"] = new.preferred_agent
            fields["prefer_until"] = str(at_ms + int(new.prefer_s * 1000))
        windows: list[object] = []
        if new.window_grace_s is not None:  # its windows judged from now: see routing.lua
            windows = [int(new.window_grace_s * 1000), WINDOWS_KEPT_MS]
        reply = await self.run("create", contact_id, json.dumps(fields), *windows, at_ms=at_ms)
        return reply.check(new.queue, "create").contact()

    async def get_contact(self, contact_id: str) -> Contact | None:
        fields = await self.client.hgetall(self.keys.contact(contact_id))
        return _contact(fields) if fields else None

    async def customer_token(self, contact_id: str) -> str:
        """The token the contact's customer was given ('' when none, or no contact)."""
        return str(await self.client.hget(self.keys.contact(contact_id), "customer_token") or "")

    async def set_contact_fields(self, contact_id: str, **fields: object) -> None:
        await self.client.hset(
            self.keys.contact(contact_id), mapping={k: str(v) for k, v in fields.items()}
        )

    async def set_recording_paused(self, contact_id: str, since_ms: int) -> None:
        """The call's recording is paused since `since_ms` (0: it records), as the contact
        shows it (`recording_paused_since`)."""
        await self.set_contact_fields(contact_id, recording_paused_since=int(since_ms))

    async def customer_contacts(self, customer_id: str, limit: int = 50) -> list[Contact]:
        """The customer's latest contacts, newest first (one pipeline)."""
        ids = await self.client.zrevrange(self.keys.customer(customer_id), 0, limit - 1)
        if not ids:
            return []
        pipe = self.client.pipeline(transaction=False)
        for contact_id in ids:
            pipe.hgetall(self.keys.contact(contact_id))
        return [_contact(row) for row in await pipe.execute() if row]

    async def contacts_of_customers(
        self, customer_ids: Sequence[str], per_customer: int
    ) -> dict[str, list[Contact]]:
        """Each customer's latest contacts, newest first, for many customers at once (two
        pipelines a batch); a customer with none is left out."""
        found: dict[str, list[Contact]] = {}
        for start in range(0, len(customer_ids), CUSTOMER_BATCH):
            batch = customer_ids[start : start + CUSTOMER_BATCH]
            pipe = self.client.pipeline(transaction=False)
            for customer_id in batch:
                pipe.zrevrange(self.keys.customer(customer_id), 0, per_customer - 1)
            owned = [(c, list(ids)) for c, ids in zip(batch, await pipe.execute(), strict=True)]
            pipe = self.client.pipeline(transaction=False)
            for _, ids in owned:
                for contact_id in ids:
                    pipe.hgetall(self.keys.contact(contact_id))
            rows = iter(await pipe.execute() if any(ids for _, ids in owned) else [])
            for customer_id, ids in owned:
                contacts = [_contact(row) for row in (next(rows) for _ in ids) if row]
                if contacts:
                    found[customer_id] = contacts
        return found

    async def ringing_at(self, agent_id: str) -> list[tuple[Contact, int]]:
        """The contacts ringing at the agent now, each with its ring deadline (ms), from
        the agent's own held:<agent> set: what they hold, not the center's offers."""
        held = sorted(await self.client.smembers(self.keys.held(agent_id)))
        found = []
        for contact_id in held:  # a few at most: an agent's offers and chats
            contact = await self.get_contact(contact_id)
            if contact is None or contact.agent_id != agent_id:
                continue
            if contact.state == ContactState.OFFERED:
                deadline = await self.client.zscore(self.keys.offers(), contact_id)
                if deadline is not None:
                    found.append((contact, int(deadline)))
        return found

    async def ringing_at_node(self, node: str) -> list[tuple[Contact, int]]:
        """The contacts of the node (its live set) ringing at an agent now, each with its
        ring deadline (ms): three round trips, however many the node holds."""
        members = sorted(await self.client.smembers(self.keys.live(node)))
        if not members:
            return []
        deadlines = await self.client.zmscore(self.keys.offers(), members)
        ringing = [(cid, int(at)) for cid, at in zip(members, deadlines, strict=True) if at]
        if not ringing:
            return []
        pipe = self.client.pipeline(transaction=False)
        for contact_id, _ in ringing:
            pipe.hgetall(self.keys.contact(contact_id))
        contacts = [_contact(row) if row else None for row in await pipe.execute()]
        return [
            (contact, deadline)
            for contact, (_, deadline) in zip(contacts, ringing, strict=True)
            if contact is not None and contact.state == ContactState.OFFERED
        ]

    async def contacts_left_by(self, node: str) -> list[Contact]:
        """The open contacts the adoption of `node` takes over or gives back: those of
        its live set, and those held by agents signed in at it (held:<agent>), whose
        chats go back to their queue. Read before the adoption, which decides again."""
        agents = [agent.agent_id for agent in await self.list_agents() if agent.node == node]
        pipe = self.client.pipeline(transaction=False)
        pipe.smembers(self.keys.live(node))
        for agent_id in agents:
            pipe.smembers(self.keys.held(agent_id))
        ids: set[str] = set()
        for members in await pipe.execute():
            ids.update(members)
        if not ids:
            return []
        pipe = self.client.pipeline(transaction=False)
        for contact_id in sorted(ids):
            pipe.hgetall(self.keys.contact(contact_id))
        contacts = [_contact(row) for row in await pipe.execute() if row]
        return [contact for contact in contacts if not contact.is_terminal]

    async def pending_wrap_ups(self, agent_id: str) -> set[str]:
        return set(await self.client.smembers(self.keys.wrap_up_pending(agent_id)))

    async def agent_contacts(self, agent_id: str) -> tuple[list[Contact], list[Contact]]:
        """What the agent holds now (offered to them, connected, on hold: held:<agent>)
        and the finished contacts whose wrap-up they owe (wrapup_pending:<agent>), each
        still theirs, in id order: what a desk signed in again shows."""
        held = sorted(await self.client.smembers(self.keys.held(agent_id)))
        pending = sorted(await self.client.smembers(self.keys.wrap_up_pending(agent_id)))
        pipe = self.client.pipeline(transaction=False)
        for contact_id in (*held, *pending):
            pipe.hgetall(self.keys.contact(contact_id))
        rows = [_contact(row) if row else None for row in await pipe.execute()]
        theirs = [c if c is not None and c.agent_id == agent_id else None for c in rows]
        return (
            [c for c in theirs[: len(held)] if c is not None and not c.is_terminal],
            [c for c in theirs[len(held) :] if c is not None and c.is_terminal],
        )

    async def clear_pending_wrap_up(self, agent_id: str, contact_id: str) -> None:
        """The agent's wrap-up of the contact is given: once no required code is owed,
        the agent's wrap-up ends with its time (routing.lua, wrap_up_given)."""
        await self.run("wrap_up_given", agent_id, contact_id)

    async def keep_customer_window(self, contact_id: str, window: str, until_ms: int) -> None:
        """The customer's chat window `window` (or `WINDOW_START`) counts as open until
        `until_ms`."""
        await self._change_windows("keep", contact_id, window, until_ms)

    async def renew_customer_window(self, contact_id: str, window: str, until_ms: int) -> None:
        """As `keep_customer_window`, in a chat whose windows are kept only: one that a
        customer started (or whose socket window opened), not one that waits for none."""
        await self._change_windows("renew", contact_id, window, until_ms)

    async def close_customer_window(self, contact_id: str, window: str, until_ms: int) -> None:
        """The window closed: it no longer counts, and the chat waits for a window until
        `until_ms` (or later, when a later close said so)."""
        await self._change_windows("close", contact_id, window, until_ms)

    async def settle_customer_windows(
        self, contact_id: str, grace_ms: int, at_ms: int | None = None
    ) -> tuple[str, int] | None:
        """What keeps the chat's customer there longest, and until when (ms): an open
        window's id, `WINDOW_START` or `WINDOW_LEFT`; None when nothing does. A window
        whose time has passed (its node stopped refreshing it: stopped or crashed) is
        taken as closed at that time, the grace counting from then (`WINDOW_LEFT`)."""
        return await self._change_windows("settle", contact_id, grace_ms, at_ms=at_ms)

    async def latest_customer_window(self, contact_id: str) -> tuple[str, int] | None:
        """What keeps the chat's customer there longest, and until when (ms), as it is
        stored (a window whose time passed included); None when nothing does."""
        found = await self.client.zrange(
            self.keys.customer_windows(contact_id), -1, -1, withscores=True
        )
        return (str(found[0][0]), int(found[0][1])) if found else None

    async def _change_windows(
        self, op: str, contact_id: str, *args: str | int, at_ms: int | None = None
    ) -> tuple[str, int] | None:
        found = await self._windows(
            keys=[
                self.keys.customer_windows(contact_id),
                self.keys.customer_windows_due,
                self.keys.contact(contact_id),
            ],
            args=[op, contact_id, now_ms() if at_ms is None else at_ms, WINDOWS_KEPT_MS, *args],
        )
        if not found:
            return None
        holder, until = found
        return (holder.decode() if isinstance(holder, bytes) else str(holder), int(float(until)))

    async def customer_windows_due(self, at_ms: int, limit: int) -> list[str]:
        """Up to `limit` chats whose customer windows are to be judged by `at_ms`, the
        longest due first."""
        found = await self.client.zrangebyscore(
            self.keys.customer_windows_due, "-inf", at_ms, start=0, num=limit
        )
        return [c.decode() if isinstance(c, bytes) else str(c) for c in found]

    async def defer_customer_windows(self, contact_id: str, until_ms: int) -> None:
        """Judge the chat's windows again at `until_ms` (its judgement failed), unless it
        left the index meanwhile."""
        await self.client.zadd(self.keys.customer_windows_due, {contact_id: until_ms}, xx=True)

    async def forget_customer_windows(self, contact_id: str) -> None:
        """The chat has ended (or is gone): its windows are judged no more."""
        pipe = self.client.pipeline(transaction=True)
        pipe.zrem(self.keys.customer_windows_due, contact_id)
        pipe.delete(self.keys.customer_windows(contact_id))
        await pipe.execute()

    async def queue_position(self, queue: str, contact_id: str) -> int | None:
        rank = await self.client.zrank(self.keys.queue(queue), contact_id)
        return None if rank is None else int(rank) + 1

    async def wait_history(self, queue: str, contact_id: str) -> WaitHistory:
        """What the wait predictors read besides the statistics: the contact's position,
        when the head of the queue started waiting, the last answered contact's wait."""
        pipe = self.client.pipeline(transaction=False)
        pipe.zrank(self.keys.queue(queue), contact_id)
        pipe.zrange(self.keys.queue(queue), 0, 0)
        pipe.hmget(self.keys.queue_waits(queue), ["last_wait_ms", "last_at"])
        rank, head, (last_wait, last_at) = await pipe.execute()
        head_since = None
        if head:
            queued_at = await self.client.hget(self.keys.contact(head[0]), "queued_at")
            head_since = _int(queued_at) if queued_at else None
        return WaitHistory(
            position=None if rank is None else int(rank) + 1,
            head_queued_at_ms=head_since,
            last_wait_ms=_int(last_wait) if last_wait is not None else None,
            last_answered_at_ms=_int(last_at) if last_at is not None else None,
        )

    async def note_announced(self, contact_id: str, announced: str) -> None:
        """Keep the first waits announced to a contact, which the routing function
        scores when the contact is answered (`router.waits.encode`)."""
        await self.client.hsetnx(self.keys.contact(contact_id), "ewt", announced)

    async def waiting(self, queue: str) -> list[tuple[str, float]]:
        """Contact ids in queue order with their order score."""
        return [
            (member, float(score))
            for member, score in await self.client.zrange(
                self.keys.queue(queue), 0, -1, withscores=True
            )
        ]

    async def waiting_contacts(self, queue: str, limit: int) -> list[Contact]:
        """The first `limit` waiting contacts of a queue, in queue order (one pipeline)."""
        members = await self.client.zrange(self.keys.queue(queue), 0, limit - 1)
        if not members:
            return []
        pipe = self.client.pipeline(transaction=False)
        for contact_id in members:
            pipe.hgetall(self.keys.contact(contact_id))
        return [_contact(row) for row in await pipe.execute() if row]

    async def served_contacts(self, queue: str, limit: int) -> list[Contact]:
        """Up to `limit` contacts of a queue that are offered to or held by an agent
        (read from the live set: two pipelines, whatever the queue's length)."""
        members = list(await self.client.smembers(self.keys.live()))
        if not members:
            return []
        pipe = self.client.pipeline(transaction=False)
        for contact_id in members:
            pipe.hmget(self.keys.contact(contact_id), ["queue", "state"])
        served = [
            contact_id
            for contact_id, (name, state) in zip(members, await pipe.execute(), strict=True)
            if name == queue and state in ("offered", "connected")
        ][:limit]
        pipe = self.client.pipeline(transaction=False)
        for contact_id in served:
            pipe.hgetall(self.keys.contact(contact_id))
        return [_contact(row) for row in await pipe.execute() if row] if served else []

    async def waiting_counts(
        self, queue: str, *fields: str, limit: int | None = None
    ) -> Counter[tuple[str, ...]]:
        """Waiting contacts counted by the values of some of their fields (one pipeline)."""
        members = await self.client.zrange(
            self.keys.queue(queue), 0, -1 if limit is None else limit - 1
        )
        return await self._count_by(members, fields)

    async def callbacks_due(self, *fields: str) -> Counter[tuple[str, ...]]:
        """The callbacks waiting for their next attempt (the first CALLBACKS_SCAN due),
        counted by the values of some of their fields: owed calls no queue's line shows."""
        members = await self.client.zrange(self.keys.callbacks, 0, CALLBACKS_SCAN - 1)
        return await self._count_by(members, fields)

    async def _count_by(
        self, contact_ids: Sequence[str], fields: Sequence[str]
    ) -> Counter[tuple[str, ...]]:
        """Contacts counted by the values of some of their fields (one pipeline)."""
        if not contact_ids:
            return Counter()
        pipe = self.client.pipeline(transaction=False)
        for contact_id in contact_ids:
            pipe.hmget(self.keys.contact(contact_id), list(fields))
        rows = await pipe.execute()
        return Counter(tuple(value or "?" for value in row) for row in rows)

    async def queue_depths(self, queues: Sequence[str]) -> dict[str, int]:
        pipe = self.client.pipeline(transaction=False)
        for name in queues:
            pipe.zcard(self.keys.queue(name))
        return {name: int(n) for name, n in zip(queues, await pipe.execute(), strict=True)}

    async def live_contacts(self, node: str | None = None) -> set[str]:
        return set(await self.client.smembers(self.keys.live(node)))

    async def stat_buckets(self, queue: str, since_ms: int, until_ms: int) -> list[dict[str, int]]:
        """The 5-minute counter buckets of a queue between two times."""
        start = since_ms - since_ms % STAT_BUCKET_MS
        pipe = self.client.pipeline(transaction=False)
        for at in range(start, until_ms + 1, STAT_BUCKET_MS):
            pipe.hgetall(self.keys.stat(queue, at))
        return [{k: int(v) for k, v in row.items()} for row in await pipe.execute()]

    async def records(
        self, since_id: str = "-", count: int = 10_000, *, retained: bool = False
    ) -> AsyncIterator[dict[str, str]]:
        """Finished contacts from the records stream, oldest first, each with its
        `record_id`; the stream of records whose content retention removed with
        `retained`."""
        stream = self.keys.retained if retained else self.keys.records
        start = since_id
        while True:
            batch = await self.client.xrange(stream, min=start, count=count)
            for entry_id, fields in batch:
                yield {"record_id": entry_id, **fields}
            if len(batch) < count:
                return
            start = f"({batch[-1][0]}"

    # -- chat transcripts -----------------------------------------------------------

    async def append_message(self, contact_id: str, message: dict[str, Any]) -> None:
        key = self.keys.chat(contact_id)
        pipe = self.client.pipeline(transaction=False)
        pipe.rpush(key, json.dumps(message))
        pipe.expire(key, MESSAGE_TTL_S)
        await pipe.execute()

    async def append_message_once(
        self, contact_id: str, message: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Append a message that carries a `client_message_id`, unless one of the chat's
        latest REPEAT_SCAN messages came from the same sender with the same id: that
        message is answered then, and nothing is stored (one step: a retry racing the
        first request stores nothing either)."""
        known = await self._append_once(
            keys=[self.keys.chat(contact_id)],
            args=[
                json.dumps(message),
                message["sender"],
                message["client_message_id"],
                REPEAT_SCAN,
                MESSAGE_TTL_S,
            ],
        )
        return json.loads(known) if known else None

    async def find_repeat(
        self, contact_id: str, sender: str, client_message_id: str
    ) -> dict[str, Any] | None:
        """The message of `sender` with this `client_message_id` among the chat's latest
        REPEAT_SCAN, if any."""
        latest = await self.client.lrange(self.keys.chat(contact_id), -REPEAT_SCAN, -1)
        for raw in reversed(latest):
            if client_message_id not in raw:
                continue
            message = json.loads(raw)
            if (message.get("sender"), message.get("client_message_id")) == (
                sender,
                client_message_id,
            ):
                return dict(message)
        return None

    async def mark_read(self, contact_id: str, reader: str, message_id: str, index: int) -> bool:
        """`reader` (one of READERS) read up to `message_id`, at `index` in the chat;
        kept only when later than what they had read. False when it was not."""
        if reader not in READERS:
            raise ValueError(f"reader {reader!r} is none of {READERS}")
        return bool(
            await self._read_up_to(
                keys=[self.keys.chat_reads(contact_id)],
                args=[reader, message_id, index, MESSAGE_TTL_S],
            )
        )

    async def reads(self, contact_id: str) -> dict[str, str | None]:
        """The latest message each reader side has read (None: nothing yet)."""
        found = await self.client.hmget(self.keys.chat_reads(contact_id), list(READERS))
        return {reader: value or None for reader, value in zip(READERS, found, strict=True)}

    async def replace_message(self, contact_id: str, index: int, message: dict[str, Any]) -> None:
        """A message at its place in the chat (messages are only ever appended)."""
        await self.client.lset(self.keys.chat(contact_id), index, json.dumps(message))

    async def messages(self, contact_id: str, limit: int | None = None) -> list[dict[str, Any]]:
        end = -1 if limit is None else limit - 1
        return [
            json.loads(raw) for raw in await self.client.lrange(self.keys.chat(contact_id), 0, end)
        ]

    async def first_messages(
        self, contact_ids: Sequence[str], limit: int
    ) -> dict[str, list[dict[str, Any]]]:
        """The first `limit` messages of each chat, in one pipeline."""
        if not contact_ids:
            return {}
        pipe = self.client.pipeline(transaction=False)
        for contact_id in contact_ids:
            pipe.lrange(self.keys.chat(contact_id), 0, limit - 1)
        rows = await pipe.execute()
        return {
            cid: [json.loads(raw) for raw in row]
            for cid, row in zip(contact_ids, rows, strict=True)
        }

    async def delete_transcripts(self, contact_ids: Sequence[str]) -> None:
        """A chat's messages and its read receipts."""
        if contact_ids:
            keys = [self.keys.chat(cid) for cid in contact_ids]
            keys += [self.keys.chat_reads(cid) for cid in contact_ids]
            await self.client.delete(*keys)

    # -- IVR outcomes -----------------------------------------------------------------

    async def append_ivr_outcome(self, record: dict[str, str]) -> None:
        """One answered call's IVR outcome (router/reports/ivr.py `ivr_record`)."""
        await self.client.xadd(self.keys.ivr, record, maxlen=IVR_MAX_ENTRIES, approximate=True)

    # -- events -------------------------------------------------------------------

    async def publish_event(self, event: dict[str, Any]) -> None:
        """Events that do not come from a routing decision (chat messages, sessions)."""
        await self.client.publish(self.keys.events, json.dumps(event))

    async def subscribe(self) -> EventSubscription:
        """A subscription to the routing events, returned once the server confirmed it
        (events published from then on are heard); close it when done."""
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.keys.events)
            subscription = EventSubscription(pubsub)
            await subscription.confirmed(EventSubscription.QUIET_S)
        except BaseException:
            await pubsub.aclose()
            raise
        return subscription


class EventSubscription:
    """One node's subscription to the routing events.

    redis-py's `PubSub` makes the subscribed connection (plain, Sentinel's master,
    Cluster), and the events are then read straight off that connection's socket, a
    whole read at a time, parsed by hiredis in C: `PubSub.get_message` costs ~25 us of
    Python per message, and every node reads every routing event (about four per
    decision). Plain awaits, no generator left suspended, so cancelling a reader never
    blocks the close. A connection quiet for `QUIET_S` is pinged; no answer within
    another `QUIET_S` (a server gone without closing the socket) ends the subscription
    with a ConnectionError, as a closed socket does, and the hub subscribes again."""

    QUIET_S = 10.0
    READ_SIZE = 1 << 16

    def __init__(self, pubsub: Any) -> None:
        self.pubsub = pubsub
        self._connection = pubsub.connection
        self._parser = hiredis.Reader()
        self._ready: deque[dict[str, Any]] = deque()
        self._heard_at = time.monotonic()
        self._pinged_at: float | None = None
        self._confirmed = False

    async def confirmed(self, within_s: float) -> None:
        """Wait for the server's confirmation of the SUBSCRIBE: a server still loading its
        data, or a socket dead since before the command, would otherwise pass for a
        subscription that hears nothing."""
        deadline = time.monotonic() + within_s
        while not self._confirmed:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RedisConnectionError(
                    f"the server did not confirm the event subscription within {within_s:.0f} s"
                )
            await self._read(left)

    async def next(self, timeout_s: float) -> dict[str, Any] | None:
        """The next event, or None when none came within `timeout_s`."""
        if not self._ready:
            await self._read(timeout_s)
        return self._ready.popleft() if self._ready else None

    async def _read(self, timeout_s: float) -> None:
        stream = self._connection._reader  # redis-py's StreamReader of this connection
        if stream is None:
            raise RedisConnectionError("the event subscription's connection is closed")
        try:
            async with asyncio.timeout(timeout_s):  # a timer; wait_for would make a Task
                chunk = await stream.read(self.READ_SIZE)
        except TimeoutError:
            await self._keep_alive()
            return
        if not chunk:
            raise RedisConnectionError("the event subscription was closed by the server")
        self._heard_at, self._pinged_at = time.monotonic(), None
        self._parser.feed(chunk)
        while (reply := self._parser.gets()) is not False:
            if isinstance(reply, list) and reply and reply[0] == b"message":
                self._take(reply[2])
            elif isinstance(reply, list) and reply and reply[0] == b"subscribe":
                self._confirmed = True

    def _take(self, payload: bytes) -> None:
        """An event for the hub; anything else published on the channel is logged and
        dropped, so that it costs no other event."""
        try:
            event = json.loads(payload)
        except ValueError:
            event = None
        if isinstance(event, dict):
            self._ready.append(event)
        else:
            log.warning("ignored a message on the event channel that is no event: %.80r", payload)

    async def _keep_alive(self) -> None:
        now = time.monotonic()
        if self._pinged_at is not None:
            if now - self._pinged_at >= self.QUIET_S:
                silent = now - self._heard_at
                raise RedisConnectionError(f"no answer on the event channel for {silent:.0f} s")
        elif now - self._heard_at >= self.QUIET_S:
            # No health check of redis-py's own: it would read this socket's events.
            await self._connection.send_command("PING", check_health=False)
            self._pinged_at = now

    async def close(self) -> None:
        await self.pubsub.aclose()


def _queue_config(fields: dict[str, Any]) -> QueueConfig:
    known = {f.name for f in dataclass_fields(QueueConfig)}
    values = {k: v for k, v in fields.items() if k in known}
    values["strategy"] = Strategy(values.get("strategy", Strategy.LONGEST_IDLE.value))
    values["fallback_languages"] = tuple(values.get("fallback_languages", ()))
    return QueueConfig(**values)


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
        presence_since_ms=_int(fields.get("presence_since")),
        load_since_ms=_int(fields.get("load_since")),
        code_owed_until_ms=_int(fields.get("code_owed_until")),
        ring_s=_int(fields.get("ring_s")),
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
        left_ringing_at=fields.get("left_ringing_at", ""),
        offer_ended_for=fields.get("offer_ended_for", ""),
        offer_ended_why=fields.get("offer_ended_why", ""),
        node=fields.get("node", ""),
        explanation=list(json.loads(fields.get("explanation") or "[]")),
        matched_languages=[tag for tag in fields.get("matched_languages", "").split("|") if tag],
        timestamps={key: _int(fields[key]) for key in _TIMESTAMPS if fields.get(key)},
        placement=fields.get("placement", ""),
        callback_uri=fields.get("callback_uri", ""),
        transfers=list(json.loads(fields.get("transfers") or "[]")),
        recordings=list(json.loads(fields.get("recordings") or "[]")),
        holds=list(json.loads(fields.get("holds") or "[]")),
        on_hold_since=_int(fields.get("on_hold_since")),
        recording_paused_since=_int(fields.get("recording_paused_since")),
        rating=_int(fields.get("rating")) or None,
        verified=fields.get("verified") == "1",
        language_tag=fields.get("language_tag", ""),
    )
