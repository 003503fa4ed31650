"""Live calls steered over the node's HTTP API, with real SIP: a node with voice (one
worker process), pjsua2 phones in subprocesses, staff logged in with passwords.

A supervisor of the call's queue barges in from HTTP: their phone rings, hears both
sides and is heard by both; leaving hangs it up; each step is in the audit log. The agent
records the call from HTTP and the supervisor plays the file back (audited); another
queue's supervisor and the agent are refused.
"""

from __future__ import annotations

import dataclasses
import io
import wave
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from router.model import Role
from switchboard.node import Node
from switchboard.settings import RedisConfig, load_settings
from tests.nodes import TEST_AUTH, http_session, login

from .conftest import (
    NODE_CONFIG,
    add_agent,
    call_agent,
    free_udp_port,
    recorded,
    rtp_block,
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
            port=free_udp_port(), rtp_port_base=rtp_block(), cache=prompt_cache, outside_uri=""
        )
        + f'\n[recording]\ndirectory = "{tmp_path / "recordings"}"\n'
    )
    settings = dataclasses.replace(
        load_settings(config), redis=RedisConfig(url=redis_url), http_port=0, auth=TEST_AUTH
    )
    node = Node(settings, voice=True)
    await node.start()
    try:
        await node.sessions.save_user("ana", Role.AGENT, PASSWORD)
        await node.sessions.save_user("sue", Role.SUPERVISOR, PASSWORD, queues=("booking",))
        await node.sessions.save_user("gus", Role.SUPERVISOR, PASSWORD, queues=("general",))
        yield node
    finally:
        await node.stop()


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
    await add_agent(node.router, "ana", agent.uri, {"booking": 2})
    caller = await parties("--tone", str(caller_tone))
    contact_id = await call_agent(node.voice, node.router, caller, agent)
    supervisor = await parties("--answer", "--tone", str(supervisor_tone))
    path = f"/api/v1/contacts/{contact_id}"

    async with http_session(node) as http:
        ana = await login(http, "ana", PASSWORD)
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

    contact = await node.router.get_contact(contact_id)
    assert contact.state.value == "completed"
    entries = [
        e for e in await node.reports.audit_log() if e.detail.get("contact_id") == contact_id
    ]
    actions = [(e.actor, e.action) for e in reversed(entries)]  # oldest first
    assert ("sue", "monitor_started") in actions and ("sue", "monitor_ended") in actions
    assert ("sue", "contact.playback") in actions
    assert actions.index(("sue", "monitor_started")) < actions.index(("sue", "monitor_ended"))
    started_entry = next(e for e in entries if e.action == "monitor_started")
    assert started_entry.detail["mode"] == "barge" and started_entry.detail["agent_id"] == "ana"
