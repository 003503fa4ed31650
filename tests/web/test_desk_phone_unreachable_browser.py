"""The desktop in Chromium when the agent's softphone cannot be reached: the call offered
to them never rang (no registration, a phone switched off: telephony declines the offer
as `phone_unreachable`, tests/telephony/test_softphones.py). The desk says so in plain
words and what to check, not "no answer"; the agent is not ready, in their language."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from router.model import Channel, ContactState, NewContact
from switchboard.node import Node
from tests.web.conftest import needs_chromium, taking_calls

pytestmark = needs_chromium


@pytest.fixture
def node(calls_node: Node) -> Node:
    """ana takes calls here (tests/web/conftest.py `calls_node`)."""
    return calls_node


async def offered_then_unreachable(node: Node, page: Page) -> str:
    """A call offered to ana, which her phone never rang: what the worker tells the router."""
    call = await node.router.create_contact(
        NewContact(Channel.VOICE, "booking", "en", customer_id="+34600123456", verified=True)
    )
    card = page.locator(f".offer[data-contact='{call.contact_id}']")
    await expect(card.locator(".ring-left")).to_be_visible(timeout=10_000)
    await node.router.decline(call.contact_id, "ana", reason="phone_unreachable")
    return call.contact_id


async def test_an_unreachable_phone_is_told_as_such_with_what_to_check(
    node: Node, browser: Browser
) -> None:
    page = await taking_calls(browser, node)
    cid = await offered_then_unreachable(node, page)
    card = page.locator(f".offer[data-contact='{cid}']")
    await expect(card.get_by_role("heading")).to_have_text("Your phone could not be reached")
    await expect(card).to_contain_text("never rang your phone")
    await expect(card).to_contain_text("Check that your softphone is on and signed in")
    await expect(card).not_to_contain_text("ring no answer")
    await expect(page.locator("#state")).to_have_text("Not ready")
    await expect(page.locator("#state-detail")).to_have_text("(phone unreachable)")
    assert (await node.router.get_contact(cid)).state == ContactState.QUEUED
    await card.get_by_role("button", name="Dismiss").click()
    await expect(card).to_have_count(0)
    await page.context.close()


async def test_the_unreachable_phone_notice_is_in_the_agent_s_language(
    node: Node, browser: Browser
) -> None:
    page = await taking_calls(browser, node, lang="es")
    cid = await offered_then_unreachable(node, page)
    card = page.locator(f".offer[data-contact='{cid}']")
    await expect(card.get_by_role("heading")).to_have_text("No se pudo contactar con su teléfono")
    await expect(card).to_contain_text("softphone")
    await expect(page.locator("#state-detail")).to_have_text("(teléfono inaccesible)")
    await page.context.close()
