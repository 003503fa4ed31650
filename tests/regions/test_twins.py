"""Two processes that beat under one node id (started at once, so that the start's check
passed both): the one started later stops, as its start would have been refused, and the
other serves on; so that when it dies, its work is adopted (while both beat, the node
never looked dead and nobody adopted anything). On the real Redis, and with real node
processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from switchboard.embedded import EmbeddedRedis, free_port
from tests.harness import LocalCluster, NodeProcess
from tests.loops import until
from tests.regions.test_restart import TTL_S, beating, process


async def test_of_two_processes_beating_as_one_id_the_later_gives_way(
    redis_client: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    earlier, later = process(redis_client), process(redis_client)
    heir = process(redis_client, "eu-2")
    await heir.router.publish_configuration(["europe-west"])
    async with beating(heir):
        async with beating(earlier):
            await asyncio.sleep(0.01)  # a start time of its own, after the earlier's
            async with beating(later):
                assert await until(lambda: _set(later.displaced), TTL_S), "neither gave way"
                # The one that gives way leaves the node's heartbeat alone, even where
                # it beat last: the node lives on in the other process.
                await later.leave()
                assert await later.membership.heartbeat("eu-1") is not None
                assert not (await later.membership.known("eu-1")).left  # type: ignore[union-attr]
                assert not await later.adopt_dead_nodes()  # it judges nothing any more
                # The earlier one beats on, alone: the heartbeat is its own again.
                assert await until(lambda: _beats_as(earlier, "eu-1", earlier.run), TTL_S), (
                    "the earlier process stopped beating"
                )
            assert not earlier.displaced.is_set() and earlier.in_use is None
        # The earlier one dies (no goodbye): its work is adopted, as for any death.
        assert await until(heir.adopt_dead_nodes, 3 * TTL_S), "eu-1 was never adopted"
    assert later.in_use is not None
    assert str(later.in_use).startswith("node id eu-1 is in use: the process started at ")
    assert "this process, started later, stops" in caplog.text
    assert "started later: that one stops" in caplog.text


async def _set(event: asyncio.Event) -> bool:
    return event.is_set()


async def _beats_as(regions: object, node_id: str, run: str) -> bool:
    live = await regions.membership.heartbeat(node_id)  # type: ignore[attr-defined]
    return live is not None and live[1].run == run


async def test_a_node_process_that_finds_an_older_twin_stops_with_status_2(
    private_redis: EmbeddedRedis, tmp_path: Path
) -> None:
    client = aioredis.Redis.from_url(private_redis.url, decode_responses=True)
    with LocalCluster(
        private_redis.url, tmp_path, heartbeat_ttl_s=TTL_S, always_open=True
    ) as cluster:
        cluster.start([("eu-1", "europe-west"), ("eu-2", "europe-west")])
        first = cluster.node("eu-2")
        assert first.process is not None
        twin = NodeProcess("eu-2", "europe-west", free_port(), tmp_path / "eu-2-twin.log")
        # Twins as a start at once makes them: the first one paused until its heartbeat
        # lapsed, the second one's start finds none and serves, then the first one beats
        # again.
        os.kill(first.process.pid, signal.SIGSTOP)
        try:
            started = twin.launch(cluster.config())
            deadline = time.monotonic() + 30
            while not twin.healthy():
                assert started.poll() is None, twin.log_path.read_text()
                assert time.monotonic() < deadline, "the twin never started"
                await asyncio.sleep(0.1)
        finally:
            os.kill(first.process.pid, signal.SIGCONT)
        try:
            # The twin started later: it stops, through the node's stop, with status 2.
            deadline = time.monotonic() + 5 * TTL_S
            while started.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            log = twin.log_path.read_text()
            assert started.poll() == 2, log
        finally:
            twin.kill()
        assert "switchboard: error: node id eu-2 is in use: the process started at" in log
        assert "this process, started later, stops" in log
        assert "node eu-2 stopped in" in log  # the normal stop: sockets closed, and so on
        assert first.healthy()
        # The first one serves on, alone; when it dies, its work is adopted.
        first.kill()
        killed_at = time.time()

        async def adopted() -> bool:
            raw = await client.lrange("sb:adoptions", 0, -1)
            return any(
                (a["dead_node"], a["heir"]) == ("eu-2", "eu-1") and a["at"] > killed_at
                for a in map(json.loads, raw)
            )

        assert await until(adopted, 4 * TTL_S), "eu-2 was never adopted after its death"
    await client.aclose()
