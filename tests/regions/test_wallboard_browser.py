"""End to end in headless Chromium: a supervisor signs in and watches a chat arrive.

Chromium is Debian's (/usr/bin/chromium), driven by Playwright; nothing downloads a
browser. The screenshot is kept in the test's tmp dir and copied to artifacts/.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import BrowserContext, async_playwright, expect

from regions.store import MembershipStore
from switchboard.node import Node
from tests.regions.test_wallboard import http, new_chat, node  # noqa: F401 (fixtures)
from tests.web.conftest import CHROMIUM, FLAGS, needs_chromium, screenshot

pytestmark = needs_chromium


@pytest.fixture
async def browser(node: Node, tmp_path: Path) -> AsyncIterator[BrowserContext]:  # noqa: F811
    """A fresh profile each time; closed before the node stops (it depends on the node)."""
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 800},
        )
        try:
            yield context
        finally:
            await context.close()


async def test_supervisor_sees_waiting_count_change(
    node: Node,  # noqa: F811
    http: aiohttp.ClientSession,  # noqa: F811
    browser: BrowserContext,
    tmp_path: Path,
) -> None:
    # A node of the region that stopped heartbeating: its key expires, its entry stays.
    dead = MembershipStore(node.client, "sb", ttl_s=0.2)
    await dead.beat("default-2", "default", "http://127.0.0.1:9", 0.0, {})
    await asyncio.sleep(0.4)

    page = await browser.new_page()
    await page.goto(f"http://127.0.0.1:{node.http_port}/wallboard")
    await page.fill("#user", "sup")
    await page.fill("#password", "sup-secret-1")
    await page.click("#sign-in")
    waiting = page.locator("#waiting-general")
    await expect(waiting).to_have_text("0", timeout=15_000)
    await expect(page.locator(".clock[data-region=default]")).to_contain_text("default")

    await new_chat(http, "general")
    await expect(waiting).to_have_text("1", timeout=15_000)
    await expect(page.locator("#queue-general")).to_contain_text("default 1")
    row = page.locator("#regions-table tr[data-region=default][data-queue=general] .waiting")
    await expect(row).to_have_text("1")

    alert = page.locator("#alerts li[data-kind=node_down]")
    # Down, then adopted by the running node: either way the board says so.
    await expect(alert).to_contain_text("node default-2")

    for name, size in (("wallboard.png", (1280, 800)), ("wallboard-wall.png", (1920, 1080))):
        await page.set_viewport_size({"width": size[0], "height": size[1]})
        # Usable at both sizes: nothing runs off the side of the screen.
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name}: {overflow} px wider than the window"
        await screenshot(page, tmp_path, name)


async def test_agent_is_turned_away(
    node: Node,  # noqa: F811
    browser: BrowserContext,
) -> None:
    page = await browser.new_page()
    await page.goto(f"http://127.0.0.1:{node.http_port}/wallboard")
    await page.fill("#user", "ana")
    await page.fill("#password", "ana-secret-1")
    await page.click("#sign-in")
    await expect(page.locator("#login-error")).to_have_text("the wallboard is for supervisors")
    await expect(page.locator("#board")).to_be_hidden()
