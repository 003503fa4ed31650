"""Message text as written, in Chromium, on the customer's window (24rem wide, as
embedded) and on the desk: line breaks kept, a long link broken to fit its bubble
instead of overflowing the conversation, markup shown as text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, expect

from switchboard.node import Node
from tests.web.conftest import available_at_desk, needs_chromium, screenshot

pytestmark = needs_chromium

ADDRESS = "My address:\nCalle Mayor 1\n28013 Madrid"
LINK = "https://airline.example/manage-booking?ref=" + "X" * 200
MARKUP = "<b>not bold</b>\n<i>not italic</i> &amp; <script>no script</script>"
REPLY = "Thank you.\nYour booking is changed."

# For each part of an element's text: the tops of the lines it is drawn on.
LINE_TOPS = """([selector, parts]) => {
  const node = document.querySelector(selector).firstChild;
  return parts.map((part) => {
    const at = node.data.indexOf(part);
    if (at < 0) return null;
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + part.length);
    return [...new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)))];
  });
}"""

# Whether the box scrolls sideways, the page too, and any bubble sticks out of the box.
OVERFLOW = """(selector) => {
  const box = document.querySelector(selector);
  const edge = box.getBoundingClientRect();
  const out = [...box.querySelectorAll('li')].filter((item) => {
    const rect = item.getBoundingClientRect();
    return rect.right > edge.right + 0.5 || rect.left < edge.left - 0.5;
  });
  return { scrollWidth: box.scrollWidth, clientWidth: box.clientWidth,
           pageScrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
           sticksOut: out.length };
}"""


async def on_separate_lines(page: Page, selector: str, text: str) -> None:
    """Each line of `text` is drawn on a line of its own, one below the other."""
    parts = text.split("\n")
    tops: list[Any] = await page.evaluate(LINE_TOPS, [selector, parts])
    assert all(found is not None and len(found) == 1 for found in tops), (text, tops)
    firsts = [found[0] for found in tops]
    assert firsts == sorted(set(firsts)) and len(firsts) == len(parts), (text, tops)


async def no_overflow(page: Page, selector: str) -> None:
    found = await page.evaluate(OVERFLOW, selector)
    assert found["scrollWidth"] <= found["clientWidth"], found
    assert found["pageScrollWidth"] <= found["innerWidth"], found
    assert found["sticksOut"] == 0, found


async def test_line_breaks_and_long_links_in_message_bubbles(
    node: Node, browser: Browser, tmp_path: Path
) -> None:
    desk = await available_at_desk(browser, node, viewport={"width": 1280, "height": 900})
    customer_side = await browser.new_context(
        locale="en-US", viewport={"width": 384, "height": 576}
    )
    customer = await customer_side.new_page()
    await customer.goto(f"http://127.0.0.1:{node.http_port}/chat")
    await expect(customer.locator("#start")).to_be_visible()
    await customer.select_option("#queue", "booking")
    await customer.fill("#first-message", ADDRESS)
    await customer.click("#start-chat")
    accept = desk.locator(".offer .accept")
    await expect(accept).to_have_count(1, timeout=10_000)
    await accept.click()
    await expect(customer.locator("#status")).to_contain_text("ana", timeout=10_000)
    for text in (LINK, MARKUP):
        await customer.fill("#message", text)
        await customer.click("#send")
        await expect(customer.locator("#message")).to_have_value("")
    panel = desk.locator(".conversation:not([hidden])")
    await panel.locator("textarea.reply").fill(REPLY)
    await panel.locator("button.send").click()

    mine = customer.locator("#messages li.mine .text")
    theirs = customer.locator("#messages li.theirs .text")
    await expect(mine).to_have_count(3, timeout=10_000)
    await expect(theirs).to_have_count(1, timeout=10_000)
    desk_theirs = panel.locator(".messages li.theirs .text")
    desk_mine = panel.locator(".messages li.mine .text")
    await expect(desk_theirs).to_have_count(3, timeout=10_000)
    await expect(desk_mine).to_have_count(1)

    # As written, on both sides: the lines where the writer broke them, markup as text.
    for texts, sent in ((mine, theirs), (desk_theirs, desk_mine)):
        assert await texts.all_inner_texts() == [ADDRESS, LINK, MARKUP]
        assert await sent.all_inner_texts() == [REPLY]
        assert await texts.nth(2).locator("b, i, script").count() == 0
    await on_separate_lines(customer, "#messages li.mine:nth-child(1) .text", ADDRESS)
    await on_separate_lines(customer, "#messages li.theirs .text", REPLY)
    first = ".conversation:not([hidden]) .messages li.theirs:nth-child(1) .text"
    await on_separate_lines(desk, first, ADDRESS)
    await on_separate_lines(desk, ".conversation:not([hidden]) .messages li.mine .text", REPLY)

    # The long link is broken to fit its bubble: drawn on several lines, nothing scrolls
    # sideways, no bubble sticks out of the conversation.
    for page, selector, box in (
        (customer, "#messages li.mine", "#messages-box"),
        (desk, ".conversation:not([hidden]) .messages li.theirs", ".conversation .messages-box"),
    ):
        drawn = await page.evaluate(
            """([selector, link]) => {
              const item = [...document.querySelectorAll(selector)]
                .find((li) => li.querySelector('.text').textContent === link);
              const range = document.createRange();
              range.selectNodeContents(item.querySelector('.text'));
              return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
            }""",
            [selector, LINK],
        )
        assert drawn > 2, drawn
        await no_overflow(page, box)
    await screenshot(customer, tmp_path, "message-text-customer.png")
    await screenshot(desk, tmp_path, "message-text-desk.png")
    await customer_side.close()
    await desk.context.close()
