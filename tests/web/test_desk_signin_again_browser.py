"""The desk shows what the agent holds and owes however it was opened: signed in again
in a new tab (the closed one's sessionStorage is gone), its chats come back with their
transcripts and an owed wrap-up gets its form; a chat moved by another session of the
agent takes its new queue (and its codes) when it comes back, or leaves the desk when
it went to a colleague; accepting with the keyboard puts the focus in the reply box; answers
older than an offer event (the first read of offers, "available") do not undo it."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Route, expect

from router.desk import DeskConfig, Dispositions
from router.model import Agent, Presence, Role
from switchboard.node import Node
from switchboard.settings import load_settings
from tests.nodes import ROOT, http_session, login, new_chat, running_node
from tests.web.conftest import needs_chromium

pytestmark = needs_chromium

BOOKING_CODES = ("new_booking", "changed")
GENERAL_CODES = ("resolved", "info_only")
# The codes as the wrap-up form words them.
BOOKING_WORDS = ["New booking", "Changed"]
GENERAL_WORDS = ["Resolved", "Information only"]
DESK = DeskConfig(
    dispositions={
        "booking": Dispositions(BOOKING_CODES, required=True),
        "general": Dispositions(GENERAL_CODES),
    }
)


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    queues = [
        dataclasses.replace(q, ring_s=20.0, wrap_up_s=0.0)
        for q in load_settings(ROOT / "config" / "default.toml").queues
    ]
    async with running_node(
        redis_url,
        queues=queues,
        desk=DESK,
        users=[("ana", Role.AGENT, "ana-secret-1"), ("bob", Role.AGENT, "bob-secret-1")],
        agents=[
            Agent("ana", "default", {"booking": 4, "general": 4}, ["en"]),
            Agent("bob", "default", {"booking": 4, "general": 4}, ["en"]),
        ],
    ) as node:
        await node.router.set_presence("bob", Presence.OFFLINE)
        yield node


async def sign_in(context: BrowserContext, node: Node) -> Page:
    page = await context.new_page()
    await page.goto(f"http://127.0.0.1:{node.http_port}/agent")
    await page.fill("#agent-id", "ana")
    await page.fill("#password", "ana-secret-1")
    await page.click("#sign-in")
    await expect(page.locator("#workspace")).to_be_visible()
    return page


async def accept_by_keyboard(page: Page, contact_id: str) -> None:
    accept = page.locator(f".offer[data-contact='{contact_id}'] .accept")
    await accept.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator(f"#tab-{contact_id}")).to_be_visible()


async def test_signed_in_again_the_desk_shows_held_chats_and_owed_wrap_ups(
    node: Node, browser: Browser
) -> None:
    context = await browser.new_context()
    page = await sign_in(context, node)
    await page.click("#go-available")
    async with http_session(node) as http:
        kept, ending = await new_chat(http, queue="booking"), await new_chat(http, queue="booking")
        for chat in (kept, ending):
            await accept_by_keyboard(page, chat["contact_id"])
        # The keyboard's place is in the conversation just accepted: its reply box.
        await expect(page.locator(f"#reply-{ending['contact_id']}")).to_be_focused()
        await http.post(
            f"/api/v1/contacts/{kept['contact_id']}/messages",
            json={"text": "Is my seat still 14C?"},
            headers={"X-Customer-Token": kept["customer_token"]},
        )
        await page.close()  # the tab, and its sessionStorage, are gone
        await node.router.complete(ending["contact_id"], "ana")  # a code is owed now

        page = await sign_in(context, node)
        tabs = page.locator("#tabs [role=tab]")
        await expect(tabs).to_have_count(2)
        kept_panel = page.locator(f"#panel-{kept['contact_id']}")
        await page.click(f"#tab-{kept['contact_id']}")
        await expect(kept_panel.locator(".messages")).to_contain_text("Is my seat still 14C?")
        await page.click(f"#tab-{ending['contact_id']}")
        form = page.locator(f"#panel-{ending['contact_id']} form.wrap-up")
        await expect(form).to_be_visible()
        codes = await form.locator("select.wrap-up-code option").all_inner_texts()
        assert codes[1:] == BOOKING_WORDS
        await form.locator("select.wrap-up-code").select_option("changed")
        await form.locator(".save-wrap-up").click()
        await expect(tabs).to_have_count(1)
        await page.click("#go-available")
        await expect(page.locator("#state")).to_have_attribute("data-state", "busy")
    assert (await node.router.get_agent("ana")).code_owed_until_ms == 0
    await context.close()


async def test_a_chat_moved_by_another_session_takes_its_new_queue_or_leaves(
    node: Node, browser: Browser
) -> None:
    context = await browser.new_context()
    page = await sign_in(context, node)
    await page.click("#go-available")
    async with http_session(node) as http:
        other = await login(http, "ana", "ana-secret-1")  # ana's second session
        chat = await new_chat(http, queue="booking")
        cid = chat["contact_id"]
        await accept_by_keyboard(page, cid)
        await expect(page.locator(f"#tab-{cid}")).to_contain_text("Bookings and changes")
        moved = await http.post(
            f"/api/v1/contacts/{cid}/transfer", json={"queue": "general"}, headers=other
        )
        assert moved.status == 200, await moved.text()
        # Nobody else takes it within 5 s: it comes back to ana, now in general.
        await accept_by_keyboard(page, cid)
        await expect(page.locator("#tabs [role=tab]")).to_have_count(1)
        await expect(page.locator(f"#tab-{cid}")).to_contain_text("Anything else")
        await expect(page.locator(f"#panel-{cid}")).to_contain_text("Topic: Anything else")
        await expect(page.locator(f"#reply-{cid}")).to_be_focused()
        await http.post(
            f"/api/v1/contacts/{cid}/abandon",
            headers={"X-Customer-Token": chat["customer_token"]},
        )
        form = page.locator(f"#panel-{cid} form.wrap-up")
        await expect(form).to_be_visible()
        codes = await form.locator("select.wrap-up-code option").all_inner_texts()
        assert codes[1:] == GENERAL_WORDS
        await form.locator("select.wrap-up-code").select_option("resolved")
        await form.locator(".save-wrap-up").click()
        await expect(page.locator("#tabs [role=tab]")).to_have_count(0)

        # Handed to bob from the other session: the chat leaves ana's desk.
        second = await new_chat(http, queue="general")
        await accept_by_keyboard(page, second["contact_id"])
        bob = await login(http, "bob", "bob-secret-1")
        await http.put("/api/v1/agents/bob/state", json={"state": "available"}, headers=bob)
        handed = await http.post(
            f"/api/v1/contacts/{second['contact_id']}/transfer",
            json={"agent": "bob"},
            headers=other,
        )
        assert handed.status == 200, await handed.text()
        await expect(page.locator("#tabs [role=tab]")).to_have_count(0, timeout=20_000)
    await context.close()


async def test_answers_older_than_an_offer_event_do_not_undo_it(
    node: Node, browser: Browser
) -> None:
    """The desk reads the ringing offers when its event stream opens, and hears back from
    "available"; an offer event that comes before those (older) answers keeps its card and
    the state it brought."""
    context = await browser.new_context()
    page = await context.new_page()
    answers_may_go, available = asyncio.Event(), asyncio.Event()
    held: list[str] = []

    async def hold_first_answer(route: Route) -> None:
        response = await route.fetch()
        if route.request.method == "PUT":
            available.set()  # the server has it; its answer waits
        key = f"{route.request.method} {route.request.url}"
        if key not in held:
            held.append(key)
            await asyncio.wait_for(answers_may_go.wait(), timeout=30)
        await route.fulfill(response=response)

    await page.route("**/api/v1/agents/ana/offers", hold_first_answer)
    await page.route("**/api/v1/agents/ana/state", hold_first_answer)
    await page.goto(f"http://127.0.0.1:{node.http_port}/agent")
    await page.fill("#agent-id", "ana")
    await page.fill("#password", "ana-secret-1")
    await page.click("#sign-in")
    await page.click("#go-available")
    await asyncio.wait_for(available.wait(), timeout=30)
    async with http_session(node) as http:
        chat = await new_chat(http, queue="booking")
    offer = page.locator(f".offer[data-contact='{chat['contact_id']}']")
    await expect(offer).to_be_visible(timeout=10_000)
    await expect(page.locator("#state")).to_have_attribute("data-state", "reserved")
    assert len(held) == 2, held

    answers_may_go.set()
    await page.wait_for_timeout(1000)  # the page reads the older answers
    assert await offer.is_visible()  # now, not after a later read
    assert await page.locator("#state").get_attribute("data-state") == "reserved"
    await accept_by_keyboard(page, chat["contact_id"])
    await context.close()
