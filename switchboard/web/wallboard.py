"""The supervisors' wallboard: the page at /wallboard and its live feed.

`GET /wallboard` serves a static page (plain HTML and JS, no build step). The page logs
in through the agents' login, then reads `GET /api/v1/wallboard/events`, a stream of
server-sent events each carrying a whole snapshot: queues, regions, agents by state and
alerts. `GET /api/v1/wallboard` is the same snapshot once, for polling and scripts.
Both need a supervisor (or admin) token.

A snapshot is pushed every few seconds and early after any routing event, so a new
contact shows within a fraction of a second without flooding a busy center's screens.

A supervisor whose scope names regions sees those regions only: each queue's figures
are computed over the contacts and agents of their regions (`router/queue_view.py`, as
`GET /api/v1/queues` shows them), and the alerts are those of their queues there and of
the nodes of their regions.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from router import access, queue_view
from router.access import Principal
from router.definitions import Definitions, differences
from router.queue_view import Rows
from switchboard.common.clock import iso_utc
from switchboard.http.advisories import advisory_alerts
from switchboard.http.api import API, Auth
from switchboard.http.base import (
    HUB,
    REGIONS,
    REPORTS,
    ROUTER,
    SESSIONS,
    bearer_token,
    client_address,
)
from switchboard.http.regions import queue_row_json
from switchboard.http.schemas import PageQuery, SnapshotStream
from switchboard.http.streams import RECHECK_S, ends_session
from switchboard.http.views import state_since_ms
from switchboard.web.alerts import case_alerts
from switchboard.web.pages import page_response

PAGE = Path(__file__).parent / "static" / "wallboard.html"
PUSH_EVERY_S = 2.0
SETTLE_S = 0.15  # wait after a routing event so a burst gives one snapshot
POLL_S = 0.5  # how often a waiting stream checks that its screen is still connected
MAX_STREAM_S = 600.0  # the page reconnects; bounds a forgotten stream's life
RECENT_DEATH_S = 900.0  # how long an adopted node's death stays on the board


def require_supervisor(principal: Principal) -> None:
    access.require_role(principal, *access.OVERSEERS)


# -- snapshot ------------------------------------------------------------------------------


def alerts(
    queues: Sequence[dict[str, Any]],
    regions: Sequence[dict[str, Any]],
    adoptions: Sequence[dict[str, Any]] = (),
    now_s: float = 0.0,
) -> list[dict[str, Any]]:
    """What a supervisor must act on: service level under target, nodes or regions down.

    A dead node is listed while its heartbeat is expired; once another node adopted its
    work it leaves the membership, so the adoption keeps the alert up for a while. A node
    that stopped cleanly (heartbeat deleted, `stopped`) is not down: its adoption tells.
    """
    found: list[dict[str, Any]] = []
    for queue in queues:
        target = queue["service_level_target"]
        for period, label in (("last_30_min", "last 30 min"), ("today", "today")):
            level = queue[period]["service_level"]
            if level is not None and level < target:
                found.append(
                    {
                        "level": "critical" if period == "last_30_min" else "warning",
                        "kind": "service_level",
                        "queue": queue["queue"],
                        "message": f"{queue['queue']}: service level {level:.0%} {label}, "
                        f"target {target:.0%}",
                    }
                )
        if queue["waiting"] and queue["longest_wait_s"] > queue["answer_within_s"]:
            found.append(
                {
                    "level": "warning",
                    "kind": "waiting_too_long",
                    "queue": queue["queue"],
                    "message": f"{queue['queue']}: a contact has waited "
                    f"{queue['longest_wait_s']:.0f} s (answer within "
                    f"{queue['answer_within_s']:.0f} s)",
                }
            )
    for region in regions:
        for node in region["nodes"]:
            # A node that stopped cleanly is no outage: its adoption says it stopped.
            if not node["healthy"] and not node.get("stopped"):
                found.append(
                    {
                        "level": "critical",
                        "kind": "node_down",
                        "region": region["region"],
                        "message": f"node {node['node_id']} in {region['region']} is down "
                        f"(last heartbeat {node['last_seen_s']:.0f} s ago)",
                    }
                )
        if region["open"] and not region["healthy"]:
            found.append(
                {
                    "level": "critical",
                    "kind": "region_down",
                    "region": region["region"],
                    "message": f"region {region['region']} is open but has no healthy node",
                }
            )
    for adoption in adoptions:
        age_s = now_s - float(adoption.get("at", 0))
        if 0 <= age_s <= RECENT_DEATH_S and (alert := _adoption_alert(adoption, age_s)):
            found.append(alert)
    return found


def _adoption_alert(adoption: dict[str, Any], age_s: float) -> dict[str, Any] | None:
    """A node's work taken over, as a supervisor must hear of it; None for a clean stop
    that left nothing to take over, or a restart that lost nothing of its previous run.
    A node that died and came back before another took over (it adopts itself) signed
    its agents out and failed its calls all the same: that is said."""
    dead, heir = str(adoption.get("dead_node", "")), str(adoption.get("heir", ""))
    lost, taken = int(adoption.get("failed", 0)), int(adoption.get("adopted", 0))
    signed_out = len(adoption.get("agents") or ())
    stopped, restarted = bool(adoption.get("stopped")), dead == heir
    if (stopped or restarted) and not (lost or signed_out or (taken and not restarted)):
        return None
    went = "stopped" if stopped else "went down"
    took = f"it restarted and took back {taken}" if restarted else f"{heir} took over {taken}"
    return {
        "level": "warning" if stopped else "critical",
        "kind": "node_stopped" if stopped else "node_down",
        "node": dead,
        "message": f"node {dead} {went} {_ago(age_s)}; {took} contacts"
        + (f", {lost} voice calls were lost" if lost else "")
        + (f", {signed_out} agents were signed out" if signed_out else ""),
    }


def file_alerts(
    files: Mapping[str, tuple[Definitions, int]], live: Collection[str]
) -> list[dict[str, Any]]:
    """Live nodes started from files whose routing definitions differ (`files`: each
    node's, and its start): one alert per file other than that of the node started
    last, whose queues every node follows, naming its nodes and the differing keys.
    None once every live node runs the same definitions."""
    running = {node: files[node] for node in live if node in files}
    groups: dict[str, list[str]] = defaultdict(list)
    for node, (definitions, _) in sorted(running.items()):
        groups[definitions.fingerprint].append(node)
    if len(groups) < 2:
        return []
    last = max(running, key=lambda node: (running[node][1], node))
    followed = running[last][0]
    found = []
    for fingerprint, nodes in groups.items():
        if fingerprint == followed.fingerprint:
            continue
        keys = [change.key for change in differences(followed, running[nodes[0]][0])]
        shown = ", ".join(keys[:8]) + (f" and {len(keys) - 8} more" if len(keys) > 8 else "")
        found.append(
            {
                "level": "warning",
                "kind": "config_differs",
                "nodes": nodes,
                "message": f"node{'s' if len(nodes) > 1 else ''} {', '.join(nodes)} started "
                f"from a configuration file that differs from that of "
                f"{', '.join(groups[followed.fingerprint])} in {shown}; every node follows "
                f"the file of {last}, started last",
            }
        )
    return found


def _ago(seconds: float) -> str:
    return "just now" if seconds < 60 else f"{seconds / 60:.0f} min ago"


def region_queue_figures(
    today: Rows, recent: Rows, waiting: dict[str, dict[str, int]]
) -> list[dict[str, Any]]:
    """Per region and queue: today's and the last 30 minutes' figures from the records."""
    keys = set(today) | {(region, queue) for queue, split in waiting.items() for region in split}
    body = []
    for region, queue in sorted(keys):
        day, last = today.get((region, queue)), recent.get((region, queue))
        body.append(
            {
                "region": region,
                "queue": queue,
                "waiting": waiting.get(queue, {}).get(region, 0),
                "closed": day.volume if day else 0,
                "answered": day.answered if day else 0,
                "abandoned": day.abandoned if day else 0,
                "short_abandoned": day.short_abandoned if day else 0,
                "abandonment_rate": day.abandonment_rate if day else None,
                "service_level_today": day.service_level if day else None,
                "service_level_30_min": last.service_level if last else None,
                "asa_s": day.asa_s if day else None,
            }
        )
    return body


def adoptions_of(
    adoptions: Sequence[dict[str, Any]],
    regions: Collection[str],
    node_regions: Mapping[str, str],
    agent_regions: Mapping[str, str],
) -> list[dict[str, Any]]:
    """The adoptions that concern some regions: the dead node's (said by the adoption, or
    known from the membership) or the heir's, or the region of an agent it signed out.
    A dead node is forgotten once adopted, so its region may be unknown: such an adoption
    is shown to nobody scoped by region rather than to everybody."""
    found = []
    for adoption in adoptions:
        where = {
            adoption.get("region"),
            node_regions.get(str(adoption.get("dead_node", ""))),
            node_regions.get(str(adoption.get("heir", ""))),
            *(agent_regions.get(str(agent)) for agent in adoption.get("agents") or ()),
        }
        if where & set(regions):
            found.append(adoption)
    return found


async def snapshot(request: web.Request, principal: Principal) -> dict[str, Any]:
    """Queues, regions, agents and alerts as one supervisor sees them: their queues and
    regions only, when their scope names some (a queue's figures then counting the
    contacts and agents of their regions only)."""
    router, reports = request.app[ROUTER], request.app[REPORTS]
    scope = await queue_view.read_scope(router, reports, principal)
    now, everyone, agents, states = scope.now, scope.everyone, scope.agents, scope.states
    by_region: dict[str, Counter[str]] = defaultdict(Counter)
    for agent in agents:
        by_region[agent.region][states[agent.agent_id]] += 1
    rows = await queue_view.queue_rows(router, reports, principal, scope)
    queues = [queue_row_json(row) for row in rows]
    overview = await request.app[REGIONS].overview()
    regions = access.regions_shown(principal, overview)
    waiting = {row.status.name: row.waiting_by_region for row in rows}
    per_region = access.records_shown(principal, region_queue_figures(*scope.reports, waiting))
    adoptions = await request.app[REGIONS].adoptions()
    if principal.regions:
        adoptions = adoptions_of(
            adoptions,
            principal.regions,
            {node["node_id"]: region["region"] for region in overview for node in region["nodes"]},
            {agent.agent_id: agent.region for agent in everyone},
        )
    return {
        "generated_at": iso_utc(now),
        "queues": queues,
        "regions": regions,
        "by_region_and_queue": per_region,
        "agents": {
            "by_state": dict(Counter(states.values())),
            "by_region": {region: dict(counts) for region, counts in sorted(by_region.items())},
            # Each agent with state and since when (the start of the state shown, as
            # the agents API says it), for the supervisor's actions; with their presence,
            # since one on a break still holding a chat is busy and not ready at once.
            "list": [
                {
                    "agent_id": agent.agent_id,
                    "region": agent.region,
                    "state": states[agent.agent_id],
                    "presence": agent.presence.value,
                    "reason": agent.reason,
                    "since": iso_utc(since) if (since := state_since_ms(agent, now)) else None,
                    "queues": [
                        name
                        for name, config in router.queues.items()
                        if config.skill in agent.skills
                    ],
                    "load": agent.load,
                }
                for agent in agents
            ],
        },
        "alerts": alerts(queues, regions, adoptions, now / 1000)
        + await case_alerts(request, principal)
        + await advisory_alerts(request, principal)
        + await _file_alerts(request),
    }


async def _file_alerts(request: web.Request) -> list[dict[str, Any]]:
    """Every live node's file compared (a deployment-wide fault: shown to every
    supervisor), live by the membership, whatever regions this node's file lists."""
    nodes = await request.app[REGIONS].membership.nodes()
    live = [info.node_id for info, alive in nodes if alive]
    return file_alerts(await request.app[ROUTER].node_files(), live)


# -- routes --------------------------------------------------------------------------------


@API.route(
    "GET", "/wallboard", "The supervisors' wallboard page", content="text/html", query=PageQuery
)
async def page(request: web.Request, query: PageQuery) -> web.FileResponse:
    """The wallboard page (HTML); it signs in through the agents' login."""
    return page_response(PAGE)


@API.route(
    "GET",
    "/api/v1/wallboard",
    "Wallboard snapshot: queues, regions, agents, alerts (supervisors, their scope)",
    auth=Auth.STAFF,
    responses={200: "the snapshot", 401: "", 403: ""},
)
async def wallboard_json(request: web.Request, principal: Principal) -> web.Response:
    require_supervisor(principal)
    return web.json_response(await snapshot(request, principal))


def _connected(request: web.Request) -> bool:
    """The screen is still there and the server is not shutting down.

    aiohttp sets `_force_close` on a connection when the server shuts down; checking it
    lets a node stop at once instead of waiting out its shutdown timeout.
    """
    transport = request.transport
    closing = transport is None or transport.is_closing()
    return not closing and not getattr(request.protocol, "_force_close", False)


async def _next_push(
    request: web.Request, events: asyncio.Queue[dict[str, Any]], due: float, principal: Principal
) -> bool:
    """Wait until a routing event (then settle) or the period's end, watching the client;
    False when the viewer's session ended."""
    loop = asyncio.get_running_loop()
    token = bearer_token(request)
    while _connected(request) and loop.time() < due:
        try:
            event = await asyncio.wait_for(events.get(), min(POLL_S, max(due - loop.time(), 0.01)))
        except TimeoutError:
            continue
        if ends_session(event, principal, token):
            return False
        await asyncio.sleep(SETTLE_S)
        while not events.empty():
            if ends_session(events.get_nowait(), principal, token):
                return False
        return True
    return True


@API.route(
    "GET",
    "/api/v1/wallboard/events",
    "Server-sent events: a `snapshot` now, then on change or every `every` seconds",
    auth=Auth.STAFF,
    query=SnapshotStream,
    stream="text/event-stream",
    responses={200: "event stream", 401: "", 403: ""},
)
async def wallboard_events(
    request: web.Request, principal: Principal, query: SnapshotStream
) -> web.StreamResponse:
    require_supervisor(principal)
    await request.app[REPORTS].audit(
        principal.user_id, "wallboard.view", remote=client_address(request)
    )
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MAX_STREAM_S
    recheck_at = loop.time() + RECHECK_S
    async with request.app[HUB].listen() as events:
        try:
            while loop.time() < deadline and _connected(request):
                data = json.dumps(await snapshot(request, principal), separators=(",", ":"))
                await response.write(f"event: snapshot\ndata: {data}\n\n".encode())
                if not await _next_push(request, events, loop.time() + query.every, principal):
                    break
                if loop.time() >= recheck_at:  # an expired or idle token ends the stream
                    recheck_at = loop.time() + RECHECK_S
                    if await request.app[SESSIONS].principal(bearer_token(request)) is None:
                        break
        except ConnectionResetError:  # the screen went away
            pass
    return response
