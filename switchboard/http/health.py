"""Probes and machine-readable endpoints: liveness, readiness, metrics, the OpenAPI document."""

from __future__ import annotations

import secrets

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from router import access
from router.access import Principal
from router.errors import Unauthenticated
from router.metrics import REDIS_OUTAGES
from switchboard.common.clock import now_ms, utc_day_start_ms
from switchboard.http import openapi
from switchboard.http.api import API, Auth, optional_principal
from switchboard.http.base import (
    HUB,
    METRICS,
    METRICS_OPEN_TO,
    NODE_ID,
    ROUTER,
    SCRAPE_TOKEN,
    bearer_token,
    client_within,
    error,
)


@API.route("GET", "/livez", "200 while the process serves HTTP (liveness: restart it if not)")
async def livez(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "node": request.app[NODE_ID]})


READINESS = {200: "ready", 503: "not ready; Retry-After given"}


@API.route(
    "GET",
    "/healthz",
    "200 when the node can serve: the state store answers and routing events flow",
    responses=READINESS,
)
async def healthz(request: web.Request) -> web.Response:
    return await _readiness(request)


@API.route("GET", "/readyz", "The same as /healthz, by its Kubernetes name", responses=READINESS)
async def readyz(request: web.Request) -> web.Response:
    return await _readiness(request)


async def _readiness(request: web.Request) -> web.Response:
    """Ready when the state store answers and routing events flow (a load balancer sends
    nobody to a node that would fail them); 503 with Retry-After otherwise."""
    try:
        await request.app[ROUTER].store.ping()
    except Exception as failure:  # any failure of the store means: not ready
        return error(
            503, "unavailable", f"state store unreachable: {failure}", **{"Retry-After": "2"}
        )
    if not request.app[HUB].connected.is_set():
        return error(
            503, "unavailable", "routing events not subscribed yet", **{"Retry-After": "1"}
        )
    return web.json_response({"status": "ready", "node": request.app[NODE_ID]})


async def require_scraper(request: web.Request) -> None:
    """A client of `[http] metrics_open_to` (this host, by default), the configured scrape
    token (Prometheus' `authorization` / `bearer_token_file`), or a supervisor's or
    admin's session."""
    if client_within(request, request.app.get(METRICS_OPEN_TO, ())):
        return
    token = bearer_token(request)
    expected = request.app.get(SCRAPE_TOKEN, "")
    if expected and token and secrets.compare_digest(token.encode(), expected.encode()):
        return
    principal: Principal | None = await optional_principal(request)
    if principal is None:
        raise Unauthenticated("the scrape token or a supervisor's bearer token is required")
    access.require_may_scrape(principal)


@API.route(
    "GET",
    "/metrics",
    "Prometheus text: queues, agents, routing, HTTP, contacts (this host, the scrape token"
    " or a supervisor); while Redis is out of reach the node's own counters still, with"
    " switchboard_redis_up 0 and no queue or agent gauges",
    auth=Auth.SCRAPE,
    content="text/plain",
    responses={200: "Prometheus exposition", 401: "", 403: ""},
)
async def metrics(request: web.Request) -> web.Response:
    await require_scraper(request)
    router, metrics = request.app[ROUTER], request.app[METRICS]
    try:
        statuses = await router.queue_statuses(utc_day_start_ms())
        metrics.queues.update(statuses, await router.list_agents(), now_ms())
    except REDIS_OUTAGES:  # the outage is what the counters are scraped for: answer
        metrics.redis_errors.labels("http").inc()
        metrics.queues.unreachable()
    return web.Response(body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})


@API.route("GET", "/api/v1/openapi.json", "This document")
async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(openapi.document(API.operations))
