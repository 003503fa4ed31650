"""What the customers' side needs in front of every public endpoint: cross-origin access
for the sites that embed the chat, and a request budget per client address (the address
a trusted proxy forwarded for, `[http] trusted_proxies`; else the TCP peer's).

Both are small and per node, so they are written here rather than taken from a
library: the allow-list is the configured sites' origins, and the budget a token bucket
per address kept in memory (a node forgets it at restart, which is fine for a guard
against floods; logins have their own throttling in Redis, router/sessions.py).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from switchboard.http.base import DESK, client_address, error

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Endpoints anyone may call; the chat's customer endpoints carry a customer token.
PUBLIC_PREFIXES = ("/api/v1/contacts", "/api/v1/chat", "/api/v1/i18n")
MAX_ADDRESSES = 100_000


@dataclass
class Bucket:
    tokens: float
    at: float


class RequestBudget:
    """`per_minute` requests per client address, with bursts of up to that many."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.buckets: dict[str, Bucket] = {}

    def take(self, address: str, now: float | None = None) -> float:
        """0 when the request may go, else seconds until it may."""
        now = time.monotonic() if now is None else now
        if len(self.buckets) > MAX_ADDRESSES:
            self.buckets.clear()  # bounded memory under a flood of addresses
        bucket = self.buckets.setdefault(address, Bucket(self.per_minute, now))
        rate = self.per_minute / 60
        bucket.tokens = min(self.per_minute, bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / rate


BUDGET = web.AppKey("budget", RequestBudget)


def _public(request: web.Request) -> bool:
    """A customer's request: a public path without staff credentials."""
    return request.path.startswith(PUBLIC_PREFIXES) and "Authorization" not in request.headers


@web.middleware
async def cross_origin(request: web.Request, handler: Handler) -> web.StreamResponse:
    """CORS for the configured sites' origins on the public endpoints (and their
    preflights); other origins get no CORS headers, so browsers refuse them."""
    origin = request.headers.get("Origin", "")
    allowed = origin in request.app[DESK].origins and request.path.startswith(PUBLIC_PREFIXES)
    if request.method == "OPTIONS" and allowed:
        response: web.StreamResponse = web.Response(status=204)
    else:
        response = await handler(request)
    if allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, X-Customer-Token"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    return response


@web.middleware
async def request_budget(request: web.Request, handler: Handler) -> web.StreamResponse:
    if _public(request):
        wait = request.app[BUDGET].take(client_address(request))
        if wait > 0:
            return error(
                429,
                "too_many_requests",
                "too many requests from this address; retry later",
                **{"Retry-After": str(max(1, round(wait)))},
            )
    return await handler(request)
