"""A node's event source whose new subscriptions fail while `held`: the events
connection is not back yet although Redis answers, so what is published meanwhile is
never heard by the node (the gap the outage probes hit)."""

from __future__ import annotations

from redis.exceptions import ConnectionError as RedisConnectionError

from router.events import Event, Subscription
from router.store import RoutingStore


class Gated:
    def __init__(self, store: RoutingStore) -> None:
        self.store = store
        self.held = False

    async def publish_event(self, event: Event) -> None:
        await self.store.publish_event(event)

    async def subscribe(self) -> Subscription:
        if self.held:
            raise RedisConnectionError("events connection not back yet")
        return await self.store.subscribe()
