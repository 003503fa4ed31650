"""The customer chat window when its first question, `GET /api/v1/chat/options`, fails,
in Chromium: the page is still in the customer's language and direction (`?lang=`, else
the browser's), an unknown site is said to have no chat, and a passing failure (a 503,
a 429, no network) is tried again a few times with back-off, then said to last. A
correctly signed identity whose claim is refused (`$.identity.sub`, `.region`, `.exp`)
gets the identity message, not "try again in a moment"."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, Route, expect

from i18n.pages import page_strings
from router.desk import ChatSite, DeskConfig
from router.identity import sign
from switchboard.node import Node
from tests.nodes import running_node
from tests.web.conftest import needs_chromium

pytestmark = needs_chromium

SITE = ChatSite("airline", ("https://www.airline.example",), "a-site-secret")
NO_SITE = "Sorry, chat is not available on this site."
RETRYING = "Chat is not available at the moment. Trying again…"
GAVE_UP = "Chat is not available at the moment. Please try again later."
IDENTITY = (
    "We could not confirm who you are. Please sign in again on the site, then start the chat."
)
OPTIONS = "**/api/v1/chat/options*"
ATTEMPTS = 5  # the first request and four more, 1, 2, 4 and 8 s apart (about)


def said(language: str, message: str) -> str:
    """`message` as the page of `language` writes it; never the English for another."""
    text = page_strings(language).strings.get(message, message)
    assert language == "en" or text != message, f"{message!r} is not translated into {language}"
    return text


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    async with running_node(redis_url, desk=DeskConfig(sites=(SITE,))) as node:
        yield node


async def in_browser(browser: Browser, locale: str) -> Page:
    """A page of a browser in `locale` (its Accept-Language too), not opened yet."""
    context = await browser.new_context(
        locale=locale, extra_http_headers={"Accept-Language": locale}
    )
    return await context.new_page()


async def counting(page: Page, answer: str, times: int | None = None) -> list[float]:
    """Each options request is answered `answer` ("503", "429", "abort"), the first
    `times` (all when None), the later ones by the node; when each came (monotonic s)."""
    seen: list[float] = []

    async def handle(route: Route) -> None:
        seen.append(time.monotonic())
        if times is not None and len(seen) > times:
            await route.continue_()
        elif answer == "abort":
            await route.abort("internetdisconnected")
        else:
            body = '{"error": "unavailable", "message": "the store is busy"}'
            await route.fulfill(status=int(answer), content_type="application/json", body=body)

    await page.route(OPTIONS, handle)
    return seen


async def test_an_unknown_site_is_said_in_the_browsers_language(
    node: Node, browser: Browser
) -> None:
    """/chat?site=nosuch (a data-site typo): a Hebrew browser reads, right to left and in
    Hebrew, that there is no chat on this site; a Spanish one in Spanish. No start form
    with an empty topic list, and a refusal is not tried again."""
    for locale, language, direction in (("he-IL", "he", "rtl"), ("es-ES", "es", "ltr")):
        page = await in_browser(browser, locale)
        asked = await counting(page, "none", times=0)  # each answered by the node
        await page.goto(f"http://127.0.0.1:{node.http_port}/chat?site=nosuch")
        await expect(page.locator("#status")).to_have_text(said(language, NO_SITE))
        await expect(page.locator("html")).to_have_attribute("lang", language)
        await expect(page.locator("html")).to_have_attribute("dir", direction)
        await expect(page.locator("h1")).to_have_text(said(language, "Chat with us"))
        await expect(page.locator("#start")).to_be_hidden()
        await asyncio.sleep(1.5)
        assert len(asked) == 1, asked
        await page.context.close()


async def test_a_passing_failure_is_tried_again_until_the_options_come(
    node: Node, browser: Browser
) -> None:
    """Two 503s (a Redis pool timing out), then the options: meanwhile the Spanish page
    says it is trying again; then the topics in Spanish and the start form, the problem
    gone from the status line."""
    page = await in_browser(browser, "es-ES")
    seen = await counting(page, "503", times=2)
    await page.goto(f"http://127.0.0.1:{node.http_port}/chat")
    await expect(page.locator("#status")).to_have_text(said("es", RETRYING))
    await expect(page.locator("html")).to_have_attribute("lang", "es")
    await expect(page.locator("#start")).to_be_visible(timeout=20_000)
    await expect(page.locator("#status")).to_have_text("")
    await expect(page.locator("#queue option[value='booking']")).to_have_text(
        said("es", "Bookings and changes")
    )
    assert len(seen) == 3, seen
    assert seen[2] - seen[1] > seen[1] - seen[0] > 0.5, seen  # backing off
    await page.context.close()


async def test_a_lasting_failure_is_tried_a_few_times_then_said(
    node: Node, browser: Browser
) -> None:
    """The options never come: a Hebrew browser answered 429 each time, and an American
    one asking `?lang=ar` with no network. Each page is in its language and direction,
    tries a bounded number of times, backing off, then says the chat is not available
    for now and asks no more."""
    hebrew = await in_browser(browser, "he-IL")
    arabic = await in_browser(browser, "en-US")
    tries = {
        "he": (hebrew, await counting(hebrew, "429"), "/chat"),
        "ar": (arabic, await counting(arabic, "abort"), "/chat?lang=ar"),
    }
    for page, _, path in tries.values():
        await page.goto(f"http://127.0.0.1:{node.http_port}{path}")
    for language, (page, seen, _) in tries.items():
        await expect(page.locator("html")).to_have_attribute("lang", language)
        await expect(page.locator("html")).to_have_attribute("dir", "rtl")
        await expect(page.locator("#status")).to_have_text(said(language, GAVE_UP), timeout=40_000)
        await expect(page.locator("#start")).to_be_hidden()
        assert len(seen) == ATTEMPTS, seen
        gaps = [later - earlier for earlier, later in itertools.pairwise(seen)]
        assert gaps == sorted(gaps) and gaps[0] > 0.5, gaps
    await asyncio.sleep(3)
    for _page, seen, _ in tries.values():
        assert len(seen) == ATTEMPTS, seen
    await hebrew.context.close()
    await arabic.context.close()


def identity(**claims: object) -> str:
    return sign(SITE.secret, {"sub": "c-77", "exp": time.time() + 600, **claims})


@pytest.mark.parametrize(
    "locale,language,claims",
    [
        ("ar-EG", "ar", {"sub": "anon-x"}),
        ("ja-JP", "ja", {"region": "mars"}),
        ("he-IL", "he", {"exp": time.time() + 10 * 365 * 86400}),
    ],
    ids=["sub", "region", "exp"],
)
async def test_a_signed_identity_with_a_refused_claim_gets_the_identity_message(
    node: Node, browser: Browser, locale: str, language: str, claims: dict[str, object]
) -> None:
    """Signed correctly, but `sub` is an anonymous chat's id, the region is none of the
    deployment's, or it expires years ahead: 400 on `$.identity.<claim>`. Trying again
    cannot help; the customer is asked to sign in again on the site."""
    page = await in_browser(browser, locale)
    await page.goto(
        f"http://127.0.0.1:{node.http_port}/chat?site=airline#identity={identity(**claims)}"
    )
    await expect(page.locator("#start")).to_be_visible()
    answers: list[int] = []
    page.on("response", lambda r: answers.append(r.status) if r.url.endswith("/contacts") else None)
    await page.select_option("#queue", "booking")
    await page.fill("#first-message", "hello")
    await page.click("#start-chat")
    await expect(page.locator("#start-error")).to_have_text(said(language, IDENTITY))
    assert answers == [400], answers
    await expect(page.locator("#first-message")).to_have_value("hello")
    await page.context.close()
