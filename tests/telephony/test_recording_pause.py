"""Pausing a call's recording while the caller gives card details (PCI DSS), with real SIP:
the WAV holds digital silence for the paused span, at its place in the call's timeline,
and the call's audio before and after; the pause is listed on the contact's recording
and audited; a transfer keeps it, the recording's end ends it, `[recording] pause_max_s`
ends a forgotten one; refusals are 409s naming the state; only the agent on the call may,
over HTTP as through `LiveCalls`."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from router.model import Agent, Presence, Role
from router.reports.service import Reports
from router.service import Router
from switchboard.http.api import API
from switchboard.http.openapi import document
from switchboard.node import Node
from switchboard.settings import RedisConfig, load_settings
from tests.nodes import TEST_AUTH, http_session, login

from .conftest import (
    NODE_CONFIG,
    _samples,
    add_agent,
    agent_talking,
    call_agent,
    free_sip_port,
    recorded,
    rtp_block,
    tone_share,
    until,
)
from .test_http_calls import sign_in
from .test_recording import finished, recording_section

CALLER, AGENT, COLLEAGUE = 600.0, 1000.0, 1500.0
RATE = 8000
FRAME = 160  # 20 ms: pjmedia's frame at 8 kHz
PASSWORD = "a-long-password"


def silent_spans(path: Path, least_s: float = 0.5) -> list[tuple[int, int]]:
    """The spans (first sample, end sample) of a WAV that are digital silence (every
    sample 0) for at least `least_s`: a pause. A call's tones are never 20 ms of zeros;
    the file's first moments are, while the legs' jitter buffers fill (any recording's
    first half second): a span from the first sample is not a pause."""
    samples, rate = _samples(path)
    assert rate == RATE
    frames = samples[: samples.size // FRAME * FRAME].reshape(-1, FRAME)
    silent = np.concatenate(([False], ~frames.any(axis=1), [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(silent))
    spans = [(int(a) * FRAME, int(b) * FRAME) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    return [(a, b) for a, b in spans if b - a >= least_s * RATE and a > 0]


def share(samples: Any, frequency: float) -> float:
    """Share of the energy of a stretch of samples near `frequency` (as `tone_share`)."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size))) ** 2
    freqs = np.fft.rfftfreq(samples.size, 1 / RATE)
    band = (freqs > frequency - 40) & (freqs < frequency + 40)
    return float(spectrum[band].sum() / spectrum.sum()) if spectrum.sum() else 0.0


async def audited(reports: Any, contact_id: str, *wanted: tuple[str, str]) -> list[Any]:
    """The contact's audit entries, oldest first, once those `wanted` are all there (the
    worker's reports cross its pipe to the node)."""
    assert isinstance(reports, Reports)

    async def entries() -> list[Any] | None:
        found = [e for e in await reports.audit_log() if e.detail.get("contact_id") == contact_id]
        actions = {(e.actor, e.action) for e in found}
        return found if set(wanted) <= actions else None

    return list(await until(entries))


async def test_a_paused_recording_holds_silence_for_the_pause_and_the_call_around_it(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    caller_tone: Path,
    tmp_path: Path,
) -> None:
    from telephony.service import CommandRefused

    directory = tmp_path / "recordings"
    voice = await node(extra=recording_section(directory, queues=["booking"], consent=False))
    agent, caller, contact_id = await agent_talking(
        voice, router, parties, tone_wav, "ana", "--tone", str(caller_tone)
    )

    async def refused_resume() -> str | None:
        """Why a resume is refused, once the recorder has started (it starts a moment
        after the bridge: before, the refusal is "not being recorded")."""
        try:
            await voice.resume_recording(contact_id, "ana")
        except CommandRefused as refused:
            return None if "not being recorded" in str(refused) else str(refused)
        raise AssertionError("a recording that is not paused was resumed")

    assert "it is not paused" in await until(refused_resume)
    await asyncio.sleep(1.5)  # recorded: both tones
    paused = await voice.pause_recording(contact_id, "ana")
    assert paused["paused_by"] == "ana" and paused["paused_since_ms"] > 0
    assert paused["file"] == f"{contact_id}.wav" and paused["pauses"] == []
    # The contact shows the pause (the desk reads it after a reload), until the resume.
    assert (await router.get_contact(contact_id)).recording_paused_since == paused[
        "paused_since_ms"
    ]
    with pytest.raises(CommandRefused, match="already paused \\(by ana since"):
        await voice.pause_recording(contact_id, "ana")
    # The call goes on: the agent hears the caller's 600 Hz (the card number) meanwhile.
    heard = await recorded(agent, tmp_path / "agent-while-paused.wav")
    assert tone_share(heard, CALLER, last_s=1.5) > 0.2
    resumed = await voice.resume_recording(contact_id, "ana")
    assert (resumed["paused_since_ms"], resumed["paused_by"]) == (0, "")
    [pause] = resumed["pauses"]
    assert (pause["by"], pause["ended"], pause["resumed_by"]) == ("ana", "resumed", "ana")
    assert (await router.get_contact(contact_id)).recording_paused_since == 0
    await asyncio.sleep(1.5)  # recorded again
    caller.send(cmd="hangup")

    contact = await until(lambda: finished(router, contact_id))
    (entry,) = contact.recordings
    assert entry["pauses"] == [pause]
    path = voice.recording_file(entry["file"])
    samples, _ = _samples(path)
    [(start, end)] = silent_spans(path)
    paused_s = (pause["ended_ms"] - pause["started_ms"]) / 1000
    assert paused_s >= 2.0  # the agent's phone was recorded for 2 s meanwhile
    # The silence lasts the pause, where the pause was in the call: the file's timeline
    # is the call's (a QA listener finds the gap at the listed time).
    assert abs((end - start) / RATE - paused_s) < 0.4
    assert abs(start / RATE - (pause["started_ms"] - entry["started_ms"]) / 1000) < 0.5
    before, after = samples[max(0, start - RATE) : start], samples[end : end + RATE]
    assert before.size == after.size == RATE
    for stretch in (before, after):  # both sides, before and after the pause
        assert share(stretch, CALLER) > 0.2 and share(stretch, AGENT) > 0.2

    entries = await audited(
        voice.audit, contact_id, ("ana", "recording_paused"), ("ana", "recording_resumed")
    )
    actions = [e.action for e in entries if e.action.startswith("recording_")]
    assert actions == ["recording_paused", "recording_resumed"]
    assert entries[0].detail["file"] == entry["file"]


async def test_a_transfer_keeps_the_pause_and_the_end_of_the_recording_ends_it(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    colleague_tone: Path,
    caller_tone: Path,
    tmp_path: Path,
) -> None:
    """Paused, ana consults gina and hands the caller over: gina's voice does not reach
    the file until gina resumes; gina pauses again and the caller hangs up while paused."""
    voice = await node(extra=recording_section(tmp_path / "rec", queues=["booking"], consent=False))
    ana = await parties("--answer", "--tone", str(tone_wav))
    await add_agent(router, "ana", ana.uri, {"booking": 2})
    gina = await parties("--answer", "--tone", str(colleague_tone))
    await add_agent(router, "gina", gina.uri, {"booking": 2})
    caller = await parties("--tone", str(caller_tone))
    await router.set_presence("gina", Presence.NOT_READY)  # the caller goes to ana
    contact_id = await call_agent(voice, router, caller, ana)
    await router.set_presence("gina", Presence.AVAILABLE)

    await asyncio.sleep(1.0)
    await voice.pause_recording(contact_id, "ana")
    assert await voice.transfer(contact_id, "agent:gina", warm=True) == "held"
    await gina.wait_for("answered", timeout=20)
    await router.set_presence("ana", Presence.NOT_READY)
    await voice.complete_transfer(contact_id)
    await ana.wait_for("hangup", timeout=15)
    with_gina = await recorded(caller, tmp_path / "caller-gina.wav")  # gina talks, paused
    assert tone_share(with_gina, COLLEAGUE, last_s=1.5) > 0.2
    with pytest.raises(Exception, match="already paused \\(by ana"):
        await voice.pause_recording(contact_id, "gina")  # still paused after the transfer
    resumed = await voice.resume_recording(contact_id, "gina")
    assert resumed["pauses"][0]["resumed_by"] == "gina"
    await asyncio.sleep(1.5)  # gina and the caller, recorded
    await voice.pause_recording(contact_id, "gina")
    assert (await router.get_contact(contact_id)).recording_paused_since > 0
    await asyncio.sleep(1.0)
    caller.send(cmd="hangup")

    contact = await until(lambda: finished(router, contact_id))
    (entry,) = contact.recordings
    first, last = entry["pauses"]
    assert (first["by"], first["ended"], first["resumed_by"]) == ("ana", "resumed", "gina")
    assert (last["by"], last["ended"], last["resumed_by"]) == ("gina", "recording_ended", "")
    assert contact.recording_paused_since == 0  # the pause ended with the recording
    assert last["ended_ms"] <= entry["ended_ms"]
    path = voice.recording_file(entry["file"])
    samples, _ = _samples(path)
    (a, b), (c, d) = silent_spans(path)
    # The transfer, silent; gina recorded after her resume; silence to the file's end.
    assert (b - a) / RATE > 2.0 and samples.size - d < 0.1 * RATE
    assert share(samples[b:c], COLLEAGUE) > 0.2 and share(samples[b:c], CALLER) > 0.2
    assert share(samples[:a], COLLEAGUE) < 0.05  # gina was never heard before it
    await audited(
        voice.audit,
        contact_id,
        ("ana", "recording_paused"),
        ("gina", "recording_resumed"),
        ("gina", "recording_paused"),
    )


async def _not_paused(router: Router, contact_id: str) -> bool:
    return (await router.get_contact(contact_id)).recording_paused_since == 0


async def test_a_pause_left_on_longer_than_pause_max_s_resumes_by_itself(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    caller_tone: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from telephony.service import CommandRefused

    settings = recording_section(tmp_path / "rec", queues=["booking"], consent=False)
    voice = await node(extra=settings + "pause_max_s = 1\n")
    _, caller, contact_id = await agent_talking(
        voice, router, parties, tone_wav, "ana", "--tone", str(caller_tone)
    )
    await asyncio.sleep(1.0)
    await voice.pause_recording(contact_id, "ana")
    await audited(voice.audit, contact_id, ("ana", "recording_pause_expired"))
    # The contact no longer shows the pause: recorded again, the desk must not say paused.
    await until(lambda: _not_paused(router, contact_id))
    with pytest.raises(CommandRefused, match="it is not paused"):
        await voice.resume_recording(contact_id, "ana")
    await asyncio.sleep(1.5)  # recorded again
    caller.send(cmd="hangup")

    contact = await until(lambda: finished(router, contact_id))
    (entry,) = contact.recordings
    [pause] = entry["pauses"]
    assert (pause["ended"], pause["resumed_by"]) == ("pause_max_s", "")
    path = voice.recording_file(entry["file"])
    samples, _ = _samples(path)
    [(start, end)] = silent_spans(path)
    assert 0.8 < (end - start) / RATE < 1.6  # about pause_max_s
    assert share(samples[end : end + RATE], CALLER) > 0.2


@pytest.fixture
async def voice_node(redis_url: str, tmp_path: Path, prompt_cache: Path) -> AsyncIterator[Node]:
    """A node with voice (one worker process), recording per call only, and its staff."""
    config = tmp_path / "node.toml"
    config.write_text(
        NODE_CONFIG.format(
            port=free_sip_port(), rtp_port_base=rtp_block(), cache=prompt_cache, outside_uri=""
        )
        + recording_section(tmp_path / "recordings", consent=False)
    )
    settings = dataclasses.replace(
        load_settings(config), redis=RedisConfig(url=redis_url), http_port=0, auth=TEST_AUTH
    )
    node = Node(settings, voice=True)
    await node.start()
    try:
        await node.router.upsert_agent(Agent("bob", "default", {"booking": 2}, ["en"]))
        for user_id, role, scope in (
            ("bob", Role.AGENT, {}),
            ("sue", Role.SUPERVISOR, {"queues": ("booking",)}),
            ("adm", Role.ADMIN, {}),
            ("pia", Role.PLANNER, {}),
        ):
            await node.sessions.save_user(user_id, role, PASSWORD, **scope)
        yield node
    finally:
        await node.stop()


async def test_the_agent_pauses_and_resumes_over_http_and_nobody_else_may(
    voice_node: Node,
    parties: Callable[..., Any],
    tone_wav: Path,
    caller_tone: Path,
) -> None:
    node = voice_node
    agent = await parties("--answer", "--tone", str(tone_wav))
    caller = await parties("--tone", str(caller_tone))
    async with http_session(node) as http:
        ana = await sign_in(node, http, "ana", agent, {"booking": 2})
        contact_id = await call_agent(node.voice, node.router, caller, agent)
        path = f"/api/v1/contacts/{contact_id}/recording"
        others = [await login(http, user, PASSWORD) for user in ("bob", "sue", "adm", "pia")]

        async def post(action: str, headers: dict[str, str] | None) -> tuple[int, Any]:
            response = await http.post(f"{path}/{action}", headers=headers)
            return response.status, await response.json()

        status, body = await post("pause", ana)  # not recorded yet
        assert status == 409 and "the call is not being recorded" in body["message"]
        assert (await http.post(path, headers=ana)).status == 201
        for action in ("pause", "resume"):
            for headers in others:  # another agent, supervisors of the queue, a planner
                assert (await post(action, headers))[0] == 403
            assert (await post(action, None))[0] == 401

        status, body = await post("pause", ana)
        assert status == 200, body
        assert (body["paused"], body["paused_by"], body["pauses"]) == (True, "ana", [])
        assert body["file"] == f"{contact_id}.wav" and body["paused_since"]
        status, body = await post("pause", ana)
        assert status == 409 and "already paused" in body["message"]
        status, body = await post("resume", ana)
        assert status == 200, body
        assert (body["paused"], body["paused_since"]) == (False, None)
        [pause] = body["pauses"]
        assert (pause["by"], pause["ended"], pause["resumed_by"]) == ("ana", "resumed", "ana")
        assert pause["started_at"] <= pause["ended_at"]
        status, body = await post("resume", ana)
        assert status == 409 and "it is not paused" in body["message"]

        caller.send(cmd="hangup")
        contact = await until(lambda: finished(node.router, contact_id))
        # The queue's supervisor reads the pause on the contact (where QA hears the gap).
        read = await http.get(f"/api/v1/contacts/{contact_id}", headers=others[1])
        [recording] = (await read.json())["recordings"]
        assert recording["pauses"] == [
            {k: pause[k] for k in ("started_at", "ended_at", "by", "ended", "resumed_by")}
        ]
    [entry] = contact.recordings
    assert [p["by"] for p in entry["pauses"]] == ["ana"]
    entries = await audited(
        node.reports, contact_id, ("ana", "recording_paused"), ("ana", "recording_resumed")
    )
    assert all(e.actor == "ana" for e in entries if e.action.startswith("recording_"))


def test_the_openapi_document_has_the_pause_and_resume_routes() -> None:
    paths = document(API.operations)["paths"]
    for action in ("pause", "resume"):
        operation = paths[f"/api/v1/contacts/{{contact_id}}/recording/{action}"]["post"]
        assert {"200", "401", "403", "409"} <= set(operation["responses"])
