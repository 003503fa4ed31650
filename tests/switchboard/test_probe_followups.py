"""Follow-ups of a security and an integrator's probe, against a running node over HTTP.

- Staff reading what rings at another agent, and supervisors listing cases they neither
  own nor serve, leave an audit entry naming what they were shown.
- A scoped supervisor sees no queue depth of another queue through the regions' node
  load (`GET /api/v1/regions`, the wallboard), nor another region's nodes.
- A route without a query schema refuses any query key but the credentials; a repeated
  key is refused everywhere; the pages take the keys their scripts read.
- A supervisor's scope names queues and regions that exist; removing a user who does not
  exist is 404 "no such user" and audited as nothing.
- A chat's transfers (to an agent, to a queue) are on the contact, as a call's are.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from router.access import Principal
from router.cases.service import CaseRequest
from router.model import Agent, Channel, ContactState, NewContact, Presence, Role
from switchboard.node import Node
from tests.nodes import ROOT, http_session, login, running_node

PASSWORD = "a-long-password"
ADMIN = Principal("adm", Role.ADMIN)
STAFF: dict[str, tuple[Role, dict[str, tuple[str, ...]]]] = {
    "ana": (Role.AGENT, {}),
    "bob": (Role.AGENT, {}),
    "adm": (Role.ADMIN, {}),
    "pia": (Role.PLANNER, {}),
    "sup-book": (Role.SUPERVISOR, {"queues": ("booking",)}),
    "sup-asia": (Role.SUPERVISOR, {"regions": ("asia-east",)}),
    "sup-eu": (Role.SUPERVISOR, {"regions": ("europe-west",)}),
}


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    """A europe-west node of the three regions, ana and bob serving booking and general."""
    async with running_node(
        redis_url,
        ROOT / "config" / "regions-3.toml",
        region="europe-west",
        agents=[
            Agent("ana", "europe-west", {"booking": 4, "general": 2}, ["en"]),
            Agent("bob", "europe-west", {"booking": 3, "general": 2}, ["en"]),
        ],
    ) as node:
        for user, (role, scope) in STAFF.items():
            await node.sessions.save_user(user, role, PASSWORD, **scope)
        yield node


async def audit(http: aiohttp.ClientSession, admin: dict[str, str]) -> list[dict[str, Any]]:
    answer = await http.get("/api/v1/audit?last=50", headers=admin)
    assert answer.status == 200, await answer.text()
    return list((await answer.json())["entries"])


def of(entries: list[dict[str, Any]], actor: str, action: str) -> list[dict[str, Any]]:
    return [e["detail"] for e in entries if e["actor"] == actor and e["action"] == action]


async def test_staff_reading_an_agents_offers_or_the_case_list_is_audited(node: Node) -> None:
    """A booking chat of a gold customer rings at ana: booking's supervisor and a planner
    read it through her offers, and each read is audited with the contacts shown; ana's
    own read is not. A supervisor's case list is audited with the cases it showed that
    they neither own nor serve."""
    router = node.router
    await router.set_presence("bob", Presence.NOT_READY)
    await router.set_presence("ana", Presence.AVAILABLE)
    ringing = await router.create_contact(
        NewContact(Channel.CHAT, "booking", "en", customer_id="vip-77", customer_tier="gold")
    )
    assert (ringing.state, ringing.agent_id) == (ContactState.OFFERED, "ana")
    case = await node.cases.create(ADMIN, CaseRequest("c-9", "Refund", "booking"))
    async with http_session(node) as http:
        admin = await login(http, "adm", PASSWORD)
        for user in ("ana", "sup-book", "pia"):
            who = await login(http, user, PASSWORD)
            answer = await http.get("/api/v1/agents/ana/offers", headers=who)
            assert answer.status == 200, await answer.text()
            listed = [offer["contact_id"] for offer in (await answer.json())["offers"]]
            assert listed == [ringing.contact_id]
        supervisor = await login(http, "sup-book", PASSWORD)
        cases = await http.get("/api/v1/cases", headers=supervisor)
        assert [c["case_id"] for c in (await cases.json())["cases"]] == [case.case_id]
        entries = await audit(http, admin)
    shown = {"agent_id": "ana", "contact_ids": [ringing.contact_id], "count": 1}
    assert of(entries, "sup-book", "agent.offers") == [shown]
    assert of(entries, "pia", "agent.offers") == [shown]
    assert of(entries, "ana", "agent.offers") == []
    assert of(entries, "sup-book", "case.list") == [{"case_ids": [case.case_id], "count": 1}]


async def node_load(
    http: aiohttp.ClientSession, headers: dict[str, str], route: str
) -> dict[str, list[dict[str, Any]]]:
    """Each region's nodes' load as `route` shows it to the caller."""
    answer = await http.get(route, headers=headers)
    assert answer.status == 200, await answer.text()
    return {
        region["region"]: [node["load"] for node in region["nodes"]]
        for region in (await answer.json())["regions"]
    }


async def test_a_scoped_supervisor_sees_no_other_queues_depth_nor_other_regions_nodes(
    node: Node,
) -> None:
    """Chats wait in baggage and booking. An admin sees every queue's depth on the node;
    booking's supervisor only booking's; a region's supervisor no queue depth (a queue's
    depth counts every region) and only their region's nodes; the same on the wallboard."""
    router = node.router
    for agent in ("ana", "bob"):
        await router.set_presence(agent, Presence.NOT_READY)
    for queue in ("baggage", "booking", "booking"):
        await router.create_contact(NewContact(Channel.CHAT, queue, "en"))
    async with http_session(node) as http:
        admin = await login(http, "adm", PASSWORD)
        for _ in range(100):  # the node's heartbeat writes its load every third of its TTL
            loads = await node_load(http, admin, "/api/v1/regions")
            depth = loads["europe-west"][0]["queue_depth"] if loads["europe-west"] else {}
            if depth.get("baggage") == 1 and depth.get("booking") == 2:
                break
            await asyncio.sleep(0.1)
        assert depth["baggage"] == 1 and depth["booking"] == 2, loads
        seen = {}
        for user in ("sup-book", "sup-eu", "sup-asia"):
            who = await login(http, user, PASSWORD)
            seen[user] = {
                route: await node_load(http, who, route)
                for route in ("/api/v1/regions", "/api/v1/wallboard")
            }
    for route in ("/api/v1/regions", "/api/v1/wallboard"):
        booking = seen["sup-book"][route]["europe-west"][0]
        assert booking["queue_depth"] == {"booking": 2}
        assert "agents_by_state" not in booking  # the node's agents of every queue
        assert [list(load) for load in seen["sup-eu"][route]["europe-west"]] == [
            ["agents_by_state"]
        ]
        assert list(seen["sup-eu"][route]) == ["europe-west"]
        assert seen["sup-asia"][route] == {"asia-east": []}


async def error_of(answer: aiohttp.ClientResponse) -> tuple[int, str | None]:
    return answer.status, (await answer.json()).get("field")


async def test_unknown_and_repeated_query_keys_are_refused(node: Node) -> None:
    """Routes with no query schema refuse any key but the credentials (400 naming it);
    a key given twice is refused too, rather than read once; the pages check the keys
    their scripts read (`lang`; the chat window also `site`, `queue`, `identity`) and pass
    over what links add (a cache-buster, a campaign's tags)."""
    async with http_session(node) as http:
        admin = await login(http, "adm", PASSWORD)
        answers = {
            url: await error_of(await http.get(url, headers=admin))
            for url in (
                "/api/v1/advisories?x=1",
                "/api/v1/regions?unknown=",
                "/api/v1/cases?queue=booking&queue=baggage",
                "/api/v1/audit?last=1&last=2",
                "/api/v1/regions?token=a&token=b",
                "/chat?identity=" + "%20" * 3,
            )
        }
        assert answers == {
            "/api/v1/advisories?x=1": (400, "query.x"),
            "/api/v1/regions?unknown=": (400, "query.unknown"),
            "/api/v1/cases?queue=booking&queue=baggage": (400, "query.queue"),
            "/api/v1/audit?last=1&last=2": (400, "query.last"),
            "/api/v1/regions?token=a&token=b": (400, "query.token"),
            "/chat?identity=" + "%20" * 3: (400, "query.identity"),
        }
        credential = await http.get("/api/v1/regions?customer_token=abc", headers=admin)
        assert credential.status == 200, await credential.text()
        for page in (
            "/chat?site=airline&lang=es-MX&queue=booking&identity=x",
            "/chat?lang=x-klingon",  # the page falls back on its own (chat-main.js)
            "/agent?lang=de",
            "/wallboard?lang=fr",
            "/chat?site=airline&utm_source=newsletter&fbclid=abc",
            "/agent?v=2",
        ):
            shown = await http.get(page)
            assert (shown.status, shown.content_type) == (200, "text/html"), page
        script = await http.get("/pages/embed.js?v=2")
        assert script.status == 200 and "javascript" in script.content_type


async def test_a_supervisor_scope_names_queues_and_regions_that_exist(node: Node) -> None:
    """A typo in a scope (`Booking`, `mars`) is 400 naming the field with the choices,
    and no user is saved; a scope that exists is saved."""
    async with http_session(node) as http:
        admin = await login(http, "adm", PASSWORD)
        url = "/api/v1/admin/users/zz"
        body = {"role": "supervisor", "password": "another-password"}
        queue = await http.put(url, json={**body, "queues": ["booking", "Booking"]}, headers=admin)
        region = await http.put(url, json={**body, "regions": ["mars"]}, headers=admin)
        queue_error, region_error = await queue.json(), await region.json()
        assert (queue.status, queue_error["field"]) == (400, "$.queues[1]")
        assert "booking" in queue_error["expected"] and "baggage" in queue_error["expected"]
        assert queue_error["found"] == "Booking"
        assert (region.status, region_error["field"]) == (400, "$.regions[0]")
        assert "europe-west" in region_error["expected"]
        assert await node.sessions.users.get("zz") is None
        fine = await http.put(
            url, json={**body, "queues": ["booking"], "regions": ["asia-east"]}, headers=admin
        )
        assert fine.status == 200, await fine.text()
        saved = await node.sessions.users.get("zz")
        assert saved is not None and (saved.queues, saved.regions) == (
            ("booking",),
            ("asia-east",),
        )


async def test_removing_a_user_who_does_not_exist_is_404_and_not_audited(node: Node) -> None:
    async with http_session(node) as http:
        admin = await login(http, "adm", PASSWORD)
        missing = await http.delete("/api/v1/admin/users/nosuchuser", headers=admin)
        removed = await http.delete("/api/v1/admin/users/pia", headers=admin)
        entries = await audit(http, admin)
    assert missing.status == 404
    assert (await missing.json())["message"] == "no such user: nosuchuser"
    assert removed.status == 200
    assert of(entries, "adm", "admin.user.remove") == [{"user_id": "pia"}]


async def test_a_chats_transfers_are_on_the_contact(node: Node) -> None:
    """ana hands her chat to bob, bob to the general queue (where ana takes it again):
    both transfers are on the contact with when, how, by whom, from whom and to what, and
    the chain of agents is ana, bob, ana."""
    router = node.router
    await router.set_presence("bob", Presence.NOT_READY)
    await router.set_presence("ana", Presence.AVAILABLE)
    chat = await router.create_contact(NewContact(Channel.CHAT, "booking", "en"))
    cid = chat.contact_id
    await router.accept(cid, "ana")
    async with http_session(node) as http:
        ana, bob = await login(http, "ana", PASSWORD), await login(http, "bob", PASSWORD)
        await router.set_presence("bob", Presence.AVAILABLE)
        to_bob = await http.post(
            f"/api/v1/contacts/{cid}/transfer", json={"agent": "bob"}, headers=ana
        )
        assert to_bob.status == 200, await to_bob.text()
        assert (await router.get_contact(cid)).agent_id == "bob"
        await router.accept(cid, "bob")
        to_general = await http.post(
            f"/api/v1/contacts/{cid}/transfer", json={"queue": "general"}, headers=bob
        )
        assert to_general.status == 200, await to_general.text()
        for _ in range(50):
            contact = await router.get_contact(cid)
            if contact.agent_id == "ana":
                break
            await asyncio.sleep(0.1)
        await router.accept(cid, "ana")
        shown = await (await http.get(f"/api/v1/contacts/{cid}", headers=ana)).json()
    transfers = shown["transfers"]
    assert [(t["mode"], t["by"], t["from_agent"], t["to"]) for t in transfers] == [
        ("blind", "desktop", "ana", "agent:bob"),
        ("blind", "desktop", "bob", "queue:general"),
    ]
    assert all(t["at"] and t["consulted_s"] is None for t in transfers)
    assert (await router.get_contact(cid)).agent_chain == ["ana", "bob", "ana"]
