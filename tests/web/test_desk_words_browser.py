"""The desk in words, in Chromium: queues read as the customer's page names them (the
operator's topic text in the desk's language, else the page catalogs' words), wrap-up
codes as words (the shipped ones translated, any other as its key reads), a customer's
language by one name everywhere, and "Available" refused for a code owed said in the
page's language, without the API's English or a contact id."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from i18n.pages import page_strings
from router.desk import DeskConfig, Dispositions
from router.model import Agent, Role
from switchboard.node import Node
from tests.nodes import http_session, new_chat, running_node
from tests.web.conftest import needs_chromium

pytestmark = needs_chromium

DESK = DeskConfig(
    dispositions={
        "general": Dispositions(("resolved", "callback_needed", "seat_upgrade_offered"), True)
    },
    topics={"baggage": {"ar": "أمتعة مفقودة أو متأخرة", "en": "Lost or late bags"}},
)
FINISH = "Finish the wrap-up first: choose a code and save the wrap-up."


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    """carla (English and Spanish) takes general chats, whose wrap-up needs a code."""
    async with running_node(
        redis_url,
        desk=DESK,
        users=[("carla", Role.AGENT, "carla-secret-1")],
        agents=[Agent("carla", "default", {"general": 3, "baggage": 3}, ["en", "es"])],
    ) as node:
        yield node


async def desk_in(browser: Browser, node: Node, locale: str, lang: str) -> Page:
    context = await browser.new_context(locale=locale, viewport={"width": 1280, "height": 860})
    page = await context.new_page()
    await page.goto(f"http://127.0.0.1:{node.http_port}/agent?lang={lang}")
    await page.fill("#agent-id", "carla")
    await page.fill("#password", "carla-secret-1")
    await page.click("#sign-in")
    await page.click("#go-available")
    await expect(page.locator("#state")).to_have_attribute("data-state", "available")
    return page


async def take_chat(page: Page, node: Node, language: str) -> str:
    async with http_session(node) as http:
        chat = await new_chat(http, queue="general", language=language)
    cid = str(chat["contact_id"])
    await page.locator(f".offer[data-contact='{cid}'] .accept").click(timeout=10_000)
    await expect(page.locator(f"#panel-{cid}")).to_have_count(1)
    return cid


async def test_an_arabic_desk_says_queues_and_codes_in_words(node: Node, browser: Browser) -> None:
    ar = page_strings("ar").strings
    page = await desk_in(browser, node, "ar-EG", "ar")
    cid = await take_chat(page, node, "en")
    panel = page.locator(f"#panel-{cid}")
    general = ar["Anything else"]

    await expect(page.locator(f"#tab-{cid} .tab-kind")).to_have_text(f"{ar['Chat']} · {general}")
    await expect(panel.locator(".facts .topic")).to_have_text(
        ar["Topic: {topic}"].format(topic=general)
    )
    await expect(page.locator("#customer td.queue")).to_have_text(general)
    select = panel.locator("form.transfer select")
    await select.focus()
    # The operator's text in the desk's language; the shipped queues' words otherwise.
    await expect(select.locator("option[value='queue:baggage']")).to_have_text(
        "أمتعة مفقودة أو متأخرة"
    )
    await expect(select.locator("option[value='queue:general']")).to_have_text(general)
    await expect(select.locator("option[value='queue:senior']")).to_have_text(ar["Senior agents"])

    await panel.locator("button.end-chat").click()
    code = panel.locator("select.wrap-up-code")
    await expect(code.locator("option")).to_have_text(
        [ar["Choose a code"], ar["Resolved"], ar["Callback needed"], "Seat upgrade offered"]
    )
    # Available while the code is owed: refused, in the page's words alone.
    await page.click("#go-available")
    await expect(page.locator("#notice")).to_have_text(ar[FINISH])
    assert cid not in await page.locator("#notice").inner_text()
    await code.select_option("callback_needed")
    await panel.locator("button.save-wrap-up").click()
    await expect(panel).to_have_count(0)
    await page.context.close()


async def test_a_customers_language_reads_the_same_everywhere(node: Node, browser: Browser) -> None:
    page = await desk_in(browser, node, "en-US", "en")
    async with http_session(node) as http:
        chat = await new_chat(http, queue="general", language="es-ES")
    cid = str(chat["contact_id"])
    card = page.locator(f".offer[data-contact='{cid}']")
    await expect(card.locator(".language")).to_have_text(re.compile(r"^Spanish\b"))
    await expect(card.locator("h3")).to_have_text("Incoming chat · Anything else")
    await card.locator(".accept").click()
    panel = page.locator(f"#panel-{cid}")
    await expect(panel.locator(".facts")).to_contain_text("Customer writes in Spanish (Spain)")
    await expect(page.locator(f"#tab-{cid} .tab-who")).to_have_text(
        re.compile(r"^Spanish \(Spain\), since ")
    )
    await expect(page.locator("#customer dd.language")).to_have_text("Spanish (Spain)")
    assert "European" not in await page.locator("body").inner_text()

    await panel.locator("button.end-chat").click()
    await expect(panel.locator("select.wrap-up-code option")).to_have_text(
        ["Choose a code", "Resolved", "Callback needed", "Seat upgrade offered"]
    )
    await page.context.close()
