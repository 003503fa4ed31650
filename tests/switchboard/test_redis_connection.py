"""The node's Redis connection: the hiredis packer sends what redis-py's own would
(values, errors, pipelines), and a server that stops answering times commands out."""

from __future__ import annotations

import os
import signal
import time

import pytest
from redis.asyncio.connection import Connection
from redis.exceptions import DataError
from redis.exceptions import TimeoutError as RedisTimeoutError

from switchboard.embedded import EmbeddedRedis
from switchboard.redisconn import PackedConnection, connect

VALUES = ("héllo", b"\x00\xff", bytearray(b"ab"), memoryview(b"cd"), 7, -0.0, 0.1 + 0.2, 1e20)


def test_same_bytes_as_redis_py() -> None:
    ours, theirs = PackedConnection(), Connection()
    for value in VALUES:
        assert b"".join(ours.pack_command("HSET", "k", "f", value)) == b"".join(
            theirs.pack_command("HSET", "k", "f", value)
        )
    assert b"".join(ours.pack_command("CONFIG GET", "maxmemory")) == b"".join(
        theirs.pack_command("CONFIG GET", "maxmemory")
    )
    commands = [("SET", "a", 1), ("INCRBYFLOAT", "b", 1.5)]
    assert b"".join(ours.pack_commands(commands)) == b"".join(theirs.pack_commands(commands))


def test_a_value_redis_cannot_take_is_a_data_error() -> None:
    with pytest.raises(DataError):
        PackedConnection().pack_command("SET", "k", None)  # type: ignore[arg-type]


async def test_a_plain_url_packs_with_hiredis(redis_url: str) -> None:
    client = connect(redis_url)
    try:
        assert client.connection_pool.connection_class is PackedConnection
        await client.hset("h", mapping={"a": "é", "b": 2.5})
        pipe = client.pipeline(transaction=True)
        pipe.hincrbyfloat("h", "b", 0.5)
        pipe.hgetall("h")
        assert await pipe.execute() == [3.0, {"a": "é", "b": "3"}]
    finally:
        await client.aclose()


async def test_a_server_that_stops_reading_times_a_command_out(
    private_redis: EmbeddedRedis,
) -> None:
    """A write the socket cannot take whole waits at most `socket_timeout`; so does the
    read of a command the server never answers; the client then works again."""
    assert private_redis.process is not None
    client = connect(private_redis.url, socket_timeout=0.5)
    try:
        await client.ping()
        os.kill(private_redis.process.pid, signal.SIGSTOP)
        started = time.monotonic()
        with pytest.raises(RedisTimeoutError, match="writing"):
            await client.set("big", b"x" * (64 << 20))  # far more than the socket buffers
        with pytest.raises(RedisTimeoutError, match=r"[Rr]eading"):
            await client.get("small")
        assert time.monotonic() - started < 5
        os.kill(private_redis.process.pid, signal.SIGCONT)
        await client.set("small", "after")
        assert await client.get("small") == "after"
    finally:
        await client.aclose()
