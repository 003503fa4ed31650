"""An agent's phone that answers the offer at once that it cannot take this call (421
Extension Required, 488 Not Acceptable Here, 401 with a challenge, as desk phones and
softphones set up otherwise do) never rang: the offer ends as `phone_unreachable`, the
agent goes not ready "phone unreachable" (their desk asks them to check the phone), not
"no answer" as if they had let it ring. Real SIP: sipp as the phone, a worker, the
Router."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from router.model import Presence
from router.service import Router
from telephony.calls.offers import unanswered

from .conftest import add_agent, pick_reason, until
from .test_transfer import sipp_phone


@pytest.mark.parametrize(
    ("code", "reason", "header"),
    [
        ("421", "Extension Required", "Require: 100rel"),
        ("488", "Not Acceptable Here", 'Warning: 304 phone "codec not available"'),
        ("401", "Unauthorized", 'WWW-Authenticate: Digest realm="phone", nonce="5f2e9a"'),
    ],
)
async def test_a_phone_that_cannot_take_the_call_is_unreachable_not_a_ring_out(
    code: str,
    reason: str,
    header: str,
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tmp_path: Path,
) -> None:
    voice = await node()
    uri, phone = await sipp_phone(
        "agent_cannot_take.xml", tmp_path, status=f"SIP/2.0 {code} {reason}", header=header
    )
    try:
        await add_agent(router, "dave", uri, {"booking": 2})
        await pick_reason(voice, await parties())
        assert await asyncio.wait_for(phone.wait(), 30) == 0, tmp_path / "sipp-errors.log"

        async def away() -> Any:
            agent = await router.get_agent("dave")
            return agent if agent.presence == Presence.NOT_READY else None

        agent = await until(away, timeout=15)
        assert agent.reason == "phone unreachable"
        contact_id = next(iter(voice.pool.owner))
        contact = await router.get_contact(contact_id)
        assert contact.state.value == "queued"  # the caller waits on, place kept
        assert "offer to dave ended: phone_unreachable" in " ".join(map(str, contact.explanation))
    finally:
        if phone.returncode is None:
            phone.kill()
            await phone.wait()


@pytest.mark.parametrize(
    ("code", "why"),
    [
        *((code, "unreachable") for code in (400, 401, 403, 407, 415, 420, 421, 488)),
        (486, "busy"),  # on another call, do-not-disturb: as before
        (600, "busy"),
        (603, "declined"),  # this call declined: the agent stays available
        (487, "no_answer"),  # the worker's cancel after the ring time
    ],
)
def test_an_answer_saying_the_phone_cannot_take_the_call_reads_unreachable(
    code: int, why: str
) -> None:
    assert unanswered(code) == why
