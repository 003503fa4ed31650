"""A reviewer's probes of supervisors' scope, against a running node over HTTP.

- A region's supervisor lists a queue's contacts of their region however many of other
  regions wait ahead of them; the wallboard's case alerts likewise (queue's supervisor);
  a list cut short says so.
- A queue's supervisor moves a contact only into one of their queues (403 otherwise, the
  contact stays where it was); a queue that does not exist is 400 naming `$.queue`.
- A scoped supervisor creates chats only in their queues and regions (403, nothing
  created); an admin anywhere; a customer's word about queue and region is as before.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from router.access import Principal
from router.cases.service import CaseRequest
from router.model import Role
from switchboard.node import Node
from tests.nodes import ROOT, http_session, login, new_chat, running_node

PASSWORD = "a-long-password"
STAFF: dict[str, tuple[Role, dict[str, tuple[str, ...]]]] = {
    "adm": (Role.ADMIN, {}),
    "sup-asia": (Role.SUPERVISOR, {"regions": ("asia-east",)}),
    "sup-book": (Role.SUPERVISOR, {"queues": ("booking",)}),
    "sup-book-emerg": (Role.SUPERVISOR, {"queues": ("booking", "emergency")}),
}
ADMIN = Principal("adm", Role.ADMIN)


def three_regions(tmp_path: Path) -> Path:
    """config/regions-3.toml with every region open around the clock: with no agent
    anywhere, a chat waits in the region it is made for (nowhere else can serve it)."""
    text = (ROOT / "config" / "regions-3.toml").read_text()
    for hours in ('open = "07:00"\nclose = "23:00"', 'open = "07:00"\nclose = "22:00"'):
        text = text.replace(hours, 'open = "00:00"\nclose = "24:00"')
    text = text.replace('open = "06:00"\nclose = "23:00"', 'open = "00:00"\nclose = "24:00"')
    path = tmp_path / "regions.toml"
    path.write_text(text)
    return path


async def staffed(node: Node) -> None:
    for user_id, (role, scope) in STAFF.items():
        await node.sessions.save_user(user_id, role, PASSWORD, **scope)


async def chat(
    http: aiohttp.ClientSession, headers: dict[str, str], queue: str, customer: str, **extra: Any
) -> aiohttp.ClientResponse:
    body = {"channel": "chat", "queue": queue, "language": "en", "customer": {"id": customer}}
    return await http.post("/api/v1/contacts", json={**body, **extra}, headers=headers)


async def made(
    http: aiohttp.ClientSession, headers: dict[str, str], queue: str, customer: str, **extra: Any
) -> dict[str, Any]:
    response = await chat(http, headers, queue, customer, **extra)
    assert response.status == 201, await response.text()
    return dict(await response.json())


async def many(
    http: aiohttp.ClientSession,
    headers: dict[str, str],
    queue: str,
    prefix: str,
    count: int,
    **extra: Any,
) -> list[dict[str, Any]]:
    """`count` chats, a few at a time (each takes a Redis connection while it is made)."""
    gate = asyncio.Semaphore(8)

    async def one(index: int) -> dict[str, Any]:
        async with gate:
            return await made(http, headers, queue, f"{prefix}-{index}", **extra)

    return list(await asyncio.gather(*(one(index) for index in range(count))))


@pytest.fixture
async def regions_node(redis_url: str, tmp_path: Path) -> AsyncIterator[Node]:
    async with running_node(
        redis_url, three_regions(tmp_path), region="europe-west", node_id="eu-1"
    ) as node:
        await staffed(node)
        yield node


@pytest.fixture
async def default_node(redis_url: str) -> AsyncIterator[Node]:
    async with running_node(redis_url) as node:
        await staffed(node)
        yield node


# -- A: lists scoped before they are cut ------------------------------------------------------


async def test_a_region_supervisor_lists_their_waiting_chats_behind_250_of_another_region(
    regions_node: Node,
) -> None:
    async with http_session(regions_node) as http:
        admin, asia = await login(http, "adm", PASSWORD), await login(http, "sup-asia", PASSWORD)
        europe = await many(http, admin, "general", "eu", 250, region="europe-west")
        ours = [await made(http, admin, "general", f"as-{i}", region="asia-east") for i in range(5)]
        assert {c["region"] for c in europe} == {"europe-west"}
        assert {c["region"] for c in ours} == {"asia-east"}

        response = await http.get("/api/v1/queues/general/contacts", headers=asia)
        assert response.status == 200, await response.text()
        listed = await response.json()
        assert [c["contact_id"] for c in listed["contacts"]] == [c["contact_id"] for c in ours]
        assert {c["region"] for c in listed["contacts"]} == {"asia-east"}
        assert listed["truncated"] is False

        everyone = await (await http.get("/api/v1/queues/general/contacts", headers=admin)).json()
        assert len(everyone["contacts"]) == 200 and everyone["truncated"] is True
        assert everyone["contacts"][0]["contact_id"] in {c["contact_id"] for c in europe}


async def test_a_queue_supervisor_sees_their_breached_cases_behind_205_of_another_queue(
    default_node: Node,
) -> None:
    node = default_node
    start = int(time.time() * 1000) - 10 * 3_600_000
    node.cases.clock = lambda: start  # the node's own timer task waits for the test's ticks
    ours = [
        await node.cases.create(ADMIN, CaseRequest(f"bk-{i}", "Refund", "booking"), start)
        for i in range(3)
    ]
    for i in range(205):
        later = start + 60_000
        await node.cases.create(ADMIN, CaseRequest(f"bg-{i}", "Lost bag", "baggage"), later)
    # Booking's first responses breach first; baggage's 205 later, so they are the latest.
    first, then = start + 4 * 3_600_000 + 30_000, start + 4 * 3_600_000 + 120_000
    node.cases.clock = lambda: first
    await node.cases.tick(first)
    node.cases.clock = lambda: then
    while (await node.cases.tick(then)).breaches:  # a tick takes so many; the node's too
        pass
    assert len(await node.cases.breached_live(1000)) == 208

    async with http_session(node) as http:
        supervisor = await login(http, "sup-book", PASSWORD)
        admin = await login(http, "adm", PASSWORD)
        response = await http.get("/api/v1/wallboard", headers=supervisor)
        assert response.status == 200, await response.text()
        alerts = (await response.json())["alerts"]
        breaches = [a for a in alerts if a["kind"] == "sla_breach"]
        assert sorted(a["case_id"] for a in breaches) == sorted(c.case_id for c in ours)
        assert {a["queue"] for a in breaches} == {"booking"}
        assert not [a for a in alerts if a["kind"] == "sla_breach_more"]

        alerts = (await (await http.get("/api/v1/wallboard", headers=admin)).json())["alerts"]
        assert sum(a["kind"] == "sla_breach" for a in alerts) == 200
        assert sum(a["kind"] == "sla_breach_more" for a in alerts) == 1


async def test_a_queue_supervisor_sees_their_upset_chats_behind_105_of_another_queue(
    default_node: Node,
) -> None:
    node = default_node
    async with http_session(node) as http:
        admin = await login(http, "adm", PASSWORD)
        supervisor = await login(http, "sup-book", PASSWORD)
        ours = [await made(http, admin, "booking", f"bk-{i}") for i in range(2)]
        others = await many(http, admin, "baggage", "bg", 105)
        at = int(time.time() * 1000)
        for index, contact in enumerate(ours + others):  # booking's flagged first
            trigger = {"words": ["furious"], "at": at + index}
            await node.cases.store.add_trigger(contact["contact_id"], trigger, at + index)

        response = await http.get("/api/v1/wallboard", headers=supervisor)
        assert response.status == 200, await response.text()
        alerts = (await response.json())["alerts"]
        upset = [a for a in alerts if a["kind"] == "emotion"]
        assert sorted(a["contact_id"] for a in upset) == sorted(c["contact_id"] for c in ours)
        assert all("furious" in a["message"] for a in upset)
        assert not [a for a in alerts if a["kind"] == "emotion_more"]

        alerts = (await (await http.get("/api/v1/wallboard", headers=admin)).json())["alerts"]
        assert sum(a["kind"] == "emotion" for a in alerts) == 100
        assert sum(a["kind"] == "emotion_more" for a in alerts) == 1


# -- B: a move's target is asked of the mover ---------------------------------------------------


async def test_a_queue_supervisor_moves_a_contact_only_into_one_of_their_queues(
    default_node: Node,
) -> None:
    node = default_node
    async with http_session(node) as http:
        admin = await login(http, "adm", PASSWORD)
        booking = await login(http, "sup-book", PASSWORD)
        both = await login(http, "sup-book-emerg", PASSWORD)
        contact_id = (await made(http, admin, "booking", "MV-1"))["contact_id"]
        before = await node.router.get_contact(contact_id)
        path = f"/api/v1/contacts/{contact_id}/move"

        refused = await http.post(path, json={"queue": "emergency"}, headers=booking)
        assert refused.status == 403, await refused.text()
        assert "queue emergency" in (await refused.json())["message"]
        after = await node.router.get_contact(contact_id)
        assert (after.queue, after.region, after.state, after.priority) == (
            before.queue,
            before.region,
            before.state,
            before.priority,
        )
        assert (await http.get(f"/api/v1/contacts/{contact_id}", headers=booking)).status == 200
        audit = await node.reports.audit_log()
        assert not [e for e in audit if e.action == "contact.move"]  # nothing was moved

        moved = await http.post(path, json={"queue": "emergency"}, headers=both)
        assert moved.status == 200, await moved.text()
        assert (await node.router.get_contact(contact_id)).queue == "emergency"
        assert (await http.get(f"/api/v1/contacts/{contact_id}", headers=booking)).status == 403
        back = await http.post(path, json={"queue": "booking"}, headers=admin)
        assert back.status == 200 and (await back.json())["queue"] == "booking"


async def test_a_move_to_a_queue_that_does_not_exist_is_400_naming_the_queue(
    default_node: Node,
) -> None:
    node = default_node
    async with http_session(node) as http:
        admin = await login(http, "adm", PASSWORD)
        contact_id = (await made(http, admin, "booking", "MV-2"))["contact_id"]
        for who in ("sup-book", "adm"):
            headers = await login(http, who, PASSWORD)
            unknown = await http.post(
                f"/api/v1/contacts/{contact_id}/move", json={"queue": "nowhere"}, headers=headers
            )
            assert unknown.status == 400, await unknown.text()
            answer = await unknown.json()
            assert (answer["field"], answer["found"]) == ("$.queue", "nowhere")
            assert (await node.router.get_contact(contact_id)).queue == "booking"


# -- C: where staff may create a chat -------------------------------------------------------


async def test_a_region_supervisor_creates_chats_only_in_their_regions(
    regions_node: Node,
) -> None:
    node = regions_node
    async with http_session(node) as http:
        asia = await login(http, "sup-asia", PASSWORD)
        admin = await login(http, "adm", PASSWORD)
        live = await node.router.store.live_contacts()

        named = await chat(http, asia, "booking", "CUST-X1", region="europe-west", priority=9)
        assert named.status == 403, await named.text()
        assert "region europe-west" in (await named.json())["message"]
        unnamed = await chat(http, asia, "booking", "CUST-X2")  # waits at the node's region
        assert unnamed.status == 403, await unnamed.text()
        assert "region europe-west" in (await unnamed.json())["message"]
        assert await node.router.store.live_contacts() == live  # nothing was created
        for customer in ("CUST-X1", "CUST-X2"):
            assert not await node.router.store.customer_contacts(customer)

        theirs = await made(http, asia, "booking", "CUST-A1", region="asia-east", priority=9)
        assert (theirs["queue"], theirs["region"]) == ("booking", "asia-east")
        anywhere = await made(http, admin, "baggage", "CUST-C1", region="america-east")
        assert (anywhere["queue"], anywhere["region"]) == ("baggage", "america-east")
        # A customer's word is ignored, as before: an anonymous chat at the node's region.
        anonymous = await made(http, {}, "booking", "CUST-D1", region="asia-east", priority=9)
        assert anonymous["region"] == "europe-west"
        stored = await node.router.get_contact(anonymous["contact_id"])
        assert stored.customer_id.startswith("anon-") and stored.priority == 0


async def test_a_queue_supervisor_creates_chats_only_in_their_queues(
    default_node: Node,
) -> None:
    node = default_node
    async with http_session(node) as http:
        booking = await login(http, "sup-book", PASSWORD)
        live = await node.router.store.live_contacts()

        refused = await chat(http, booking, "baggage", "CUST-X3", priority=9)
        assert refused.status == 403, await refused.text()
        assert "queue baggage" in (await refused.json())["message"]
        assert await node.router.store.live_contacts() == live
        assert not await node.router.store.customer_contacts("CUST-X3")

        theirs = await made(http, booking, "booking", "CUST-B1", priority=9)
        stored = await node.router.get_contact(theirs["contact_id"])
        assert (stored.queue, stored.customer_id, stored.priority) == ("booking", "CUST-B1", 9)


async def test_a_supervisors_queue_list_keeps_to_their_queues(redis_url: str) -> None:
    """A supervisor of baggage reads baggage's figures, not booking's (which is 403
    alone); a planner still reads every queue's (aggregate figures, no customer)."""
    users = [
        ("sup-bag", Role.SUPERVISOR, "sup-secret-1", ("baggage",)),
        ("pat", Role.PLANNER, "pat-secret-1", ()),
    ]
    async with running_node(redis_url) as node, http_session(node) as http:
        for user_id, role, password, queues in users:
            await node.sessions.save_user(user_id, role, password, queues=queues)
        await new_chat(http, queue="booking")
        sup = await login(http, "sup-bag", "sup-secret-1")
        listed = await (await http.get("/api/v1/queues", headers=sup)).json()
        assert [row["queue"] for row in listed["queues"]] == ["baggage"]
        assert (await http.get("/api/v1/queues/booking", headers=sup)).status == 403
        assert (await http.get("/api/v1/queues/baggage", headers=sup)).status == 200
        pat = await login(http, "pat", "pat-secret-1")
        every = await (await http.get("/api/v1/queues", headers=pat)).json()
        booking = next(row for row in every["queues"] if row["queue"] == "booking")
        assert booking["waiting"] == 1 and len(every["queues"]) == len(node.router.queues)
