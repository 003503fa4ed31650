"""In headless Chromium: the wallboard shows a queue's short abandons beside its abandons
("1 (100%) + 1 short"), on its card and in the per-region table, and says nothing of them
where there are none."""

from __future__ import annotations

import asyncio
import dataclasses

from playwright.async_api import BrowserContext, expect

from router.model import Channel, NewContact
from switchboard.common.clock import now_ms, utc_day_start_ms
from switchboard.node import Node
from tests.regions.test_wallboard import node  # noqa: F401 (fixture)
from tests.regions.test_wallboard_browser import browser  # noqa: F401 (fixture)
from tests.web.conftest import needs_chromium

pytestmark = needs_chromium
S = 1000


async def test_the_board_shows_short_abandons_apart(
    node: Node,  # noqa: F811
    browser: BrowserContext,  # noqa: F811
) -> None:
    router = node.router
    await router.define_queue(dataclasses.replace(router.queues["general"], short_abandon_s=5))
    now = now_ms()
    day = utc_day_start_ms(now)
    if now - day < 20 * S:  # the day's first seconds: the contacts must be today's, past
        await asyncio.sleep((day + 20 * S - now) / 1000)
        now = now_ms()
    t0 = max(day, now - 30 * S)
    for customer, left_after_s in (("c-misdial", 1), ("c-gave-up", 8)):
        new = NewContact(Channel.CHAT, "general", "en", customer_id=customer)
        contact = await router.create_contact(new, at_ms=t0)
        await router.abandon(contact.contact_id, "customer_left", at_ms=t0 + left_after_s * S)

    page = await browser.new_page()
    await page.goto(f"http://127.0.0.1:{node.http_port}/wallboard")
    await page.fill("#user", "sup")
    await page.fill("#password", "sup-secret-1")
    await page.click("#sign-in")
    card = page.locator("#queue-general")
    await expect(card).to_contain_text("abandoned today1 (100%) + 1 short", timeout=15_000)
    row = page.locator("#regions-table tr[data-region=default][data-queue=general]")
    await expect(row).to_contain_text("1 (100%) + 1 short")
    await expect(page.locator("#queue-booking")).not_to_contain_text("short")
