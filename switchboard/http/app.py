"""The node's aiohttp application: every package's routes plus health, metrics, OpenAPI."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from router.auth import UserStore
from router.chat import ChatLog
from router.events import EventHub
from router.metrics import render
from router.service import Router
from router.store import now_ms
from switchboard.http import contacts as router_http
from switchboard.http import openapi
from switchboard.http.base import (
    USERS,
    domain_error_middleware,
    error,
    redis_outage_middleware,
)

NODE_ID = web.AppKey("node_id", str)


async def healthz(request: web.Request) -> web.Response:
    try:
        await request.app[router_http.ROUTER].store.client.ping()
    except Exception as failure:
        return error(
            503, "unavailable", f"state store unreachable: {failure}", **{"Retry-After": "2"}
        )
    return web.json_response({"status": "ok", "node": request.app[NODE_ID]})


async def metrics(request: web.Request) -> web.Response:
    router = request.app[router_http.ROUTER]
    start = router_http.day_start_ms()
    statuses = await router.queue_statuses(start)
    text = render(statuses, await router.list_agents(), now_ms(), request.app[NODE_ID])
    return web.Response(text=text, content_type="text/plain", charset="utf-8")


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(openapi.document())


def build_app(
    router: Router,
    hub: EventHub,
    chat: ChatLog,
    users: UserStore,
    node_id: str,
    extra_routes: list[Any] | None = None,
) -> web.Application:
    app = web.Application(middlewares=[redis_outage_middleware, domain_error_middleware])
    app[router_http.ROUTER] = router
    app[router_http.HUB] = hub
    app[router_http.CHAT] = chat
    app[USERS] = users
    app[NODE_ID] = node_id
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/v1/openapi.json", openapi_json)
    app.add_routes(router_http.routes)
    for routes in extra_routes or []:
        app.add_routes(routes)
    return app
