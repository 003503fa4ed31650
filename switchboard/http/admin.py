"""Administration over HTTP (admins): queues, agents and users changed on every node
without a restart, and the audit log of who read, exported or steered what."""

from __future__ import annotations

from dataclasses import asdict

from aiohttp import web

from router.access import ADMINS, Principal
from router.definitions import agent_capacity, queue_from
from router.model import Agent
from switchboard.http.api import API, Auth
from switchboard.http.base import ADMIN, REPORTS
from switchboard.http.schemas import (
    AgentDefinition,
    AgentPath,
    AuditQuery,
    QueueDefinition,
    QueuePath,
    UserDefinition,
    UserPath,
)
from switchboard.http.views import agent_json
from switchboard.settings import RoutingConfig

# The node's `[routing]`: the chat capacity of an agent and the ring time of a queue that
# an admin defines without them. Set by the node's app; the defaults without it.
ROUTING = web.AppKey("routing", RoutingConfig)


def _routing(request: web.Request) -> RoutingConfig:
    return request.app.get(ROUTING, RoutingConfig())


@API.route(
    "GET",
    "/api/v1/audit",
    "The audit log, newest last (admins): the `last` entries, each with its `entry_id`. "
    "`truncated`: older entries remain; `next`: pass it as `before` for the page of them",
    auth=Auth.STAFF,
    roles=ADMINS,
    query=AuditQuery,
    responses={200: "entries, truncated and next", 400: "a malformed before", 401: "", 403: ""},
)
async def audit_log(request: web.Request, principal: Principal, query: AuditQuery) -> web.Response:
    page = await request.app[REPORTS].audit_page(query.last, query.before)
    return web.json_response(
        {
            "entries": [asdict(entry) for entry in page.entries],
            "truncated": page.next is not None,
            "next": page.next,
        }
    )


_ADMIN = {200: "done", 401: "", 403: "not an admin"}
# A name the PUT creates breaking the API's id rules: 400 naming it (`path.queue`).
_NEW = {**_ADMIN, 400: "the name in the path breaks the API's id rules"}


@API.route(
    "PUT",
    "/api/v1/admin/queues/{queue}",
    "Create or change a queue on every node (admins; audited): the whole definition, a "
    "field left out takes its default (GET gives the current one); without `ring_s` it "
    "rings for the node's `[routing].offer_timeout_s`",
    auth=Auth.STAFF,
    roles=ADMINS,
    body=QueueDefinition,
    path_names=QueuePath,
    responses=_NEW,
)
async def put_queue(
    request: web.Request, principal: Principal, body: QueueDefinition
) -> web.Response:
    given = body.model_dump(exclude_unset=True)
    definition = queue_from(request.match_info["queue"], given, _routing(request).offer_timeout_s)
    queue = await request.app[ADMIN].put_queue(principal, definition)
    return web.json_response({"queue": queue.name, "skill": queue.skill})


@API.route(
    "GET",
    "/api/v1/admin/queues/{queue}",
    "A queue's definition as the deployment has it now, in the shape a PUT takes (a PUT "
    "replaces the whole definition: change the field wanted and send it all back)",
    auth=Auth.STAFF,
    roles=ADMINS,
    responses={200: "the definition", 401: "", 403: "not an admin", 404: "no such queue"},
)
async def get_queue(request: web.Request, principal: Principal) -> web.Response:
    queue = await request.app[ADMIN].queue(principal, request.match_info["queue"])
    fields = queue.as_json()
    del fields["name"]
    return web.json_response(fields)


@API.route(
    "DELETE",
    "/api/v1/admin/queues/{queue}",
    "Remove a queue with no open contact: 409 while any waits, rings or is being served "
    "(admins; audited)",
    auth=Auth.STAFF,
    roles=ADMINS,
    responses=_ADMIN,
)
async def delete_queue(request: web.Request, principal: Principal) -> web.Response:
    name = request.match_info["queue"]
    await request.app[ADMIN].remove_queue(principal, name)
    return web.json_response({"queue": name, "removed": True})


@API.route(
    "PUT",
    "/api/v1/admin/agents/{agent}",
    "Create or change an agent: region, skills with proficiency, languages, capacity "
    "(by default 1 voice call and the node's `[routing].max_chats` chats), own ring time",
    auth=Auth.STAFF,
    roles=ADMINS,
    body=AgentDefinition,
    path_names=AgentPath,
    responses=_NEW,
)
async def put_agent(
    request: web.Request, principal: Principal, body: AgentDefinition
) -> web.Response:
    given = body.capacity.model_dump(exclude_none=True) if body.capacity is not None else None
    agent = Agent(
        request.match_info["agent"],
        body.region,
        dict(body.skills),
        list(body.languages),
        agent_capacity(_routing(request).max_chats, given),
        ring_s=body.ring_s,
    )
    saved = await request.app[ADMIN].put_agent(principal, agent)
    return web.json_response(agent_json(saved))


@API.route(
    "DELETE",
    "/api/v1/admin/agents/{agent}",
    "Remove an agent who holds no contact; its sessions end (admins; audited)",
    auth=Auth.STAFF,
    roles=ADMINS,
    responses=_ADMIN,
)
async def delete_agent(request: web.Request, principal: Principal) -> web.Response:
    agent_id = request.match_info["agent"]
    await request.app[ADMIN].remove_agent(principal, agent_id)
    return web.json_response({"agent_id": agent_id, "removed": True})


@API.route(
    "PUT",
    "/api/v1/admin/users/{user}",
    "Create or change a user (role, password, supervisor scope); its sessions end",
    auth=Auth.STAFF,
    roles=ADMINS,
    body=UserDefinition,
    path_names=UserPath,
    responses={
        **_NEW,
        400: "a bad name in the path, or a scope's queue or region that does not exist",
    },
)
async def put_user(
    request: web.Request, principal: Principal, body: UserDefinition
) -> web.Response:
    user_id = request.match_info["user"]
    existed = await request.app[ADMIN].put_user(
        principal,
        user_id,
        body.role,
        body.password,
        queues=tuple(body.queues),
        regions=tuple(body.regions),
    )
    return web.json_response({"user_id": user_id, "role": body.role.value, "existed": existed})


@API.route(
    "DELETE",
    "/api/v1/admin/users/{user}",
    "Remove a user; its sessions end (admins; audited)",
    auth=Auth.STAFF,
    roles=ADMINS,
    responses={**_ADMIN, 404: "no such user (nothing audited)"},
)
async def delete_user(request: web.Request, principal: Principal) -> web.Response:
    user_id = request.match_info["user"]
    await request.app[ADMIN].remove_user(principal, user_id)
    return web.json_response({"user_id": user_id, "removed": True})
