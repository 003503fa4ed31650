"""Regions and queues over HTTP: nodes per region with health, queues with live figures
(`router.queue_view`, as the wallboard's cards show them)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from router import access, queue_view
from router.access import Principal
from switchboard.http.api import API, Auth
from switchboard.http.base import REGIONS, REPORTS, ROUTER
from switchboard.http.views import queue_json


def queue_row_json(row: queue_view.QueueRow) -> dict[str, Any]:
    """A queue's row as the queue API and the wallboard's cards show it."""
    return {
        **queue_json(row.status),
        "waiting_by_region": row.waiting_by_region,
        "agents_by_state": row.agents_by_state,
    }


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
    rows = await queue_view.queue_rows(request.app[ROUTER], request.app[REPORTS], principal)
    return web.json_response({"queues": [queue_row_json(row) for row in rows]})


@API.route(
    "GET",
    "/api/v1/queues/{queue}",
    "One queue's live figures, as GET /api/v1/queues shows it to the caller",
    auth=Auth.STAFF,
    responses={200: "the queue", 401: "", 403: "a supervisor's queue outside their scope", 404: ""},
)
async def get_queue(request: web.Request, principal: Principal) -> web.Response:
    name = request.match_info["queue"]
    row = await queue_view.queue_row(request.app[ROUTER], request.app[REPORTS], principal, name)
    return web.json_response(queue_row_json(row))
