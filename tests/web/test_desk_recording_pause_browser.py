"""The agent pauses a call's recording from the desk while the caller gives card details
(PCI DSS), in Chromium, on a real call (a node with voice, pjsua2 phones): "Pause
recording" on a call not recorded shows the API's 409 beside the button; recorded, the
button (by keyboard) pauses it: "Resume recording", "Recording paused for …" in
words, the API's answer `paused`, the worker's audit; said once, not every second; a
reloaded desk still shows the pause (the contact's `recording_paused_since`); then
resumed. A pause that ended by itself (`[recording] pause_max_s`) reaches the desk by
the router's `recording` event: the button says "Pause recording" again with no press,
and "Recording resumed." is said once."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Locator, Page, expect

from router.model import Agent, Role
from router.reports.service import Reports
from switchboard.node import Node
from switchboard.settings import RedisConfig, load_settings
from tests.nodes import TEST_AUTH
from tests.telephony.conftest import (
    NODE_CONFIG,
    Party,
    call_agent,
    free_sip_port,
    rtp_block,
    until,
)
from tests.web.conftest import needs_chromium
from tests.web.test_live_regions_browser import RECORDER, said

pytestmark = needs_chromium

PASSWORD = "a-long-password"


@dataclass
class Desk:
    node: Node
    page: Page
    contact_id: str
    panel: Locator


@asynccontextmanager
async def desk_on_a_call(
    redis_url: str, tmp_path: Path, browser: Browser, pause_max_s: float = 180
) -> AsyncIterator[Desk]:
    """A node with voice (recording per call, no consent prompt); ana signed in at her
    desk with her phone (which answers), available; a caller picks booking and talks to
    her. Everything started is stopped after."""
    config = tmp_path / "node.toml"
    config.write_text(
        NODE_CONFIG.format(
            port=free_sip_port(), rtp_port_base=rtp_block(), cache=tmp_path, outside_uri=""
        )
        + f'\n[recording]\ndirectory = "{tmp_path / "recordings"}"\nconsent = false\n'
        + f"pause_max_s = {pause_max_s}\n"
    )
    settings = dataclasses.replace(
        load_settings(config), redis=RedisConfig(url=redis_url), http_port=0, auth=TEST_AUTH
    )
    node = Node(settings, voice=True)
    phones: list[Party] = []
    await node.start()
    context = await browser.new_context()
    try:
        await node.router.upsert_agent(Agent("ana", "default", {"booking": 2}, ["en"]))
        await node.sessions.save_user("ana", Role.AGENT, PASSWORD)
        phones.append(agent := await Party.start("--answer"))
        phones.append(caller := await Party.start())
        await context.add_init_script(RECORDER)
        page = await context.new_page()
        await page.goto(f"http://127.0.0.1:{node.http_port}/agent")
        await page.fill("#agent-id", "ana")
        await page.fill("#password", PASSWORD)
        await page.fill("#sip-uri", agent.uri)
        await page.check("#take-calls")
        await page.click("#sign-in")
        await page.click("#go-available")
        await expect(page.locator("#state")).to_have_attribute("data-state", "available")
        assert node.voice is not None
        contact_id = await call_agent(node.voice, node.router, caller, agent)
        panel = page.locator(f".conversation.voice[data-contact='{contact_id}']")
        await expect(panel.locator("button.pause-recording")).to_be_visible()
        yield Desk(node, page, contact_id, panel)
        caller.send(cmd="hangup")
        await expect(panel.locator("button.pause-recording")).to_be_hidden()
    finally:
        await context.close()
        for phone in phones:
            await phone.close()
        await node.stop()


async def audited(node: Node, contact_id: str, action: str) -> None:
    """Until the worker's audit of `action` on the contact reached the node's log."""
    reports = node.reports
    assert isinstance(reports, Reports)

    async def found() -> bool:
        return any(
            e.action == action and e.detail.get("contact_id") == contact_id
            for e in await reports.audit_log()
        )

    await until(found)


async def press(page: Page, button: Locator, action: str) -> Any:
    """The button pressed by keyboard (Enter); the API's answer to it (its JSON)."""
    await button.focus()
    async with page.expect_response(lambda r: r.url.endswith(f"/recording/{action}")) as info:
        await page.keyboard.press("Enter")
    return await (await info.value).json()


async def test_the_agent_pauses_and_resumes_the_recording_from_the_desk(
    redis_url: str, tmp_path: Path, browser: Browser
) -> None:
    async with desk_on_a_call(redis_url, tmp_path, browser) as desk:
        page, panel = desk.page, desk.panel
        button = panel.locator("button.pause-recording")
        error, note = panel.locator(".pause-error"), panel.locator(".recording-paused")
        await expect(button).to_have_text("Pause recording")
        await expect(button).not_to_have_attribute("aria-pressed", re.compile(".*"))
        await expect(button).to_have_attribute(
            "aria-describedby", await error.get_attribute("id") or ""
        )
        # Not recorded yet: the API's refusal, beside the button; nothing changes.
        body = await press(page, button, "pause")
        assert "the call is not being recorded" in body["message"]
        await expect(error).to_contain_text("the call is not being recorded")
        await expect(button).to_have_text("Pause recording")
        await expect(note).to_be_hidden()

        await panel.locator("button.record").click()
        await expect(panel).to_contain_text("This call is being recorded.")
        body = await press(page, button, "pause")
        assert (body["paused"], body["paused_by"]) == (True, "ana"), body
        await expect(button).to_have_text("Resume recording")
        await expect(button).not_to_have_attribute("aria-pressed", re.compile(".*"))
        await expect(button).to_be_focused()
        await expect(error).to_be_empty()
        await expect(note).to_have_text(re.compile(r"^Recording paused for 0:0\d$"))
        await audited(desk.node, desk.contact_id, "recording_paused")
        # The time since the pause goes on, seen; the pause was said once, the time never.
        first = await note.text_content()
        await expect(note).not_to_have_text(first or "")
        live = [entry["text"] for entry in await said(page)]
        assert live.count("Recording paused.") == 1, live
        assert not [text for text in live if "Recording paused for" in text], live

        # Reloaded during the pause: the desk reads it from the contact, not the 409.
        await page.reload()
        await expect(button).to_have_text("Resume recording")
        await expect(note).to_have_text(re.compile(r"^Recording paused for 0:\d\d$"))
        await expect(error).to_be_empty()

        body = await press(page, button, "resume")
        assert body["paused"] is False and [p["ended"] for p in body["pauses"]] == ["resumed"]
        await expect(button).to_have_text("Pause recording")
        await expect(button).not_to_have_attribute("aria-pressed", re.compile(".*"))
        await expect(note).to_be_hidden()
        await audited(desk.node, desk.contact_id, "recording_resumed")
        live = [entry["text"] for entry in await said(page)]
        assert live.count("Recording resumed.") == 1, live


async def test_a_pause_that_ended_by_itself_turns_the_button_back_with_no_press(
    redis_url: str, tmp_path: Path, browser: Browser
) -> None:
    """`[recording] pause_max_s` resumed the recording: the desk hears it (the router's
    `recording` event) and stops showing the pause at once — the caller is recorded
    again — saying "Recording resumed." once; the next press pauses again (the API lists
    the pause that ran out)."""
    async with desk_on_a_call(redis_url, tmp_path, browser, pause_max_s=1) as desk:
        page, panel = desk.page, desk.panel
        button = panel.locator("button.pause-recording")
        await panel.locator("button.record").click()
        await expect(panel).to_contain_text("This call is being recorded.")
        assert (await press(page, button, "pause"))["paused"] is True
        await audited(desk.node, desk.contact_id, "recording_pause_expired")
        await expect(button).to_have_text("Pause recording")  # nobody pressed
        await expect(button).not_to_have_attribute("aria-pressed", re.compile(".*"))
        await expect(panel.locator(".recording-paused")).to_be_hidden()
        await expect(panel.locator(".pause-error")).to_be_empty()
        await expect(panel.locator(".pause-news")).to_contain_text("Recording resumed.")
        live = [entry["text"] for entry in await said(page)]
        assert live.count("Recording resumed.") == 1, live
        body = await press(page, button, "pause")
        assert body["paused"] is True
        assert [p["ended"] for p in body["pauses"]] == ["pause_max_s"]
        await expect(button).to_have_text("Resume recording")
