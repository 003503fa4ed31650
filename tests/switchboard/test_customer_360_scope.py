"""The customer 360° view (`GET /api/v1/contacts/{id}/customer`) lists to a supervisor
only the customer's contacts of their scope, as a direct read would: a supervisor of
baggage does not read booking's wrap-up notes through it, nor one of a region another
region's (docs/security.md). The agent serving the customer keeps the desk's whole
history (docs/desktop.md). On a real node, Redis and HTTP."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from router.access import Principal
from router.model import Agent, Channel, NewContact, Role
from switchboard.node import Node
from switchboard.settings import load_settings
from tests.nodes import ROOT, http_session, login, running_node

CONFIG = ROOT / "config" / "regions-3.toml"
NOTE = "VIP c-77: refund 900 EUR approved, card ending 4242"
SUPERVISORS = {
    "supbag": ("baggage",),
    "supbook": ("booking",),
}


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    settings = load_settings(CONFIG, region="europe-west")
    all_day = [dataclasses.replace(r, open="00:00", close="24:00") for r in settings.regions]
    async with running_node(
        redis_url,
        CONFIG,
        region="europe-west",
        regions=all_day,
        users=[("ana", Role.AGENT, "ana-secret-1"), ("root", Role.ADMIN, "root-secret-1")],
        agents=[Agent("ana", "europe-west", {"booking": 4, "baggage": 4}, ["en"])],
    ) as node:
        for user, queues in SUPERVISORS.items():
            await node.sessions.save_user(user, Role.SUPERVISOR, f"{user}-secret-1", queues=queues)
        await node.sessions.save_user(
            "supeu", Role.SUPERVISOR, "supeu-secret-1", regions=("europe-west",)
        )
        yield node


async def past_contact(node: Node, queue: str, region: str, note: str = "") -> str:
    """An ended contact of customer c-77, with a wrap-up note when given."""
    new = NewContact(Channel.CHAT, queue, "en", customer_id="c-77", region=region)
    contact = await node.router.create_contact(new)
    assert contact.region == region
    await node.router.fail(contact.contact_id, "customer_left")
    if note:
        await node.reports.wrap_up(contact.contact_id, {"code": "changed", "note": note})
    return contact.contact_id


async def test_a_supervisor_sees_only_the_customers_contacts_of_their_scope(node: Node) -> None:
    booking_eu = await past_contact(node, "booking", "europe-west", NOTE)
    booking_asia = await past_contact(node, "booking", "asia-east")
    baggage_eu = await past_contact(node, "baggage", "europe-west")
    async with http_session(node) as http:

        async def seen(user: str, contact_id: str) -> tuple[list[str], str]:
            headers = await login(http, user, f"{user}-secret-1")
            response = await http.get(f"/api/v1/contacts/{contact_id}/customer", headers=headers)
            assert response.status == 200, await response.text()
            body = await response.json()
            return sorted(c["contact_id"] for c in body["contacts"]), await response.text()

        ids, text = await seen("supbag", baggage_eu)
        assert ids == [baggage_eu] and NOTE not in text
        assert (await seen("supbook", booking_eu))[0] == sorted([booking_eu, booking_asia])
        assert (await seen("supeu", baggage_eu))[0] == sorted([booking_eu, baggage_eu])
        everything = sorted([booking_eu, booking_asia, baggage_eu])
        ids, text = await seen("root", baggage_eu)
        assert ids == everything and NOTE in text
    supbag = Principal("supbag", Role.SUPERVISOR, frozenset({"baggage"}))
    history = await node.contacts.history(supbag, baggage_eu)
    assert [c.contact.contact_id for c in history.contacts] == [baggage_eu]
    assert history.left_out == 2
    audit = [(e.actor, e.action, e.detail) for e in await node.reports.audit_log()]
    assert ("supbag", "contact.history", {"contact_id": baggage_eu, "shown": 1}) in audit


async def test_a_vouched_chat_opens_no_other_scopes_history(node: Node) -> None:
    """A supervisor of baggage starts a chat "for" c-77: its 360° holds that chat only."""
    await past_contact(node, "booking", "europe-west", NOTE)
    async with http_session(node) as http:
        sup = await login(http, "supbag", "supbag-secret-1")
        started = await http.post(
            "/api/v1/contacts",
            headers=sup,
            json={
                "channel": "chat",
                "queue": "baggage",
                "language": "en",
                "customer": {"id": "c-77"},
            },
        )
        assert started.status == 201, await started.text()
        mine = (await started.json())["contact_id"]
        response = await http.get(f"/api/v1/contacts/{mine}/customer", headers=sup)
        body = await response.json()
        assert [c["contact_id"] for c in body["contacts"]] == [mine]
        assert body["left_out"] >= 1  # the customer's other contacts, said to exist
        assert NOTE not in await response.text()


async def test_the_agent_serving_the_customer_sees_their_whole_history(node: Node) -> None:
    booking_eu = await past_contact(node, "booking", "europe-west", NOTE)
    booking_asia = await past_contact(node, "booking", "asia-east")
    async with http_session(node) as http:
        ana = await login(http, "ana", "ana-secret-1")
        await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
        live = await node.router.create_contact(
            NewContact(Channel.CHAT, "baggage", "en", customer_id="c-77", region="europe-west")
        )
        assert (await node.router.get_contact(live.contact_id)).agent_id == "ana"
        response = await http.get(f"/api/v1/contacts/{live.contact_id}/customer", headers=ana)
        body = await response.json()
        assert sorted(c["contact_id"] for c in body["contacts"]) == sorted(
            [live.contact_id, booking_eu, booking_asia]
        )
        assert NOTE in await response.text()
