"""Calls made in one turn of the event loop share a write, and each caller still gets
its own answer: its reply, its error reply, or the failure of the connection."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import DataError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from switchboard.common.batching import CallBatcher
from switchboard.embedded import EmbeddedRedis
from switchboard.redisconn import connect

NAME = "batching-test"


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = connect(redis_url, client_name=NAME)
    try:
        await client.delete("counter", "text")
        yield client
    finally:
        await client.aclose()


async def server_reads(client: aioredis.Redis) -> int:
    return int((await client.info("stats"))["total_reads_processed"])


async def our_connections(client: aioredis.Redis) -> list[dict[str, str]]:
    return [c for c in await client.client_list() if c.get("name") == NAME]


async def test_calls_of_one_turn_go_out_in_one_write(client: aioredis.Redis) -> None:
    batcher = CallBatcher(client)
    await client.ping()  # one pooled connection exists; the batch must not need others
    before = await server_reads(client)
    replies = await asyncio.gather(*(batcher.execute("INCRBY", "counter", i) for i in range(1, 41)))
    reads = await server_reads(client) - before
    # Every caller got the reply to its own command, in the order the server ran them.
    assert replies == [sum(range(1, i + 1)) for i in range(1, 41)]
    assert reads <= 3  # 40 commands, read by the server in one go (+ this INFO)
    assert len(await our_connections(client)) == 1


async def test_unbatched_calls_cost_a_read_each(client: aioredis.Redis) -> None:
    """The measurement above can fail: the same calls sent one by one cost 40 reads."""
    before = await server_reads(client)
    await asyncio.gather(*(client.execute_command("INCRBY", "counter", 1) for _ in range(40)))
    assert await server_reads(client) - before >= 40


async def test_an_error_reply_goes_to_its_caller_only(client: aioredis.Redis) -> None:
    batcher = CallBatcher(client)
    await client.set("text", "not a number")
    results = await asyncio.gather(
        batcher.execute("INCR", "counter"),
        batcher.execute("INCR", "text"),
        batcher.execute("INCR", "counter"),
        return_exceptions=True,
    )
    assert results[0] == 1 and results[2] == 2
    assert isinstance(results[1], ResponseError)


async def test_a_value_redis_cannot_take_fails_its_call_only(client: aioredis.Redis) -> None:
    batcher = CallBatcher(client)
    results = await asyncio.gather(
        batcher.execute("INCR", "counter"),
        batcher.execute("SET", "text", None),  # no Redis value: found while packing
        batcher.execute("INCR", "counter"),
        return_exceptions=True,
    )
    assert results[0] in (1, 2) and results[2] in (1, 2) and results[0] != results[2]
    assert isinstance(results[1], DataError)
    assert await client.get("text") is None


async def test_a_lone_call_is_sent_as_it_would_be_without_the_batcher(
    client: aioredis.Redis,
) -> None:
    batcher = CallBatcher(client)
    assert await batcher.execute("INCR", "counter") == 1
    with pytest.raises(ResponseError):
        await batcher.execute("HGET", "counter", "field")  # WRONGTYPE, to its caller
    assert await batcher.execute("GET", "counter") == "1"


async def test_a_call_given_up_before_it_went_out_is_never_sent(client: aioredis.Redis) -> None:
    batcher = CallBatcher(client)
    kept = asyncio.ensure_future(batcher.execute("INCR", "counter"))
    dropped = asyncio.ensure_future(batcher.execute("INCRBY", "counter", 100))
    await asyncio.sleep(0)  # both are pending now
    dropped.cancel()
    other = asyncio.ensure_future(batcher.execute("INCR", "counter"))
    assert await kept == 1 and await other == 2
    assert dropped.cancelled()
    assert await client.get("counter") == "2"


async def test_a_server_that_stops_answering_fails_the_batch_and_the_next_one_works(
    private_redis: EmbeddedRedis,
) -> None:
    client = connect(private_redis.url, socket_timeout=0.5, retry_on_error=[])
    batcher = CallBatcher(client)
    assert private_redis.process is not None
    try:
        await client.ping()
        os.kill(private_redis.process.pid, signal.SIGSTOP)
        started = time.monotonic()
        results = await asyncio.gather(
            *(batcher.execute("INCR", "counter") for _ in range(5)), return_exceptions=True
        )
        assert all(isinstance(r, RedisTimeoutError | RedisConnectionError) for r in results)
        assert time.monotonic() - started < 5  # bounded by the socket timeout, not hung
        os.kill(private_redis.process.pid, signal.SIGCONT)
        replies = await asyncio.gather(*(batcher.execute("INCR", "other") for _ in range(5)))
        assert sorted(replies) == [1, 2, 3, 4, 5]
    finally:
        os.kill(private_redis.process.pid, signal.SIGCONT)
        await client.aclose()
