"""A node that stops cleanly is never shown down, not even for the moment between its
goodbye and its heir's adoption: it marks its entry stopped before it deletes its
heartbeat, whoever finds the heartbeat gone reads the entry again, and the wallboard's
"down" rule passes over a node that stopped. On the real Redis."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis

from regions.service import Regions
from regions.store import MembershipStore
from switchboard.embedded import EmbeddedRedis
from switchboard.web.wallboard import alerts
from tests.loops import until
from tests.regions.test_restart import TTL_S, beating, process


@contextlib.asynccontextmanager
async def listed(regions: Regions) -> AsyncIterator[None]:
    """`beating`, once the node's entry is written too (a heartbeat ended right after its
    first write of the heartbeat may not have written the entry)."""
    async with beating(regions):

        async def entry() -> bool:
            info = await regions.membership.known(regions.node_id)
            return info is not None and info.run == regions.run

        assert await until(entry, 1.0)
        yield


def node_alerts(overview: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(a["kind"], a["message"]) for a in alerts([], overview) if a["kind"] == "node_down"]


async def test_the_wallboard_shows_no_node_down_for_a_clean_stop(
    redis_client: aioredis.Redis,
) -> None:
    heir, gone, dead = (process(redis_client, n) for n in ("eu-1", "eu-2", "eu-3"))
    async with listed(heir):
        async with listed(gone), listed(dead):
            await gone.leave()
        # Nobody adopted either yet (the heir's check is not running): eu-2 said goodbye,
        # eu-3 died.
        overview = await heir.overview()
        nodes = {n["node_id"]: (n["healthy"], n["stopped"]) for n in overview[0]["nodes"]}
        assert nodes["eu-2"] == (False, True)
        assert node_alerts(overview) == []
        # A death is still an outage, as soon as its heartbeat expires.
        shown = await until(lambda: _down_shown(heir), 2 * TTL_S)  # it lives out its TTL
        assert [message.split(" (")[0] for _, message in shown] == [
            "node eu-3 in europe-west is down"
        ]


async def _down_shown(regions: Regions) -> list[tuple[str, str]]:
    return node_alerts(await regions.overview())


async def test_a_stopping_node_marks_its_entry_before_it_deletes_its_heartbeat(
    private_redis: EmbeddedRedis,
) -> None:
    """In the order Redis ran them, as its keyspace notifications tell."""
    client = aioredis.Redis.from_url(private_redis.url, decode_responses=True)
    await client.config_set("notify-keyspace-events", "Kgh")
    gone = process(client, "eu-2")
    seen: list[tuple[str, str]] = []
    async with client.pubsub() as pubsub:
        await pubsub.psubscribe("__keyspace@0__:sb:node*")
        async with listed(gone):
            pass  # it beat, then stopped beating
        await gone.leave()
        quiet = 0
        for _ in range(100):  # bounded: until nothing came for 0.3 s
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
            if message is None:
                quiet += 1
                if quiet == 3:
                    break
                continue
            quiet = 0
            seen.append((message["channel"].split(":", 1)[1], message["data"]))
    await client.aclose()
    # The beats wrote the entry and the heartbeat; the goodbye marks, then deletes.
    assert seen[-2:] == [("sb:nodes", "hset"), ("sb:node:eu-2", "del")], seen


class ListsThenActs(aioredis.Redis):
    """A real client whose listing of the nodes is followed at once by another node's
    act (a goodbye, an adoption), before the liveness of the heartbeats is read: the
    moment a reader can fall in."""

    act: Callable[[], Awaitable[Any]] | None = None

    async def hgetall(self, name: str) -> Any:  # type: ignore[override]
        listed = await super().hgetall(name)
        if self.act is not None:
            act, self.act = self.act, None
            await act()
        return listed


async def test_a_reader_that_listed_the_nodes_before_a_goodbye_sees_it(
    redis_url: str,
) -> None:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    reader = ListsThenActs.from_url(redis_url, decode_responses=True)
    assert isinstance(reader, ListsThenActs)
    gone = process(client, "eu-2")
    async with listed(gone):
        reader.act = gone.leave
        nodes = await MembershipStore(reader, "sb", TTL_S).nodes()
        assert reader.act is None  # it did leave between the two reads
    assert [(info.node_id, alive, info.left) for info, alive in nodes] == [("eu-2", False, True)]
    # A node adopted and forgotten between the reads is left out: its adoption tells.
    gone_info = await gone.membership.known("eu-2")
    assert gone_info is not None
    reader.act = lambda: gone.membership.forget(gone_info)
    assert await MembershipStore(reader, "sb", TTL_S).nodes() == []
    assert reader.act is None
    await asyncio.gather(client.aclose(), reader.aclose())
