"""axe-core, run in the same Chromium, finds no moderate, serious or critical violation
on the chat window (left to right and right to left), the agent desktop (its sign-in
too) with a conversation open, and the wallboard (its sign-in too) with the
supervisor's actions; the focus ring and the fields' borders stand out 3:1 from what is
around them (WCAG 1.4.11)."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from switchboard.node import Node
from tests.nodes import http_session, new_chat
from tests.web.conftest import MODERATE, needs_chromium, serious_violations

pytestmark = needs_chromium


async def test_chat_window_ltr_and_rtl(node: Node, browser: Browser) -> None:
    base = f"http://127.0.0.1:{node.http_port}"
    for locale, direction in (("en-GB", "ltr"), ("ar-EG", "rtl")):
        context = await browser.new_context(locale=locale)
        page = await context.new_page()
        await page.goto(f"{base}/chat")
        await expect(page.locator("html")).to_have_attribute("dir", direction)
        await expect(page.locator("#start")).to_be_visible()
        assert await serious_violations(page, MODERATE) == []
        await page.select_option("#queue", "booking")
        await page.fill("#first-message", "Hello")
        await page.click("#start-chat")
        await expect(page.locator("#messages li")).to_have_count(1)
        assert await serious_violations(page, MODERATE) == []
        await context.close()


async def test_agent_desktop(node: Node, browser: Browser) -> None:
    page = await (await browser.new_context()).new_page()
    await page.goto(f"http://127.0.0.1:{node.http_port}/agent")
    assert await serious_violations(page, MODERATE) == []
    # A wrong password: both fields marked, described by the error; the focus on the first.
    await page.fill("#agent-id", "ana")
    await page.fill("#password", "not-her-password")
    await page.click("#sign-in")
    await expect(page.locator("#password")).to_be_focused()
    for field in ("#password", "#agent-id"):
        await expect(page.locator(field)).to_have_attribute("aria-invalid", "true")
        await expect(page.locator(field)).to_have_accessible_description(
            "Wrong agent ID or password."
        )
    await page.fill("#password", "ana-secret-1")
    await page.click("#sign-in")
    await page.click("#go-available")
    async with http_session(node) as http:
        await new_chat(http, queue="booking")
    await expect(page.locator(".offer")).to_be_visible(timeout=10_000)
    assert await serious_violations(page, MODERATE) == []
    await page.locator(".offer .accept").click()
    await expect(page.locator("#customer table.history")).to_be_visible()
    assert await serious_violations(page, MODERATE) == []
    await page.context.close()


async def test_wallboard(node: Node, browser: Browser) -> None:
    page = await (await browser.new_context()).new_page()
    await page.goto(f"http://127.0.0.1:{node.http_port}/wallboard")
    assert await serious_violations(page, MODERATE) == []
    await page.fill("#user", "sup")
    await page.fill("#password", "sup-secret-1")
    await page.click("#sign-in")
    async with http_session(node) as http:
        await new_chat(http, queue="booking")
    await page.select_option("#sv-queue", "booking")
    await expect(page.locator("#contacts-table tbody tr")).to_have_count(1, timeout=15_000)
    assert await serious_violations(page, MODERATE) == []
    await page.context.close()


# The WCAG contrast ratio of two CSS colours (rgb()/rgba(), alpha ignored: opaque here).
CONTRAST = """([a, b]) => {
  const lum = (css) => {
    const [r, g, b] = css.match(/[\\d.]+/g).slice(0, 3).map((v) => {
      const c = Number(v) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}"""

# The focused element's outline and border colours, and the background behind it.
FOCUSED = """() => {
  const node = document.activeElement;
  const style = getComputedStyle(node);
  let behind = node.parentElement;
  while (behind && getComputedStyle(behind).backgroundColor === "rgba(0, 0, 0, 0)") behind = behind.parentElement;
  return { outline: style.outlineColor, width: style.outlineWidth, border: style.borderTopColor,
           background: behind ? getComputedStyle(behind).backgroundColor : "rgb(255, 255, 255)" };
}"""


async def test_focus_ring_and_field_borders_stand_out(node: Node, browser: Browser) -> None:
    base = f"http://127.0.0.1:{node.http_port}"
    page = await (await browser.new_context()).new_page()
    for path, field in (("/chat", "#queue"), ("/agent", "#agent-id")):
        await page.goto(base + path)
        await expect(page.locator(field)).to_be_visible()
        await page.locator("body").click(position={"x": 1, "y": 1})
        for _ in range(10):
            await page.keyboard.press("Tab")
            if await page.evaluate(f"document.activeElement.matches('{field}')"):
                break
        await expect(page.locator(field)).to_be_focused()
        seen = await page.evaluate(FOCUSED)
        assert seen["width"] != "0px", seen
        for part in ("outline", "border"):
            ratio = await page.evaluate(CONTRAST, [seen[part], seen["background"]])
            assert ratio >= 3, f"{path} {field} {part}: {ratio:.2f} {seen}"
    await page.context.close()
