"""The pages under their Content-Security-Policy in Chromium: the desk, the chat window
and the wallboard sign in, connect (HTTP, WebSockets, the wallboard's event stream) and
draw what comes, with no violation reported; a script injected into a page is refused."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Browser, ConsoleMessage, Page, expect

from switchboard.node import Node
from tests.nodes import http_session, login, new_chat
from tests.web.conftest import needs_chromium, sign_in_available

pytestmark = needs_chromium

# Every violation the page's document sees, whatever its source (an init script runs
# before the page's own and is not under its policy).
WATCH = """
window.violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.violations.push(`${event.effectiveDirective} ${event.blockedURI}`);
});
"""
INJECT = """() => {
  const script = document.createElement("script");
  script.textContent = "window.injected = true";
  document.body.append(script);
  const styled = document.createElement("div");
  styled.setAttribute("style", "color: red");
  document.body.append(styled);
  return new Promise((done) => setTimeout(() => done(window.injected === true), 100));
}"""


class Violations:
    """The violations a page reported: its console's (`Refused to …`) and its events'."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.console.append(message.text)

    async def all(self) -> list[str]:
        reported = await self.page.evaluate("window.violations")
        return [*self.console, *reported]


async def watched_page(browser: Browser, **options: Any) -> tuple[Page, Violations]:
    """A page in a new browser context whose violations are watched from its start."""
    context = await browser.new_context(**options)
    await context.add_init_script(WATCH)
    page = await context.new_page()
    return page, Violations(page)


async def assert_injection_refused(page: Page, violations: Violations) -> None:
    """The control: the same page refuses an injected script and style attribute."""
    assert await page.evaluate(INJECT) is False
    found = await violations.all()
    assert any(v.startswith("script-src-elem inline") for v in found), found
    assert any(v.startswith("style-src-attr inline") for v in found), found


async def test_the_desk_runs_under_its_policy(node: Node, browser: Browser) -> None:
    page, violations = await watched_page(browser)
    await sign_in_available(page, node)
    async with http_session(node) as http:
        await new_chat(http, queue="booking")
    offer = page.locator(".offer")
    await expect(offer).to_be_visible()  # came over the agent's WebSocket
    await offer.locator(".accept").click()
    await expect(page.locator(".conversation").first).to_be_visible()
    assert await violations.all() == []
    await assert_injection_refused(page, violations)
    await page.context.close()


async def test_the_chat_window_runs_under_its_policy(node: Node, browser: Browser) -> None:
    page, violations = await watched_page(browser, locale="en-US")
    await page.goto(f"http://127.0.0.1:{node.http_port}/chat")
    await page.select_option("#queue", "booking")
    await page.fill("#first-message", "My bag did not arrive.")
    await page.click("#start-chat")
    await expect(page.locator("#messages li.mine")).to_contain_text("My bag did not arrive.")
    await expect(page.locator("#status")).to_contain_text("1")  # its place, over the socket
    assert await violations.all() == []
    await assert_injection_refused(page, violations)
    await page.context.close()


async def test_the_wallboard_runs_under_its_policy(node: Node, browser: Browser) -> None:
    async with http_session(node) as http:
        ana = await login(http, "ana", "ana-secret-1")
        await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
    page, violations = await watched_page(browser, viewport={"width": 1280, "height": 900})
    await page.goto(f"http://127.0.0.1:{node.http_port}/wallboard")
    await page.fill("#user", "sup")
    await page.fill("#password", "sup-secret-1")
    await page.click("#sign-in")
    await expect(page.locator("#queue-booking")).to_be_visible()  # a snapshot, drawn
    await expect(page.locator("#clocks .clock").first).to_be_visible()
    # the clocks' row is laid out by the page's stylesheet, no longer a style attribute
    assert await page.eval_on_selector("#clocks", "e => getComputedStyle(e).display") == "flex"
    await page.select_option("#sv-queue", "booking")
    row = page.locator("#agents-table tr[data-agent=ana]")
    await expect(row.locator(".state")).to_have_text("available")  # the actions' module
    assert await violations.all() == []
    await assert_injection_refused(page, violations)
    await page.context.close()
