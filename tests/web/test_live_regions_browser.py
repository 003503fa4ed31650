"""What a screen reader is handed (every change inside a live region, recorded by a
MutationObserver installed before the page's scripts) and where the keyboard is, on the
customer's chat and the agent desktop: a ringing offer is said once, not its countdown
every second; the place in line once, not at every push; a message once; each message
says who wrote it; a chat that ends while the agent writes leaves the focus in the reply
(WCAG 1.3.1, 2.2.2, 2.4.3, 3.2.2, 4.1.3)."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Browser, Page, expect

from switchboard.node import Node
from tests.nodes import customer_writes, http_session, new_chat
from tests.web.conftest import available_at_desk, needs_chromium

pytestmark = needs_chromium

# Each text added to a live region (aria-live other than off, status, alert, log), with
# the region; and the `position` events the chat's socket received.
RECORDER = """
window.__live = [];
window.__positions = 0;
const LIVE = "[aria-live]:not([aria-live=off]), [role=status], [role=alert], [role=log]";
new MutationObserver((changes) => {
  for (const change of changes) {
    const node = change.target.nodeType === 1 ? change.target : change.target.parentElement;
    const region = node && node.closest(LIVE);
    if (!region) continue;
    const texts = change.type === "characterData" ? [change.target.data]
      : [...change.addedNodes].map((added) => added.textContent);
    for (const text of texts) {
      if (text && text.trim()) window.__live.push({ region: region.id || region.className, text });
    }
  }
}).observe(document, { subtree: true, childList: true, characterData: true });
const Socket = window.WebSocket;
window.WebSocket = class extends Socket {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", (event) => {
      try { if (JSON.parse(event.data).type === "position") window.__positions += 1; } catch (_) {}
    });
  }
};
"""


async def said(page: Page) -> list[dict[str, Any]]:
    return list(await page.evaluate("window.__live"))


async def test_the_customer_hears_the_place_in_line_and_each_message_once(
    node: Node, browser: Browser
) -> None:
    context = await browser.new_context(locale="en-GB")
    await context.add_init_script(RECORDER)
    page = await context.new_page()
    await page.goto(f"http://127.0.0.1:{node.http_port}/chat")
    # An empty start: the topic is the field in error, marked so and focused.
    await page.click("#start-chat")
    await expect(page.locator("#queue")).to_be_focused()
    await expect(page.locator("#queue")).to_have_attribute("aria-invalid", "true")
    await page.select_option("#queue", "booking")
    await page.fill("#first-message", "My bag did not arrive")
    await page.click("#start-chat")
    mine = page.locator("#messages li.mine")
    await expect(mine.locator(".delivery")).to_have_text("Sent")
    await expect(mine.locator(".sender")).to_have_text("You said:")
    # Three pushes of the same place in line: said once.
    await page.wait_for_function("() => window.__positions >= 3", timeout=30_000)
    await expect(page.locator("#status")).to_have_text("You are number 1 in line.")
    status = [entry["text"] for entry in await said(page) if entry["region"] == "status"]
    assert status.count("You are number 1 in line.") == 1, status
    log = [entry["text"] for entry in await said(page) if entry["region"] == "messages-box"]
    assert sum("My bag did not arrive" in text for text in log) == 1, log
    await context.close()


async def test_the_desk_says_an_offer_once_and_who_wrote_each_message(
    node: Node, browser: Browser
) -> None:
    desk = await available_at_desk(browser, node)
    await desk.context.add_init_script(RECORDER)
    await desk.reload()  # the desk resumes its session, recorded from the start
    await expect(desk.locator("#state")).to_have_text("Available")
    async with http_session(node) as http:
        chat = await new_chat(http, queue="booking")
        card = desk.locator(".offer")
        left = card.locator(".ring-left")
        await expect(left).to_have_text("Ringing: 15 s left")
        # The countdown goes on (visible), three seconds of it.
        await expect(left).to_have_text("Ringing: 12 s left")
        offers = [entry["text"] for entry in await said(desk) if " s left" in entry["text"]]
        line = "Incoming chat, Bookings and changes, English, Ringing: 15 s left"
        assert offers == [line], offers

        await card.locator(".accept").click()
        panel = desk.locator(".conversation:not([hidden])")
        await customer_writes(http, chat, "Where is my bag?")
        await expect(panel.locator("li.theirs .sender")).to_have_text("The customer said:")
        await panel.locator("textarea.reply").fill("Let me check")
        await panel.locator("button.send").click()
        await expect(panel.locator("li.mine .sender")).to_have_text("You said:")

        # The customer leaves while the agent writes: the focus and the draft stay, the
        # end is said, and the wrap-up comes next in the Tab order.
        reply = panel.locator("textarea.reply")
        await reply.focus()
        await desk.keyboard.type("The tracing sys")
        left_chat = await http.post(
            f"/api/v1/contacts/{chat['contact_id']}/abandon",
            headers={"X-Customer-Token": chat["customer_token"]},
        )
        assert left_chat.status == 200, await left_chat.text()
    wrap_up = panel.locator("form.wrap-up")
    await expect(wrap_up).to_be_visible()
    await expect(panel.locator("li.notice")).to_have_text("The customer left the chat.")
    await expect(panel.locator(".typing")).to_have_text("Please fill in the wrap-up.")
    await desk.keyboard.type("tem")
    await expect(reply).to_be_focused()
    await expect(reply).to_have_value("The tracing sys")
    await expect(panel.locator(".composer .error")).to_have_text(
        "The chat has ended; your message was not sent."
    )
    await desk.keyboard.press("Tab")
    await expect(wrap_up.locator("select.wrap-up-code")).to_be_focused()
    assert await wrap_up.locator("select.wrap-up-code").input_value() == ""
    await desk.context.close()
