"""Connecting to the configured Redis: plain, Sentinel, Cluster, or the embedded server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus, urlparse

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterPipeline, RedisCluster
from redis.asyncio.connection import BlockingConnectionPool, Connection
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import DataError
from redis.exceptions import TimeoutError as RedisTimeoutError

from switchboard.embedded import EmbeddedRedis, running_embedded_url
from switchboard.settings import RedisConfig, Settings

log = logging.getLogger(__name__)

# A pooled connection that went stale while Redis restarted fails its next command with
# a ConnectionError: that command is sent again, twice at most, on a fresh connection,
# so a recovered Redis answers every request instead of one per stale connection. Only
# connection errors are retried: a command that timed out may have run, and is not.
CLIENT_OPTIONS: dict[str, Any] = {
    "decode_responses": True,
    "socket_timeout": 3.0,
    "socket_connect_timeout": 2.0,
    "health_check_interval": 10,
    "retry": Retry(
        ExponentialBackoff(cap=0.5, base=0.05), retries=2, supported_errors=(RedisConnectionError,)
    ),
    "retry_on_error": [RedisConnectionError],
}
# A Sentinel that does not answer is passed over at once for the next (redis-py's
# default retries each one with back-off: 25 s of silence before "no master" when none
# answered); the command's own retries try them all again.
SENTINEL_OPTIONS: dict[str, Any] = {
    "socket_timeout": 2.0,
    "socket_connect_timeout": 2.0,
    "retry": Retry(NoBackoff(), retries=0),
}
# `[redis] max_connections` and `pool_timeout_s`: the node's connections to Redis, and
# how long a command waits for one when all are in use (a burst of requests queues
# briefly instead of failing; one that waits longer fails with a ConnectionError, which
# the HTTP API answers 503). redis-py's own default pool fails at once when full.
MAX_CONNECTIONS = RedisConfig.max_connections
POOL_TIMEOUT_S = RedisConfig.pool_timeout_s
# Connections of a Cluster node beyond those its commands queue for: subscriptions
# (the event hub's) hold one each.
CLUSTER_SPARE_CONNECTIONS = 8


class PackedConnection(Connection):
    """A connection that packs commands with hiredis' C packer and times its writes
    without a task per command.

    redis-py's synchronous client packs with hiredis whenever it is installed; its asyncio
    client packs in Python (~40 us a command here). And with a `socket_timeout` it sends
    each command under `asyncio.wait_for`, which in Python 3.11 wraps the write in a Task
    of its own; here a write the socket took whole needs no waiting, and one it did not
    is drained under `asyncio.timeout` (a timer, no task). Same bytes on the wire, same
    errors (DataError for a value Redis cannot take, TimeoutError and
    ConnectionError from a write, the connection dropped after a failed write)."""

    def pack_command(self, *args: Any) -> list[bytes]:
        if isinstance(args[0], str):  # 'CONFIG GET' is two words of the protocol
            args = tuple(args[0].encode().split()) + args[1:]
        args = tuple(bytes(a) if isinstance(a, bytearray | memoryview) else a for a in args)
        try:
            return [hiredis.pack_command(args)]
        except TypeError as error:
            raise DataError(str(error)) from error

    def pack_commands(self, commands: Any) -> list[bytes]:
        return [b"".join(self.pack_command(*command)[0] for command in commands)]

    async def send_packed_command(
        self, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        if not self.is_connected:
            await self.connect_check_health(check_health=False)
        if check_health:
            await self.check_health()
        if isinstance(command, str):
            command = command.encode()
        if isinstance(command, bytes):
            command = [command]
        writer = self._writer
        assert writer is not None  # connected above
        try:
            writer.writelines(command)
            if writer.transport.get_write_buffer_size():  # the socket did not take it all
                async with asyncio.timeout(self.socket_timeout):
                    await writer.drain()
        except TimeoutError:
            await self.disconnect(nowait=True)
            raise RedisTimeoutError("Timeout writing to socket") from None
        except OSError as error:
            await self.disconnect(nowait=True)
            raise RedisConnectionError(f"Error while writing to socket: {error}") from error
        except BaseException:  # a write cut short leaves the connection unusable
            await self.disconnect(nowait=True)
            raise


def without_credentials(url: str) -> str:
    """A Redis URL fit for a log: its user and password (`redis://user:pw@h:p/0`, also in
    the `redis+sentinel://h:p,h:p/...` and `redis+cluster://` forms `connect` reads, and
    redis-py's `?password=`/`?username=` arguments) replaced by `***`."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    rest, question, query = rest.partition("?")
    if "@" in rest:  # up to the last `@`: a password (even a malformed one) may hold `@`, `/`
        rest = "***@" + rest.rpartition("@")[2]
    if question:
        arguments = []
        for argument in query.split("&"):
            name = unquote_plus(argument.partition("=")[0])
            arguments.append(f"{name}=***" if name in ("password", "username") else argument)
        query = "&".join(arguments)
    return f"{scheme}://{rest}{question}{query}"


class BlockingSentinelConnectionPool(SentinelConnectionPool, BlockingConnectionPool):
    """Sentinel's pool of the master's connections that, full, waits for one to come
    back (up to its `timeout`) as BlockingConnectionPool does, instead of failing; and
    that leaves a master the moment it learns Sentinel named another.

    redis-py asks Sentinel for the master only when it opens a connection, and drops the
    idle ones on a change. After a planned failover the old master takes writes until
    Sentinel turns it into a replica (about ten seconds), which then throws them away:
    connections that stay open to it lose what they write (a chat answered 201 gone, an
    agent's work undone). Here every connection is dropped on a change, those in use too
    (their command fails as a connection error and is sent again on a fresh one, to the
    new master), and `listeners` are told (`follow_master` asks every MASTER_CHECK_S)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.listeners: list[Callable[[str], None]] = []

    async def get_master_address(self) -> Any:
        previous = self.master_address
        address = await super().get_master_address()
        if previous is not None and address != previous:
            why = f"Sentinel names another master ({address[0]}:{address[1]})"
            log.warning("%s: every connection to %s:%s is dropped", why, *previous)
            for listener in self.listeners:
                listener(why)
            await self.disconnect(inuse_connections=True)
        return address


# How often a Sentinel deployment's master is looked up between connections.
MASTER_CHECK_S = 0.5


def sentinel_pool(client: Any) -> BlockingSentinelConnectionPool | None:
    pool = getattr(client, "connection_pool", None)
    return pool if isinstance(pool, BlockingSentinelConnectionPool) else None


async def follow_master(client: Any, stop: asyncio.Event, every_s: float = MASTER_CHECK_S) -> None:
    """Until stopped, ask Sentinel for the master every `every_s` (nothing for other
    deployments): a failover is then followed within that time, not when a connection
    happens to open."""
    pool = sentinel_pool(client)
    if pool is None:
        return
    while not stop.is_set():
        try:
            await pool.get_master_address()
        except Exception as failure:  # no Sentinel answers, or no master: commands say so
            log.debug("master lookup failed: %s", failure)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)


class QueuedPipeline(ClusterPipeline):
    """A Cluster pipeline that waits for its client's gate (`QueuedCluster`)."""

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        client: QueuedCluster = self.cluster_client  # type: ignore[assignment]
        async with client.gate():
            return await super().execute(*args, **kwargs)


class QueuedCluster(RedisCluster):
    """A Cluster client whose commands and pipelines wait (up to `pool_timeout_s`) while
    `max_connections` are under way, instead of failing: redis-py's asyncio Cluster
    client has no blocking pool, and a full node fails a command at once ("Too many
    connections"). Each command or pipeline uses at most one connection of a node, so a
    node never has more than `max_connections` in use for them (plus subscriptions)."""

    def __init__(
        self,
        *,
        max_connections: int = MAX_CONNECTIONS,
        pool_timeout_s: float | None = POOL_TIMEOUT_S,
        **kwargs: Any,
    ) -> None:
        super().__init__(max_connections=max_connections + CLUSTER_SPARE_CONNECTIONS, **kwargs)
        self._gate = asyncio.Semaphore(max_connections)
        self._gate_timeout_s = pool_timeout_s

    @contextlib.asynccontextmanager
    async def gate(self) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(self._gate_timeout_s):
                await self._gate.acquire()
        except TimeoutError:
            raise RedisConnectionError("No connection available.") from None
        try:
            yield
        finally:
            self._gate.release()

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        async with self.gate():
            return await super().execute_command(*args, **kwargs)

    def pipeline(self, transaction: Any | None = None, shard_hint: Any | None = None) -> Any:
        if shard_hint:
            return super().pipeline(transaction, shard_hint)  # refused by redis-py
        return QueuedPipeline(self, transaction)  # type: ignore[abstract]  # as redis-py's


def connect(
    url: str,
    *,
    max_connections: int = MAX_CONNECTIONS,
    pool_timeout_s: float = POOL_TIMEOUT_S,
    **overrides: Any,
) -> Any:
    """A client for `url`: redis://, rediss://, redis+sentinel://h:p[,h:p]/service[/db],
    redis+cluster://h:p; at most `max_connections` to Redis (to each Cluster node), for
    one of which a command waits up to `pool_timeout_s` when all are in use;
    `overrides` change CLIENT_OPTIONS."""
    parsed = urlparse(url)
    options = {**CLIENT_OPTIONS, **overrides}
    pool: dict[str, Any] = {"max_connections": max_connections, "timeout": pool_timeout_s}
    if parsed.scheme == "redis+sentinel":
        hosts = [
            (host.split(":")[0], int(host.split(":")[1]) if ":" in host else 26379)
            for host in parsed.netloc.split("@")[-1].split(",")
        ]
        parts = [part for part in parsed.path.split("/") if part]
        if not parts:
            raise ValueError(
                f"{without_credentials(url)}: a Sentinel URL names the service: "
                "redis+sentinel://h:p/mymaster"
            )
        db = int(parts[1]) if len(parts) > 1 else 0
        sentinel = Sentinel(hosts, sentinel_kwargs=SENTINEL_OPTIONS, **options)
        return sentinel.master_for(
            parts[0], db=db, connection_pool_class=BlockingSentinelConnectionPool, **pool
        )
    if parsed.scheme == "redis+cluster":
        return QueuedCluster.from_url(
            url.replace("redis+cluster://", "redis://", 1),
            max_connections=max_connections,
            pool_timeout_s=pool_timeout_s,
            **options,
        )
    if parsed.scheme == "redis":
        options.setdefault("connection_class", PackedConnection)
    return aioredis.Redis.from_pool(BlockingConnectionPool.from_url(url, **pool, **options))


def pool_options(settings: Settings) -> dict[str, Any]:
    """`connect`'s pool arguments from `[redis] max_connections` and `pool_timeout_s`."""
    return {
        "max_connections": settings.redis.max_connections,
        "pool_timeout_s": settings.redis.pool_timeout_s,
    }


def embedded_dir(settings: Settings) -> Path:
    data_dir = Path(settings.redis.data_dir)
    return data_dir if data_dir.is_absolute() else Path.cwd() / data_dir


@contextlib.asynccontextmanager
async def redis_for_command(settings: Settings) -> AsyncIterator[Any]:
    """A client for a one-off command: the configured Redis, the running node's embedded
    server, or an embedded server started just for this command on the same data."""
    server: EmbeddedRedis | None = None
    url = settings.redis.url or running_embedded_url(embedded_dir(settings))
    if url is None:
        server = EmbeddedRedis(embedded_dir(settings))
        server.start()
        url = server.url
        # run from another folder than the node's, the relative data_dir is nobody's:
        # say which store the command used
        print(
            f"switchboard: no node's Redis is running on {embedded_dir(settings)}: started "
            "it for this command (a node started on it later finds the data; give a "
            "running node's --config to reach its store)",
            file=sys.stderr,
        )
    client = connect(url, **pool_options(settings))
    try:
        yield client
    finally:
        await client.aclose()
        if server is not None:
            server.stop()
