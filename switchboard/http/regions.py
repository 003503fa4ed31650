"""Regions and queues over HTTP: nodes per region with health, queues with live figures."""

from __future__ import annotations

from aiohttp import web

from router import access
from router.access import Principal
from router.errors import UnknownQueue
from switchboard.http.api import API, Auth
from switchboard.http.base import REGIONS, ROUTER
from switchboard.web.wallboard import queue_rows


@API.route(
    "GET",
    "/api/v1/regions",
    "Nodes per region with health, load and the region's local time and hours",
    auth=Auth.STAFF,
    responses={200: "regions", 401: ""},
)
async def list_regions(request: web.Request, principal: Principal) -> web.Response:
    overview = await request.app[REGIONS].overview()
    return web.json_response({"regions": access.regions_shown(principal, overview)})


@API.route(
    "GET",
    "/api/v1/queues",
    "The caller's queues (a supervisor's scope; everyone else's: every queue): waiting, "
    "longest wait, EWT, service level today and in the last 30 min, over a region's "
    "supervisor's regions only (as on their wallboard)",
    auth=Auth.STAFF,
    responses={200: "queues", 401: ""},
)
async def list_queues(request: web.Request, principal: Principal) -> web.Response:
    return web.json_response({"queues": await queue_rows(request, principal)})


@API.route(
    "GET",
    "/api/v1/queues/{queue}",
    "One queue's live figures, as GET /api/v1/queues shows it to the caller",
    auth=Auth.STAFF,
    responses={200: "the queue", 401: "", 403: "a supervisor's queue outside their scope", 404: ""},
)
async def get_queue(request: web.Request, principal: Principal) -> web.Response:
    name = request.match_info["queue"]
    if name not in request.app[ROUTER].queues:
        raise UnknownQueue(name)
    access.require_may_see_queue(principal, name)
    rows = await queue_rows(request, principal)
    return web.json_response(next(row for row in rows if row["queue"] == name))
