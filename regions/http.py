"""GET /api/v1/regions: nodes per region with health, load and the region's local time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from aiohttp import web

from regions.membership import Membership
from regions.placement import is_open

MEMBERSHIP = web.AppKey("membership", Membership)
REGIONS = web.AppKey("regions", list)

routes = web.RouteTableDef()


@routes.get("/api/v1/regions")
async def list_regions(request: web.Request) -> web.Response:
    now = dt.datetime.now(dt.UTC)
    nodes = await request.app[MEMBERSHIP].nodes()
    body = []
    for region in request.app[REGIONS]:
        members = [
            {
                "node_id": info.node_id,
                "healthy": alive,
                "last_seen_s": round(info.age_s, 1),
                "http": info.http,
                "load": info.load,
            }
            for info, alive in nodes
            if info.region == region.name
        ]
        body.append(
            {
                "region": region.name,
                "timezone": region.timezone,
                "local_time": now.astimezone(ZoneInfo(region.timezone)).isoformat(
                    timespec="seconds"
                ),
                "business_hours": {"open": region.open, "close": region.close},
                "open": is_open(region, now),
                "healthy": any(member["healthy"] for member in members),
                "nodes": members,
            }
        )
    return web.json_response({"regions": body})
