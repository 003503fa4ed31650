"""Fan-out of routing events: one Redis subscription per node, many local listeners.

The Lua script publishes every offer, revocation, state change and closure on one
channel; each node subscribes once and hands each event to the WebSockets of the
agents connected to it and to its telephony (events of contacts it owns).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

log = logging.getLogger(__name__)

Event = dict[str, Any]


class EventHub:
    def __init__(self, client: Any, channel: str) -> None:
        self.client = client
        self.channel = channel
        self._by_agent: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)
        self._by_node: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)
        self._by_contact: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)
        self._everything: set[asyncio.Queue[Event]] = set()
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="event-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        """Subscribe, deliver, and on any Redis failure resubscribe with a back-off."""
        delay = 0.2
        while True:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.connected.set()
                delay = 0.2
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self.deliver(json.loads(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.connected.clear()
                log.warning("event subscription lost (%s); retrying in %.1fs", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def publish(self, event: Event) -> None:
        """Events that do not come from a routing decision (chat messages)."""
        await self.client.publish(self.channel, json.dumps(event))

    def deliver(self, event: Event) -> None:
        targets = set(self._everything)
        agent_id = event.get("agent_id")
        if agent_id:
            targets |= self._by_agent.get(agent_id, set())
        node = event.get("node")
        if node:
            targets |= self._by_node.get(node, set())
        contact_id = event.get("contact_id")
        if contact_id:
            targets |= self._by_contact.get(contact_id, set())
        for queue in targets:
            queue.put_nowait(event)

    @contextlib.asynccontextmanager
    async def listen(
        self,
        *,
        agent_id: str | None = None,
        node: str | None = None,
        contact_id: str | None = None,
    ) -> AsyncIterator[asyncio.Queue[Event]]:
        """A queue receiving the events of one agent, node or contact (none given: all)."""
        queue: asyncio.Queue[Event] = asyncio.Queue()
        if agent_id:
            registry = self._by_agent[agent_id]
        elif node:
            registry = self._by_node[node]
        elif contact_id:
            registry = self._by_contact[contact_id]
        else:
            registry = self._everything
        registry.add(queue)
        try:
            yield queue
        finally:
            registry.discard(queue)
