"""Connecting to the configured Redis: plain, Sentinel, Cluster, or the embedded server."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

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


def connect(url: str) -> Any:
    """A client for `url`: redis://, rediss://, redis+sentinel://h:p[,h:p]/service[/db],
    redis+cluster://h:p."""
    parsed = urlparse(url)
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
        sentinel = Sentinel(hosts, sentinel_kwargs={"socket_timeout": 2.0}, **CLIENT_OPTIONS)
        return sentinel.master_for(parts[0], db=db)
    if parsed.scheme == "redis+cluster":
        return RedisCluster.from_url(
            url.replace("redis+cluster://", "redis://", 1), **CLIENT_OPTIONS
        )
    return aioredis.Redis.from_url(url, **CLIENT_OPTIONS)


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
