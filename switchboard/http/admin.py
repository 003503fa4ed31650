"""Administration over HTTP: the audit log of who read, exported or steered what."""

from __future__ import annotations

from dataclasses import asdict

from aiohttp import web

from router.access import Principal, require_role
from router.model import Role
from switchboard.http.api import API, Auth
from switchboard.http.base import REPORTS
from switchboard.http.schemas import AuditQuery


@API.route(
    "GET",
    "/api/v1/audit",
    "The audit log, newest last (admins)",
    auth=Auth.STAFF,
    query=AuditQuery,
    responses={200: "entries", 401: "", 403: ""},
)
async def audit_log(request: web.Request, principal: Principal, query: AuditQuery) -> web.Response:
    require_role(principal, Role.ADMIN)
    entries = await request.app[REPORTS].audit_log(query.last)
    return web.json_response({"entries": [asdict(entry) for entry in entries]})
