"""The customer 360° panel in Chromium: a signed-in customer's earlier voice and chat
contacts beside the new chat, with outcome, wrap-up code, note and rating; the new chat,
within the repeat window, is marked as a repeat."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, expect

from router.desk import ChatSite, DeskConfig, Dispositions
from router.identity import sign
from router.model import Agent, Channel, NewContact, Role
from switchboard.node import Node
from tests.nodes import http_session, login, new_chat, queues_with_wrap_up, running_node
from tests.web.conftest import available_at_desk, needs_chromium, screenshot

pytestmark = needs_chromium

SITE = ChatSite("airline", ("https://www.airline.example",), "a-site-secret")
DESK = DeskConfig(
    dispositions={"booking": Dispositions(("new_booking", "changed", "info_only"))},
    sites=(SITE,),
)


def identity(customer: str) -> str:
    return sign(SITE.secret, {"sub": customer, "exp": time.time() + 600, "tier": "gold"})


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    queues = queues_with_wrap_up(0.0)
    async with running_node(
        redis_url,
        queues=queues,
        desk=DESK,
        users=[("ana", Role.AGENT, "ana-secret-1")],
        agents=[Agent("ana", "default", {"booking": 4}, ["en"])],
    ) as node:
        yield node


async def test_the_panel_lists_earlier_voice_and_chat_contacts(
    node: Node, browser: Browser, tmp_path
) -> None:
    # An earlier call of customer c-9 (the caller hung up while waiting)...
    call = await node.router.create_contact(
        NewContact(Channel.VOICE, "general", "en", customer_id="c-9", verified=True)
    )
    await node.router.fail(call.contact_id, "caller_hangup")
    async with http_session(node) as http:
        # ...and an earlier chat that Ana served, wrapped up and the customer rated.
        ana = await login(http, "ana", "ana-secret-1")
        await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
        earlier = await new_chat(http, queue="booking", identity=identity("c-9"), site="airline")
        eid = earlier["contact_id"]
        assert (await http.post(f"/api/v1/contacts/{eid}/accept", headers=ana)).status == 200
        await http.post(f"/api/v1/contacts/{eid}/complete", headers=ana)
        done = await http.post(
            f"/api/v1/contacts/{eid}/wrapup",
            json={"code": "changed", "note": "moved to the 18:05"},
            headers=ana,
        )
        assert done.status == 200
        rated = await http.post(
            f"/api/v1/contacts/{eid}/rating",
            json={"score": 5},
            headers={"X-Customer-Token": earlier["customer_token"]},
        )
        assert rated.status == 201
        await http.put("/api/v1/agents/ana/state", json={"state": "not_ready"}, headers=ana)

        page = await available_at_desk(browser, node, {"width": 1280, "height": 860})
        again = await new_chat(http, queue="booking", identity=identity("c-9"), site="airline")
        offer = page.locator(".offer")
        await expect(offer.locator(".tier")).to_have_text("gold", timeout=10_000)
        await offer.locator(".accept").click()

        history = page.locator("#customer table.history tbody tr")
        await expect(history).to_have_count(3, timeout=10_000)
        await expect(page.locator("#customer .customer-id")).to_have_text("c-9")
        # The region is the contact's own (where it was placed), and labelled so.
        await expect(page.locator("#customer dl")).to_contain_text("Region of this contact")
        placed = (await node.router.get_contact(again["contact_id"])).region
        await expect(page.locator("#customer .contact-region")).to_have_text(placed)
        current = page.locator(f"#customer tr[data-contact='{again['contact_id']}']")
        await expect(current).to_contain_text("Repeat")
        chat_row = page.locator(f"#customer tr[data-contact='{eid}']")
        await expect(chat_row.locator(".code")).to_have_text("Changed")
        await expect(chat_row.locator(".rating")).to_have_text("5/5")
        await expect(chat_row.locator(".note")).to_have_text("moved to the 18:05")
        await expect(chat_row).to_contain_text("completed")
        voice_row = page.locator(f"#customer tr[data-contact='{call.contact_id}']")
        await expect(voice_row).to_have_attribute("data-channel", "voice")
        await expect(voice_row).to_contain_text("failed")
        await expect(voice_row.locator(".queue")).to_have_text("Anything else")
        await screenshot(page, tmp_path, "agent-customer-360.png")
        # The customer leaves: in wrap-up the row of this very contact says how it ended
        # (it stayed "connected" until the tab was opened again).
        await expect(current).to_contain_text("connected")
        left = await http.post(
            f"/api/v1/contacts/{again['contact_id']}/abandon",
            headers={"X-Customer-Token": again["customer_token"]},
        )
        assert left.status == 200, await left.text()
        await expect(current).to_contain_text("completed", timeout=10_000)
        await page.context.close()
