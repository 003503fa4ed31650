"""Every row of docs/security.md's route × actor table, against a running node.

For each row a contact is made in the row's state, the route is called as the row's
actor, and the status must be the table's. A refused call must leave the contact as it
was; an allowed one that acts on it must have done so (its outcome is checked).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from router.access import Principal
from router.advisories.model import AdvisoryRequest
from router.cases.model import CaseStatus
from router.cases.service import CaseChange, CaseRequest
from router.contacts import ChatRequest
from router.model import Agent, ContactState, Presence, Role
from switchboard.embedded import EmbeddedRedis
from switchboard.node import Node
from tests.nodes import ROOT, http_session, queues_with_wrap_up, running_node

TABLE = ROOT / "docs" / "security.md"
ROW = re.compile(
    r"^\| (GET|POST|PUT|PATCH|DELETE|WS) \| (\S+) \| (\S+) \| ([a-z ]+) \| (\d{3}) \|$"
)
SCRAPE_TOKEN = "scrape-token-for-tests"
PASSWORD = "a-long-password"
USERS: dict[str, tuple[str, Role, dict[str, tuple[str, ...]]]] = {
    "agent": ("ana", Role.AGENT, {}),
    "other agent": ("bob", Role.AGENT, {}),
    "supervisor": ("sup", Role.SUPERVISOR, {"queues": ("booking",)}),
    "other supervisor": ("sup2", Role.SUPERVISOR, {"queues": ("general",)}),
    "supervisor of both": ("sup3", Role.SUPERVISOR, {"queues": ("booking", "general")}),
    "planner": ("pia", Role.PLANNER, {}),
    "admin": ("adm", Role.ADMIN, {}),
}
BODIES: dict[str, dict[str, Any]] = {  # by route, else by the route's last word
    "/api/v1/contacts": {
        "channel": "chat",
        "queue": "booking",
        "language": "en",
        "customer": {"id": "cust-new"},
    },
    "messages": {"text": "hello"},
    "transfer": {"queue": "general"},
    "move": {"queue": "general"},
    "rating": {"score": 5},
    "state": {"state": "not_ready"},
    "case": {"subject": "Refund"},
    "wrapup": {"code": "changed", "note": "rebooked"},
    "cases": {"subject": "Refund", "customer": {"id": "cust-1"}, "queue": "booking"},
    "{case}": {"priority": 3},
    "notes": {"text": "called the airport"},
    "confirm": {"solved": True},
    "monitor": {"mode": "listen", "phone": "sip:sup@127.0.0.1:9"},
    "advisories": {
        "queue": "booking",
        "title": "Storm at MAD",
        "customers": ["cust-advised"],
        "messages": {"en": "Your flight is delayed."},
        "until": (dt.datetime.now(dt.UTC) + dt.timedelta(hours=6)).isoformat(),
    },
}
# Rows whose contact has a case: ana holds the chat and owns the case opened on it
# (solved, or closed, in those states).
CASE_STATES = ("case", "solved", "closed")
# Rows of an advisory of queue booking (`{advisory}`), declared by an admin.
ADVISORY_STATE = "advisory"


def table() -> list[tuple[str, str, str, str, int]]:
    rows = []
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            method, route, state, actor, status = match.groups()
            rows.append((method, route, state, actor, int(status)))
    return rows


def test_the_table_covers_every_route_of_contacts_and_agents() -> None:
    routes = {route for _, route, _, _, _ in table()}
    assert len(table()) > 80
    for suffix in ("messages", "accept", "decline", "complete", "abandon", "transfer", "move"):
        assert f"/api/v1/contacts/{{id}}/{suffix}" in routes
    assert {"/api/v1/audit", "/metrics", "/api/v1/agents/{agent}/events"} <= routes


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def node(redis_server: EmbeddedRedis) -> AsyncIterator[Node]:
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    settings_queues = queues_with_wrap_up(0)
    async with running_node(
        redis_server.url,
        agents=[
            Agent("ana", "default", {"booking": 4}, ["en"]),
            Agent("bob", "default", {"booking": 3}, ["en"]),
        ],
        queues=settings_queues,
        metrics_token=SCRAPE_TOKEN,
        metrics_open_to=(),  # the table's scrapes come from elsewhere than the node's host
    ) as node:
        for user_id, role, scope in USERS.values():
            await node.sessions.save_user(user_id, role, PASSWORD, **scope)
        yield node


async def contact_in(node: Node, state: str) -> tuple[str, str]:
    """A chat to queue booking in `state` ('queued'...'completed', or 'wrapped': completed
    and its wrap-up saved, the wrap-up time over) and its customer token; ana is the agent
    it is offered to or held by (or was: she finished it)."""
    await node.router.set_presence(
        "ana", Presence.NOT_READY if state == "queued" else Presence.AVAILABLE
    )
    await node.router.set_presence("bob", Presence.NOT_READY)
    contact, token = await node.contacts.start_chat(ChatRequest("booking", "en"))
    if state != "queued":
        assert contact.state == ContactState.OFFERED and contact.agent_id == "ana"
    if state in ("connected", "completed", "wrapped"):
        await node.router.accept(contact.contact_id, "ana")
    if state in ("completed", "wrapped"):
        await node.router.complete(contact.contact_id, "ana")
    if state == "wrapped":  # the table's queues have no wrap-up time: over once saved
        await node.contacts.wrap_up(Principal("ana", Role.AGENT), contact.contact_id, "", "")
    await node.router.set_presence("ana", Presence.NOT_READY)
    return contact.contact_id, token


async def case_in(node: Node, state: str) -> tuple[str, str, str]:
    """A connected chat of ana's with a case she opened on it (solved, for `solved`;
    closed, for `closed`)."""
    contact_id, token = await contact_in(node, "connected")
    ana, admin = Principal("ana", Role.AGENT), Principal("adm", Role.ADMIN)
    case = await node.cases.create(ana, CaseRequest("", "Refund", "booking", contact_id=contact_id))
    if state in ("solved", "closed"):
        status = CaseStatus(state)
        await node.cases.change(admin, case.case_id, CaseChange(status=status))
    return contact_id, token, case.case_id


async def live_cases(node: Node, customer: str) -> list[Any]:
    ids = await node.cases.store.customer_case_ids(customer, 100)
    return [case for case in await node.cases.store.get_many(ids) if case.is_live]


async def close_cases(node: Node) -> None:
    """Close what a row opened, so that the next row's chat starts with no case."""
    admin = Principal("adm", Role.ADMIN)
    for customer in ("cust-1", "cust-2"):
        ids = await node.cases.store.customer_case_ids(customer, 100)
        for case in await node.cases.store.get_many(ids):
            if case.is_live:
                await node.cases.change(admin, case.case_id, CaseChange(status=CaseStatus.CLOSED))


async def credentials(
    node: Node, http: aiohttp.ClientSession, actor: str, token: str
) -> dict[str, str]:
    if actor == "anonymous":
        return {}
    if actor == "customer":
        return {"X-Customer-Token": token}
    if actor == "other customer":
        _, other = await node.contacts.start_chat(ChatRequest("general", "en"))
        return {"X-Customer-Token": other}
    if actor == "scraper":
        return {"Authorization": f"Bearer {SCRAPE_TOKEN}"}
    user_id = USERS[actor][0]
    response = await http.post(
        "/api/v1/agents/login", json={"agent_id": user_id, "password": PASSWORD}
    )
    assert response.status == 200, await response.text()
    return {"Authorization": f"Bearer {(await response.json())['token']}"}


async def call(
    http: aiohttp.ClientSession, method: str, route: str, path: str, headers: dict[str, str]
) -> int:
    if method == "WS":
        try:
            socket = await http.ws_connect(path, headers=headers)
        except aiohttp.WSServerHandshakeError as refused:
            return refused.status
        await socket.close()
        return 101
    body = BODIES.get(route, BODIES.get(route.rstrip("/").rsplit("/", 1)[-1]))
    response = await http.request(method, path, json=body, headers=headers)
    return response.status


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(
    "method,route,state,actor,status", table(), ids=[" ".join(map(str, row)) for row in table()]
)
async def test_route_by_actor(
    node: Node, method: str, route: str, state: str, actor: str, status: int
) -> None:
    await close_cases(node)  # a row that failed before closing its cases leaves none
    case_id = advisory_id = ""
    if state in CASE_STATES:
        contact_id, token, case_id = await case_in(node, state)
    elif state == ADVISORY_STATE:
        contact_id, token, advisory_id = "", "", await advisory_in(node)
    else:
        contact_id, token = await contact_in(node, state) if state != "-" else ("", "")
    advisories_before = await advisory_ids(node)
    live_before = await node.router.store.live_contacts()
    before = await node.router.get_contact(contact_id) if contact_id else None
    case_before = await node.cases.store.get(case_id) if case_id else None
    await node.router.set_presence("ana", Presence.NOT_READY)
    path = route.replace("{id}", contact_id).replace("{agent}", "ana").replace("{case}", case_id)
    path = path.replace("{advisory}", advisory_id)
    async with http_session(node) as http:
        headers = await credentials(node, http, actor, token)
        assert await call(http, method, route, path, headers) == status
    if case_before is not None and status >= 400:  # a refused call changed nothing
        assert (await node.cases.store.get(case_id)) == case_before
    if (method, route) == ("POST", "/api/v1/cases"):  # opened a case for cust-1, or none
        assert len(await live_cases(node, "cust-1")) == (1 if status == 201 else 0)
    await close_cases(node)
    await check_advisories(node, method, route, status, advisory_id, advisories_before)
    if (method, route) == ("POST", "/api/v1/contacts"):  # started a booking chat, or none
        await check_created(node, actor, status, live_before)
    if before is None:
        return
    after = await node.router.get_contact(contact_id)
    if status >= 400:
        assert (after.state, after.queue, after.agent_id) == (
            before.state,
            before.queue,
            before.agent_id,
        )
    else:
        check_outcome(route, before, after, await node.reports.store.ratings())
    if not after.is_terminal:
        await node.router.fail(contact_id, "test over")


async def check_created(node: Node, actor: str, status: int, before: set[str]) -> None:
    """A refused chat was not created; an allowed one is booking's, its customer the one
    staff vouched for (anyone else's word is ignored)."""
    created = [
        await node.router.get_contact(contact_id)
        for contact_id in await node.router.store.live_contacts() - before
    ]
    assert len(created) == (1 if status == 201 else 0), created
    for contact in created:
        vouched = actor in ("supervisor", "supervisor of both", "admin")
        assert contact.queue == "booking"
        assert (contact.customer_id == "cust-new") == vouched, contact
        await node.router.fail(contact.contact_id, "test over")


async def advisory_in(node: Node) -> str:
    """An advisory of queue booking, running for hours."""
    until = dt.datetime.now(dt.UTC) + dt.timedelta(hours=6)
    request = AdvisoryRequest(
        "booking", "Storm", ("cust-advised",), {"en": "Delayed."}, int(until.timestamp() * 1000)
    )
    declared = await node.advisories.declare(Principal("adm", Role.ADMIN), request)
    return declared.advisory.advisory_id


async def advisory_ids(node: Node) -> set[str]:
    """The advisories running, ended early or not."""
    admin = Principal("adm", Role.ADMIN)
    return {advisory.advisory_id for advisory in await node.advisories.running(admin)}


async def check_advisories(
    node: Node, method: str, route: str, status: int, advisory_id: str, before: set[str]
) -> None:
    """A refused call declared or ended nothing; an allowed one did what it says."""
    if not route.startswith("/api/v1/advisories"):
        return
    after = await advisory_ids(node)
    declared = method == "POST" and status < 400
    assert len(after - before) == (1 if declared else 0)
    if advisory_id:
        advisory = await node.advisories.store.get(advisory_id)
        assert advisory is not None
        assert bool(advisory.ended_ms) == (method == "DELETE" and status < 400)


def check_outcome(route: str, before: Any, after: Any, ratings: dict[str, int]) -> None:
    """What an allowed call did to the contact."""
    action = route.rsplit("/", 1)[-1]
    expected = {
        "accept": lambda: after.state == ContactState.CONNECTED,
        "decline": lambda: after.state == ContactState.QUEUED and after.agent_id == "",
        # a connected contact ends completed; a chat still waiting, ended by a supervisor,
        # fails (nobody served it)
        "complete": lambda: (
            after.state
            == (
                ContactState.FAILED
                if before.state == ContactState.QUEUED
                else ContactState.COMPLETED
            )
        ),
        "abandon": lambda: after.state == ContactState.ABANDONED,
        "transfer": lambda: after.queue == "general",
        "move": lambda: after.queue == "general",
        "rating": lambda: ratings.get(after.contact_id) == 5,
    }
    assert expected.get(action, lambda: after.state == before.state)(), (action, after)
