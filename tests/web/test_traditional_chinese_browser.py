"""A Taiwanese customer in Chromium: the chat page in Traditional characters (zh's
catalog converted with OpenCC), the chat kept as zh-TW and routed to an agent of `zh`,
whose desk says the customer writes Chinese (Taiwan)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, expect

from router.model import Agent, Role
from switchboard.node import Node
from tests.nodes import running_node
from tests.web.conftest import needs_chromium

pytestmark = needs_chromium


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    """Li takes booking chats in Chinese."""
    async with running_node(
        redis_url,
        users=[("li", Role.AGENT, "li-secret-1")],
        agents=[Agent("li", "default", {"booking": 4}, ["zh"])],
    ) as node:
        yield node


async def test_a_taiwanese_browser_reads_traditional_and_keeps_its_tag(
    node: Node, browser: Browser
) -> None:
    base = f"http://127.0.0.1:{node.http_port}"
    desk_context = await browser.new_context(locale="en-US")
    desk = await desk_context.new_page()
    await desk.goto(f"{base}/agent")
    await desk.fill("#agent-id", "li")
    await desk.fill("#password", "li-secret-1")
    await desk.click("#sign-in")
    await desk.click("#go-available")
    await expect(desk.locator("#state")).to_have_text("Available")

    context = await browser.new_context(
        locale="zh-TW", extra_http_headers={"Accept-Language": "zh-TW,zh;q=0.9"}
    )
    customer = await context.new_page()
    await customer.goto(f"{base}/chat")
    await expect(customer.locator("html")).to_have_attribute("lang", "zh-TW")
    await expect(customer.locator("#queue option").first).to_have_text("選擇主題")
    await expect(customer.locator("#queue option[value=booking]")).to_have_text("預訂與更改")
    await customer.select_option("#queue", "booking")
    await customer.fill("#first-message", "我的行李在哪裡？")
    await customer.click("#start-chat")
    await expect(customer.locator("#messages li.mine")).to_contain_text("我的行李在哪裡？")
    saved = await customer.evaluate("JSON.parse(localStorage.getItem('switchboard-chat:'))")
    contact = await node.router.get_contact(saved["contact_id"])
    assert (contact.language, contact.language_tag) == ("zh", "zh-TW")

    offer = desk.locator(".offer")
    await expect(offer).to_be_visible(timeout=10_000)
    await offer.locator(".accept").click()
    panel = desk.locator(".conversation").first
    await expect(panel.locator(".facts")).to_contain_text("Customer writes in Chinese (Taiwan)")
    await context.close()
    await desk_context.close()


async def test_a_brazilian_browser_starts_its_chat_as_pt_br(node: Node, browser: Browser) -> None:
    """Accept-Language negotiates the language alone (`pt`); the chat keeps the browser's
    own tag with its region (it was stored as plain `pt`)."""
    context = await browser.new_context(
        locale="pt-BR", extra_http_headers={"Accept-Language": "pt-BR,pt;q=0.9"}
    )
    customer = await context.new_page()
    await customer.goto(f"http://127.0.0.1:{node.http_port}/chat")
    await customer.select_option("#queue", "booking")
    await customer.fill("#first-message", "Onde está a minha mala?")
    await customer.click("#start-chat")
    await expect(customer.locator("#messages li.mine")).to_contain_text("Onde está a minha mala?")
    saved = await customer.evaluate("JSON.parse(localStorage.getItem('switchboard-chat:'))")
    contact = await node.router.get_contact(saved["contact_id"])
    assert (contact.language, contact.language_tag) == ("pt", "pt-BR")
    await context.close()
