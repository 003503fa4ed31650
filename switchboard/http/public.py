"""What the customers' side needs in front of every public endpoint: cross-origin access
for the sites that embed the chat, a request budget per client address (the address
a trusted proxy forwarded for, `[http] trusted_proxies`; else the TCP peer's), and a
bound on how many public requests the node serves at once.

They are small and per node, so they are written here rather than taken from a
library: the allow-list is the configured sites' origins, the budget a token bucket
per address kept in memory (a node forgets it at restart, which is fine for a guard
against floods; logins have their own throttling in Redis, router/sessions.py), and the
bound a semaphore. A request is staff's, and neither counted nor bounded, only when its
bearer token is valid; any other `Authorization` (another scheme, a made-up or expired
token) is a customer's request like one without.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import redis.exceptions
from aiohttp import web

from switchboard.http.base import DESK, client_address, error, request_principal

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Endpoints anyone may call; the chat's customer endpoints carry a customer token.
PUBLIC_PREFIXES = ("/api/v1/contacts", "/api/v1/chat", "/api/v1/i18n")
MAX_ADDRESSES = 100_000
# Public requests served at once; more are answered 503 with Retry-After at once, so
# that a flood of customers' requests (however many addresses it comes from) leaves
# the node's Redis connections (`[redis] max_connections`, 100) to staff.
PUBLIC_CONCURRENCY = 64
# Public routes that stay open (a customer's WebSocket): counted, never bounded here.
STREAMS = frozenset({"/api/v1/contacts/{contact_id}/events"})


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
PUBLIC_GATE = web.AppKey("public_gate", asyncio.Semaphore)


async def _public(request: web.Request) -> bool:
    """A customer's request: a public path without a valid bearer token (a header of
    another scheme, or a token nobody holds, is no credential). When Redis cannot tell,
    the request counts as public; its handler then answers 503."""
    if not request.path.startswith(PUBLIC_PREFIXES):
        return False
    try:
        return await request_principal(request) is None
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
        return True


def _stream(request: web.Request) -> bool:
    resource = request.match_info.route.resource
    return resource is not None and resource.canonical in STREAMS


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
    """Public requests: within the address's budget (else 429), and within
    PUBLIC_CONCURRENCY at once (else 503); staff's go straight through."""
    if not await _public(request):
        return await handler(request)
    wait = request.app[BUDGET].take(client_address(request))
    if wait > 0:
        return error(
            429,
            "too_many_requests",
            "too many requests from this address; retry later",
            **{"Retry-After": str(max(1, round(wait)))},
        )
    if _stream(request):
        return await handler(request)
    gate = request.app[PUBLIC_GATE]
    if gate.locked():
        return error(
            503,
            "unavailable",
            "too many customers' requests at once; retry",
            **{"Retry-After": "1"},
        )
    async with gate:
        return await handler(request)
