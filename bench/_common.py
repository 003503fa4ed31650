"""Helpers both routing benches share: a private Redis, percentiles, the JSON last line.

Benches run by hand (`.venv/bin/python bench/<name>.py`); each starts its own
embedded valkey-server in a temporary directory so that it never touches a node's
data, and stops it (by the PID it started) on the way out.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import redis.asyncio as aioredis

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere: the packages live at the root
    sys.path.insert(0, str(ROOT))

from switchboard.embedded import EmbeddedRedis


@contextmanager
def redis_url(url: str | None = None) -> Iterator[str]:
    """`url` itself, or the URL of an embedded server of our own, stopped afterwards."""
    if url:
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="switchboard-bench-") as tmp:
        server = EmbeddedRedis(Path(tmp) / "valkey", die_with_parent=True)
        server.start()
        try:
            yield server.url
        finally:
            server.stop()


@asynccontextmanager
async def private_redis(url: str | None = None) -> AsyncIterator[aioredis.Redis]:
    """A client on `url`, or on an embedded server of our own that is stopped afterwards."""
    with redis_url(url) as where:
        client = aioredis.Redis.from_url(where, decode_responses=True)
        try:
            yield client
        finally:
            await client.aclose()


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def print_json_line(figures: dict[str, object]) -> None:
    """The machine-readable result, always the last line of a bench's output."""
    print(json.dumps(figures, sort_keys=False), flush=True)
