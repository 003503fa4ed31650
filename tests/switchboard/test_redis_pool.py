"""The node's connections to Redis: a burst of commands larger than the pool waits for a
connection (up to `[redis] pool_timeout_s`) instead of failing at once with "Too many
connections", on a plain server, through Sentinel and on a Cluster; one that waits
longer fails as an outage (ConnectionError, answered 503 by the HTTP API)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from switchboard.embedded import EmbeddedCluster, EmbeddedRedis, EmbeddedSentinel
from switchboard.redisconn import connect, pool_options
from switchboard.settings import load_settings
from tests.nodes import ROOT

POOL = 4
BURST = 12  # three times the pool: each command holds its connection while it blocks


async def burst(client: Any, seconds: float = 0.2) -> list[Any]:
    """BURST commands at once, each holding a connection for `seconds` (BLPOP of an empty
    list, keys of one Cluster slot)."""
    return list(
        await asyncio.gather(
            *(client.blpop([f"{{pool}}:empty:{i}"], timeout=seconds) for i in range(BURST))
        )
    )


async def test_a_burst_larger_than_the_pool_waits_for_connections(redis_url: str) -> None:
    client = connect(redis_url, max_connections=POOL)
    try:
        assert await burst(client) == [None] * BURST
    finally:
        await client.aclose()


async def test_a_pool_full_for_longer_than_its_timeout_is_an_outage(redis_url: str) -> None:
    client = connect(redis_url, max_connections=POOL, pool_timeout_s=0.2)
    try:
        holders = [
            asyncio.ensure_future(client.blpop([f"{{pool}}:held:{i}"], timeout=2))
            for i in range(POOL)
        ]
        await asyncio.sleep(0.3)  # every connection is taken by now
        with pytest.raises(RedisConnectionError):
            await client.get("waits-too-long")
        assert await asyncio.gather(*holders) == [None] * POOL
        assert await client.get("now-there-is-one") is None
    finally:
        await client.aclose()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[EmbeddedCluster]:
    cluster = EmbeddedCluster(tmp_path / "cluster")
    cluster.start()
    yield cluster
    cluster.stop()


async def test_a_burst_waits_on_a_cluster(cluster: EmbeddedCluster) -> None:
    client = connect(cluster.url, max_connections=POOL)
    try:
        assert await burst(client) == [None] * BURST
        pipe = client.pipeline(transaction=False)
        pipe.set("{pool}:a", 1)
        pipe.get("{pool}:a")
        assert await pipe.execute() == [True, "1"]
    finally:
        await client.aclose()


async def test_a_burst_waits_through_sentinel(private_redis: EmbeddedRedis, tmp_path: Path) -> None:
    sentinel = EmbeddedSentinel(tmp_path / "sentinel", private_redis)
    sentinel.start()
    client = connect(sentinel.url, max_connections=POOL)
    try:
        assert await burst(client) == [None] * BURST
    finally:
        await client.aclose()
        sentinel.stop()


def test_the_pool_is_configured_in_the_redis_section(tmp_path: Path) -> None:
    text = (ROOT / "config" / "default.toml").read_text()
    path = tmp_path / "node.toml"
    path.write_text(
        text.replace("[redis]\n", "[redis]\nmax_connections = 40\npool_timeout_s = 2.5\n")
    )
    assert pool_options(load_settings(path)) == {"max_connections": 40, "pool_timeout_s": 2.5}
    assert pool_options(load_settings(ROOT / "config" / "default.toml")) == {
        "max_connections": 100,
        "pool_timeout_s": 5.0,
    }
