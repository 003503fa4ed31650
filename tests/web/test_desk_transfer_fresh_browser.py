"""A transfer on the desk in Chromium, as things are now: the list of colleagues says
the state each is in when the list is opened (not when the chat opened), and after a
transfer out the agent's own state line counts the chats they still hold."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from router.model import Agent, Role
from switchboard.node import Node
from tests.nodes import http_session, login, new_chat, running_node
from tests.web.conftest import available_at_desk, needs_chromium

pytestmark = needs_chromium


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    """ana and bob take booking chats (English)."""
    async with running_node(
        redis_url,
        users=[("ana", Role.AGENT, "ana-secret-1"), ("bob", Role.AGENT, "bob-secret-1")],
        agents=[
            Agent("ana", "default", {"booking": 4}, ["en"]),
            Agent("bob", "default", {"booking": 4}, ["en"]),
        ],
    ) as node:
        yield node


async def accept_chat(page: Page, node: Node) -> str:
    """A booking chat offered to ana and accepted on her desk: its contact id."""
    async with http_session(node) as http:
        chat = await new_chat(http, queue="booking")
    cid = str(chat["contact_id"])
    await page.locator(f".offer[data-contact='{cid}'] .accept").click(timeout=10_000)
    await expect(page.locator(f".conversation[data-contact='{cid}']")).to_have_count(1)
    return cid


async def test_the_list_says_a_colleagues_state_as_it_is_when_opened(
    node: Node, browser: Browser
) -> None:
    page = await available_at_desk(browser, node)
    cid = await accept_chat(page, node)
    select = page.locator(f"#panel-{cid} form.transfer select")
    bob = select.locator("option[value='agent:bob']")
    await expect(bob).to_have_text("bob (default, Offline)")  # read as the chat opened

    async with http_session(node) as http:
        token = await login(http, "bob", "bob-secret-1")
        await http.put("/api/v1/agents/bob/state", json={"state": "available"}, headers=token)
        await select.focus()
        await expect(bob).to_have_text("bob (default, Available)")
        await page.locator(f"#panel-{cid} textarea.reply").focus()
        await http.put("/api/v1/agents/bob/state", json={"state": "not_ready"}, headers=token)
        await select.focus()
        await expect(bob).to_have_text("bob (default, Not ready)")
        # A colleague chosen stays chosen when the list is read again.
        await select.select_option("agent:bob")
        await page.locator(f"#panel-{cid} textarea.reply").focus()
        await select.focus()
        await expect(bob).to_have_text("bob (default, Not ready)")
        await expect(select).to_have_value("agent:bob")
    await page.context.close()


async def test_the_state_line_counts_the_chats_left_after_a_transfer_out(
    node: Node, browser: Browser
) -> None:
    page = await available_at_desk(browser, node)
    first = await accept_chat(page, node)
    await accept_chat(page, node)
    detail = page.locator("#state-detail")
    await expect(detail).to_have_text("chats: 2, calls: 0")
    async with http_session(node) as http:
        token = await login(http, "bob", "bob-secret-1")
        await http.put("/api/v1/agents/bob/state", json={"state": "available"}, headers=token)
        panel = page.locator(f"#panel-{first}")
        await panel.locator("form.transfer select").focus()
        await panel.locator("form.transfer select").select_option("agent:bob")
        await panel.locator("form.transfer button[type=submit]").click()
        await expect(page.locator(f"#panel-{first}")).to_have_count(0)
        await expect(detail).to_have_text("chats: 1, calls: 0")
        assert (await node.router.get_agent("ana")).load["chat"] == 1
    await page.context.close()
