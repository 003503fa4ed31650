"""The agent's softphone holds the caller (its Hold key, a re-INVITE through the node's
front door): the caller hears the center's music and not the phone, then the agent again
on resume; the hold is on the contact's record, and the contact ends as any other."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from router.service import Router

from .conftest import (
    agent_talking,
    music_share,
    recorded,
    terminal,
    tone_share,
    until,
)

REINVITE_S = 1.0  # the re-INVITE and the worker's answer to it, with room to spare


@pytest.mark.parametrize("hold", ["hold", "hold-inactive"])
async def test_the_agents_hold_key_plays_music_to_the_caller_until_resumed(
    hold: str,
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    caller_tone: Path,
    tmp_path: Path,
) -> None:
    voice = await node()
    dave, caller, contact_id = await agent_talking(
        voice, router, parties, tone_wav, "dave", "--tone", str(caller_tone)
    )
    talking = await recorded(caller, tmp_path / "talking.wav")
    assert tone_share(talking, 1000.0, last_s=1.5) > 0.5  # dave's voice

    dave.send(cmd=hold)  # a phone holds offering sendonly (pjsua's) or inactive (others)
    await asyncio.sleep(REINVITE_S)
    held = await recorded(caller, tmp_path / "held.wav")
    assert music_share(held) > 0.5  # the center's music
    assert tone_share(held, 1000.0, last_s=1.5) < 0.1  # and nothing of dave's phone
    on_hold = (await router.get_contact(contact_id)).on_hold_since
    assert on_hold > (await router.get_contact(contact_id)).timestamps["answered_at"]

    dave.send(cmd="resume")
    await asyncio.sleep(REINVITE_S)
    resumed = await recorded(caller, tmp_path / "resumed.wav")
    assert tone_share(resumed, 1000.0, last_s=1.5) > 0.5
    assert music_share(resumed) < 0.1
    assert (await router.get_contact(contact_id)).on_hold_since == 0  # the desk's "On hold" ends
    heard = await recorded(dave, tmp_path / "dave.wav")
    assert tone_share(heard, 600.0, last_s=1.5) > 0.5  # both ways again

    caller.send(cmd="hangup")
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.agent_id) == ("completed", "dave")
    [noted] = contact.holds  # on the record: who held, and how long the caller heard music
    assert noted["agent"] == "dave"
    assert REINVITE_S + 2.0 <= noted["held_ms"] / 1000 < 15
    assert contact.timestamps["answered_at"] < noted["at_ms"] < contact.timestamps["ended_at"]
    assert noted["at_ms"] == on_hold


async def test_the_desk_cannot_take_off_hold_a_call_the_phone_holds(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    caller_tone: Path,
    tmp_path: Path,
) -> None:
    """The phone's Hold key holds the call: the desk's "Take off hold" is refused with what
    to do (the phone still holds: bridging the caller back would have them hear the
    phone's silence while the desk and the record said the hold was over); the caller
    keeps the music, the contact stays on hold until the phone resumes."""
    from telephony.pool import CommandRefused

    voice = await node()
    dave, caller, contact_id = await agent_talking(
        voice, router, parties, tone_wav, "dave", "--tone", str(caller_tone)
    )
    dave.send(cmd="hold")
    await asyncio.sleep(REINVITE_S)
    on_hold = (await router.get_contact(contact_id)).on_hold_since
    assert on_hold

    with pytest.raises(CommandRefused, match="on hold on your phone"):
        await voice.hold(contact_id, False)
    assert (await router.get_contact(contact_id)).on_hold_since == on_hold
    held = await recorded(caller, tmp_path / "held.wav")
    assert music_share(held) > 0.5  # still the center's music

    dave.send(cmd="resume")
    await asyncio.sleep(REINVITE_S)
    assert (await router.get_contact(contact_id)).on_hold_since == 0
    assert await voice.hold(contact_id, True) is True  # the desk holds as before
    assert await voice.hold(contact_id, False) is False
    caller.send(cmd="hangup")
    contact = await until(lambda: terminal(router, contact_id))
    assert len(contact.holds) == 2  # the phone's and the desk's
