"""Routing use cases: create, offer, accept, decline, complete, abandon, statistics.

The `Router` is what the HTTP API, the IVR and the regional node call; it speaks in
model objects and leaves every decision to one atomic script call in the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from router.model import (
    Agent,
    AgentState,
    Contact,
    NewContact,
    Presence,
    QueueConfig,
)
from router.stats import DEFAULT_AHT_S, QueueFigures, add_buckets, estimate_wait_s, occupancy
from router.store import RoutingStore, UnknownAgent, UnknownContact, UnknownQueue, now_ms

log = logging.getLogger(__name__)

HOUR_MS = 3_600_000


class RoutingError(ValueError):
    """A request the contact's current state does not allow (409 over HTTP)."""


@dataclass(frozen=True)
class QueuePosition:
    position: int
    ewt_s: float


@dataclass(frozen=True)
class QueueStatus:
    name: str
    waiting: int
    longest_wait_s: float
    ewt_s: float
    serving_agents: int
    occupancy: float | None
    today: QueueFigures
    last_30_min: QueueFigures
    service_level_target: float
    answer_within_s: float


class Router:
    def __init__(
        self,
        store: RoutingStore,
        queues: Sequence[QueueConfig],
        *,
        node_id: str = "",
        region: str = "default",
    ) -> None:
        self.store = store
        self.queues = {queue.name: queue for queue in queues}
        self.node_id = node_id
        self.region = region

    async def publish_configuration(self, regions: Sequence[str]) -> None:
        await self.store.publish_queues(list(self.queues.values()))
        await self.store.publish_regions([*regions, self.region])

    # -- contacts -----------------------------------------------------------------

    async def create_contact(self, new: NewContact, at_ms: int | None = None) -> Contact:
        if new.queue not in self.queues:
            raise RoutingError(f"unknown queue {new.queue!r}")
        contact_id = uuid.uuid4().hex
        region = new.region or self.region
        node = new.node or self.node_id
        request = NewContact(**{**new.__dict__, "node": node})
        try:
            return await self.store.create_contact(contact_id, request, region, at_ms=at_ms)
        except UnknownQueue:
            raise RoutingError(f"queue {new.queue!r} is not published on this Redis") from None

    async def get_contact(self, contact_id: str) -> Contact:
        contact = await self.store.get_contact(contact_id)
        if contact is None:
            raise UnknownContact(contact_id)
        return contact

    async def accept(self, contact_id: str, agent_id: str, at_ms: int | None = None) -> Contact:
        result = await self.store.run("accept", contact_id, agent_id, at_ms=at_ms)
        self._check(result, contact_id, "accept")
        return await self.get_contact(contact_id)

    async def decline(
        self, contact_id: str, agent_id: str, reason: str = "declined", at_ms: int | None = None
    ) -> Contact:
        result = await self.store.run("decline", contact_id, agent_id, reason, at_ms=at_ms)
        self._check(result, contact_id, "decline")
        return await self.get_contact(contact_id)

    async def complete(
        self, contact_id: str, agent_id: str | None = None, at_ms: int | None = None
    ) -> Contact:
        contact = await self.get_contact(contact_id)
        if agent_id is not None and contact.agent_id != agent_id:
            raise RoutingError(f"contact {contact_id} is not connected to agent {agent_id}")
        result = await self.store.run("complete", contact_id, "", at_ms=at_ms)
        self._check(result, contact_id, "complete")
        return await self.get_contact(contact_id)

    async def abandon(
        self, contact_id: str, reason: str = "customer_left", at_ms: int | None = None
    ) -> Contact:
        result = await self.store.run("abandon", contact_id, reason, at_ms=at_ms)
        self._check(result, contact_id, "abandon")
        return await self.get_contact(contact_id)

    async def fail(self, contact_id: str, reason: str, at_ms: int | None = None) -> Contact:
        result = await self.store.run("fail", contact_id, reason, at_ms=at_ms)
        self._check(result, contact_id, "fail")
        return await self.get_contact(contact_id)

    async def transfer(
        self,
        contact_id: str,
        agent_id: str,
        to_queue: str | None = None,
        to_agent: str | None = None,
    ) -> Contact:
        """Blind transfer to a queue, keeping the contact's place by arrival time."""
        contact = await self.get_contact(contact_id)
        if contact.agent_id != agent_id:
            raise RoutingError(f"contact {contact_id} is not with agent {agent_id}")
        target = to_queue or contact.queue
        if target not in self.queues:
            raise RoutingError(f"unknown queue {target!r}")
        result = await self.store.run("move", contact_id, target, f"transfer by {agent_id}")
        self._check(result, contact_id, "transfer")
        if to_agent:
            await self.store.set_contact_fields(contact_id, preferred_agent=to_agent)
        return await self.get_contact(contact_id)

    async def request_callback(self, contact_id: str, callback_uri: str) -> Contact:
        """The caller hangs up but keeps the place; the node calls back when an agent is free."""
        await self.store.set_contact_fields(contact_id, callback_uri=callback_uri)
        return await self.get_contact(contact_id)

    async def note_timestamps(
        self,
        contact_id: str,
        call_arrived_at: int | None = None,
        ivr_done_at: int | None = None,
    ) -> None:
        """Times only telephony sees (INVITE arrival, end of the IVR), in ms since the epoch."""
        fields = {
            name: int(value)
            for name, value in (("call_arrived_at", call_arrived_at), ("ivr_done_at", ivr_done_at))
            if value
        }
        if fields:
            await self.store.set_contact_fields(contact_id, **fields)

    async def note_transfer(self, contact_id: str, transfer: dict[str, object]) -> None:
        """One voice transfer on the contact's record (telephony's worker calls it)."""
        contact = await self.get_contact(contact_id)
        await self.store.set_contact_fields(
            contact_id, transfers=json.dumps([*contact.transfers, transfer])
        )

    async def note_recording(self, contact_id: str, recording: dict[str, object]) -> None:
        """One call recording on the contact's record (telephony's worker calls it)."""
        contact = await self.get_contact(contact_id)
        await self.store.set_contact_fields(
            contact_id, recordings=json.dumps([*contact.recordings, recording])
        )

    async def position(self, contact_id: str) -> QueuePosition:
        contact = await self.get_contact(contact_id)
        position = await self.store.queue_position(contact.queue, contact_id) or 0
        serving = await self.serving_agents(contact.queue)
        return QueuePosition(
            position, estimate_wait_s(position, serving, await self.aht_s(contact.queue))
        )

    @staticmethod
    def _check(result: list[object], contact_id: str, action: str) -> None:
        status = str(result[0])
        if status == "unknown_contact":
            raise UnknownContact(contact_id)
        if status in ("not_offered", "not_connected", "already", "unknown_queue"):
            state = str(result[1]) if len(result) > 1 else ""
            raise RoutingError(f"cannot {action} contact {contact_id}: it is {state or status}")

    # -- agents -------------------------------------------------------------------

    async def upsert_agent(self, agent: Agent) -> None:
        await self.store.upsert_agent(agent)

    async def get_agent(self, agent_id: str) -> Agent:
        agent = await self.store.get_agent(agent_id)
        if agent is None:
            raise UnknownAgent(agent_id)
        return agent

    async def login(
        self, agent_id: str, sip_uri: str = "", channels: dict[str, int] | None = None
    ) -> Agent:
        agent = await self.get_agent(agent_id)
        capacity = {**agent.capacity, **(channels or {})}
        await self.store.set_login(agent_id, sip_uri, self.node_id, capacity)
        if agent.presence == Presence.OFFLINE:
            await self.store.set_presence(agent_id, Presence.NOT_READY, "logged in")
        return await self.get_agent(agent_id)

    async def set_presence(
        self, agent_id: str, presence: Presence, reason: str = "", at_ms: int | None = None
    ) -> Agent:
        await self.store.set_presence(agent_id, presence, reason, at_ms=at_ms)
        return await self.get_agent(agent_id)

    async def list_agents(self) -> list[Agent]:
        return await self.store.list_agents()

    # -- timers -------------------------------------------------------------------

    async def tick(self, at_ms: int | None = None) -> list[int]:
        """Ring timeouts, wrap-up ends, relaxation steps and maximum waits, once."""
        return [int(n) for n in await self.store.run("tick", at_ms=at_ms)]

    async def run_timers(self, interval_s: float, stop: asyncio.Event) -> None:
        """Tick until stopped; a Redis error is logged and retried, never fatal."""
        while not stop.is_set():
            try:
                await self.tick()
            except Exception as error:  # Redis down: keep the node alive, retry next tick
                log.warning("routing tick failed: %s", error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)

    # -- statistics ---------------------------------------------------------------

    async def serving_agents(self, queue: str) -> int:
        """Agents logged in and ready (or busy) with the queue's skill."""
        return len(await self._serving(queue))

    async def _serving(self, queue: str, agents: list[Agent] | None = None) -> list[AgentState]:
        """Routing states of the agents logged in with the queue's skill (not not-ready)."""
        skill = self.queues[queue].skill
        now = now_ms()
        if agents is None:
            agents = await self.store.list_agents()
        states = [agent.state(now) for agent in agents if skill in agent.skills]
        return [s for s in states if s not in (AgentState.OFFLINE, AgentState.NOT_READY)]

    async def aht_s(self, queue: str, at_ms: int | None = None) -> float:
        now = now_ms() if at_ms is None else at_ms
        figures = add_buckets(await self.store.stat_buckets(queue, now - HOUR_MS, now))
        if figures.handled >= 5 and figures.average_handle_time_s:
            return figures.average_handle_time_s
        return DEFAULT_AHT_S

    async def queue_statuses(self, day_start_ms: int) -> list[QueueStatus]:
        """Every queue's status, reading the agents once for all of them."""
        agents = await self.store.list_agents()
        return [await self.queue_status(name, day_start_ms, agents) for name in self.queues]

    async def queue_status(
        self, name: str, day_start_ms: int, agents: list[Agent] | None = None
    ) -> QueueStatus:
        queue = self.queues[name]
        now = now_ms()
        waiting = await self.store.waiting(name)
        # Priority reorders the queue, so the longest wait is looked for near the head.
        heads = [await self.store.get_contact(contact_id) for contact_id, _ in waiting[:50]]
        longest = max(
            [(now - c.timestamps.get("queued_at", now)) / 1000 for c in heads if c is not None],
            default=0.0,
        )
        serving_states = await self._serving(name, agents)
        serving = len(serving_states)
        busy = sum(s in (AgentState.BUSY, AgentState.RESERVED) for s in serving_states)
        aht = await self.aht_s(name, now)
        return QueueStatus(
            name=name,
            waiting=len(waiting),
            longest_wait_s=longest,
            ewt_s=estimate_wait_s(len(waiting) + 1, serving, aht),
            serving_agents=serving,
            occupancy=occupancy(busy, serving),
            today=add_buckets(await self.store.stat_buckets(name, day_start_ms, now)),
            last_30_min=add_buckets(await self.store.stat_buckets(name, now - 1_800_000, now)),
            service_level_target=queue.service_level_target,
            answer_within_s=queue.answer_within_s,
        )
