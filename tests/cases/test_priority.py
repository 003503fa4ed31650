"""The routing function's priority change: a waiting contact moves up its queue by the
credit the new priority is worth, and says why."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from router.errors import RoutingError
from router.model import Channel, NewContact, QueueConfig
from router.service import Router
from router.store import RoutingStore

T0 = 1_741_000_000_000


async def test_a_raised_priority_moves_a_waiting_contact_ahead(
    redis_client: aioredis.Redis,
) -> None:
    router = Router(RoutingStore(redis_client), [QueueConfig("booking", "booking")], region="eu")
    await router.publish_configuration(["eu"])
    chat = NewContact(Channel.CHAT, "booking", "en")
    first = await router.create_contact(chat, at_ms=T0)
    second = await router.create_contact(chat, at_ms=T0 + 30_000)
    assert [cid for cid, _ in await router.store.waiting("booking")] == [
        first.contact_id,
        second.contact_id,
    ]
    raised = await router.set_priority(
        second.contact_id, 1, "emotion keyword 'angry'", at_ms=T0 + 40_000
    )
    # One point is worth 60 s of waiting (priority_weight_s): arrived 30 s later, it is ahead.
    assert raised.priority == 1
    assert raised.explanation[-1] == "priority 0 -> 1: emotion keyword 'angry'"
    order = await router.store.waiting("booking")
    assert [cid for cid, _ in order] == [second.contact_id, first.contact_id]
    assert order[0][1] == T0 + 30_000 - 60_000
    assert (await router.set_priority(second.contact_id, 42, "cap", at_ms=T0)).priority == 9
    await router.abandon(first.contact_id, at_ms=T0 + 50_000)
    with pytest.raises(RoutingError, match="abandoned"):  # an ended contact keeps its priority
        await router.set_priority(first.contact_id, 3, "too late")
