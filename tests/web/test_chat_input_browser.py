"""What the customer's chat window refuses before it sends, in Chromium, and how it says
so: a message of invisible or blank characters alone (zero-width, direction marks, the
byte order mark, the Braille blank, the Hangul fillers: the list the API refuses,
switchboard/common/readable.BLANK) or with a control character is refused on the page, in its own
language, before any chat is started, the typed text kept; the limit of 4000 counts
characters as the API does (an emoji is one); a refusal from the API while sending is
said in the page's language, its English text going to the console only."""

from __future__ import annotations

import json
import re

from playwright.async_api import Browser, Page, Route, expect

from switchboard.common.readable import BLANK
from switchboard.node import Node
from tests.nodes import http_session, new_chat
from tests.web.conftest import needs_chromium

pytestmark = needs_chromium

# The page catalogs' words for a message with nothing to read and one with a control
# character, on a Japanese page.
NOTHING_JA = (
    "メッセージに読める文字がありません（空白または見えない文字のみです）。文章を入力してください。"
)
CONTROL_JA = "メッセージに送信できない文字（制御文字）が含まれています。削除してください。"
NOT_SENT_ES = "No se ha podido enviar su mensaje. Revíselo y vuelva a intentarlo."
NOTHING_ES = (
    "Su mensaje no tiene nada que leer: solo caracteres en blanco o invisibles. Escriba un texto."
)

INVISIBLE = [
    "\u200b\u200e",  # zero-width space, left-to-right mark
    "\ufeff\u200f\u2060",  # byte order mark, right-to-left mark, word joiner
    "\u2800",  # Braille blank
    "\u3164",  # Hangul filler
    "\u115f\u1160\uffa0",  # the other Hangul fillers
    " \u3000\u00a0\u2800 ",
]


async def chat_page(browser: Browser, node: Node, locale: str) -> Page:
    context = await browser.new_context(
        locale=locale, timezone_id="UTC", extra_http_headers={"Accept-Language": locale}
    )
    page = await context.new_page()
    await page.goto(f"http://127.0.0.1:{node.http_port}/chat")
    await expect(page.locator("#start")).to_be_visible()
    return page


def chats_started(page: Page) -> list[str]:
    """The page's requests that start a chat, as it makes them."""
    started: list[str] = []
    page.on(
        "request",
        lambda request: (
            started.append(request.url)
            if request.method == "POST" and request.url.endswith("/api/v1/contacts")
            else None
        ),
    )
    return started


async def refused_at_start(page: Page, text: str, said: str) -> None:
    """Start with `text`: refused on the page with `said`, the text still there."""
    await page.fill("#first-message", text)
    await page.click("#start-chat")
    await expect(page.locator("#start-error")).to_have_text(said)
    assert await page.input_value("#first-message") == text
    assert await page.locator("#conversation").is_hidden()


async def test_invisible_or_control_text_is_refused_before_the_chat_starts(
    node: Node, browser: Browser
) -> None:
    page = await chat_page(browser, node, "ja-JP")
    started = chats_started(page)
    await page.select_option("#queue", "booking")
    every_blank = "".join(sorted(BLANK)) + "\u200b"  # all the API refuses, at once
    for text in [*INVISIBLE, every_blank]:
        await refused_at_start(page, text, NOTHING_JA)
    await refused_at_start(page, "こんにちは\u0007", CONTROL_JA)
    await refused_at_start(page, "a\u0000b", CONTROL_JA)
    # A lone surrogate (no character at all), as a script may leave in the box.
    await page.evaluate("document.getElementById('first-message').value = 'a\\ud800'")
    await page.click("#start-chat")
    await expect(page.locator("#start-error")).to_have_text(CONTROL_JA)

    assert started == []
    assert await node.store.waiting("booking") == []
    assert await page.evaluate("localStorage.getItem('switchboard-chat:')") is None

    # Something to read beside the blanks starts the chat, kept as written.
    await page.fill("#first-message", "\u3164予約について")
    await page.click("#start-chat")
    await expect(page.locator("#messages li.mine .text")).to_have_text("\u3164予約について")
    assert len(started) == 1
    await page.context.close()


async def test_the_limit_counts_characters_as_the_api_does(node: Node, browser: Browser) -> None:
    """2100 emoji are 2100 characters (4200 UTF-16 units): taken; 4001 are too many,
    and counted as 4001."""
    page = await chat_page(browser, node, "en-US")
    started = chats_started(page)
    await page.select_option("#queue", "booking")
    await refused_at_start(
        page,
        "😀" * 4001,
        "Your message is too long: 4,001 characters, at most 4,000. Please shorten it.",
    )
    assert started == []
    await page.fill("#first-message", "😀" * 2100)
    await page.click("#start-chat")
    await expect(page.locator("#messages li.mine .text")).to_have_text("😀" * 2100)
    saved = await page.evaluate("JSON.parse(localStorage.getItem('switchboard-chat:'))")
    async with http_session(node) as http:
        listed = await http.get(
            f"/api/v1/contacts/{saved['contact_id']}/messages",
            headers={"X-Customer-Token": saved["customer_token"]},
        )
        assert [m["text"] for m in (await listed.json())["messages"]] == ["😀" * 2100]
    await expect(page.locator("#start-error")).to_have_text("")
    await page.context.close()


async def test_a_refusal_while_sending_is_said_in_the_pages_language(
    node: Node, browser: Browser
) -> None:
    page = await chat_page(browser, node, "es-ES")
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    await page.select_option("#queue", "booking")
    await page.fill("#first-message", "Hola")
    await page.click("#start-chat")
    await expect(page.locator("#messages li.mine")).to_have_count(1)

    # From the composer: refused on the page, nothing sent.
    for text in ("\u200b\u200e", "\u2800"):
        await page.fill("#message", text)
        await page.click("#send")
        await expect(page.locator("#send-error")).to_have_text(NOTHING_ES)
        assert await page.input_value("#message") == text

    # The API refuses what the page let through: its words reach the console, not the page.
    raw = "$.text: expected 1 to 4000 characters, something to read"

    async def refuse(route: Route) -> None:
        if route.request.method != "POST":
            await route.continue_()
            return
        body = {"error": "bad_request", "field": "$.text", "message": raw}
        await route.fulfill(status=400, content_type="application/json", body=json.dumps(body))

    await page.route("**/messages", refuse)
    await page.fill("#message", "Mi maleta")
    await page.click("#send")
    await expect(page.locator("#send-error")).to_have_text(NOT_SENT_ES)
    assert await page.input_value("#message") == "Mi maleta"
    assert any(raw in line for line in console), console
    await page.unroute("**/messages")
    await expect(page.locator("#messages li.mine")).to_have_count(1)
    await page.context.close()


async def test_the_place_in_line_is_in_the_pages_digits_beside_the_wait(
    node: Node, browser: Browser
) -> None:
    """ana (one chat at a time) is busy: an ar-EG customer waits behind nobody, told the
    place and the wait, both in Arabic-Indic digits."""
    async with http_session(node) as http:
        signed = await http.post(
            "/api/v1/agents/login",
            json={"agent_id": "ana", "password": "ana-secret-1", "channels": {"chat": 1}},
        )
        ana = {"Authorization": f"Bearer {(await signed.json())['token']}"}
        await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
        first = await new_chat(http)
        taken = await http.post(f"/api/v1/contacts/{first['contact_id']}/accept", headers=ana)
        assert taken.status == 200, await taken.text()
        page = await chat_page(browser, node, "ar-EG")
        await page.select_option("#queue", "booking")
        await page.fill("#first-message", "مرحبا")
        await page.click("#start-chat")
        # (between two pushes of the place, a refresh says "waiting" alone for a moment)
        place_and_wait = re.compile(
            r"^ترتيبك ١ في الانتظار\. الانتظار المتوقع: (?:نحو [٠-٩]+ دقيقة|أقل من دقيقة)\.$"
        )
        await expect(page.locator("#status")).to_have_text(place_and_wait, timeout=15_000)
        await page.context.close()
