"""A Taiwanese customer and Li, an agent of `zh` (Simplified), in Chromium: no
translation between zh and zh, but each reads the other in their own script (OpenCC),
and the desk keeps what the customer typed one click away."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from i18n.translation import Translator
from i18n.translation_settings import TranslationSettings
from router.model import Agent, Role
from switchboard.node import Node
from tests.nodes import running_node
from tests.web.conftest import needs_chromium

pytestmark = needs_chromium


@pytest.fixture
async def node(redis_url: str, tmp_path: Path) -> AsyncIterator[Node]:
    """Li takes booking chats in Chinese; the node's translator has no engine pair."""
    translator = Translator(tmp_path / "no-models", settings=TranslationSettings(engines=()))
    async with running_node(
        redis_url,
        translator=translator,
        users=[("li", Role.AGENT, "li-secret-1")],
        agents=[Agent("li", "default", {"booking": 4}, ["zh"])],
    ) as node:
        yield node


async def test_li_reads_simplified_and_the_customer_reads_traditional(
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
    await customer.select_option("#queue", "booking")
    await customer.fill("#first-message", "計程車在哪裡？")
    await customer.click("#start-chat")
    await expect(customer.locator("#messages li.mine")).to_contain_text("計程車在哪裡？")

    offer = desk.locator(".offer")
    await expect(offer).to_be_visible(timeout=10_000)
    await offer.locator(".accept").click()
    panel = desk.locator(".conversation").first
    first = panel.locator(".messages li.theirs").first
    await expect(first.locator(".text")).to_have_text("出租车在哪里？", timeout=10_000)
    await first.locator(".toggle-original").click()
    await expect(first.locator(".original")).to_have_text("計程車在哪裡？")

    await panel.locator("textarea.reply").fill("谢谢，出租车在里面。")
    await panel.locator("button.send").click()
    reply = customer.locator("#messages li.theirs").last
    await expect(reply.locator(".text")).to_have_text("謝謝，計程車在裡面。", timeout=10_000)
    await expect(reply.locator(".untranslated")).to_have_count(0)
    await context.close()
    await desk_context.close()
