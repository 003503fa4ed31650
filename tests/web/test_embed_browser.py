"""The chat window embedded on a site's page with one <script> tag: the frame opens
/chat for that site, the signed identity (in the frame's URL fragment) makes the chat a
known customer's, and only the configured site may frame the window."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from playwright.async_api import Browser, expect

from router.desk import ChatSite, DeskConfig
from router.identity import sign
from router.model import Agent, Role
from switchboard.node import Node
from tests.nodes import running_node
from tests.web.conftest import available_at_desk, needs_chromium

pytestmark = needs_chromium
PAGES = web.AppKey("pages", dict[str, str])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def site() -> AsyncIterator[tuple[web.AppRunner, int]]:
    """The airline's own web server, another origin than the node."""
    app = web.Application()
    pages: dict[str, str] = {}

    async def page(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in pages:
            raise web.HTTPNotFound()  # the browser's /favicon.ico
        return web.Response(text=pages[name], content_type="text/html")

    app.router.add_get("/{name}", page)
    app[PAGES] = pages
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield runner, port
    await runner.cleanup()


@pytest.fixture
async def node(redis_url: str, site: tuple[web.AppRunner, int]) -> AsyncIterator[Node]:
    origin = f"http://127.0.0.1:{site[1]}"
    desk = DeskConfig(sites=(ChatSite("airline", (origin,), "a-site-secret", ("booking",)),))
    async with running_node(redis_url, desk=desk) as node:
        yield node


async def test_one_script_tag_embeds_a_signed_chat(
    node: Node, site: tuple[web.AppRunner, int], browser: Browser
) -> None:
    runner, port = site
    identity = sign("a-site-secret", {"sub": "c-77", "exp": time.time() + 600, "tier": "gold"})
    script = f"http://127.0.0.1:{node.http_port}/pages/embed.js"
    runner.app[PAGES]["help"] = (
        '<!doctype html><html lang="en"><head><title>Help</title></head><body><main>'
        "<h1>Airline help</h1>"
        f'<script src="{script}" data-site="airline" data-identity="{identity}" async></script>'
        "</main></body></html>"
    )
    page = await (await browser.new_context(locale="en-GB")).new_page()
    await page.goto(f"http://127.0.0.1:{port}/help")
    await page.get_by_role("button", name="Chat with us").click()
    frame = page.frame_locator("iframe[title='Chat with us']")
    # The site offers its own queues only.
    await expect(frame.locator("#queue option")).to_have_count(2)
    await frame.locator("#queue").select_option("booking")
    await frame.locator("#first-message").fill("Hello from the airline site")
    await frame.locator("#start-chat").click()
    await expect(frame.locator("#messages li.mine")).to_contain_text("Hello from the airline")
    src = await page.locator("iframe").get_attribute("src")
    assert src is not None and "#identity=" in src and "?site=airline" in src
    waiting = await node.router.store.waiting("booking")
    contact = await node.router.get_contact(waiting[0][0])
    assert (contact.customer_id, contact.customer_tier, contact.verified) == ("c-77", "gold", True)


async def test_only_configured_sites_may_frame_the_chat(node: Node) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        chat = await http.get(f"http://127.0.0.1:{node.http_port}/chat")
        agent = await http.get(f"http://127.0.0.1:{node.http_port}/agent")
        missing = await http.get(f"http://127.0.0.1:{node.http_port}/pages/nothing.js")
        script = await http.get(f"http://127.0.0.1:{node.http_port}/pages/embed.js")
    policy = chat.headers["Content-Security-Policy"]
    assert "; frame-ancestors 'self' http://127.0.0.1:" in policy
    assert agent.headers["Content-Security-Policy"].endswith("; frame-ancestors 'none'")
    assert missing.status == 404 and (await missing.json())["error"] == "not_found"
    assert script.headers["Content-Type"].startswith("text/javascript")


@pytest.fixture
async def cross_site_node(redis_url: str, site: tuple[web.AppRunner, int]) -> AsyncIterator[Node]:
    """A node on 127.0.0.1 framed by the airline's pages on localhost: another *site*, as
    airline.example framing switchboard.example is; ana (booking) takes its chats."""
    desk = DeskConfig(
        sites=(
            ChatSite("airline", (f"http://localhost:{site[1]}",), "a-site-secret", ("booking",)),
        )
    )
    async with running_node(
        redis_url,
        desk=desk,
        users=[("ana", Role.AGENT, "ana-secret-1")],
        agents=[Agent("ana", "default", {"booking": 4}, ["en"])],
    ) as node:
        yield node


# Marks, in the chat frame, whether its start form was ever shown (set before the page's
# own scripts run; a DevTools init script, which the page's policy does not stop).
START_SHOWN = """
if (location.pathname === "/chat") {
  new MutationObserver((changes) => {
    for (const change of changes) if (change.target.id === "start" && !change.target.hidden) window.startShown = true;
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["hidden"] });
}
"""


async def test_a_chat_framed_on_another_site_comes_back_after_a_reload(
    cross_site_node: Node, site: tuple[web.AppRunner, int], browser: Browser
) -> None:
    node = cross_site_node
    runner, port = site
    script = f"http://127.0.0.1:{node.http_port}/pages/embed.js"
    runner.app[PAGES]["help"] = (
        '<!doctype html><html lang="en"><head><title>Help</title></head><body><main>'
        f'<h1>Airline help</h1><script src="{script}" data-site="airline" async></script>'
        "</main></body></html>"
    )
    desk = await available_at_desk(browser, node)
    # Playwright's context is a private one: it refuses storage to a third-party frame.
    context = await browser.new_context(locale="en-GB")
    await context.add_init_script(START_SHOWN)
    page = await context.new_page()
    await page.goto(f"http://localhost:{port}/help")
    await page.get_by_role("button", name="Chat with us").click()
    chat = page.frame_locator("iframe")
    await chat.locator("#queue").select_option("booking")
    frame = await (await page.locator("iframe").element_handle()).content_frame()
    assert frame is not None
    refused = "() => { try { localStorage.length; return false; } catch (_) { return true; } }"
    assert await frame.evaluate(refused), "this Chromium lets the frame keep storage"
    await chat.locator("#first-message").fill("Hello from the airline site")
    await chat.locator("#start-chat").click()
    await desk.locator(".offer .accept").click()
    panel = desk.locator(".conversation:not([hidden])")
    await panel.locator("textarea.reply").fill("Hi, how can I help?")
    await panel.locator("button.send").click()
    await expect(chat.locator("#messages li.theirs .text")).to_have_text("Hi, how can I help?")
    (contact_id,) = await node.router.store.live_contacts()
    # The airline's page keeps it, first party.
    kept = await page.evaluate("localStorage.getItem('switchboard-chat:airline')")
    assert kept is not None and contact_id in kept

    # The window was open: after the reload it is open again, with the same chat.
    await page.reload()
    chat = page.frame_locator("iframe")
    texts = chat.locator("#messages li:not(.notice) .text")
    await expect(texts).to_have_text(["Hello from the airline site", "Hi, how can I help?"])
    frame = await (await page.locator("iframe").element_handle()).content_frame()
    assert frame is not None and not await frame.evaluate("window.startShown === true")
    # The same chat, still ana's: no second chat, and what the customer writes reaches her.
    assert await node.router.store.live_contacts() == {contact_id}
    contact = await node.router.get_contact(contact_id)
    assert (contact.state, contact.agent_id) == ("connected", "ana")
    await chat.locator("#message").fill("Still there?")
    await chat.locator("#message").press("Enter")
    await expect(panel.locator(".messages li.theirs .text")).to_have_text(
        ["Hello from the airline site", "Still there?"]
    )

    # Only the frame is answered and obeyed: a message the page posts to itself, claiming
    # to be the frame, forgets nothing (the marker posted after it arrives after it).
    await page.evaluate(
        """() => new Promise((done) => {
          window.addEventListener("message", (e) => { if (e.data === "marker") done(); });
          window.postMessage({ type: "switchboard-chat", op: "forget", id: "x" }, "*");
          window.postMessage("marker", "*");
        })"""
    )
    assert contact_id in (await page.evaluate("localStorage.getItem('switchboard-chat:airline')"))
