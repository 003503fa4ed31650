"""The wallboard in words, not colour alone, and its alerts said once: each region says
whether it is up, each alert its level; an alert that stands (its wait growing at every
snapshot) is updated in place and announced once (WCAG 1.1.1, 1.4.1, 4.1.3)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, expect

from router.model import Agent, Role
from switchboard.node import Node
from switchboard.settings import load_settings
from tests.nodes import ROOT, http_session, new_chat, running_node
from tests.web.conftest import needs_chromium
from tests.web.test_live_regions_browser import RECORDER

pytestmark = needs_chromium


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    """general answers within 1 s, and nobody serves it: a chat there soon waits too long."""
    queues = [
        dataclasses.replace(q, answer_within_s=1.0) if q.name == "general" else q
        for q in load_settings(ROOT / "config" / "default.toml").queues
    ]
    async with running_node(
        redis_url,
        queues=queues,
        users=[("sup", Role.SUPERVISOR, "sup-secret-1")],
        agents=[Agent("ana", "default", {"booking": 4}, ["en"])],
    ) as node:
        yield node


async def test_the_wallboard_says_in_words_and_once(node: Node, browser: Browser) -> None:
    context = await browser.new_context()
    await context.add_init_script(RECORDER)
    page = await context.new_page()
    await page.goto(f"http://127.0.0.1:{node.http_port}/wallboard")
    # A refused sign-in marks its fields and puts the focus on the password.
    await page.fill("#user", "sup")
    await page.fill("#password", "wrong-password")
    await page.click("#sign-in")
    await expect(page.locator("#password")).to_be_focused()
    await expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    await page.fill("#password", "sup-secret-1")
    await page.click("#sign-in")
    await expect(page.locator(".clock[data-region=default]")).to_contain_text("default up")
    async with http_session(node) as http:
        await new_chat(http, queue="general")
    alert = page.locator("#alerts li[data-kind=waiting_too_long]")
    await expect(alert.locator(".level")).to_have_text("warning")
    first = await alert.locator(".message").inner_text()
    # Two snapshots later the wait has grown: the same item, its words updated.
    await expect(alert.locator(".message")).not_to_have_text(first)
    await expect(alert).to_have_count(1)
    said = [e["text"] for e in await page.evaluate("window.__live") if "has waited" in e["text"]]
    assert len(said) == 1 and said[0].startswith("warning: general"), said
    await context.close()
