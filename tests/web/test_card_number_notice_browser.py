"""A card number typed into the chat, in Chromium: the router masks it (router/redaction.py)
and both pages say so under the message, in their own language. The customer reads, on
their own message, why the number is hidden and not to send card details; the agent reads
"Card number hidden (PCI)" on any message that had one, their own too, and takes the
payment another way. The notice is part of the message's list item, read with it by the
log, never a live line of its own; the number as typed is nowhere in either page."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from router.model import Agent, Role
from switchboard.node import Node
from tests.nodes import running_node
from tests.web.conftest import needs_chromium, serious_violations, sign_in_available
from tests.web.test_live_regions_browser import RECORDER, said

pytestmark = needs_chromium

CARD = "4111 1111 1111 1111"
AGENT_CARD = "4242-4242-4242-4242"
CUSTOMER_NOTE = (
    "Por su seguridad, hemos ocultado el número de la tarjeta. "
    "No envíe datos de tarjetas por el chat."
)
DESK_NOTE = "Card number hidden (PCI)"


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    """ana takes booking chats in Spanish and English: a Spanish chat reaches her as it is."""
    async with running_node(
        redis_url,
        users=[("ana", Role.AGENT, "ana-secret-1")],
        agents=[Agent("ana", "default", {"booking": 4}, ["es", "en"])],
    ) as node:
        yield node


async def recorded_page(browser: Browser, locale: str) -> Page:
    """A page of its own browser context in `locale`, its live regions recorded."""
    context = await browser.new_context(
        locale=locale, extra_http_headers={"Accept-Language": locale}
    )
    await context.add_init_script(RECORDER)
    return await context.new_page()


async def nowhere(page: Page, *numbers: str) -> None:
    """None of `numbers` (with or without their separators) is in the page's DOM, its
    fields' values or what its live regions were handed."""
    dom = await page.evaluate(
        """() => [document.documentElement.outerHTML,
                  ...[...document.querySelectorAll('input, textarea')].map((f) => f.value)]
                 .join('\\n')"""
    )
    live = " ".join(entry["text"] for entry in await said(page))
    for number in numbers:
        for form in (number, number.replace(" ", "").replace("-", "")):
            assert form not in dom, form
            assert form not in live, form


async def test_both_pages_say_the_card_number_was_hidden(node: Node, browser: Browser) -> None:
    desk = await recorded_page(browser, "en-US")
    await sign_in_available(desk, node)
    customer = await recorded_page(browser, "es-ES")
    await customer.goto(f"http://127.0.0.1:{node.http_port}/chat")
    await customer.select_option("#queue", "booking")
    await customer.fill("#first-message", "Hola, quiero pagar el cambio de mi vuelo.")
    await customer.click("#start-chat")
    await expect(customer.locator("#messages li.mine")).to_have_count(1)
    await desk.locator(".offer .accept").click()
    panel = desk.locator(".conversation:not([hidden])")
    await expect(panel.locator(".messages li.theirs")).to_have_count(1)

    await customer.fill("#message", f"my card is {CARD}")
    await customer.click("#send")
    mine = customer.locator("#messages li.mine").nth(1)
    await expect(mine.locator(".text")).to_have_text("my card is •••• •••• •••• 1111")
    await expect(mine.locator(".redacted-note")).to_have_text(CUSTOMER_NOTE)
    await expect(customer.locator("#messages .redacted-note")).to_have_count(1)
    theirs = panel.locator(".messages li.theirs").nth(1)
    await expect(theirs.locator(".text")).to_have_text("my card is •••• •••• •••• 1111")
    await expect(theirs.locator(".redacted-note")).to_have_text(DESK_NOTE)
    await expect(panel.locator(".redacted-note")).to_have_count(1)

    # The agent's own message with a card number: the desk says it too; the customer's
    # page shows the mask without the customer's notice (it is not their number).
    await panel.locator("textarea.reply").fill(f"¿Es {AGENT_CARD}? Le envío un enlace de pago.")
    await panel.locator("button.send").click()
    masked = "¿Es •••• •••• •••• 4242? Le envío un enlace de pago."
    await expect(panel.locator(".messages li.mine .text")).to_have_text(masked)
    await expect(panel.locator(".messages li.mine .redacted-note")).to_have_text(DESK_NOTE)
    await expect(customer.locator("#messages li.theirs .text")).to_have_text(masked)
    await expect(customer.locator("#messages li.theirs .redacted-note")).to_have_count(0)

    # Read with its message (the log hands over the item, the notice in it), never as a
    # live line of its own.
    for page, region, note in (
        (customer, "messages-box", CUSTOMER_NOTE),
        (desk, "messages-box", DESK_NOTE),
    ):
        live = [entry for entry in await said(page) if note in entry["text"]]
        assert [entry["region"] for entry in live] == [region] * len(live), live
        assert live and all("•••• •••• ••••" in entry["text"] for entry in live), live
        assert await page.locator(".redacted-note[aria-live], .redacted-note[role]").count() == 0
        assert await serious_violations(page) == []
        await nowhere(page, CARD, AGENT_CARD)

    # From the stored transcript alike, after a reload of either page.
    await desk.reload()
    await expect(panel.locator(".redacted-note")).to_have_count(2)
    await customer.reload()
    await expect(customer.locator("#messages li.mine .redacted-note")).to_have_text(CUSTOMER_NOTE)
    await expect(customer.locator("#messages .redacted-note")).to_have_count(1)
    for page in (customer, desk):
        await nowhere(page, CARD, AGENT_CARD)
        await page.context.close()
