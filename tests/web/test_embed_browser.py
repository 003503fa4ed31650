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
from switchboard.node import Node
from tests.nodes import running_node
from tests.web.conftest import needs_chromium

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
        return web.Response(text=pages[request.match_info["name"]], content_type="text/html")

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
    frame = page.frame_locator("iframe[title=Chat]")
    # The site offers its own queues only.
    await expect(frame.locator("#queue option")).to_have_count(2)
    await frame.locator("#queue").select_option("booking")
    await frame.locator("#first-message").fill("Hello from the airline site")
    await frame.locator("#start-chat").click()
    await expect(frame.locator("#messages li.mine")).to_contain_text("Hello from the airline")
    src = await page.locator("iframe[title=Chat]").get_attribute("src")
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
