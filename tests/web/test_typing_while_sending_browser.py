"""Text typed while the previous message is still on its way, in Chromium, on the
customer's window and on the desk: once the server has the message, only its text
leaves the box; what was typed meanwhile stays (and a send asked meanwhile sends it
next, once), never "write a message first" for a message that was sent. The network is
made slow by holding each posted message until the test lets it go."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser, Page, Route, expect

from switchboard.node import Node
from tests.web.conftest import available_at_desk, needs_chromium

pytestmark = needs_chromium


class HeldPosts:
    """Messages posted from a page wait until `release`: a slow network, without timing."""

    def __init__(self) -> None:
        self.arrived = asyncio.Event()
        self.released = asyncio.Event()

    async def handle(self, route: Route) -> None:
        if route.request.method != "POST":
            await route.continue_()
            return
        self.arrived.set()
        await self.released.wait()
        await route.continue_()

    async def hold(self, page: Page) -> None:
        await page.unroute("**/messages")
        self.arrived.clear()
        self.released.clear()
        await page.route("**/messages", self.handle)

    async def wait_for_one(self) -> None:
        await asyncio.wait_for(self.arrived.wait(), timeout=15)


async def taken_chat(browser: Browser, node: Node) -> tuple[Page, Page, str]:
    """A customer's booking chat ("Hello") that ana took: the customer's page, ana's desk
    and the contact id."""
    desk = await available_at_desk(browser, node, viewport={"width": 1280, "height": 900})
    customer = await (await browser.new_context(locale="en-US")).new_page()
    await customer.goto(f"http://127.0.0.1:{node.http_port}/chat?lang=en")
    await customer.select_option("#queue", "booking")
    await customer.fill("#first-message", "Hello")
    await customer.click("#start-chat")
    await desk.locator(".offer .accept").click(timeout=10_000)
    await expect(customer.locator("#status")).to_contain_text("ana", timeout=10_000)
    (contact_id,) = await node.router.store.live_contacts()
    return customer, desk, contact_id


async def test_the_customer_keeps_what_they_typed_while_a_message_was_sending(
    node: Node, browser: Browser
) -> None:
    customer, desk, contact_id = await taken_chat(browser, node)
    held = HeldPosts()
    await held.hold(customer)
    box = customer.locator("#message")

    # Enter, then more typed at once: the box still held the first text, the new words
    # follow it; once the first is sent, they alone stay.
    await box.click()
    await customer.keyboard.type("First message")
    await customer.keyboard.press("Enter")
    await held.wait_for_one()
    await customer.keyboard.type("Second message, typed while the first was sending")
    held.released.set()
    await expect(box).to_have_value("Second message, typed while the first was sending")
    await expect(customer.locator("#send-error")).to_be_empty()

    # A text put in place of the one on its way, sent as soon as Send can be pressed
    # again: it is sent, not refused as an empty message.
    await held.hold(customer)
    await customer.keyboard.press("Enter")
    await held.wait_for_one()
    await box.fill("Necesito la maleta hoy.")
    clicked = asyncio.create_task(customer.click("#send"))
    held.released.set()
    await clicked
    await expect(box).to_have_value("")
    await expect(customer.locator("#send-error")).to_be_empty()

    sent = ["Hello", "First message", "Second message, typed while the first was sending"]
    sent.append("Necesito la maleta hoy.")
    await expect(customer.locator("#messages li.mine .text")).to_have_text(sent)
    assert [m.text for m in await node.contacts.chat.messages(contact_id)] == sent
    await customer.context.close()
    await desk.context.close()


async def test_the_agent_keeps_what_they_typed_while_a_reply_was_sending(
    node: Node, browser: Browser
) -> None:
    customer, desk, contact_id = await taken_chat(browser, node)
    panel = desk.locator(".conversation:not([hidden])")
    box = panel.locator("textarea.reply")
    held = HeldPosts()
    await held.hold(desk)

    await box.click()
    await desk.keyboard.type("Thanks, let me check.")
    await desk.keyboard.press("Enter")
    await held.wait_for_one()
    await desk.keyboard.type("One moment please")
    held.released.set()
    await expect(box).to_have_value("One moment please")
    await expect(panel.locator("form.composer p.error")).to_be_empty()

    # Enter pressed again while a reply is on its way: the next goes after it, alone.
    await held.hold(desk)
    await desk.keyboard.press("Enter")
    await held.wait_for_one()
    await desk.keyboard.type(" and thank you")
    await desk.keyboard.press("Enter")
    held.released.set()
    await expect(box).to_have_value("")
    await expect(panel.locator("form.composer p.error")).to_be_empty()

    replies = ["Thanks, let me check.", "One moment please", "and thank you"]
    await expect(panel.locator(".messages li.mine .text")).to_have_text(replies)
    assert [m.text for m in await node.contacts.chat.messages(contact_id)] == ["Hello", *replies]
    await customer.context.close()
    await desk.context.close()
