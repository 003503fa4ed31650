"""A caller on hold whom the agent then transfers: the agent's leg ends with the
transfer, and so does the hold. It is noted then (its real length, the agent who held),
the contact no longer shows it while the caller waits and talks to the next agent, and
that agent's desk cannot "take off hold" a call that is not on hold. (The hold ran on:
`on_hold_since` stayed through the queue, the re-offer and the next conversation, and the
record had one hold to the end of the call, filed under whoever had it then.)"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from router.model import Presence
from router.service import Router
from telephony.pool import CommandRefused

from .conftest import add_agent, agent_talking, node_uri, recorded, terminal, tone_share, until

REINVITE_S = 1.0  # the phone's re-INVITE and the worker's answer to it
HELD_S = 2.0  # how long the caller is on hold before the transfer
TALK_S = 4.0  # the next agent talks this long with the caller


async def _hold(voice: Any, dave: Any, contact_id: str, where: str) -> None:
    if where == "phone":
        dave.send(cmd="hold")  # the Hold key: a re-INVITE offering sendonly
        await asyncio.sleep(REINVITE_S)
    else:
        assert await voice.hold(contact_id, True) is True


async def _transfer(voice: Any, dave: Any, contact_id: str, how: str, target: str) -> None:
    if how == "refer":  # the phone's transfer key, while it holds
        name = target.partition(":")[2]
        dave.send(cmd="transfer", target=node_uri(voice, name))
        done = await dave.wait_for("transfer_status", where=lambda e: e["final"], timeout=20)
        assert done["code"] == 200
    else:
        # queued, or already offered to (or answered by) erin
        assert await voice.transfer(contact_id, target) in ("queued", "offered", "talking")


@pytest.mark.parametrize(
    ("hold", "how", "target"),
    [
        ("phone", "refer", "queue:baggage"),
        ("phone", "refer", "agent:erin"),
        ("desk", "desktop", "queue:baggage"),
        ("desk", "desktop", "agent:erin"),
    ],
)
async def test_a_hold_ends_with_the_blind_transfer_of_the_held_call(
    hold: str,
    how: str,
    target: str,
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    colleague_tone: Path,
    caller_tone: Path,
    tmp_path: Path,
) -> None:
    voice = await node()
    dave, caller, contact_id = await agent_talking(
        voice, router, parties, tone_wav, "dave", "--tone", str(caller_tone)
    )
    erin = await parties("--answer", "--tone", str(colleague_tone))
    await add_agent(router, "erin", erin.uri, {"baggage": 2})
    await router.set_presence("dave", Presence.NOT_READY)  # the call goes to erin, not back

    await _hold(voice, dave, contact_id, hold)
    on_hold = (await router.get_contact(contact_id)).on_hold_since
    assert on_hold
    await asyncio.sleep(HELD_S)
    await _transfer(voice, dave, contact_id, how, target)

    async def noted() -> Any:
        return (await router.get_contact(contact_id)).holds

    [noted_hold] = await until(noted)  # noted when dave's leg left the call
    assert (noted_hold["agent"], noted_hold["at_ms"]) == ("dave", on_hold)
    assert HELD_S <= noted_hold["held_ms"] / 1000 < HELD_S + 3.0
    assert (await router.get_contact(contact_id)).on_hold_since == 0  # queued: not on hold

    await erin.wait_for("answered", timeout=20)
    heard = await recorded(caller, tmp_path / "erin.wav")
    assert tone_share(heard, 1500.0, last_s=1.5) > 0.5  # the caller talks to erin
    contact = await router.get_contact(contact_id)
    assert (contact.state.value, contact.agent_id, contact.on_hold_since) == (
        "connected",
        "erin",
        0,
    )
    # erin's desk shows no hold, and cannot end one: the call is not on hold.
    with pytest.raises(CommandRefused, match="not on hold"):
        await voice.hold(contact_id, False)
    assert (await router.get_contact(contact_id)).holds == [noted_hold]

    await asyncio.sleep(TALK_S)
    caller.send(cmd="hangup")
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.agent_id, contact.on_hold_since) == (
        "completed",
        "erin",
        0,
    )
    assert contact.holds == [noted_hold]  # one hold, dave's, about 2 s: not to the end
    assert contact.agent_chain == ["dave", "erin"]


async def test_a_hold_ends_when_a_warm_transfer_hands_the_caller_over(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    colleague_tone: Path,
    caller_tone: Path,
) -> None:
    """The agent holds from the desk, consults erin and hands the caller over: dave's leg
    ends there and so does his hold; erin talks to a caller who is not on hold."""
    voice = await node()
    dave, caller, contact_id = await agent_talking(
        voice, router, parties, tone_wav, "dave", "--tone", str(caller_tone)
    )
    erin = await parties("--answer", "--tone", str(colleague_tone))
    await add_agent(router, "erin", erin.uri, {"booking": 2})

    assert await voice.hold(contact_id, True) is True
    on_hold = (await router.get_contact(contact_id)).on_hold_since
    assert await voice.transfer(contact_id, "agent:erin", warm=True) == "held"
    await erin.wait_for("answered", timeout=20)
    await voice.complete_transfer(contact_id)
    await dave.wait_for("hangup", timeout=15)

    contact = await router.get_contact(contact_id)
    assert (contact.state.value, contact.agent_id, contact.on_hold_since) == (
        "connected",
        "erin",
        0,
    )
    [noted_hold] = contact.holds
    assert (noted_hold["agent"], noted_hold["at_ms"]) == ("dave", on_hold)
    with pytest.raises(CommandRefused, match="not on hold"):
        await voice.hold(contact_id, False)

    await asyncio.sleep(TALK_S)
    caller.send(cmd="hangup")
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.agent_id) == ("completed", "erin")
    assert contact.holds == [noted_hold]
    held_ms = noted_hold["held_ms"]
    assert isinstance(held_ms, int) and held_ms / 1000 < TALK_S  # not through erin's talk
