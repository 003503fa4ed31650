"""Both chat pages for people of many languages, in Chromium: a chat without a translation
pair says so on each side (never "Translated into … for you" above the customer's own
words); each message is laid out in its own direction on a page of the other; times and
dates in the viewer's locale (en-GB, de-DE), not the catalog's bare language; a `?lang=`
the API does not know falls back to the browser's language, and the customer never reads
the API's own error text; the rating shows the keyboard's focus and takes it when the chat
ends. Translation by Apertium (Debian's es<->en, the only pair here: none has Japanese or
Hebrew)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, Page, Route, expect

from i18n.translation import Translator
from router.model import Agent, Role
from switchboard.node import Node
from switchboard.settings import load_settings
from tests.i18n.translators import APERTIUM_ONLY
from tests.nodes import ROOT, http_session, running_node
from tests.web.conftest import needs_chromium, screenshot

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def translator() -> Iterator[Translator]:
    translator = Translator(settings=APERTIUM_ONLY)
    yield translator
    translator.close()


@pytest.fixture
async def node(redis_url: str, translator: Translator) -> AsyncIterator[Node]:
    """Booking chats in any language reach Tom (English only) through the fallback
    language at once."""
    queues = [
        dataclasses.replace(q, relax_language_after_s=0.0, wrap_up_s=0.0)
        if q.name == "booking"
        else q
        for q in load_settings(ROOT / "config" / "default.toml").queues
    ]
    async with running_node(
        redis_url,
        translator=translator,
        queues=queues,
        users=[("tom", Role.AGENT, "tom-secret-1")],
        agents=[Agent("tom", "default", {"booking": 4}, ["en"])],
    ) as node:
        for _ in range(100):  # the pairs are published by a background task at start
            if {"es>en", "en>es"} <= await node.client.smembers(node.store.keys.translation_pairs):
                break
            await asyncio.sleep(0.05)
        yield node


async def tom_at_desk(browser: Browser, node: Node, locale: str = "en-US") -> Page:
    context = await browser.new_context(
        locale=locale, timezone_id="UTC", viewport={"width": 1280, "height": 860}
    )
    page = await context.new_page()
    await page.goto(f"http://127.0.0.1:{node.http_port}/agent")
    await page.fill("#agent-id", "tom")
    await page.fill("#password", "tom-secret-1")
    await page.click("#sign-in")
    await page.click("#go-available")
    await expect(page.locator("#state")).to_have_text("Available")
    return page


async def customer_page(browser: Browser, node: Node, locale: str, query: str = "") -> Page:
    """A customer's chat window in a browser of `locale` (its Accept-Language too)."""
    context = await browser.new_context(
        locale=locale,
        timezone_id="UTC",
        extra_http_headers={"Accept-Language": locale},
        viewport={"width": 375, "height": 667},
    )
    page = await context.new_page()
    await page.goto(f"http://127.0.0.1:{node.http_port}/chat{query}")
    await expect(page.locator("#start")).to_be_visible()
    return page


async def start_chat(page: Page, text: str) -> str:
    """Starts a booking chat with `text`; the contact id."""
    await page.select_option("#queue", "booking")
    await page.fill("#first-message", text)
    await page.click("#start-chat")
    await expect(page.locator("#messages li.mine")).to_contain_text(text)
    saved = await page.evaluate("JSON.parse(localStorage.getItem('switchboard-chat:'))")
    return str(saved["contact_id"])


async def accepted(desk: Page, contact_id: str) -> Locator:
    """Tom takes the offer of `contact_id`; its conversation panel."""
    await desk.locator(".offer .accept").click(timeout=10_000)
    await desk.locator(f"#tab-{contact_id}").click()
    panel = desk.locator(f".conversation[data-contact='{contact_id}']")
    await expect(panel.locator(".messages li.theirs")).to_have_count(1, timeout=10_000)
    return panel


async def tom_says(panel: Locator, text: str) -> None:
    await panel.locator("textarea.reply").fill(text)
    await panel.locator("button.send").click()


async def test_without_a_pair_each_side_is_told_its_messages_are_not_translated(
    node: Node, browser: Browser, tmp_path: Path
) -> None:
    """No engine has Japanese: Tom's header says so rather than "Translated into English
    for you", the customer's message is marked untranslated, and so is his answer, on his
    desk and, in Japanese, on the customer's page. A Spanish chat beside it (es<->en) is
    still said to be translated, and marks nothing."""
    desk = await tom_at_desk(browser, node)
    customer = await customer_page(browser, node, "ja-JP")
    cid = await start_chat(customer, "予約を変更したいです。便名はJL005です。")
    panel = await accepted(desk, cid)
    fact = panel.locator(".translated-for-you")
    await expect(fact).to_have_text("No translation from Japanese into English in this chat")
    theirs = panel.locator(".messages li.theirs")
    await expect(theirs.locator(".text")).to_have_text("予約を変更したいです。便名はJL005です。")
    await expect(theirs.locator(".untranslated")).to_have_text("Not translated from Japanese")
    await tom_says(panel, "Sure, what date would you like?")
    await expect(panel.locator(".messages li.mine .untranslated")).to_have_text(
        "Not translated into Japanese"
    )
    reply = customer.locator("#messages li.theirs")
    await expect(reply.locator(".text")).to_have_text("Sure, what date would you like?")
    await expect(reply.locator(".untranslated")).to_have_text("翻訳されていません（原文：英語）")
    await expect(customer.locator("#messages li.mine .untranslated")).to_have_count(0)
    await screenshot(customer, tmp_path, "i18n-no-pair-customer.png")
    await screenshot(desk, tmp_path, "i18n-no-pair-desk.png")
    # After a reload of the desk, the same from the stored messages.
    await desk.reload()
    await expect(fact).to_have_text("No translation from Japanese into English in this chat")
    await expect(theirs.locator(".untranslated")).to_have_text("Not translated from Japanese")

    spanish = await customer_page(browser, node, "es-ES")
    sid = await start_chat(spanish, "Mi maleta no ha llegado.")
    panel = await accepted(desk, sid)
    await expect(panel.locator(".translated-for-you")).to_have_text(
        "Translated into English for you"
    )
    await expect(panel.locator(".messages li.theirs .text")).to_have_text(
        "My case has not arrived."
    )
    await expect(panel.locator(".messages li.theirs .original")).to_have_attribute("dir", "auto")
    await tom_says(panel, "Your suitcase is in Madrid.")
    await expect(spanish.locator("#messages li.theirs .text")).to_contain_text(
        "Vuestra maleta", timeout=10_000
    )
    assert await panel.locator(".untranslated").count() == 0
    assert await spanish.locator(".untranslated").count() == 0
    for page in (customer, spanish, desk):
        await page.context.close()


async def directions(page: Page, selector: str) -> list[list[str]]:
    return list(
        await page.evaluate(
            """(selector) => [...document.querySelectorAll(selector)].map(
                 (e) => [e.textContent, getComputedStyle(e).direction])""",
            selector,
        )
    )


async def test_each_message_is_laid_out_in_its_own_direction(
    node: Node, browser: Browser, tmp_path: Path
) -> None:
    """A Hebrew page (rtl) shows Tom's English answer left to right, and the customer's
    Hebrew right to left; Tom's English desk shows the Hebrew message right to left."""
    hebrew = "שלום! הטיסה שלי LY001 בוטלה?"
    english = "Hello! Your flight LY001 departs at 14:30 (gate B12)."
    desk = await tom_at_desk(browser, node)
    customer = await customer_page(browser, node, "he-IL")
    await expect(customer.locator("html")).to_have_attribute("dir", "rtl")
    cid = await start_chat(customer, hebrew)
    panel = await accepted(desk, cid)
    await tom_says(panel, english)
    await expect(customer.locator("#messages li.theirs .text")).to_have_text(english)
    assert await directions(customer, "#messages li .text") == [
        [hebrew, "rtl"],
        [english, "ltr"],
    ]
    selector = f".conversation[data-contact='{cid}'] .messages li .text"
    assert await directions(desk, selector) == [[hebrew, "rtl"], [english, "ltr"]]
    # Its own alignment too: the English line starts at the bubble's left edge.
    starts = await customer.evaluate(
        """() => {
          const text = document.querySelector('#messages li.theirs .text');
          const range = document.createRange();
          range.selectNodeContents(text);
          return [range.getClientRects()[0].left - text.getBoundingClientRect().left,
                  getComputedStyle(text).textAlign];
        }"""
    )
    assert starts[0] < 2, starts
    await screenshot(customer, tmp_path, "i18n-bidi-customer.png")
    await screenshot(desk, tmp_path, "i18n-bidi-desk.png")
    await customer.context.close()
    await desk.context.close()


FORMATTED = """async () => {
  const i18n = await import('/pages/i18n.js');
  const at = Date.UTC(2026, 11, 6, 4, 49);
  return [i18n.shortDate(at), i18n.time(at), i18n.number(1234.5)];
}"""


async def test_times_and_dates_are_in_the_viewers_locale(node: Node, browser: Browser) -> None:
    """A British agent reads 6 December 2026 as 06/12/2026, not the catalog's `en`
    (12/6/26); a Swiss German customer, whose page's words are the German catalog's
    (`de`), reads 1'234.5 as Switzerland writes it, not Germany's 1.234,5, and 04:49, not
    4:49 AM, on the page's messages too."""
    desk = await tom_at_desk(browser, node, locale="en-GB")
    assert await desk.evaluate(FORMATTED) == ["06/12/2026, 04:49", "04:49", "1,234.5"]
    customer = await customer_page(browser, node, "de-CH")
    await expect(customer.locator("#start-chat")).to_have_text("Chat starten")
    assert await customer.evaluate(FORMATTED) == ["06.12.26, 04:49", "04:49", "1'234.5"]
    await start_chat(customer, "Guten Tag")
    meta = await customer.locator("#messages li.mine .meta").inner_text()
    assert "AM" not in meta and "PM" not in meta, meta
    await customer.context.close()
    # A Japanese page in an American browser writes as the page does.
    customer = await customer_page(browser, node, "en-US", "?lang=ja")
    assert (await customer.evaluate(FORMATTED))[1] == "4:49"
    await customer.context.close()
    await desk.context.close()


async def test_a_language_the_api_does_not_know_falls_back_to_the_browsers(
    node: Node, browser: Browser
) -> None:
    """`?lang=x-klingon` (no tag at all) or `?lang=tlh` (none babel knows): the page and
    the chat are in the browser's Spanish and the chat starts. A refused start says so in
    Spanish; the API's own words go to the console only."""
    for asked in ("x-klingon", "tlh"):
        customer = await customer_page(browser, node, "es-ES", f"?lang={asked}")
        await expect(customer.locator("html")).to_have_attribute("lang", "es")
        await expect(customer.locator("#start-chat")).to_have_text("Iniciar chat")
        await start_chat(customer, "Hola")
        await expect(customer.locator("#start-error")).to_have_text("")
        saved = await customer.evaluate("JSON.parse(localStorage.getItem('switchboard-chat:'))")
        assert saved["language"] == "es", saved
        await customer.click("#leave")
        await expect(customer.locator("#new-chat")).to_be_visible()
        await customer.context.close()

    customer = await customer_page(browser, node, "es-ES")
    warnings: list[str] = []
    customer.on("console", lambda message: warnings.append(message.text))
    raw = "$.channel: expected 'chat' or 'voice'"

    async def refuse(route: Route) -> None:
        body = {"error": "invalid", "field": "$.channel", "message": raw}
        await route.fulfill(status=400, content_type="application/json", body=json.dumps(body))

    await customer.route("**/api/v1/contacts", refuse)
    await customer.select_option("#queue", "booking")
    await customer.fill("#first-message", "Hola")
    await customer.click("#start-chat")
    error = customer.locator("#start-error")
    await expect(error).to_have_text(
        "Lo sentimos, no se ha podido iniciar el chat. Vuelva a intentarlo en un momento."
    )
    assert any("$.channel" in line for line in warnings), warnings
    await customer.context.close()


async def test_a_french_customer_reads_the_chat_page_in_french(
    node: Node, browser: Browser, tmp_path: Path
) -> None:
    """French has a customer catalog (the chat page's text; the desk stays in its six
    languages): a fr-FR browser reads /chat in French from the topic to the agent's
    answer, which reaches them in French (Apertium en->es->fr, a pivot through Spanish)."""
    desk = await tom_at_desk(browser, node)
    customer = await customer_page(browser, node, "fr-FR")
    await expect(customer.locator("html")).to_have_attribute("lang", "fr")
    await expect(customer.locator("h1")).to_have_text("Discutez avec nous")
    await expect(customer.locator("label[for=queue]")).to_have_text("De quoi s’agit-il ?")
    await expect(customer.locator("#queue option[value=booking]")).to_have_text(
        "Réservations et modifications"
    )
    await expect(customer.locator("#start-chat")).to_have_text("Démarrer le chat")
    cid = await start_chat(customer, "Bonjour, je voudrais changer la date de mon vol.")
    await expect(customer.locator("#messages li.mine .delivery")).to_have_text("Envoyé")
    panel = await accepted(desk, cid)
    await expect(customer.locator("#status")).to_have_text("Vous discutez avec tom.")
    await expect(customer.locator("#messages li.notice")).to_have_text("tom a rejoint le chat.")
    await tom_says(panel, "Of course, which date would you like?")
    reply = customer.locator("#messages li.theirs")
    await expect(reply.locator(".text")).to_have_attribute("lang", "fr")
    await expect(reply.locator(".text")).not_to_have_text("Of course, which date would you like?")
    await expect(reply.locator(".untranslated")).to_have_count(0)
    await screenshot(customer, tmp_path, "i18n-french-customer.png")
    await customer.context.close()
    await desk.context.close()


async def test_a_cantonese_browser_reads_traditional_chinese(node: Node, browser: Browser) -> None:
    """No pages catalog is Cantonese: a yue-HK browser reads Hong Kong's Traditional
    Chinese (zh's catalog converted), and its chat starts in Cantonese."""
    customer = await customer_page(browser, node, "yue-HK")
    await expect(customer.locator("html")).to_have_attribute("lang", "zh-HK")
    await expect(customer.locator("#start-chat")).to_have_text("開始聊天")
    cid = await start_chat(customer, "我想改機票日期")
    saved = await customer.evaluate("JSON.parse(localStorage.getItem('switchboard-chat:'))")
    async with http_session(node) as http:
        answer = await http.get(
            f"/api/v1/contacts/{cid}", headers={"X-Customer-Token": saved["customer_token"]}
        )
        contact = await answer.json()
    assert (contact["language"], contact["language_tag"]) == ("yue", "yue-HK"), contact
    await customer.context.close()


async def test_the_rating_takes_the_focus_and_shows_it(
    node: Node, browser: Browser, tmp_path: Path
) -> None:
    """When Tom ends the chat the composer goes: the focus moves to the first star (not
    to <body>), and the star whose hidden radio has the focus is outlined; the arrow keys
    move it and choose."""
    desk = await tom_at_desk(browser, node)
    customer = await customer_page(browser, node, "ja-JP")
    cid = await start_chat(customer, "荷物が届きません。")
    panel = await accepted(desk, cid)
    await customer.focus("#message")
    await panel.locator("button.end-chat").click()
    await expect(customer.locator("#rating")).to_be_visible(timeout=10_000)
    focused = customer.locator("#stars input[name=score]").first
    await expect(focused).to_be_focused()
    outline = """() => {
      const label = document.activeElement.closest('label');
      return label ? getComputedStyle(label).outlineStyle : null;
    }"""
    assert await customer.evaluate(outline) == "solid"
    await customer.keyboard.press("ArrowRight")
    await expect(customer.locator("#stars input[value='2']")).to_be_focused()
    await expect(customer.locator("#stars input[value='2']")).to_be_checked()
    assert await customer.evaluate(outline) == "solid"
    unfocused = await customer.evaluate(
        "getComputedStyle(document.querySelector('#stars label:first-child')).outlineStyle"
    )
    assert unfocused == "none"
    await screenshot(customer, tmp_path, "i18n-rating-focus.png")
    await customer.keyboard.press("Enter")
    await expect(customer.locator("#thanks")).to_be_visible()
    # The form with the focus went: the thanks takes it, and is read there.
    await expect(customer.locator("#thanks")).to_be_focused()
    await customer.context.close()
    await desk.context.close()
