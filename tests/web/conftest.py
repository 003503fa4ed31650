"""Pages in a real browser: Debian's Chromium (/usr/bin/chromium) driven by Playwright,
never a downloaded browser; axe-core from the npm package `make test` installs
(scripts/web-deps.sh)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, ViewportSize, async_playwright, expect

from router.model import Agent, Role
from switchboard.node import Node
from switchboard.settings import load_settings
from tests.nodes import running_node

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "build" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# What a page shows after an answer or an event, waited for up to 15 s (Playwright's
# default is 5 s): on a loaded 2-core CI box a page, its node and Redis share the cores.
# A page that never shows it still fails, later.
expect.set_options(timeout=15_000)

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed")


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    """A node with a supervisor (sup) and an agent (ana, booking, English)."""
    async with running_node(
        redis_url,
        users=[("sup", Role.SUPERVISOR, "sup-secret-1"), ("ana", Role.AGENT, "ana-secret-1")],
        agents=[Agent("ana", "default", {"booking": 4}, ["en"])],
    ) as node:
        yield node


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """One Chromium per test; each person in it gets a context of their own."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=FLAGS
        )
        try:
            yield launched
        finally:
            await launched.close()


async def sign_in_available(page: Page, node: Node) -> None:
    """ana signs in at her desktop on `page` and goes available."""
    await page.goto(f"http://127.0.0.1:{node.http_port}/agent")
    await page.fill("#agent-id", "ana")
    await page.fill("#password", "ana-secret-1")
    await page.click("#sign-in")
    await page.click("#go-available")
    await expect(page.locator("#state")).to_have_text("Available")


async def available_at_desk(
    browser: Browser, node: Node, viewport: ViewportSize | None = None
) -> Page:
    """ana's desktop in a new browser context: signed in (chat only) and available."""
    context = await browser.new_context(viewport=viewport)
    page = await context.new_page()
    await sign_in_available(page, node)
    return page


@pytest.fixture
async def calls_node(redis_url: str) -> AsyncIterator[Node]:
    """A node where ana (booking, English) takes calls and chats: booking rings 30 s (time
    to look at the card, or to reload the page while it rings), no wrap-up."""
    queues = [
        dataclasses.replace(q, ring_s=30.0, wrap_up_s=0.0) if q.name == "booking" else q
        for q in load_settings(ROOT / "config" / "default.toml").queues
    ]
    async with running_node(
        redis_url,
        queues=queues,
        users=[("ana", Role.AGENT, "ana-secret-1")],
        agents=[Agent("ana", "default", {"booking": 4}, ["en"])],
    ) as node:
        yield node


async def taking_calls(browser: Browser, node: Node, lang: str = "") -> Page:
    """ana's desktop, signed in for calls with her softphone, and available."""
    page = await (await browser.new_context()).new_page()
    query = f"?lang={lang}" if lang else ""
    await page.goto(f"http://127.0.0.1:{node.http_port}/agent{query}")
    await page.fill("#agent-id", "ana")
    await page.fill("#password", "ana-secret-1")
    await page.fill("#sip-uri", "sip:ana@127.0.0.1:5099")
    await page.check("#take-calls")
    await page.click("#sign-in")
    await expect(page.locator("#workspace")).to_be_visible()
    await page.click("#go-available")
    await expect(page.locator("#state")).to_have_attribute("data-state", "available")
    return page


async def screenshot(page: Page, tmp_path: Path, name: str) -> None:
    """A full-page screenshot, kept in artifacts/ (not committed)."""
    shot = tmp_path / name
    await page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(shot, ARTIFACTS / name)


async def serious_violations(
    page: Page, impacts: tuple[str, ...] = ("serious", "critical")
) -> list[dict[str, Any]]:
    """axe-core's violations of the page as it is now, of these impacts (serious and
    critical unless asked; `MODERATE` adds the moderate ones, landmarks among them)."""
    assert AXE.exists(), f"{AXE} missing: run `make test` or `bash scripts/web-deps.sh`"
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the browser's DevTools protocol, which no page policy stops:
        # the pages refuse a script tag added to them (script-src 'self').
        await page.evaluate(f"{AXE.read_text(encoding='utf-8')}\n;undefined")
    result = await page.evaluate("async () => JSON.stringify(await axe.run(document))")
    found = json.loads(result)["violations"]
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in found
        if v["impact"] in impacts
    ]


MODERATE = ("moderate", "serious", "critical")
