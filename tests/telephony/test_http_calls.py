"""Live calls steered over the node's HTTP API, with real SIP: a node with voice (one
worker process), pjsua2 phones in subprocesses, staff logged in with passwords.

A supervisor of the call's queue barges in from HTTP: their phone rings, hears both
sides and is heard by both; leaving hangs it up; each step is in the audit log. The agent
records the call from HTTP and the supervisor plays the file back (audited); another
queue's supervisor and the agent are refused. The agent holds the caller from HTTP.
"""

from __future__ import annotations

import dataclasses
import io
import wave
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import async_playwright, expect

from router.model import Agent, Presence, Role
from switchboard.node import Node
from switchboard.settings import RedisConfig, load_settings
from tests.nodes import TEST_AUTH, http_session, login
from tests.web.conftest import CHROMIUM, FLAGS

from .conftest import (
    NODE_CONFIG,
    call_agent,
    free_sip_port,
    music_share,
    recorded,
    rtp_block,
    terminal,
    tone_share,
    until,
)

CALLER, AGENT, SUPERVISOR = 600.0, 1000.0, 2200.0
HEARS = 0.15
PASSWORD = "a-long-password"


@pytest.fixture
async def voice_node(redis_url: str, tmp_path: Path, prompt_cache: Path) -> AsyncIterator[Node]:
    config = tmp_path / "node.toml"
    config.write_text(
        NODE_CONFIG.format(
            port=free_sip_port(), rtp_port_base=rtp_block(), cache=prompt_cache, outside_uri=""
        )
        + f'\n[recording]\ndirectory = "{tmp_path / "recordings"}"\n'
    )
    settings = dataclasses.replace(
        load_settings(config), redis=RedisConfig(url=redis_url), http_port=0, auth=TEST_AUTH
    )
    node = Node(settings, voice=True)
    await node.start()
    try:
        await node.sessions.save_user("sue", Role.SUPERVISOR, PASSWORD, queues=("booking",))
        await node.sessions.save_user("gus", Role.SUPERVISOR, PASSWORD, queues=("general",))
        yield node
    finally:
        await node.stop()


async def sign_in(
    node: Node, http: Any, agent_id: str, phone: Any, skills: dict[str, int]
) -> dict[str, str]:
    """The agent logs in over HTTP with their softphone, as the desktop does; available."""
    await node.router.upsert_agent(
        Agent(agent_id=agent_id, region="default", skills=skills, languages=["en"])
    )
    await node.sessions.save_user(agent_id, Role.AGENT, PASSWORD)
    response = await http.post(
        "/api/v1/agents/login",
        json={
            "agent_id": agent_id,
            "password": PASSWORD,
            "sip_uri": phone.uri,
            "channels": {"voice": 1},
        },
    )
    assert response.status == 200, await response.text()
    await node.router.set_presence(agent_id, Presence.AVAILABLE)
    return {"Authorization": f"Bearer {(await response.json())['token']}"}


async def test_a_supervisor_barges_in_from_http_and_plays_the_agents_recording_back(
    voice_node: Node,
    parties: Callable[..., Any],
    tone_wav: Path,
    caller_tone: Path,
    supervisor_tone: Path,
    tmp_path: Path,
) -> None:
    node = voice_node
    agent = await parties("--answer", "--tone", str(tone_wav))
    caller = await parties("--tone", str(caller_tone))
    supervisor = await parties("--answer", "--tone", str(supervisor_tone))

    async with http_session(node) as http:
        ana = await sign_in(node, http, "ana", agent, {"booking": 2})
        contact_id = await call_agent(node.voice, node.router, caller, agent)
        path = f"/api/v1/contacts/{contact_id}"
        sue = await login(http, "sue", PASSWORD)
        gus = await login(http, "gus", PASSWORD)
        join = {"mode": "barge", "phone": supervisor.uri}

        refused = await http.put(f"{path}/monitor", json=join, headers=gus)  # another queue
        assert refused.status == 403
        refused = await http.put(f"{path}/monitor", json=join, headers=ana)  # agents may not
        assert refused.status == 403
        refused = await http.post(f"{path}/recording", headers=sue)  # the agent records
        assert refused.status == 403

        started = await http.post(f"{path}/recording", headers=ana)
        assert started.status == 201, await started.text()
        assert (await started.json())["file"] == f"{contact_id}.wav"

        joined = await http.put(f"{path}/monitor", json=join, headers=sue)
        assert joined.status == 200, await joined.text()
        await supervisor.wait_for("answered", timeout=20)
        heard = await recorded(supervisor, tmp_path / "supervisor.wav")
        assert tone_share(heard, CALLER, last_s=1.5) > HEARS
        assert tone_share(heard, AGENT, last_s=1.5) > HEARS
        at_caller = await recorded(caller, tmp_path / "caller.wav")
        assert tone_share(at_caller, SUPERVISOR, last_s=1.5) > HEARS  # barge: both hear

        left = await http.delete(f"{path}/monitor", headers=sue)
        assert left.status == 200, await left.text()
        await supervisor.wait_for("hangup", timeout=15)
        again = await http.delete(f"{path}/monitor", headers=sue)
        assert again.status == 409  # no longer on the call

        agent.send(cmd="hangup")
        await caller.wait_for("hangup", timeout=20)

        async def listed() -> bool:
            return bool((await node.router.get_contact(contact_id)).recordings)

        await until(listed)
        assert (await http.get(f"{path}/recording", headers=ana)).status == 403
        assert (await http.get(f"{path}/recording", headers=gus)).status == 403
        played = await http.get(f"{path}/recording", headers=sue)
        assert played.status == 200, await played.text()
        assert played.content_type == "audio/wav"
        with wave.open(io.BytesIO(await played.read())) as wav:
            assert wav.getframerate() == 8000 and wav.getnframes() > 8000
            seconds = wav.getnframes() / wav.getframerate()
        if CHROMIUM.exists():  # and from the wallboard, as a supervisor does it
            await play_on_the_wallboard(node, contact_id, seconds)

    contact = await node.router.get_contact(contact_id)
    assert contact.state.value == "completed"
    entries = [
        e for e in await node.reports.audit_log() if e.detail.get("contact_id") == contact_id
    ]
    actions = [(e.actor, e.action) for e in entries]  # oldest first
    assert ("sue", "monitor_started") in actions and ("sue", "monitor_ended") in actions
    assert actions.count(("sue", "contact.playback")) == (2 if CHROMIUM.exists() else 1)
    assert actions.index(("sue", "monitor_started")) < actions.index(("sue", "monitor_ended"))
    started_entry = next(e for e in entries if e.action == "monitor_started")
    assert started_entry.detail["mode"] == "barge" and started_entry.detail["agent_id"] == "ana"


async def test_the_agent_holds_the_caller_from_the_desktop(
    voice_node: Node,
    parties: Callable[..., Any],
    tone_wav: Path,
    caller_tone: Path,
    tmp_path: Path,
) -> None:
    """PUT …/hold: the caller hears the music, the agent's phone (still up) no longer hears
    the caller, the contact shows the hold; DELETE: the two talk again; the contact ends
    completed with the hold on its record. Only the agent on the call may hold it."""
    node = voice_node
    agent = await parties("--answer", "--tone", str(tone_wav))
    caller = await parties("--tone", str(caller_tone))
    async with http_session(node) as http:
        ana = await sign_in(node, http, "ana", agent, {"booking": 2})
        contact_id = await call_agent(node.voice, node.router, caller, agent)
        path = f"/api/v1/contacts/{contact_id}/hold"
        sue = await login(http, "sue", PASSWORD)
        assert (await http.put(path, headers=sue)).status == 403  # the agent holds

        held = await http.put(path, headers=ana)
        assert held.status == 200, await held.text()
        body = await held.json()
        assert body["call_state"] == "held" and body["on_hold_since"]
        at_caller = await recorded(caller, tmp_path / "caller-held.wav")
        assert music_share(at_caller) > 0.5
        assert tone_share(at_caller, AGENT, last_s=1.5) < 0.1
        at_agent = await recorded(agent, tmp_path / "agent-held.wav")
        assert tone_share(at_agent, CALLER, last_s=1.5) < 0.1  # the caller is not overheard

        resumed = await http.delete(path, headers=ana)
        assert resumed.status == 200, await resumed.text()
        assert (await resumed.json())["call_state"] == "talking"
        at_caller = await recorded(caller, tmp_path / "caller-resumed.wav")
        assert tone_share(at_caller, AGENT, last_s=1.5) > HEARS
        assert music_share(at_caller) < 0.1
        at_agent = await recorded(agent, tmp_path / "agent-resumed.wav")
        assert tone_share(at_agent, CALLER, last_s=1.5) > HEARS

        caller.send(cmd="hangup")
        contact = await until(lambda: terminal(node.router, contact_id))
    assert (contact.state.value, contact.agent_id, contact.on_hold_since) == ("completed", "ana", 0)
    [hold] = contact.holds
    assert hold["agent"] == "ana" and 1.5 <= hold["held_ms"] / 1000 < 20


async def play_on_the_wallboard(node: Node, contact_id: str, seconds: float) -> None:
    """The supervisor looks the contact up on the wallboard and plays its recording."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=FLAGS
        )
        try:
            page = await browser.new_page()
            await page.goto(f"http://127.0.0.1:{node.http_port}/wallboard")
            await page.fill("#user", "sue")
            await page.fill("#password", PASSWORD)
            await page.click("#sign-in")
            await page.fill("#sv-contact", contact_id)
            await page.get_by_role("button", name="Look up").click()
            summary = page.locator("#sv-found-summary")
            await expect(summary).to_contain_text("voice in booking, completed")
            await expect(summary).to_contain_text("agent ana, 1 recording(s)")
            await page.click("#sv-play")
            await expect(page.locator("#sv-audio")).to_be_visible()
            duration = await page.wait_for_function(
                "() => document.getElementById('sv-audio').duration"
            )
            assert abs(await duration.json_value() - seconds) < 0.5
            await page.fill("#sv-contact", "no-such-contact")
            await page.get_by_role("button", name="Look up").click()
            await expect(page.locator("#sv-message")).not_to_be_empty()
            await expect(page.locator("#sv-found")).to_be_hidden()
        finally:
            await browser.close()


async def test_the_agent_consults_a_colleague_over_http_returns_then_hands_the_caller_over(
    voice_node: Node,
    parties: Callable[..., Any],
    tone_wav: Path,
    colleague_tone: Path,
    tmp_path: Path,
) -> None:
    node = voice_node
    ana_phone = await parties("--answer", "--tone", str(tone_wav))
    gina_phone = await parties("--answer", "--tone", str(colleague_tone))
    caller = await parties()

    async with http_session(node) as http:
        ana = await sign_in(node, http, "ana", ana_phone, {"booking": 2})
        gina = await sign_in(node, http, "gina", gina_phone, {"booking": 2})
        await node.router.set_presence("gina", Presence.NOT_READY)  # the caller goes to ana
        contact_id = await call_agent(node.voice, node.router, caller, ana_phone)
        await node.router.set_presence("gina", Presence.AVAILABLE)
        path = f"/api/v1/contacts/{contact_id}"
        consult = {"agent": "gina", "warm": True}
        refused = await http.post(f"{path}/transfer", json=consult, headers=gina)
        assert refused.status == 403  # not her call
        wrong = await http.post(f"{path}/transfer", json={"agent": "gina", "queue": "general"})
        assert wrong.status == 401
        both = await http.post(
            f"{path}/transfer", json={"agent": "gina", "queue": "general"}, headers=ana
        )
        assert both.status == 400 and (await both.json())["field"] == "$"

        held = await http.post(f"{path}/transfer", json=consult, headers=ana)
        assert held.status == 200, await held.text()
        assert (await held.json())["call_state"] == "held"
        await gina_phone.wait_for("answered", timeout=20)
        back = await http.post(f"{path}/transfer/return", headers=ana)
        assert (back.status, (await back.json())["call_state"]) == (200, "talking")
        await gina_phone.wait_for("hangup", timeout=15)
        again = await recorded(caller, tmp_path / "back.wav")
        assert tone_share(again, AGENT, last_s=1.5) > HEARS  # ana again

        held = await http.post(f"{path}/transfer", json=consult, headers=ana)
        assert held.status == 200, await held.text()
        await until(lambda: sum(e["type"] == "answered" for e in gina_phone.events) == 2)
        await node.router.set_presence("ana", Presence.NOT_READY)
        done = await http.post(f"{path}/transfer/finish", headers=ana)
        assert done.status == 200, await done.text()
        await ana_phone.wait_for("hangup", timeout=15)
        joined = await recorded(caller, tmp_path / "joined.wav")
        assert tone_share(joined, 1500.0, last_s=1.5) > HEARS  # gina now

    caller.send(cmd="hangup")

    contact = await until(lambda: terminal(node.router, contact_id))
    assert (contact.state.value, contact.agent_id) == ("completed", "gina")
    assert [t["outcome"] for t in contact.transfers] == ["returned", "completed"]
    assert contact.agent_chain == ["ana", "gina"]
