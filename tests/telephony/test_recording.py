"""Call recording with real SIP: both sides in one file named by the contact, listed on the
contact; per queue and per call; the consent prompt in the caller's language; a disk that
cannot take it never costs the call; retention."""

from __future__ import annotations

import asyncio
import json
import os
import time
import wave
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from router.service import Router
from telephony.calls import VoiceCalls
from telephony.model import Prompt, RecordingConfig

from .conftest import (
    agent_talking,
    running_worker,
    terminal,
    tone_share,
    until,
)


def recording_section(directory: Path, **settings: Any) -> str:
    """`[recording]` as TOML (strings, lists of strings, booleans and numbers)."""
    values = {"directory": str(directory), **settings}
    lines = [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    return "\n[recording]\n" + "\n".join(lines) + "\n"


async def finished(router: Router, contact_id: str) -> Any:
    contact = await router.get_contact(contact_id)
    return contact if contact.is_terminal and contact.recordings else None


def seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as handle:
        assert (handle.getframerate(), handle.getnchannels(), handle.getsampwidth()) == (8000, 1, 2)
        return handle.getnframes() / 8000


async def test_a_recorded_queues_call_holds_the_agent_and_the_caller(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    caller_tone: Path,
    tmp_path: Path,
) -> None:
    directory = tmp_path / "recordings"
    voice = await node(extra=recording_section(directory, queues=["booking"]))
    _, caller, contact_id = await agent_talking(
        voice, router, parties, tone_wav, "ana", "--tone", str(caller_tone)
    )
    await asyncio.sleep(3.0)
    caller.send(cmd="hangup")
    contact = await until(lambda: finished(router, contact_id))
    (entry,) = contact.recordings
    assert entry["file"] == f"{contact_id}.wav" and entry["reason"] == "queue"
    assert entry["ended_ms"] - entry["started_ms"] >= 2500
    path = voice.recording_file(entry["file"])
    assert path.parent == directory and seconds(path) >= 2.5
    # Both legs mixed: the agent's 1 kHz and the caller's 600 Hz, each a good share.
    assert tone_share(path, 1000.0, last_s=2) > 0.2
    assert tone_share(path, 600.0, last_s=2) > 0.2


async def test_an_agent_records_one_call_and_a_call_without_room_goes_on_unrecorded(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    caller_tone: Path,
    tmp_path: Path,
) -> None:
    from telephony.service import CommandRefused

    directory = tmp_path / "recordings"
    voice = await node(extra=recording_section(directory, consent=False))
    agent, caller, contact_id = await agent_talking(
        voice,
        router,
        parties,
        tone_wav,
        "ana",
        "--tone",
        str(caller_tone),
        skills={"booking": 2, "baggage": 2},
    )
    assert await voice.record(contact_id) == f"{contact_id}.wav"
    await asyncio.sleep(2.5)
    agent.send(cmd="hangup")
    contact = await until(lambda: finished(router, contact_id))
    assert contact.recordings[0]["reason"] == "agent"
    path = voice.recording_file(contact.recordings[0]["file"])
    assert tone_share(path, 1000.0, last_s=2) > 0.2 and tone_share(path, 600.0, last_s=2) > 0.2

    # The same node with a disk that "cannot take it": refused, and the call is unharmed.
    full = await node(
        extra=recording_section(tmp_path / "full", queues=["baggage"], min_free_mb=10**9)
    )
    caller = await parties("--tone", str(caller_tone))
    caller.send(cmd="call", uri=f"sip:1000@127.0.0.1:{full.sip.port}")
    await caller.wait_for("media", timeout=20)
    caller.send(cmd="dtmf", digits="2")  # baggage: a recorded queue
    contact_id = await until(lambda: next(iter(full.pool.owner), None))
    await until(lambda: _connected(router, contact_id))
    with pytest.raises(CommandRefused, match="could not be started"):
        await full.record(contact_id)
    caller.send(cmd="hangup")
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.recordings) == ("completed", [])
    assert not (tmp_path / "full").exists() or not any((tmp_path / "full").iterdir())


async def _connected(router: Router, contact_id: str) -> bool:
    return (await router.get_contact(contact_id)).state.value == "connected"


async def test_recordings_past_their_retention_are_deleted_by_the_node(
    node: Callable[..., Any], tmp_path: Path
) -> None:
    directory = tmp_path / "recordings"
    directory.mkdir()
    old, new = directory / "old.wav", directory / "new.wav"
    for path in (old, new):
        path.write_bytes(b"RIFF")
    long_ago = time.time() - 40 * 86_400
    os.utime(old, (long_ago, long_ago))
    await node(extra=recording_section(directory, retention_days=30))
    await until(lambda: not old.exists())
    assert new.exists()


@pytest.fixture
async def consent_worker(
    router: Router, prompt_cache: Path, tmp_path: Path
) -> AsyncIterator[VoiceCalls]:
    recording = RecordingConfig(directory=str(tmp_path / "rec"), queues=("baggage",))
    async with running_worker(router, prompt_cache, recording=recording) as calls:
        yield calls  # the flow speaks English and French


async def test_a_recorded_queue_tells_the_caller_first_in_the_callers_language(
    consent_worker: VoiceCalls, parties: Callable[..., Any]
) -> None:
    caller = await parties()
    caller.send(cmd="call", uri=f"sip:1000@127.0.0.1:{consent_worker.engine.config.sip_port}")
    await caller.wait_for("media")
    caller.send(cmd="dtmf", digits="22")  # French, baggage (recorded)
    call = await until(lambda: next(iter(consent_worker.by_contact.values()), None))
    renderer = consent_worker.voice.prompter.prompts
    consent = renderer.path(Prompt("recording.consent", "fr"))
    await until(lambda: consent in call.heard)
    queued = renderer.path(Prompt("ivr.queued", "fr"))
    assert call.heard.index(queued) < call.heard.index(consent)  # after "please hold"
