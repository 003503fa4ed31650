"""Fan-out of routing events: one Redis subscription per node, many local listeners.

The Lua script publishes every offer, revocation, state change and closure on one
channel; each node subscribes once and hands each event to the WebSockets of the
agents connected to it and to its telephony (events of contacts it owns).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from router.model import Contact, LoopFailed, LoopLog, uncounted
from switchboard.common.tasks import cancel_and_wait

log = logging.getLogger(__name__)

STOP_WAIT_S = 1.0
# Retries of a lost subscription: quick, and never more than a second apart once Redis is
# back, since events published before it are missed (pending offers are sent again).
FIRST_RETRY_S = 0.2
MAX_RETRY_S = 1.0
# What a client's stream finds in its queue when the subscription came back after a loss:
# what was published meanwhile never reached it, it reads it again (streams.pump).
RESUMED = "events_resumed"

Event = dict[str, Any]


def offer_event(contact: Contact, ring_until_ms: int, now: int, sip_uri: str = "") -> Event:
    """A contact ringing at its agent, shaped as the `offer` event that announced it
    (routing.lua, hold_agent), `ring_s` what is left of the ring: sent again to whoever
    missed it (a desk that connects, a node's telephony after a gap in the events)."""
    return {
        "type": "offer",
        "contact_id": contact.contact_id,
        "agent_id": contact.agent_id,
        "channel": contact.channel.value,
        "queue": contact.queue,
        "language": contact.language,
        "region": contact.region,
        "customer_id": contact.customer_id,
        "tier": contact.customer_tier,
        "priority": contact.priority,
        "queued_at": contact.timestamps.get("queued_at", now),
        "callback_uri": contact.callback_uri,
        "node": contact.node,
        "sip_uri": sip_uri,
        "ring_s": max(0.0, (ring_until_ms - now) / 1000),
        "explanation": contact.explanation[-1] if contact.explanation else "",
    }


class Subscription(Protocol):
    async def next(self, timeout_s: float) -> Event | None: ...

    async def close(self) -> None: ...


class EventSource(Protocol):
    """What the hub needs of the routing store: its event channel, to publish and follow."""

    async def publish_event(self, event: Event) -> None: ...

    async def subscribe(self) -> Subscription:
        """Once the server confirmed it: what is published from then on is heard."""
        ...


class EventHub:
    def __init__(
        self,
        source: EventSource,
        observe: Callable[[Event], None] | None = None,
        failed: LoopFailed = uncounted,
    ) -> None:
        """`observe` sees every event once, as it arrives, and `failed` every loss of
        the subscription (the node's metrics)."""
        self.source = source
        self.observe = observe
        self._by_user: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)
        self._by_agent: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)
        self._by_node: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)
        self._by_contact: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)
        self._everything: set[asyncio.Queue[Event]] = set()
        self._task: asyncio.Task[None] | None = None
        self._subscription: Subscription | None = None
        self._stopping = False
        self._log = LoopLog(log, "events", "routing events subscription", failed)
        self.connected = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="event-hub")

    async def stop(self) -> None:
        """Cancel the reader (again until it ends: the Redis client may swallow a
        cancellation); if it still reads (in the middle of reconnecting), close its
        connection so that the read ends."""
        self._stopping = True
        if self._task is None:
            return
        running = await cancel_and_wait([self._task], STOP_WAIT_S)
        if running and self._subscription is not None:
            log.info("event subscription did not stop at once; closing its connection")
            with contextlib.suppress(Exception):
                await self._subscription.close()
            running = await cancel_and_wait([self._task], STOP_WAIT_S)
        if not running:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _run(self) -> None:
        """Subscribe, deliver, and on any Redis failure resubscribe with a short back-off."""
        delay = FIRST_RETRY_S
        while not self._stopping:
            try:
                subscription = self._subscription = await self.source.subscribe()
                try:
                    self.connected.set()
                    delay = FIRST_RETRY_S
                    self._subscribed_again()
                    while not self._stopping:
                        event = await subscription.next(timeout_s=1.0)
                        if event is not None:
                            self.deliver(event)
                finally:
                    with contextlib.suppress(Exception):
                        await asyncio.shield(subscription.close())
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Redis gone: resubscribe, never take the node down
                self.connected.clear()
                self._log.failed(error)  # counted each time, logged once a burst
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_S)

    def _subscribed_again(self) -> None:
        """After a loss: say when events flow again, and have every client's stream read
        what it missed (offers published before this subscription were not heard)."""
        out_s = self._log.passed()
        if out_s is None:
            return
        resumed: Event = {"type": RESUMED, "out_s": round(out_s, 1)}
        for queue in self._streams():
            queue.put_nowait(resumed)

    def _streams(self) -> set[asyncio.Queue[Event]]:
        """The queues of clients' streams, those listening for an agent, a contact or a
        user, and of a node's telephony (listening for its node), which dials again the
        voice offers it missed; in-process followers of everything read no gap."""
        streams: set[asyncio.Queue[Event]] = set()
        for registry in (self._by_agent, self._by_contact, self._by_user, self._by_node):
            for queues in registry.values():
                streams |= queues
        return streams

    async def publish(self, event: Event) -> None:
        """Events that do not come from a routing decision (chat messages, sessions)."""
        await self.source.publish_event(event)

    def deliver(self, event: Event) -> None:
        if self.observe is not None:
            self.observe(event)
        targets = set(self._everything)
        user_id = event.get("user_id")
        if user_id:
            targets |= self._by_user.get(user_id, set())
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
        user_id: str | None = None,
    ) -> AsyncIterator[asyncio.Queue[Event]]:
        """A queue receiving the events of the agent, node, contact and user (their
        sessions ending) given, or of everything when none is. A queue of an agent, a
        node, a contact or a user also receives RESUMED when the subscription comes back
        after a loss."""
        queue: asyncio.Queue[Event] = asyncio.Queue()
        registries = [
            registry[key]
            for registry, key in (
                (self._by_user, user_id),
                (self._by_agent, agent_id),
                (self._by_node, node),
                (self._by_contact, contact_id),
            )
            if key
        ] or [self._everything]
        for registry in registries:
            registry.add(queue)
        try:
            yield queue
        finally:
            for registry in registries:
                registry.discard(queue)
