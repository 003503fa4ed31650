"""The embedded chat on the airline's page (embed.js without data-target): a launcher
opens it; closed, it covers none of the page; on a narrow screen the open window takes
the screen as a modal that Escape or "Minimise chat" closes, the focus back on the
launcher; the chat goes on while minimised; the launcher and the frame are named in the
chat's language (WCAG 1.4.10, 2.1.1, 2.4.3, 2.4.7, 3.1.2)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, expect

from router.desk import ChatSite, DeskConfig
from switchboard.node import Node
from tests.nodes import running_node
from tests.web.conftest import needs_chromium
from tests.web.test_embed_browser import PAGES, site  # noqa: F401  (the site fixture)

pytestmark = needs_chromium

# The airline's "manage booking" page: its controls near the top and the bottom.
HOST = """<!doctype html><html lang="{lang}"><head><title>Manage booking</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body {{ margin: 0; font: 16px system-ui; }} main {{ padding: 1rem; }}</style>
</head><body><main><h1>Manage booking</h1>
<form><label>PNR <input id="pnr"></label><br><label>Last name <input id="last-name"></label><br>
<button type="button" id="find">Find booking</button></form>
<p><a id="help" href="#help">Help</a></p>
<script src="{script}" data-site="airline" data-lang="{lang}" async></script>
</main></body></html>"""

HOST_CONTROLS = ["#pnr", "#last-name", "#find", "#help"]

# What the viewer sees at the middle of an element: itself, or something over it.
ON_TOP = """(selector) => {
  const node = document.querySelector(selector);
  const box = node.getBoundingClientRect();
  const top = document.elementFromPoint((box.left + box.right) / 2, (box.top + box.bottom) / 2);
  return top === node || node.contains(top);
}"""


@pytest.fixture
async def node(redis_url: str, site: tuple[web.AppRunner, int]) -> AsyncIterator[Node]:  # noqa: F811
    desk = DeskConfig(
        sites=(ChatSite("airline", (f"http://localhost:{site[1]}",), "a-secret", ("booking",)),)
    )
    async with running_node(redis_url, desk=desk) as node:
        yield node


async def host_page(
    browser: Browser,
    node: Node,
    site: tuple[web.AppRunner, int],  # noqa: F811
    lang: str,
    width: int,
) -> Page:
    """The booking page on the airline's site (localhost: another site than the node)."""
    runner, port = site
    runner.app[PAGES]["booking"] = HOST.format(
        lang=lang, script=f"http://127.0.0.1:{node.http_port}/pages/embed.js"
    )
    context = await browser.new_context(viewport={"width": width, "height": 640})
    page = await context.new_page()
    await page.goto(f"http://localhost:{port}/booking")
    return page


async def frame_focus(page: Page) -> str:
    frame = await (await page.locator("iframe").element_handle()).content_frame()
    assert frame is not None
    return str(await frame.evaluate("document.hasFocus() && document.activeElement.id"))


async def test_the_chat_opens_from_a_launcher_and_closes_by_keyboard(
    node: Node,
    site: tuple[web.AppRunner, int],  # noqa: F811
    browser: Browser,
) -> None:
    page = await host_page(browser, node, site, "en", 320)
    launcher = page.get_by_role("button", name="Chat with us")
    await expect(launcher).to_have_attribute("aria-expanded", "false")
    frame = page.locator("iframe")
    await expect(frame).to_be_hidden()
    # Closed: every control of the page is seen where it has the focus.
    await page.locator("h1").click()
    for selector in HOST_CONTROLS:
        await page.keyboard.press("Tab")
        await expect(page.locator(selector)).to_be_focused()
        assert await page.evaluate(ON_TOP, selector), f"{selector} is covered"

    # Opened by keyboard, on a narrow screen: the whole screen, the page behind it inert.
    await launcher.focus()
    await page.keyboard.press("Enter")
    await expect(frame).to_be_visible()
    await expect(launcher).to_have_attribute("aria-expanded", "true")
    assert await frame.bounding_box() == {"x": 0, "y": 0, "width": 320, "height": 640}
    assert await page.evaluate("document.querySelector('main').inert")
    chat = page.frame_locator("iframe")
    await expect(chat.locator("#queue")).to_be_focused()
    assert await frame_focus(page) == "queue"

    # Escape closes it, the focus back on the launcher, the page usable again.
    await page.keyboard.press("Escape")
    await expect(frame).to_be_hidden()
    await expect(launcher).to_be_focused()
    await expect(launcher).to_have_attribute("aria-expanded", "false")
    assert not await page.evaluate("document.querySelector('main').inert")

    # A chat begun, minimised with its button, reopened: the same chat, as it was.
    await page.keyboard.press("Enter")
    await chat.locator("#queue").select_option("booking")
    await chat.locator("#first-message").fill("My bag did not arrive")
    await chat.locator("#start-chat").click()
    await expect(chat.locator("#messages li.mine .text")).to_have_text("My bag did not arrive")
    await chat.get_by_role("button", name="Minimise chat").click()
    await expect(frame).to_be_hidden()
    await expect(launcher).to_be_focused()
    for selector in HOST_CONTROLS:
        assert await page.evaluate(ON_TOP, selector), f"{selector} is covered"
    await page.keyboard.press("Enter")
    await expect(chat.locator("#messages li.mine .text")).to_have_text("My bag did not arrive")
    await expect(chat.locator("#message")).to_be_focused()
    assert len(await node.router.store.live_contacts()) == 1

    # On a wide screen the open window sits in its corner; the page is not inert.
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.wait_for_function("!document.querySelector('main').inert")
    box = await frame.bounding_box()
    assert box is not None and box["width"] < 500 and box["x"] > 600
    await page.context.close()


async def test_the_launcher_and_the_frame_speak_the_chats_language(
    node: Node,
    site: tuple[web.AppRunner, int],  # noqa: F811
    browser: Browser,
) -> None:
    page = await host_page(browser, node, site, "ar", 1024)
    launcher = page.get_by_role("button", name="تحدث معنا")
    await expect(launcher).to_have_attribute("lang", "ar")
    await expect(launcher).to_have_attribute("dir", "rtl")
    await expect(page.locator("iframe")).to_have_attribute("title", "تحدث معنا")
    await launcher.click()
    chat = page.frame_locator("iframe")
    await expect(chat.locator("#minimise")).to_be_visible()
    await expect(chat.locator("html")).to_have_attribute("lang", "ar")
    await page.context.close()
