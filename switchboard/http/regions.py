"""GET /api/v1/regions: nodes per region with health, load and the region's local time."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from regions.membership import Membership
from regions.placement import is_open

MEMBERSHIP = web.AppKey("membership", Membership)
REGIONS = web.AppKey("regions", list)

routes = web.RouteTableDef()


async def regions_overview(request: web.Request) -> list[dict[str, Any]]:
    """Each region: local time and UTC offset, business hours, open, healthy, its nodes."""
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
        local = now.astimezone(ZoneInfo(region.timezone))
        body.append(
            {
                "region": region.name,
                "timezone": region.timezone,
                "local_time": local.isoformat(timespec="seconds"),
                "utc_offset_min": int((local.utcoffset() or dt.timedelta()).total_seconds() // 60),
                "business_hours": {"open": region.open, "close": region.close},
                "open": is_open(region, now),
                "healthy": any(member["healthy"] for member in members),
                "nodes": members,
            }
        )
    return body


@routes.get("/api/v1/regions")
async def list_regions(request: web.Request) -> web.Response:
    return web.json_response({"regions": await regions_overview(request)})
