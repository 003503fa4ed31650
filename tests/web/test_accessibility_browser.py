"""axe-core, run in the same Chromium, finds no serious or critical violation on the
chat window (left to right and right to left), the agent desktop with a conversation
open, and the wallboard with the supervisor's actions."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from switchboard.node import Node
from tests.nodes import http_session, new_chat
from tests.web.conftest import needs_chromium, serious_violations

pytestmark = needs_chromium


async def test_chat_window_ltr_and_rtl(node: Node, browser: Browser) -> None:
    base = f"http://127.0.0.1:{node.http_port}"
    for locale, direction in (("en-GB", "ltr"), ("ar-EG", "rtl")):
        context = await browser.new_context(locale=locale)
        page = await context.new_page()
        await page.goto(f"{base}/chat")
        await expect(page.locator("html")).to_have_attribute("dir", direction)
        await expect(page.locator("#start")).to_be_visible()
        assert await serious_violations(page) == []
        await page.select_option("#queue", "booking")
        await page.fill("#first-message", "Hello")
        await page.click("#start-chat")
        await expect(page.locator("#messages li")).to_have_count(1)
        assert await serious_violations(page) == []
        await context.close()


async def test_agent_desktop(node: Node, browser: Browser) -> None:
    page = await (await browser.new_context()).new_page()
    await page.goto(f"http://127.0.0.1:{node.http_port}/agent")
    assert await serious_violations(page) == []
    await page.fill("#agent-id", "ana")
    await page.fill("#password", "ana-secret-1")
    await page.click("#sign-in")
    await page.click("#go-available")
    async with http_session(node) as http:
        await new_chat(http, queue="booking")
    await expect(page.locator(".offer")).to_be_visible(timeout=10_000)
    assert await serious_violations(page) == []
    await page.locator(".offer .accept").click()
    await expect(page.locator("#customer table.history")).to_be_visible()
    assert await serious_violations(page) == []
    await page.context.close()


async def test_wallboard(node: Node, browser: Browser) -> None:
    page = await (await browser.new_context()).new_page()
    await page.goto(f"http://127.0.0.1:{node.http_port}/wallboard")
    assert await serious_violations(page) == []
    await page.fill("#user", "sup")
    await page.fill("#password", "sup-secret-1")
    await page.click("#sign-in")
    async with http_session(node) as http:
        await new_chat(http, queue="booking")
    await page.select_option("#sv-queue", "booking")
    await expect(page.locator("#contacts-table tbody tr")).to_have_count(1, timeout=15_000)
    assert await serious_violations(page) == []
    await page.context.close()
