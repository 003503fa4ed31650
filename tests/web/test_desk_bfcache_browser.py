"""An agent desktop left for another page may stay in the browser's back/forward cache
(bfcache), frozen but whole. It must not keep the agent's session alive there: its event
socket's periodic session check counts as activity (`[auth] idle_timeout_s`), so a desk
left open in the cache kept an agent signed in (and Available) with nobody at it. On
`pagehide` the desk closes its socket and stops its timers; shown again from the cache
(`pageshow`, persisted) it loads afresh: at work again while the session lasts, asked to
sign in once it ran out.

Playwright starts Chromium with the cache disabled (`--disable-back-forward-cache`); these
tests start it without that switch, and check that the page did come back from the cache
(a `pageshow` with `persisted`), so that they test what an agent's browser does."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect
from playwright.async_api import Error as PlaywrightError

from router.model import Agent, Presence, Role
from switchboard.http import streams
from switchboard.node import Node
from tests.nodes import TEST_AUTH, http_session, new_chat, running_node
from tests.web.conftest import CHROMIUM, FLAGS, needs_chromium, sign_in_available

pytestmark = needs_chromium

IDLE_S = 3.0
# The page notes in sessionStorage (kept across a reload) each time it is shown.
SHOWN = """
addEventListener("pageshow", (event) => {
  const shown = JSON.parse(sessionStorage.getItem("test-shown") || "[]");
  shown.push(event.persisted);
  sessionStorage.setItem("test-shown", JSON.stringify(shown));
});
"""


@pytest.fixture
async def node(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Node]:
    """A node whose sessions end after IDLE_S unused, whose streams check their session
    (and so keep it alive) every 0.5 s, and that signs out lapsed agents every 0.3 s."""
    monkeypatch.setattr(streams, "RECHECK_S", 0.5)
    auth = dataclasses.replace(TEST_AUTH, idle_timeout_s=IDLE_S, expiry_check_s=0.3)
    async with running_node(
        redis_url,
        auth=auth,
        users=[("ana", Role.AGENT, "ana-secret-1")],
        agents=[Agent("ana", "default", {"booking": 4}, ["en"])],
    ) as node:
        yield node


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Chromium with its back/forward cache on, as an agent's browser has it."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            ignore_default_args=["--disable-back-forward-cache"],
        )
        try:
            yield launched
        finally:
            await launched.close()


async def desk(browser: Browser, node: Node) -> tuple[Page, str]:
    """ana's desktop, signed in and available, and her session's token."""
    context = await browser.new_context()
    await context.add_init_script(SHOWN)
    page = await context.new_page()
    await sign_in_available(page, node)
    token = await page.evaluate("JSON.parse(sessionStorage.getItem('switchboard-desk')).token")
    return page, str(token)


async def session_alive(node: Node, token: str) -> bool:
    """Whether the token still names a session (read without using it)."""
    return await node.sessions.users.get_token(token) is not None


async def leave(page: Page, node: Node) -> None:
    """The agent goes to another page (the desk stays in the cache)."""
    await page.goto(f"http://127.0.0.1:{node.http_port}/api/v1/openapi.json")


async def come_back(page: Page) -> None:
    """Back to the desk; it was shown again from the cache."""
    await page.go_back(wait_until="commit")  # a page from the cache fires no new load
    deadline = time.monotonic() + 5
    while True not in await shown(page):
        assert time.monotonic() < deadline, "the desk did not come back from the cache"
        await asyncio.sleep(0.1)


async def shown(page: Page) -> list[bool]:
    """Each `pageshow` of the desk so far: whether it came from the cache."""
    try:
        found = await page.evaluate("JSON.parse(sessionStorage.getItem('test-shown') || '[]')")
    except PlaywrightError:  # the page is loading again meanwhile
        return []
    return list(found)


async def test_a_desk_left_in_the_back_forward_cache_lets_the_session_run_out(
    node: Node, browser: Browser
) -> None:
    """Open and untouched, the desk keeps ana's session (its socket is live). Left for
    another page, it lets the session run out after the idle time: ana is signed out of
    routing (offline, 'session expired'). Back on the desk, she is asked to sign in."""
    page, token = await desk(browser, node)
    await asyncio.sleep(IDLE_S + 1.5)  # shown, nobody clicking: the socket keeps it
    assert await session_alive(node, token)
    assert (await node.router.get_agent("ana")).presence == Presence.AVAILABLE

    await leave(page, node)
    left = time.monotonic()
    while await session_alive(node, token):
        assert time.monotonic() - left < IDLE_S + 3, "the cached desk kept the session alive"
        await asyncio.sleep(0.2)
    assert time.monotonic() - left >= IDLE_S - 0.5
    await asyncio.sleep(1.0)  # the node's check of lapsed sessions
    agent = await node.router.get_agent("ana")
    assert (agent.presence, agent.reason) == (Presence.OFFLINE, "session expired")

    await come_back(page)
    await expect(page.locator("#sign-in-form")).to_be_visible()
    await expect(page.locator("#workspace")).to_be_hidden()
    assert not await session_alive(node, token)


async def test_a_desk_back_from_the_cache_before_the_session_ran_out_is_at_work_again(
    node: Node, browser: Browser
) -> None:
    """Back from the cache within the idle time, the desk is live again on the same
    session: still Available, and a new chat's offer reaches it."""
    page, token = await desk(browser, node)
    await leave(page, node)
    await asyncio.sleep(1.0)
    await come_back(page)
    await expect(page.locator("#state")).to_have_text("Available")
    await expect(page.locator("#connection")).to_have_text("")
    await asyncio.sleep(0.5)  # its socket listens again
    async with http_session(node) as http:
        chat = await new_chat(http, queue="booking")
    offer = page.locator(f".offer[data-contact='{chat['contact_id']}']")
    await expect(offer).to_be_visible()
    assert await session_alive(node, token)
    assert (await node.router.get_agent("ana")).presence == Presence.AVAILABLE
