"""The wallboard's supervisor actions in Chromium: the agents of a queue with their
state, set one not ready, read a waiting chat, move it to another queue, end one nobody
will take, sign the agent out; each through the HTTP API, audited."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from router.model import Channel, NewContact, Presence
from switchboard.common.clock import now_ms
from switchboard.node import Node
from tests.nodes import http_session, login, new_chat
from tests.web.conftest import needs_chromium

pytestmark = needs_chromium


async def test_supervisor_steers_agents_and_contacts(node: Node, browser: Browser) -> None:
    async with http_session(node) as http:
        ana = await login(http, "ana", "ana-secret-1")
        await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)

        page = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
        await page.goto(f"http://127.0.0.1:{node.http_port}/wallboard")
        await page.fill("#user", "sup")
        await page.fill("#password", "sup-secret-1")
        await page.click("#sign-in")
        await page.select_option("#sv-queue", "booking")
        row = page.locator("#agents-table tr[data-agent=ana]")
        await expect(row.locator(".state")).to_have_text("available", timeout=15_000)
        await expect(row.locator(".since")).not_to_have_text("–")

        await page.select_option("#sv-reason", "meeting")
        await row.locator("button.not-ready").click()
        await expect(row.locator(".state")).to_have_text("not-ready (meeting)", timeout=15_000)

        # A chat waits (nobody is available); the supervisor reads it and moves it.
        chat = await new_chat(http, queue="booking")
        cid = chat["contact_id"]
        await http.post(
            f"/api/v1/contacts/{cid}/messages",
            json={"text": "I need to change my flight"},
            headers={"X-Customer-Token": chat["customer_token"]},
        )
        contact_row = page.locator(f"#contacts-table tr[data-contact='{cid}']")
        await expect(contact_row.locator(".state")).to_have_text("queued", timeout=15_000)
        await contact_row.locator("button.read").click()
        await expect(page.locator("#transcript-messages")).to_contain_text(
            "I need to change my flight"
        )
        await http.post(
            f"/api/v1/contacts/{cid}/messages",
            json={"text": "It is urgent"},
            headers={"X-Customer-Token": chat["customer_token"]},
        )
        await expect(page.locator("#transcript-messages")).to_contain_text("It is urgent")
        await contact_row.locator("select.move-to").select_option("general")
        await contact_row.locator("button.move").click()
        await expect(page.locator("#sv-message")).to_have_text("moved to general")
        assert (await node.router.get_contact(cid)).queue == "general"
        await expect(contact_row).to_have_count(0)

        # A chat nobody will take: ended, once the supervisor confirms.
        stuck = (await new_chat(http, queue="booking"))["contact_id"]
        stuck_row = page.locator(f"#contacts-table tr[data-contact='{stuck}']")
        await page.locator("#sv-queue").select_option("booking")  # the list read again
        page.once("dialog", lambda dialog: dialog.accept())
        await stuck_row.locator("button.end").click()
        await expect(page.locator("#sv-message")).to_have_text(f"ended {stuck[:8]}")
        ended = await node.router.get_contact(stuck)
        assert (ended.state.value, ended.reason) == ("failed", "ended_by_supervisor")

        await row.locator("button.log-out").click()
        await expect(row.locator(".state")).to_have_text("offline (logged out)", timeout=15_000)
        await page.context.close()

    audit = [(entry.actor, entry.action) for entry in await node.reports.audit_log()]
    for action in ("queue.contacts", "contact.transcript", "contact.move", "agent.log_out"):
        assert ("sup", action) in audit, action


async def test_supervisor_joins_a_call_from_the_contacts_list(node: Node, browser: Browser) -> None:
    """The Join and Leave buttons of a call in progress ask the API with the chosen mode
    and the supervisor's softphone; this node has no voice, so the API's refusal shows
    (the call itself is joined in tests/telephony/test_http_calls.py)."""
    await node.router.login("ana", sip_uri="sip:ana@127.0.0.1:9", channels={"voice": 1})
    await node.router.set_presence("ana", Presence.AVAILABLE)
    contact = await node.router.create_contact(
        NewContact(channel=Channel.VOICE, queue="booking", language="en")
    )
    assert contact.agent_id == "ana"
    await node.router.accept(contact.contact_id, "ana")
    await node.router.note_hold_started(contact.contact_id, now_ms())  # ana's Hold key

    page = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
    await page.goto(f"http://127.0.0.1:{node.http_port}/wallboard")
    await page.fill("#user", "sup")
    await page.fill("#password", "sup-secret-1")
    await page.click("#sign-in")
    await page.select_option("#sv-queue", "booking")
    row = page.locator(f"#contacts-table tr[data-contact='{contact.contact_id}']")
    await expect(row.locator(".state")).to_have_text("connected, on hold", timeout=15_000)
    await row.locator("button.join").click()
    await expect(page.locator("#sv-message")).to_have_text(
        "Enter your softphone's SIP address first"
    )
    await page.fill("#sv-phone", "sip:sup@127.0.0.1:9")
    await page.select_option("#sv-mode", "whisper")
    requests = []
    page.on("request", lambda request: requests.append((request.method, request.post_data)))
    await row.locator("button.join").click()
    await expect(page.locator("#sv-message")).to_have_text("voice is not running on this node")
    assert ("PUT", '{"mode":"whisper","phone":"sip:sup@127.0.0.1:9"}') in requests
    await row.locator("button.leave").click()
    await expect(page.locator("#sv-message")).to_have_text(
        f"sup is not on the call of contact {contact.contact_id}"
    )
    assert requests[-1][0] == "DELETE"
    await page.context.close()
    assert (await node.router.get_contact(contact.contact_id)).state.value == "connected"
