"""A Korean browser, in Chromium: the agent desktop, which Korean does not translate, is
wholly English (no Korean word on its sign-in form, even the message that the server
cannot be reached, a text the desk shares with the chat page); the customer's chat page,
which Korean translates, is Korean."""

from __future__ import annotations

import re

from playwright.async_api import Browser, Route, expect

from switchboard.node import Node
from tests.web.conftest import needs_chromium

pytestmark = needs_chromium

HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")


async def test_a_korean_agent_s_sign_in_form_is_english(node: Node, browser: Browser) -> None:
    context = await browser.new_context(
        locale="ko-KR", extra_http_headers={"Accept-Language": "ko-KR,ko;q=0.9"}
    )
    page = await context.new_page()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/i18n/pages" in r.url else None)
    await page.goto(f"http://127.0.0.1:{node.http_port}/agent")
    form = page.locator("#sign-in-form")
    await expect(form).to_be_visible()
    assert await page.evaluate("navigator.language") == "ko-KR"
    await expect(page.locator("html")).to_have_attribute("lang", "en")

    async def unreachable(route: Route) -> None:
        await route.abort("connectionrefused")

    # The server out of reach as the agent signs in: the error is the desk's, in English.
    await page.route("**/api/v1/agents/login", unreachable)
    await page.fill("#agent-id", "ana")
    await page.fill("#password", "ana-secret-1")
    await page.click("#sign-in")
    await expect(page.locator("#sign-in-error")).to_have_text(
        "No connection to the server. Trying again may help."
    )
    shown = await form.inner_text()
    assert "Sign in" in shown and not HANGUL.findall(shown), shown
    assert not HANGUL.findall(await page.title())
    assert [url.split("?", 1)[1] for url in asked] == ["lang=ko-KR&page=desk"]
    await context.close()


async def test_a_korean_customer_s_chat_page_is_korean(node: Node, browser: Browser) -> None:
    context = await browser.new_context(
        locale="ko-KR", extra_http_headers={"Accept-Language": "ko-KR,ko;q=0.9"}
    )
    page = await context.new_page()
    await page.goto(f"http://127.0.0.1:{node.http_port}/chat")
    await expect(page.locator("#start")).to_be_visible()
    await expect(page.locator("html")).to_have_attribute("lang", "ko")
    await expect(page.locator("#start-chat")).to_have_text("채팅 시작")
    await context.close()
