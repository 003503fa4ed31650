"""What a lost answer and a reload must not change, in Chromium, on the customer's window
and on the desk: a message sent again after its answer was lost is in the chat once, and
a reloaded page shows again what the other side has read and who joined the chat."""

from __future__ import annotations

import asyncio
from typing import Any

from playwright.async_api import Browser, Page, Route, expect

from switchboard.node import Node
from tests.web.conftest import available_at_desk, needs_chromium

pytestmark = needs_chromium


async def taken_chat(browser: Browser, node: Node, first: str) -> tuple[Page, Page, str]:
    """A customer's chat (its first message `first`) that ana took at her desk; the
    customer's page, ana's desk and the contact id."""
    desk = await available_at_desk(browser, node, viewport={"width": 1280, "height": 900})
    customer = await (await browser.new_context(locale="en-US")).new_page()
    await customer.goto(f"http://127.0.0.1:{node.http_port}/chat")
    await customer.select_option("#queue", "booking")
    await customer.fill("#first-message", first)
    await customer.click("#start-chat")
    accept = desk.locator(".offer .accept")
    await expect(accept).to_have_count(1, timeout=10_000)
    await accept.click()
    await expect(customer.locator("#status")).to_contain_text("ana", timeout=10_000)
    (contact_id,) = await node.router.store.live_contacts()
    return customer, desk, contact_id


async def lose_posted_answers(page: Page) -> None:
    """From now on a message posted reaches the server, but its answer is lost (as on a
    flaky mobile network)."""

    async def lose(route: Route) -> None:
        if route.request.method != "POST":
            await route.continue_()
            return
        await route.fetch()
        await route.abort()

    await page.route("**/messages", lose)


async def texts(node: Node, contact_id: str) -> list[str]:
    return [message.text for message in await node.contacts.chat.messages(contact_id)]


async def test_a_message_sent_again_after_a_lost_answer_is_in_the_chat_once(
    node: Node, browser: Browser
) -> None:
    customer, desk, contact_id = await taken_chat(browser, node, "Hello")
    panel = desk.locator(".conversation:not([hidden])")

    # The customer: the answer is lost, the page says so and keeps the text; Enter again.
    await lose_posted_answers(customer)
    await customer.fill("#message", "My reference is XYZ789")
    await customer.press("#message", "Enter")
    await expect(customer.locator("#send-error")).not_to_be_empty()
    assert await customer.input_value("#message") == "My reference is XYZ789"
    await customer.unroute("**/messages")
    await customer.press("#message", "Enter")
    await expect(customer.locator("#message")).to_have_value("")
    await expect(customer.locator("#send-error")).to_be_empty()

    # The agent alike.
    await lose_posted_answers(desk)
    await panel.locator("textarea.reply").fill("One moment, please.")
    await panel.locator("textarea.reply").press("Enter")
    await expect(panel.locator("form.composer p.error")).not_to_be_empty()
    await desk.unroute("**/messages")
    await panel.locator("button.send").click()
    await expect(panel.locator("textarea.reply")).to_have_value("")

    # A message written anew, with the same text, is a message of its own.
    await customer.fill("#message", "My reference is XYZ789")
    await customer.press("#message", "Enter")
    await expect(customer.locator("#message")).to_have_value("")

    expected = ["Hello", "My reference is XYZ789", "One moment, please.", "My reference is XYZ789"]
    await expect(customer.locator("#messages li:not(.notice) .text")).to_have_text(expected)
    await expect(panel.locator(".messages li:not(.notice) .text")).to_have_text(expected)
    assert await texts(node, contact_id) == expected


async def test_a_reload_shows_what_was_read_and_who_joined(node: Node, browser: Browser) -> None:
    customer, desk, contact_id = await taken_chat(browser, node, "Hello")
    panel = desk.locator(".conversation:not([hidden])")
    joined = customer.locator("#messages li.notice", has_text="ana joined the chat.")
    await expect(joined).to_have_count(1)
    # ana's desk shows the message: the customer sees it read.
    await expect(customer.locator("#messages li.mine .delivery")).to_have_text("Read")
    await panel.locator("textarea.reply").fill("Hi, how can I help?")
    await panel.locator("button.send").click()
    await expect(customer.locator("#messages li.theirs .text")).to_have_text("Hi, how can I help?")
    await expect(panel.locator(".messages li.mine .delivery")).to_have_text("Read")
    stored: dict[str, Any] = {}
    for _ in range(50):  # bounded: 5 s (kept as the receipts cross)
        stored = await node.contacts.chat.reads(contact_id)
        if all(stored.values()):
            break
        await asyncio.sleep(0.1)
    messages = await node.contacts.chat.messages(contact_id)
    assert stored == {"customer": messages[1].message_id, "agent": messages[0].message_id}

    await customer.reload()
    await expect(customer.locator("#messages li.mine .delivery")).to_have_text(
        "Read", timeout=10_000
    )
    await expect(joined).to_have_count(1)
    # In its place: after the customer's first message, before ana's answer.
    order = await customer.locator("#messages li").evaluate_all(
        "(items) => items.map((item) => item.className)"
    )
    assert order == ["mine", "notice", "theirs"], order

    await desk.reload()
    panel = desk.locator(".conversation:not([hidden])")
    await expect(panel.locator(".messages li.mine .delivery")).to_have_text("Read", timeout=10_000)
    await expect(panel.locator(".messages li.theirs .text")).to_have_text("Hello")
