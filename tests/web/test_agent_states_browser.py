"""Agents' states as people read them, in Chromium: the transfer list names a colleague's
state in words in every desk language (never a key like `not_ready`); an agent who went
not ready while still holding a chat reads "Not ready (break)" with what they hold on
their desk, and the wallboard says "busy, not ready (break)" without offering to set
them not ready again."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from i18n.pages import page_strings
from router.model import Agent, Role
from switchboard.node import Node
from switchboard.web.strings import DESK_LANGUAGES
from tests.nodes import http_session, login, new_chat, running_node
from tests.web.conftest import available_at_desk, needs_chromium

pytestmark = needs_chromium


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    """ana and bob take booking chats (English); sup supervises."""
    async with running_node(
        redis_url,
        users=[
            ("sup", Role.SUPERVISOR, "sup-secret-1"),
            ("ana", Role.AGENT, "ana-secret-1"),
            ("bob", Role.AGENT, "bob-secret-1"),
        ],
        agents=[
            Agent("ana", "default", {"booking": 4}, ["en"]),
            Agent("bob", "default", {"booking": 4}, ["en"]),
        ],
    ) as node:
        yield node


async def holding_a_chat(page: Page, node: Node) -> str:
    """A booking chat offered to ana and accepted on her desk: its contact id."""
    async with http_session(node) as http:
        chat = await new_chat(http, queue="booking")
    cid = str(chat["contact_id"])
    await page.locator(f".offer[data-contact='{cid}'] .accept").click(timeout=10_000)
    await expect(page.locator(f".conversation[data-contact='{cid}']")).to_have_count(1)
    return cid


async def colleague_option(page: Page, agent_id: str) -> str:
    """The transfer list's entry for a colleague, as the open conversation shows it."""
    select = page.locator(".conversation form.transfer select")
    await select.focus()
    option = select.locator(f"option[value='agent:{agent_id}']")
    await expect(option).to_have_count(1)
    return str(await option.text_content())


async def test_the_transfer_list_names_states_in_words_in_every_desk_language(
    node: Node, browser: Browser
) -> None:
    async with http_session(node) as http:
        bob = await login(http, "bob", "bob-secret-1")
        await http.put("/api/v1/agents/bob/state", json={"state": "not_ready"}, headers=bob)
    page = await available_at_desk(browser, node)
    await holding_a_chat(page, node)
    assert await colleague_option(page, "bob") == "bob (default, Not ready)"
    for language in DESK_LANGUAGES:
        # The desk keeps its session and open conversation across the reload.
        await page.goto(f"http://127.0.0.1:{node.http_port}/agent?lang={language}")
        await expect(page.locator(".conversation")).to_have_count(1)
        words = page_strings(language).strings["Not ready"]
        assert await colleague_option(page, "bob") == f"bob (default, {words})", language
    await page.context.close()


async def test_not_ready_while_holding_a_chat_on_the_desk_and_the_wallboard(
    node: Node, browser: Browser
) -> None:
    page = await available_at_desk(browser, node)
    await holding_a_chat(page, node)
    await expect(page.locator("#state")).to_have_text("Busy")
    await page.select_option("#not-ready-reason", "break")
    await page.click("#go-not-ready")
    # Not ready (nothing new is offered), and still holding the chat.
    await expect(page.locator("#state")).to_have_text("Not ready")
    await expect(page.locator("#state")).to_have_attribute("data-state", "not_ready")
    await expect(page.locator("#state-detail")).to_have_text("(break) chats: 1, calls: 0")
    agent = await node.router.get_agent("ana")
    assert (agent.presence.value, agent.reason, agent.load["chat"]) == ("not_ready", "break", 1)

    board = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
    await board.goto(f"http://127.0.0.1:{node.http_port}/wallboard")
    await board.fill("#user", "sup")
    await board.fill("#password", "sup-secret-1")
    await board.click("#sign-in")
    await board.select_option("#sv-queue", "booking")
    row = board.locator("#agents-table tr[data-agent=ana]")
    await expect(row.locator(".state")).to_have_text("busy, not ready (break)", timeout=15_000)
    await expect(row.locator("button.not-ready")).to_have_count(0)
    await expect(row.locator("button.log-out")).to_have_count(1)

    # Available again with the chat: busy, and the supervisor may set her not ready.
    await page.click("#go-available")
    await expect(page.locator("#state")).to_have_text("Busy")
    await expect(page.locator("#state-detail")).to_have_text("chats: 1, calls: 0")
    await expect(row.locator(".state")).to_have_text("busy", timeout=15_000)
    await expect(row.locator("button.not-ready")).to_have_count(1)
    await board.select_option("#sv-reason", "meeting")
    await row.locator("button.not-ready").click()
    await expect(board.locator("#sv-message")).to_have_text("ana is now not ready (meeting)")
    await expect(row.locator(".state")).to_have_text("busy, not ready (meeting)", timeout=15_000)
    await expect(row.locator("button.not-ready")).to_have_count(0)
    await expect(page.locator("#state")).to_have_text("Not ready", timeout=15_000)
    await expect(page.locator("#state-detail")).to_have_text("(meeting) chats: 1, calls: 0")
    await board.context.close()
    await page.context.close()
