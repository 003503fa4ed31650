"""Numbers on the agent's desk in the viewer's digits, in Chromium: an Arabic desk writes
the offer card's ring countdown and count of agents, the header's load and the 360°
panel's count of contacts in Arabic-Indic digits, as it writes times; and one agent who
fit reads right in English ("the only agent", never "among 1 agents")."""

from __future__ import annotations

import re

from playwright.async_api import Browser, Page, expect

from i18n.pages import page_strings
from switchboard.node import Node
from tests.nodes import http_session, new_chat
from tests.web.conftest import needs_chromium

pytestmark = needs_chromium

LATIN = re.compile(r"[0-9]")
ARABIC = re.compile(r"[٠-٩]")
EXPLAIN = """async ([line, counts]) => {
  const { explain } = await import('/pages/desk-explain.js');
  return counts.map((n) => explain(line.replace('{n}', n)));
}"""
LINE = (
    "contact routed: step=exact strategy={strategy} languages=en regions=default "
    "min_proficiency=1 -> ana among {n} candidates [ana]"
)
STRATEGIES = ("longest_idle", "most_skilled", "round_robin", "least_occupied")


async def desk_in(browser: Browser, node: Node, locale: str, lang: str) -> Page:
    """ana's desk in a browser of `locale`, the page in `lang`: signed in and available."""
    context = await browser.new_context(
        locale=locale, timezone_id="UTC", viewport={"width": 1280, "height": 860}
    )
    page = await context.new_page()
    await page.goto(f"http://127.0.0.1:{node.http_port}/agent?lang={lang}")
    await page.fill("#agent-id", "ana")
    await page.fill("#password", "ana-secret-1")
    await page.click("#sign-in")
    await page.click("#go-available")
    await expect(page.locator("#state")).to_have_attribute("data-state", "available")
    return page


async def test_an_arabic_desk_writes_its_numbers_in_arabic_digits(
    calls_node: Node, browser: Browser
) -> None:
    """ana (ar-EG) is offered a chat: the ring countdown and the card's wait in Arabic
    digits, no Latin digit on the card; taken, the header says how many chats and calls
    she holds and the 360° panel how many contacts, both in Arabic digits."""
    node = calls_node
    page = await desk_in(browser, node, "ar-EG", "ar")
    async with http_session(node) as http:
        await new_chat(http, queue="booking", language="en")
    card = page.locator(".offer")
    await expect(card.locator(".ring-left")).to_have_text(re.compile(r"[٠-٩]"), timeout=10_000)
    text = await card.inner_text()
    assert not LATIN.search(text.replace("booking", "")), text
    await card.locator(".accept").click()
    detail = page.locator("#state-detail")
    await expect(page.locator("#state")).to_have_attribute("data-state", "busy")
    await expect(detail).to_have_text(
        page_strings("ar").strings["chats: {chats}, calls: {calls}"].format(chats="١", calls="٠")
    )
    heading = page.locator("#customer h3")
    await expect(heading).to_have_text(
        page_strings("ar").strings["Contacts ({count})"].format(count="١")
    )
    # "Why you": the count of agents who fit, for each strategy.
    said = await page.evaluate(EXPLAIN, [LINE.replace("{strategy}", "round_robin"), [12]])
    assert ARABIC.search(said[0]) and "١٢" in said[0] and not LATIN.search(said[0]), said
    lower = LINE.replace("step=exact", "step=proficiency").replace(
        "min_proficiency=1", "min_proficiency=3"
    )
    said = await page.evaluate(EXPLAIN, [lower.replace("{strategy}", "most_skilled"), [2]])
    assert "٣" in said[0] and "٢" in said[0] and not LATIN.search(said[0]), said
    await page.context.close()


async def test_one_agent_who_fit_reads_right_in_english(calls_node: Node, browser: Browser) -> None:
    """Whatever the strategy, one candidate is "the only agent who fit"; more are counted
    in the viewer's digits (1,234 in English)."""
    page = await desk_in(browser, calls_node, "en-US", "en")
    for strategy in STRATEGIES:
        one, many = await page.evaluate(EXPLAIN, [LINE.replace("{strategy}", strategy), [1, 1234]])
        assert "1 agents" not in one and one.endswith("You were the only agent who fit."), one
        assert "1,234 agents who fit." in many, many
    await page.context.close()
