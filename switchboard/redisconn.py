"""Connecting to the configured Redis: plain, Sentinel, Cluster, or the embedded server."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import Connection
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import DataError

from switchboard.embedded import EmbeddedRedis, running_embedded_url
from switchboard.settings import Settings

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


class PackedConnection(Connection):
    """A connection that packs commands with hiredis' C packer.

    redis-py's synchronous client does so whenever hiredis is installed; its asyncio
    client packs in Python, about a tenth of a routing call's client CPU here
    (bench/README.md). Same bytes on the wire, same DataError for a value Redis cannot
    take."""

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


def connect(url: str, **overrides: Any) -> Any:
    """A client for `url`: redis://, rediss://, redis+sentinel://h:p[,h:p]/service[/db],
    redis+cluster://h:p; `overrides` change CLIENT_OPTIONS (a bench's pool size)."""
    parsed = urlparse(url)
    options = {**CLIENT_OPTIONS, **overrides}
    if parsed.scheme == "redis+sentinel":
        hosts = [
            (host.split(":")[0], int(host.split(":")[1]) if ":" in host else 26379)
            for host in parsed.netloc.split("@")[-1].split(",")
        ]
        parts = [part for part in parsed.path.split("/") if part]
        if not parts:
            raise ValueError(
                f"{url}: a Sentinel URL names the service: redis+sentinel://h:p/mymaster"
            )
        db = int(parts[1]) if len(parts) > 1 else 0
        sentinel = Sentinel(hosts, sentinel_kwargs={"socket_timeout": 2.0}, **options)
        return sentinel.master_for(parts[0], db=db)
    if parsed.scheme == "redis+cluster":
        return RedisCluster.from_url(url.replace("redis+cluster://", "redis://", 1), **options)
    if parsed.scheme == "redis":
        return aioredis.Redis.from_url(url, connection_class=PackedConnection, **options)
    return aioredis.Redis.from_url(url, **options)


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
    client = connect(url)
    try:
        yield client
    finally:
        await client.aclose()
        if server is not None:
            server.stop()
