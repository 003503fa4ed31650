"""The customer's chat window, in Chromium, while nobody can take the chat (no agent of
the queue signed in and ready): it says the customer's place in line and no wait, in
the page's language, where it said "about 2 min" computed as if one agent served."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from switchboard.node import Node
from tests.web.conftest import needs_chromium

pytestmark = needs_chromium

# The page's catalogs' "You are number {position} in line." with the position 1, written
# in the viewer's digits as the wait and times are: Arabic-Indic for ar-EG, Latin for a
# plain `ar` (Intl's own choice for each).
PLACE_ONLY = {
    "en-US": "You are number 1 in line.",
    "es-ES": "Es el número 1 en la cola.",
    "ja-JP": "現在1番目です。",
    "ar": "ترتيبك 1 في الانتظار.",
    "ar-EG": "ترتيبك ١ في الانتظار.",
}


@pytest.mark.parametrize("locale", sorted(PLACE_ONLY))
async def test_a_chat_nobody_can_serve_shows_its_place_and_no_wait(
    node: Node, browser: Browser, locale: str
) -> None:
    context = await browser.new_context(
        locale=locale, extra_http_headers={"Accept-Language": locale}
    )
    page = await context.new_page()
    await page.goto(f"http://127.0.0.1:{node.http_port}/chat")
    await page.select_option("#queue", "booking")  # ana, its one agent, is signed out
    await page.fill("#first-message", "Hello?")
    await page.click("#start-chat")
    await expect(page.locator("#status")).to_have_text(PLACE_ONLY[locale], timeout=10_000)
    await context.close()
