"""The desktop shows the agent their softphone account in Chromium: the node's registrar
(a real Kamailio) knows the account, and the password shown is the one it accepts. On a
node without a registrar the panel stays hidden and sign-in still works."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from router.model import Agent, Role
from switchboard.node import Node
from telephony.frontdoor import FrontDoor
from telephony.model import SipConfig
from telephony.softphones import KamailioRegistrar, Softphones, ha1, load_secret
from tests.nodes import running_node
from tests.telephony.conftest import free_sip_port
from tests.web.conftest import needs_chromium

pytestmark = [
    needs_chromium,
    pytest.mark.skipif(shutil.which("kamailio") is None, reason="Kamailio is not installed"),
]


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    async with running_node(
        redis_url,
        users=[("ana", Role.AGENT, "ana-secret-1")],
        agents=[Agent("ana", "default", {"booking": 4}, ["en"])],
    ) as node:
        yield node


async def sign_in(node: Node, browser: Browser, asked: list[str] | None = None) -> Page:
    """Ana signed in at the desk taking calls; `asked` gathers the URLs the page requests."""
    page = await (await browser.new_context()).new_page()
    if asked is not None:
        page.on("request", lambda request: asked.append(request.url))
    await page.goto(f"http://127.0.0.1:{node.http_port}/agent")
    await page.fill("#agent-id", "ana")
    await page.fill("#password", "ana-secret-1")
    await page.check("#take-calls")
    await page.click("#sign-in")
    await expect(page.locator("#who")).to_have_text("ana")
    return page


async def test_without_a_registrar_the_account_is_not_shown(node: Node, browser: Browser) -> None:
    asked: list[str] = []
    page = await sign_in(node, browser, asked)
    await expect(page.locator("#state")).to_have_text("Not ready")
    await expect(page.locator("#softphone")).to_be_hidden()
    # The desk's configuration says so: it does not ask for an account (a 409 in the console).
    assert any(url.endswith("/api/v1/desk") for url in asked), asked
    assert not [url for url in asked if url.endswith("/sip-account")]


async def test_the_desktop_shows_the_account_the_registrar_accepts(
    node: Node, browser: Browser, tmp_path: Path
) -> None:
    sip = SipConfig(host="127.0.0.1", port=free_sip_port())
    door = FrontDoor(host=sip.host, port=sip.port, destinations=[], workdir=tmp_path / "k")
    await door.start()
    try:
        registrar = KamailioRegistrar(door.rpc)
        softphones = Softphones(
            load_secret(tmp_path / "secret"), sip, node.sessions.users, registrar
        )
        node.agents.softphones = softphones
        page = await sign_in(node, browser)
        panel = page.locator("#softphone")
        await expect(panel).to_be_visible()
        await panel.locator("summary").click()
        await expect(page.locator("#sip-server")).to_have_text(f"127.0.0.1:{sip.port}")
        await expect(page.locator("#sip-user")).to_have_text("ana")
        await expect(page.locator("#sip-transport")).to_have_text("UDP / TCP")
        account = await softphones.account("ana")
        await expect(page.locator("#sip-password")).to_have_text(account.password)
        # Signing in allowed that very password at the registrar.
        stored = await registrar.call("htable.get", "sipauth", "ana")
        assert stored["item"]["value"] == ha1("ana", "127.0.0.1", account.password)
        assert (await node.router.get_agent("ana")).sip_uri == f"sip:ana@127.0.0.1:{sip.port}"

        await page.click("#sign-out")
        await expect(page.locator("#sign-in-form")).to_be_visible()
        await expect(panel).to_be_hidden()
        assert await page.locator("#sip-password").text_content() == ""
        with pytest.raises(RuntimeError, match="doesn't exist"):  # no longer allowed
            await registrar.call("htable.get", "sipauth", "ana")
    finally:
        node.agents.softphones = None
        await door.stop()
