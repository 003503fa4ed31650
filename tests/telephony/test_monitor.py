"""Supervisors on a live call with real SIP: the supervisor's phone joins the worker's
conference bridge; which party hears the supervisor's tone tells listen, whisper and barge
apart. Every start, change and end is in the audit log."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from router.reports.service import Reports
from router.reports.store import RecordStore
from router.service import Router

from .conftest import agent_talking, recorded, tone_share, until

CALLER, AGENT, SUPERVISOR = 600.0, 1000.0, 2200.0
HEARS, SILENT = 0.15, 0.05


@pytest.mark.parametrize(
    ("mode", "agent_hears", "caller_hears"),
    [("listen", False, False), ("whisper", True, False), ("barge", True, True)],
)
async def test_the_supervisor_hears_both_and_is_heard_as_the_mode_says(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    caller_tone: Path,
    supervisor_tone: Path,
    tmp_path: Path,
    mode: str,
    agent_hears: bool,
    caller_hears: bool,
) -> None:
    voice = await node()
    agent, caller, contact_id = await agent_talking(
        voice, router, parties, tone_wav, "ana", "--tone", str(caller_tone)
    )
    supervisor = await parties("--answer", "--tone", str(supervisor_tone))

    await voice.monitor(contact_id, "sue", supervisor.uri, mode)
    await supervisor.wait_for("answered", timeout=20)
    heard = await recorded(supervisor, tmp_path / "supervisor.wav")
    assert tone_share(heard, CALLER, last_s=1.5) > HEARS
    assert tone_share(heard, AGENT, last_s=1.5) > HEARS
    at_agent = await recorded(agent, tmp_path / "agent.wav")
    at_caller = await recorded(caller, tmp_path / "caller.wav")
    assert (tone_share(at_agent, SUPERVISOR, last_s=1.5) > HEARS) is agent_hears
    assert (tone_share(at_caller, SUPERVISOR, last_s=1.5) > HEARS) is caller_hears
    if not caller_hears:
        assert tone_share(at_caller, SUPERVISOR, last_s=1.5) < SILENT
    # The conversation itself is untouched.
    assert tone_share(at_caller, AGENT, last_s=1.5) > HEARS
    assert tone_share(at_agent, CALLER, last_s=1.5) > HEARS


async def test_a_supervisor_moves_from_listening_to_whispering_and_each_step_is_audited(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    supervisor_tone: Path,
    tmp_path: Path,
) -> None:
    voice = await node()
    agent, caller, contact_id = await agent_talking(voice, router, parties, tone_wav, "ana")
    supervisor = await parties("--answer", "--tone", str(supervisor_tone))
    monitor = await voice.monitor(contact_id, "sue", supervisor.uri, "listen")
    await supervisor.wait_for("answered", timeout=20)
    before = await recorded(agent, tmp_path / "before.wav")
    assert tone_share(before, SUPERVISOR, last_s=1.5) < SILENT
    await voice.change_monitor(contact_id, monitor, "whisper")
    after = await recorded(agent, tmp_path / "after.wav")
    assert tone_share(after, SUPERVISOR, last_s=1.5) > HEARS
    await voice.end_monitor(contact_id, monitor)
    await supervisor.wait_for("hangup", timeout=15)

    audit = Reports(RecordStore(router.store))

    async def entries() -> Any:
        found = [e for e in await audit.audit_log() if e.detail.get("contact_id") == contact_id]
        return found if len(found) == 3 else None

    started, changed, ended = await until(entries)
    assert [e.action for e in (started, changed, ended)] == [
        "monitor_started",
        "monitor_changed",
        "monitor_ended",
    ]
    assert {e.actor for e in (started, changed, ended)} == {"sue"}
    assert (started.detail["mode"], changed.detail["mode"]) == ("listen", "whisper")
    assert started.detail["agent_id"] == "ana"
    assert not any(e["type"] == "hangup" for e in caller.events)  # the call goes on


async def test_a_call_not_talking_cannot_be_monitored(
    node: Callable[..., Any], router: Router, parties: Callable[..., Any]
) -> None:
    from telephony.service import CommandRefused

    voice = await node()
    caller = await parties()
    caller.send(cmd="call", uri=f"sip:1000@127.0.0.1:{voice.sip.port}")
    await caller.wait_for("media", timeout=20)
    caller.send(cmd="dtmf", digits="1")  # queued: nobody is logged in
    contact_id = await until(lambda: next(iter(voice.pool.owner), None))
    with pytest.raises(CommandRefused, match="queued"):
        await voice.monitor(contact_id, "sue", "sip:sue@127.0.0.1:9", "listen")
