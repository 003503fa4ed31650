"""The node's subscription to routing events, read straight off its socket: every event
in order however many come in one read, and a server that closes the connection or
stops answering ends the subscription, after which the hub subscribes again."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from router.events import EventHub
from router.model import Agent, Channel, NewContact, Presence, QueueConfig
from router.service import Router
from router.store import EventSubscription, RoutingStore
from switchboard.embedded import EmbeddedRedis
from switchboard.redisconn import connect


async def next_event(subscription: EventSubscription, within_s: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        event = await subscription.next(timeout_s=0.2)
        if event is not None:
            return event
    raise AssertionError("no event came")


async def test_every_event_of_a_burst_arrives_in_order(redis_client: aioredis.Redis) -> None:
    store = RoutingStore(redis_client, prefix="evs")
    subscription = await store.subscribe()
    try:
        sent = [{"type": "note", "n": n, "text": "é" * (n % 50)} for n in range(300)]
        pipe = redis_client.pipeline(transaction=False)
        for event in sent:
            pipe.publish(store.keys.events, json.dumps(event))
        await pipe.execute()  # 300 events in one write: many arrive in one socket read
        await redis_client.publish(store.keys.events, "not json")  # no event: dropped,
        await redis_client.publish(store.keys.events, "[1, 2]")  # and costs no other one
        await redis_client.publish(store.keys.events, json.dumps({"type": "last"}))
        received = [await next_event(subscription) for _ in [*sent, "last"]]
        assert received == [*sent, {"type": "last"}]
        assert await subscription.next(timeout_s=0.1) is None
    finally:
        await subscription.close()


async def test_a_routing_decision_s_events_reach_the_hub(redis_client: aioredis.Redis) -> None:
    router = Router(
        RoutingStore(redis_client, prefix="evh"),
        [QueueConfig("q", "s")],
        node_id="n1",
        region="emea",
    )
    await router.publish_configuration(["emea"])
    hub = EventHub(router.store)
    await hub.start()
    try:
        async with hub.listen(agent_id="a1") as events:
            await asyncio.wait_for(hub.connected.wait(), 5)
            await router.upsert_agent(Agent("a1", "emea", {"s": 3}, ["en"]))
            await router.set_presence("a1", Presence.AVAILABLE)
            contact = await router.create_contact(NewContact(Channel.CHAT, "q", "en"))
            seen: list[dict[str, Any]] = []
            while not any(e.get("type") == "offer" for e in seen):
                seen.append(await asyncio.wait_for(events.get(), 5))
            offer = next(e for e in seen if e["type"] == "offer")
            assert offer["contact_id"] == contact.contact_id and offer["agent_id"] == "a1"
    finally:
        await hub.stop()


async def test_a_server_that_stops_answering_ends_the_subscription(
    private_redis: EmbeddedRedis,
) -> None:
    client = connect(private_redis.url)
    store = RoutingStore(client, prefix="evq")
    subscription = await store.subscribe()
    subscription.QUIET_S = 0.3
    assert private_redis.process is not None
    try:
        assert await subscription.next(timeout_s=0.4) is None  # quiet: a ping goes out
        os.kill(private_redis.process.pid, signal.SIGSTOP)
        started = time.monotonic()
        with pytest.raises(RedisConnectionError):
            for _ in range(20):  # bounded: two quiet periods at most
                await subscription.next(timeout_s=0.2)
        assert time.monotonic() - started < 3
    finally:
        os.kill(private_redis.process.pid, signal.SIGCONT)
        await subscription.close()
        await client.aclose()


async def test_a_quiet_but_live_server_keeps_the_subscription(private_redis: EmbeddedRedis) -> None:
    """The check above can fail: a server that answers the ping keeps it open."""
    client = connect(private_redis.url)
    subscription = await RoutingStore(client, prefix="evl").subscribe()
    subscription.QUIET_S = 0.2
    try:
        for _ in range(8):  # four quiet periods, each answered
            assert await subscription.next(timeout_s=0.15) is None
    finally:
        await subscription.close()
        await client.aclose()


async def test_the_hub_subscribes_again_after_the_server_cut_it_off(
    private_redis: EmbeddedRedis,
) -> None:
    client = connect(private_redis.url)
    store = RoutingStore(client, prefix="evk")
    hub = EventHub(store)
    await hub.start()
    try:
        async with hub.listen() as events:
            await asyncio.wait_for(hub.connected.wait(), 5)
            await client.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:  # until the hub has subscribed again
                await store.publish_event({"type": "note", "n": 1})
                try:
                    event = await asyncio.wait_for(events.get(), 0.3)
                except TimeoutError:
                    continue
                assert event == {"type": "note", "n": 1}
                break
            else:
                raise AssertionError("the hub did not subscribe again")
    finally:
        await hub.stop()
        await client.aclose()
