"""The desktop's other paths in Chromium: an offer that rings out (RONA) stays on
screen and the agent is not ready; the customer typing shows; a reload keeps the
session and its conversations; a chat is transferred to a named colleague, who gets it
first; a call shows with its masked number, IVR choices and talk time, and still shows
that number after a reload; a customer's upset words flag their conversation."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Route, expect

from router.model import Agent, Channel, ContactState, NewContact, Presence, Role
from switchboard.common.clock import now_ms
from switchboard.node import Node
from switchboard.settings import load_settings
from tests.nodes import ROOT, http_session, login, new_chat, running_node
from tests.web.conftest import available_at_desk, needs_chromium, serious_violations

pytestmark = needs_chromium


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    queues = [
        dataclasses.replace(q, ring_s=2.0, wrap_up_s=0.0) if q.name == "booking" else q
        for q in load_settings(ROOT / "config" / "default.toml").queues
    ]
    async with running_node(
        redis_url,
        queues=queues,
        users=[("ana", Role.AGENT, "ana-secret-1"), ("bob", Role.AGENT, "bob-secret-1")],
        agents=[
            Agent("ana", "default", {"booking": 4}, ["en"]),
            Agent("bob", "default", {"booking": 4}, ["en"]),
        ],
    ) as node:
        yield node


async def test_rona_typing_and_transfer_to_a_colleague(node: Node, browser: Browser) -> None:
    page = await available_at_desk(browser, node)
    async with http_session(node) as http:
        chat = await new_chat(http, queue="booking")
        cid = chat["contact_id"]
        card = page.locator(f".offer[data-contact='{cid}']")
        await expect(card.locator(".ring-left")).to_contain_text("s left", timeout=10_000)
        # Nobody answers: the offer rings out and says so; Ana is not ready.
        await expect(card).to_contain_text("Missed offer", timeout=10_000)
        await expect(page.locator("#state")).to_have_text("Not ready")
        await expect(page.locator("#state-detail")).to_contain_text("no answer")
        await card.get_by_role("button", name="Dismiss").click()
        await expect(card).to_have_count(0)

        # It went back to the head of its queue, not to Ana again; the customer leaves.
        assert (await node.router.get_contact(cid)).state == ContactState.QUEUED
        await http.post(
            f"/api/v1/contacts/{cid}/abandon",
            headers={"X-Customer-Token": chat["customer_token"]},
        )

        await page.click("#go-available")
        await expect(page.locator("#state")).to_have_text("Available")
        chat = await new_chat(http, queue="booking")
        cid = chat["contact_id"]
        await page.locator(f".offer[data-contact='{cid}'] .accept").click(timeout=10_000)
        # The conversation is open on the desk before the customer types (a typing
        # signal for a conversation not yet open is not shown; the next one is).
        await expect(page.locator(f".conversation[data-contact='{cid}']")).to_have_count(1)
        window = await http.ws_connect(
            f"/api/v1/contacts/{cid}/events",
            headers={"X-Customer-Token": chat["customer_token"]},
        )
        await window.send_json({"type": "typing"})
        await expect(page.locator(".conversation .typing")).to_have_text("The customer is typing…")
        await window.close()

        # A reload keeps the session and the open conversation.
        await page.reload()
        await expect(page.locator(f".conversation[data-contact='{cid}']")).to_have_count(1)
        await expect(page.locator("#state")).to_have_text("Busy")

        bob = await login(http, "bob", "bob-secret-1")
        await http.put("/api/v1/agents/bob/state", json={"state": "not_ready"}, headers=bob)
        transfer = page.locator(".conversation form.transfer")
        await transfer.locator("select").focus()
        await expect(transfer.locator("option[value='agent:bob']")).to_have_count(1)
        await transfer.locator("select").select_option("agent:bob")
        await transfer.get_by_role("button", name="Transfer").click()
        await expect(page.locator(".conversation")).to_have_count(0)
        await http.put("/api/v1/agents/bob/state", json={"state": "available"}, headers=bob)
        for _ in range(50):  # bounded: the named colleague is offered it first
            contact = await node.router.get_contact(cid)
            if contact.state == ContactState.OFFERED:
                break
            await asyncio.sleep(0.1)
        assert (contact.state, contact.agent_id) == (ContactState.OFFERED, "bob")
    await page.context.close()


async def test_a_call_shows_on_the_desktop(node: Node, browser: Browser) -> None:
    page = await (await browser.new_context()).new_page()
    await page.goto(f"http://127.0.0.1:{node.http_port}/agent")
    await page.fill("#agent-id", "ana")
    await page.fill("#password", "ana-secret-1")
    await page.fill("#sip-uri", "sip:ana@127.0.0.1:5099")
    await page.check("#take-calls")
    await page.click("#sign-in")
    await page.click("#go-available")
    await expect(page.locator("#state")).to_have_text("Available")
    call = await node.router.create_contact(
        NewContact(Channel.VOICE, "booking", "en", customer_id="+34600123456", verified=True)
    )
    card = page.locator(f".offer[data-contact='{call.contact_id}']")
    await expect(card).to_contain_text("Incoming call", timeout=10_000)
    await expect(card).to_contain_text("Answer on your softphone.")
    await expect(card).not_to_contain_text("600123456")  # the number is masked
    await node.router.accept(call.contact_id, "ana")  # what answering on the softphone does
    panel = page.locator(f".conversation.voice[data-contact='{call.contact_id}']")
    await expect(panel.locator(".caller")).to_contain_text("56")
    await expect(panel.locator(".caller")).not_to_contain_text("600123")
    # A reload: no offer to take the number from; the contact gives it, masked too.
    await page.reload()
    await expect(panel.locator(".caller")).to_have_text("••••••••••56", timeout=10_000)
    await expect(panel).to_contain_text("English")
    await expect(panel.locator(".talk-time")).not_to_have_text("0:00", timeout=5_000)
    await expect(page.locator(f"#customer tr[data-contact='{call.contact_id}']")).to_have_count(1)
    # The softphone's Hold key (what telephony tells the router), then its resume.
    on_hold, hold = panel.locator(".on-hold"), panel.locator("button.hold")
    await expect(on_hold).to_be_hidden()
    await expect(hold).to_have_text("Put on hold")
    await node.router.note_hold_started(call.contact_id, now_ms() - 65_000)
    await expect(on_hold).to_contain_text("On hold for 1:0")
    await expect(hold).to_have_text("Take off hold")
    await node.router.note_hold(call.contact_id, {"at_ms": now_ms(), "held_ms": 1, "agent": "ana"})
    await expect(on_hold).to_be_hidden()
    await expect(hold).to_have_text("Put on hold")
    # Recording and a consulted transfer ask the API (this node has no voice, so its
    # refusal shows; tests/telephony/test_http_calls.py does them on a real call).
    sent: list[tuple[str, str, str | None]] = []
    page.on("request", lambda r: sent.append((r.method, r.url, r.post_data)))
    await panel.locator("button.record").click()
    await expect(panel).to_contain_text("voice is not running on this node")
    await hold.click()  # the desktop's own hold asks the API
    await expect(panel.locator(".hold-error")).to_have_text("voice is not running on this node")
    asked = {(method, url.split(str(node.http_port), 1)[1]) for method, url, _ in sent}
    assert ("POST", f"/api/v1/contacts/{call.contact_id}/recording") in asked
    assert ("PUT", f"/api/v1/contacts/{call.contact_id}/hold") in asked
    transfer = panel.locator("form.transfer")
    await transfer.locator("select").focus()
    await expect(transfer.locator("option[value='agent:bob']")).to_have_count(1)
    await transfer.locator("select").select_option("agent:bob")
    await transfer.locator("input.consult").check()
    await transfer.get_by_role("button", name="Transfer").click()
    await expect(panel.locator(".transfer-control .error")).to_have_text(
        "voice is not running on this node"
    )
    assert sent[-1][2] == '{"agent":"bob","warm":true}'
    # An outside number: typed once chosen; a number that is not one is refused by the
    # API with the field named, a good one reaches the call (refused here: no voice).
    await transfer.locator("input.consult").uncheck()
    number = transfer.locator("input.transfer-number")
    await expect(number).to_be_hidden()
    await transfer.locator("select").select_option("number:")
    await transfer.get_by_role("button", name="Transfer").click()
    await expect(panel.locator(".transfer-control .error")).to_have_text(
        "Type the outside number first."
    )
    await number.fill("call me maybe")
    await transfer.get_by_role("button", name="Transfer").click()
    await expect(panel.locator(".transfer-control .error")).to_contain_text("number")
    await number.fill("+44 20 7946 0000")
    await transfer.get_by_role("button", name="Transfer").click()
    await expect(panel.locator(".transfer-control .error")).to_have_text(
        "voice is not running on this node"
    )
    assert sent[-1][2] == '{"number":"+442079460000"}'
    assert (await node.router.get_contact(call.contact_id)).agent_id == "ana"
    await node.router.complete(call.contact_id, "ana")
    await expect(panel).to_contain_text("The call has ended.")
    await expect(panel.locator("form.wrap-up")).to_be_visible()
    await panel.locator("button.save-wrap-up").click()
    await expect(panel).to_have_count(0)
    await page.context.close()


async def test_an_upset_customer_flags_the_conversation(node: Node, browser: Browser) -> None:
    page = await available_at_desk(browser, node)
    async with http_session(node) as http:
        chat = await new_chat(http, queue="booking")
        cid = chat["contact_id"]
        await page.locator(f".offer[data-contact='{cid}'] .accept").click(timeout=10_000)
        conversation = page.locator(f".conversation[data-contact='{cid}']")
        tab = page.locator(f"#tab-{cid}")
        await expect(conversation).to_have_count(1)
        await expect(tab.locator(".flag")).to_have_count(0)
        await expect(conversation.locator(".flag-note")).to_have_count(0)
        sent = await http.post(
            f"/api/v1/contacts/{cid}/messages",
            json={"text": "This is unacceptable!"},
            headers={"X-Customer-Token": chat["customer_token"]},
        )
        assert sent.status == 201
        # The contact_flagged event: the tab and the conversation say so, with the words.
        await expect(tab.locator(".flag")).to_have_text("⚑ Flagged", timeout=10_000)
        note = conversation.locator(".flag-note")
        await expect(note).to_have_text("Flagged: the customer seems upset (unacceptable).")
        assert await serious_violations(page) == []
        # A reload keeps the flag: the triggers kept on the contact.
        await page.reload()
        await expect(note).to_have_text(
            "Flagged: the customer seems upset (unacceptable).", timeout=10_000
        )
        await expect(tab.locator(".flag")).to_have_count(1)
    await page.context.close()


async def test_an_offer_ringing_through_a_reload_is_shown_again(
    calls_node: Node, browser: Browser
) -> None:
    """The offer event went to the page that reloaded: the new page asks what rings and
    shows its card, with the ring time left, and it can be accepted."""
    node = calls_node
    page = await available_at_desk(browser, node)
    async with http_session(node) as http:
        chat = await new_chat(http, queue="booking")
        card = page.locator(f".offer[data-contact='{chat['contact_id']}']")
        await expect(card).to_have_count(1, timeout=10_000)
        await page.reload()
        await expect(card.locator(".ring-left")).to_contain_text("s left", timeout=10_000)
        await card.locator(".accept").click()
        await expect(
            page.locator(f".conversation[data-contact='{chat['contact_id']}']")
        ).to_have_count(1)
    assert (await node.router.get_contact(chat["contact_id"])).state == ContactState.CONNECTED
    await page.context.close()


async def test_a_chat_given_back_when_set_offline_leaves_the_desk(
    calls_node: Node, browser: Browser
) -> None:
    """Set offline while signed in (a supervisor's hand), Ana's chat goes back to its
    queue: its tab goes too, instead of staying open to a customer who is not hers."""
    node = calls_node
    page = await available_at_desk(browser, node)
    async with http_session(node) as http:
        chat = await new_chat(http, queue="booking")
        await page.locator(f".offer[data-contact='{chat['contact_id']}'] .accept").click()
        tab = page.locator(f".conversation[data-contact='{chat['contact_id']}']")
        await expect(tab).to_have_count(1)
        await node.router.set_presence("ana", Presence.OFFLINE, "set by sup")
        await expect(tab).to_have_count(0)
        await expect(page.locator("#state")).to_have_text("Offline")
    assert (await node.router.get_contact(chat["contact_id"])).state == ContactState.QUEUED
    await page.context.close()


async def test_a_read_of_the_desks_contacts_older_than_the_give_back_does_not_reopen_it(
    calls_node: Node, browser: Browser
) -> None:
    """The desk reads what Ana holds after each of her events; an answer asked before her
    chat went back to its queue but read after it does not bring its tab back."""
    node = calls_node
    page = await available_at_desk(browser, node)
    holding, asked, may_go = False, asyncio.Event(), asyncio.Event()

    async def hold_one_answer(route: Route) -> None:
        response = await route.fetch()
        if holding and not asked.is_set():
            asked.set()  # its answer still holds the chat
            await asyncio.wait_for(may_go.wait(), timeout=30)
        await route.fulfill(response=response)

    await page.route("**/api/v1/agents/ana/contacts", hold_one_answer)
    async with http_session(node) as http:
        chat = await new_chat(http, queue="booking")
    await page.locator(f".offer[data-contact='{chat['contact_id']}'] .accept").click()
    tab = page.locator(f".conversation[data-contact='{chat['contact_id']}']")
    await expect(tab).to_have_count(1)
    holding = True
    await node.router.set_presence("ana", Presence.NOT_READY, "break")  # a state event: a read
    await asyncio.wait_for(asked.wait(), timeout=30)
    await node.router.set_presence("ana", Presence.OFFLINE, "set by sup")
    await expect(tab).to_have_count(0)
    may_go.set()
    await page.wait_for_timeout(1000)  # the page reads the older answer
    assert await tab.count() == 0  # now, not after the next read (every 10 s)
    assert (await node.router.get_contact(chat["contact_id"])).state == ContactState.QUEUED
    await page.context.close()
