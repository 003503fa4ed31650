"""Regions and queues over HTTP: nodes per region with health, queues with live figures."""

from __future__ import annotations

from aiohttp import web

from router.access import Principal
from router.errors import UnknownQueue
from switchboard.common.clock import utc_day_start_ms
from switchboard.http.api import API, Auth
from switchboard.http.base import REGIONS, ROUTER
from switchboard.http.views import queue_json


@API.route(
    "GET",
    "/api/v1/regions",
    "Nodes per region with health, load and the region's local time and hours",
    auth=Auth.STAFF,
    responses={200: "regions", 401: ""},
)
async def list_regions(request: web.Request, principal: Principal) -> web.Response:
    return web.json_response({"regions": await request.app[REGIONS].overview()})


@API.route(
    "GET",
    "/api/v1/queues",
    "Every queue: waiting, longest wait, EWT, service level today and in the last 30 min",
    auth=Auth.STAFF,
    responses={200: "queues", 401: ""},
)
async def list_queues(request: web.Request, principal: Principal) -> web.Response:
    statuses = await request.app[ROUTER].queue_statuses(utc_day_start_ms())
    return web.json_response({"queues": [queue_json(status) for status in statuses]})


@API.route(
    "GET",
    "/api/v1/queues/{queue}",
    "One queue's live figures",
    auth=Auth.STAFF,
    responses={200: "the queue", 401: "", 404: ""},
)
async def get_queue(request: web.Request, principal: Principal) -> web.Response:
    router = request.app[ROUTER]
    name = request.match_info["queue"]
    if name not in router.queues:
        raise UnknownQueue(name)
    return web.json_response(queue_json(await router.queue_status(name, utc_day_start_ms())))
