"""A recorded call sent back to a queue (a blind transfer to a queue, a warm transfer the
agent left unanswered) whose caller hangs up while waiting, with real SIP: the recording
ends with the call all the same, listed once on the contact (with the reason it was
started for, and a pause still on ended `recording_ended`), its WAV closed (the header's
length is the file's, and the call's), and the worker keeps nothing of it."""

from __future__ import annotations

import asyncio
import struct
import wave
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from router.model import Presence
from router.service import Router
from telephony.calls import VoiceCalls
from telephony.calls.call import Call, CallState
from telephony.model import RecordingConfig

from .conftest import add_agent, running_worker, until


@pytest.fixture
async def worker(
    router: Router,
    prompt_cache: Path,
    tmp_path: Path,
    node_events: Callable[[Any], None],
) -> AsyncIterator[VoiceCalls]:
    """A worker recording every `booking` call (no consent prompt: the agent answers at
    once), fed the router's offers."""
    recording = RecordingConfig(
        directory=str(tmp_path / "recordings"), queues=("booking",), consent=False
    )
    async with running_worker(router, prompt_cache, recording=recording) as calls:
        node_events(calls.handle_router_event)
        yield calls


async def recorded_call(
    worker: VoiceCalls, router: Router, parties: Callable[..., Any], tone_wav: Path
) -> tuple[Any, Any, Call]:
    """(ana's phone, the caller, the call) once ana talks to the caller, recorded."""
    ana = await parties("--answer", "--tone", str(tone_wav))
    await add_agent(router, "ana", ana.uri, {"booking": 2})
    caller = await parties("--tone", str(tone_wav))
    caller.send(cmd="call", uri=f"sip:1000@127.0.0.1:{worker.engine.config.sip_port}")
    await caller.wait_for("media")
    caller.send(cmd="dtmf", digits="11")  # English, booking (recorded)
    await ana.wait_for("answered", timeout=20)
    call = await until(
        lambda: next(
            (c for c in worker.by_contact.values() if c.state == CallState.TALKING and c.recorder),
            None,
        )
    )
    return ana, caller, call


async def listed(router: Router, contact_id: str) -> Any:
    contact = await router.get_contact(contact_id)
    return contact if contact.is_terminal and contact.recordings else None


def data_bytes(path: Path) -> tuple[int, int]:
    """(the length a WAV's header gives its data, the data the file holds): equal once
    the recorder closed the file (pjmedia writes the lengths at the close only)."""
    raw = path.read_bytes()
    at = raw.index(b"data") + 4
    (length,) = struct.unpack("<I", raw[at : at + 4])
    return length, len(raw) - (at + 4)


async def assert_ended_once(
    worker: VoiceCalls, router: Router, call: Call, directory: Path
) -> dict[str, Any]:
    """The contact's one recording, checked: listed with its end and reason, its file
    closed and as long as the call, nothing of it left on the worker."""
    contact = await until(lambda: listed(router, call.contact_id))
    # Answered once, the caller's leaving ends it completed (the router's rule), not abandoned.
    assert contact.state.value == "completed"
    (entry,) = contact.recordings
    assert entry["file"] == f"{call.contact_id}.wav"
    assert entry["reason"] == "queue"  # started for booking, though it left booking
    assert entry["ended_ms"] > entry["started_ms"] > 0
    path = directory / entry["file"]
    length, held = data_bytes(path)
    assert length == held > 0
    with wave.open(str(path), "rb") as handle:
        assert (handle.getframerate(), handle.getnchannels(), handle.getsampwidth()) == (8000, 1, 2)
        file_s = handle.getnframes() / 8000
    assert abs(file_s - (entry["ended_ms"] - entry["started_ms"]) / 1000) < 0.5
    assert call.recorder is None
    assert worker.voice.recording.kept() == set()
    await asyncio.sleep(0.5)  # a second listing would come now (the caller's hang-up)
    assert len((await router.get_contact(call.contact_id)).recordings) == 1
    return entry


async def test_a_recording_blindly_transferred_to_a_queue_ends_when_the_caller_hangs_up_there(
    worker: VoiceCalls,
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    tmp_path: Path,
) -> None:
    ana, caller, call = await recorded_call(worker, router, parties, tone_wav)
    await asyncio.sleep(1.5)
    # Nobody takes baggage: the caller waits there, still recorded (the same file).
    await worker.handle_command(
        "transfer", {"contact_id": call.contact_id, "target": "queue:baggage"}
    )
    await ana.wait_for("hangup", timeout=15)
    assert call.state == CallState.QUEUED and call.recorder is not None
    await asyncio.sleep(1.5)
    caller.send(cmd="hangup")

    entry = await assert_ended_once(worker, router, call, tmp_path / "recordings")
    assert entry["pauses"] == []
    assert (entry["ended_ms"] - entry["started_ms"]) / 1000 > 2.5  # the queue's wait too


async def test_a_paused_recording_requeued_by_an_unanswered_warm_transfer_ends_with_the_caller(
    worker: VoiceCalls,
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    tmp_path: Path,
) -> None:
    """ana pauses (card details), consults gina, whose phone rings on, and hangs up: the
    caller goes back to booking and hangs up there; the pause ends with the recording."""
    ana, caller, call = await recorded_call(worker, router, parties, tone_wav)
    gina = await parties()  # rings, never answers
    await add_agent(router, "gina", gina.uri, {"baggage": 2})  # not offered booking
    await asyncio.sleep(1.0)
    paused = await worker.handle_command(
        "recording_pause", {"contact_id": call.contact_id, "by": "ana"}
    )
    assert paused["paused_by"] == "ana"
    await worker.handle_command(
        "transfer", {"contact_id": call.contact_id, "target": "agent:gina", "warm": True}
    )
    await gina.wait_for("incoming", timeout=15)
    await router.set_presence("ana", Presence.NOT_READY)  # the requeued caller waits
    ana.send(cmd="hangup")
    await until(lambda: call.state == CallState.QUEUED)
    assert call.recorder is not None
    await asyncio.sleep(1.0)
    caller.send(cmd="hangup")

    entry = await assert_ended_once(worker, router, call, tmp_path / "recordings")
    (pause,) = entry["pauses"]
    assert (pause["by"], pause["ended"], pause["resumed_by"]) == ("ana", "recording_ended", "")
    assert paused["paused_since_ms"] == pause["started_ms"] < pause["ended_ms"] <= entry["ended_ms"]
