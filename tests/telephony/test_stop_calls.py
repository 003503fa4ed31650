"""A node that stops cuts its calls off: each is recorded failed/node_stopped (what the
operator's restart did), never as an ordinary completed call."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from router.metrics import Metrics
from router.service import Router

from .conftest import agent_talking, terminal, until


async def test_a_call_cut_off_by_a_stop_is_recorded_failed_node_stopped_once(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    caller_tone: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    voice = await node()
    voice.pool.metrics = metrics = Metrics("node-t")  # the node's, as `serve` passes it
    _dave, caller, contact_id = await agent_talking(
        voice, router, parties, tone_wav, "dave", "--tone", str(caller_tone)
    )
    caplog.set_level(logging.INFO, logger="telephony")

    await voice.stop()

    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.reason) == ("failed", "node_stopped")
    records = [r async for r in router.store.records()]
    assert [(r["contact_id"], r["state"], r["reason"]) for r in records] == [
        (contact_id, "failed", "node_stopped")
    ]
    # The caller was hung up on (not left hanging), and the agent is free again.
    await caller.wait_for("hangup", timeout=10)
    dave_now = await router.get_agent("dave")
    assert dave_now.load["voice"] == 0
    assert not [r for r in caplog.records if "could not record" in r.getMessage()]
    # Counted once, as what it was: cut off by the stop.
    assert sip_calls(metrics, "node_stopped") == 1
    assert sip_calls(metrics, "completed") == 0


def sip_calls(metrics: Metrics, outcome: str) -> float:
    value = metrics.registry.get_sample_value("switchboard_sip_calls_total", {"outcome": outcome})
    return value or 0.0
