"""bench/routing_floor.py's stripped library: it still routes (so its cost is routing's),
it drops the bookkeeping it says it drops, and it refuses a library that moved on."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from bench._stripped_routing import stripped
from router.model import ContactState, Presence
from router.service import Router
from router.store import SOURCE, RoutingStore
from tests.router.conftest import QUEUES, make_agent
from tests.router.test_routing import T0, chat


async def test_the_stripped_library_routes_a_contact_to_its_end(
    redis_client: aioredis.Redis,
) -> None:
    router = Router(
        RoutingStore(redis_client, source=stripped(SOURCE)), QUEUES, node_id="n1", region="eu"
    )
    await router.publish_configuration(["eu"])
    await router.store.upsert_agent(make_agent("a1"), at_ms=T0)
    await router.set_presence("a1", Presence.AVAILABLE, at_ms=T0)
    contact = await router.create_contact(chat(customer_id="c9"), at_ms=T0 + 1000)
    assert contact.state == ContactState.OFFERED and contact.agent_id == "a1"
    await router.accept(contact.contact_id, "a1", at_ms=T0 + 2000)
    done = await router.complete(contact.contact_id, "a1", at_ms=T0 + 3000)
    assert done.state == ContactState.COMPLETED
    # The agent is free again: the next contact is offered to it at once.
    again = await router.create_contact(chat(), at_ms=T0 + 4000)
    assert again.state == ContactState.OFFERED and again.agent_id == "a1"
    # What it strips is gone: no counters, no records, no customer history.
    keys: set[str] = set()
    for key in await redis_client.keys("*"):
        assert isinstance(key, str)  # the client decodes: redis's types also allow bytes
        keys.add(key)
    assert not [key for key in keys if ":stat:" in key or key.endswith(":records")]
    assert not [key for key in keys if ":customer:" in key]


def test_a_library_without_what_it_strips_is_refused() -> None:
    with pytest.raises(SystemExit, match="counters"):
        stripped(SOURCE.replace("local function stat(", "local function count_stat("))
    with pytest.raises(SystemExit, match="customer history"):
        stripped(SOURCE.replace("if (c.customer_id or '') ~= '' then", "if c.customer_id then"))
