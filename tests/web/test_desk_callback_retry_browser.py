"""The desktop in Chromium when a callback the agent took is not picked up by the customer
and the queue calls again later (`callback_attempts`, docs/routing.md): the call leaves
the agent's desk with a word on what became of it, and the agent is free for the next."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from router.model import Channel, NewContact
from switchboard.node import Node
from tests.web.conftest import needs_chromium, taking_calls

pytestmark = needs_chromium


@pytest.fixture
def node(calls_node: Node) -> Node:
    """ana takes calls here; booking calls back 3 times (config/default.toml)."""
    return calls_node


async def test_an_unanswered_callback_leaves_the_desk_saying_it_is_tried_again(
    node: Node, browser: Browser
) -> None:
    assert node.router.queues["booking"].callback_attempts == 3
    page = await taking_calls(browser, node)
    call = await node.router.create_contact(
        NewContact(Channel.VOICE, "booking", "en", customer_id="+34600123456", verified=True)
    )
    await node.router.request_callback(call.contact_id, "sip:+34600123456@127.0.0.1:5070")
    card = page.locator(f".offer[data-contact='{call.contact_id}']")
    await expect(card.locator(".ring-left")).to_be_visible(timeout=10_000)
    await node.router.accept(call.contact_id, "ana")
    await expect(page.locator(f"#panel-{call.contact_id}")).to_be_visible(timeout=10_000)

    # What the worker tells the router when the customer's phone rang out.
    waiting = await node.router.callback_unanswered(call.contact_id)
    assert waiting.state.value == "queued"
    await expect(page.locator("#notice")).to_have_text(
        "The customer did not pick up the callback: it will be tried again later."
    )
    await expect(page.locator(f"#panel-{call.contact_id}")).to_have_count(0)
    await expect(page.locator("#state")).to_have_attribute("data-state", "available")
    await page.context.close()
