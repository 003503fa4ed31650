"""The routing function library on a real Redis: loaded where it is missing, and
versions side by side."""

from __future__ import annotations

from dataclasses import replace

import redis.asyncio as aioredis

from router.model import ContactState, Presence, Strategy
from router.service import Router
from router.store import SOURCE, Reply, RoutingLibrary
from tests.router.conftest import QUEUES, make_agent
from tests.router.test_routing import T0, chat


async def test_a_flushed_server_gets_the_library_again(
    router: Router, redis_client: aioredis.Redis
) -> None:
    await router.store.upsert_agent(make_agent("a1"), at_ms=T0)
    await redis_client.function_flush()
    await router.set_presence("a1", Presence.AVAILABLE, at_ms=T0)
    contact = await router.create_contact(chat(), at_ms=T0 + 1000)
    assert contact.state == ContactState.OFFERED and contact.agent_id == "a1"
    assert await library_names(redis_client) == [
        "sb_routing_" + router.store.library.function.removeprefix("sb_route_")
    ]


async def test_two_versions_share_one_server(redis_client: aioredis.Redis) -> None:
    ours, theirs = RoutingLibrary(SOURCE), RoutingLibrary(SOURCE + "\n-- a later version\n")
    assert ours.function != theirs.function
    await ours.load(redis_client)
    await ours.load(redis_client)  # a second node loading the same version is no error
    await theirs.load(redis_client)
    assert len(await library_names(redis_client)) == 2
    for library in (ours, theirs):  # each answers with its own code: nothing is due yet
        reply = Reply.decode(await library.call(redis_client, ["sb:{rt}:anchor"], ["tick", T0]))
        assert reply.status == "ticked" and set(reply.fields.values()) == {"0"}


async def library_names(client: aioredis.Redis) -> list[str]:
    """FUNCTION LIST's library names (each entry is a flat name/value list)."""
    entries = await client.function_list()
    return sorted(dict(zip(e[::2], e[1::2], strict=True))["library_name"] for e in entries)


async def test_a_republished_queue_is_routed_by_its_new_rules(router: Router) -> None:
    """The function keeps queue rules between calls; publishing new ones must win."""
    for name in ("a1", "a2"):
        await router.store.upsert_agent(make_agent(name), at_ms=T0)
        await router.set_presence(name, Presence.AVAILABLE, at_ms=T0)
    first = await router.create_contact(chat(), at_ms=T0 + 1000)
    assert "strategy=longest_idle" in first.explanation[-1]
    changed = [
        replace(q, strategy=Strategy.ROUND_ROBIN) if q.name == "booking" else q for q in QUEUES
    ]
    await router.store.publish_queues(changed)
    second = await router.create_contact(chat(), at_ms=T0 + 2000)
    assert "strategy=round_robin" in second.explanation[-1]
