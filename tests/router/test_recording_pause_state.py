"""A call's recording pause (card details, PCI DSS) as the router keeps it, on the real
Redis: telephony's worker notes the pause and its end, the contact carries
`recording_paused_since` while it is on, and each change reaches the agent's stream as a
`recording` event (the desk stops saying "paused" when `pause_max_s` ended it)."""

from __future__ import annotations

from typing import Any

import pytest

from router.model import Channel, NewContact, Presence
from router.service import Router
from switchboard.common.clock import iso_utc

from .conftest import make_agent

T0 = 1_700_000_000_000


async def _call_with_ana(router: Router) -> str:
    await router.store.upsert_agent(make_agent("ana"), at_ms=T0)
    await router.set_presence("ana", Presence.AVAILABLE, at_ms=T0)
    contact = await router.create_contact(
        NewContact(channel=Channel.VOICE, queue="booking", language="en"), at_ms=T0 + 1000
    )
    await router.accept(contact.contact_id, "ana", at_ms=T0 + 2000)
    return contact.contact_id


async def _recording_event(subscription: Any) -> dict[str, Any]:
    """The next `recording` event (other events skipped; a bounded wait)."""
    for _ in range(50):
        event = await subscription.next(timeout_s=2.0)
        assert event is not None, "no recording event"
        if event.get("type") == "recording":
            return dict(event)
    raise AssertionError("no recording event among the first 50")


@pytest.mark.parametrize("ended", ["resumed", "pause_max_s", "recording_ended"])
async def test_the_contact_shows_the_pause_and_the_agent_hears_each_change(
    router: Router, ended: str
) -> None:
    cid = await _call_with_ana(router)
    assert (await router.get_contact(cid)).recording_paused_since == 0
    subscription = await router.store.subscribe()
    try:
        await router.note_recording_paused(cid, T0 + 5000, "ana")
        assert (await router.get_contact(cid)).recording_paused_since == T0 + 5000
        assert await _recording_event(subscription) == {
            "type": "recording",
            "contact_id": cid,
            "agent_id": "ana",
            "paused_since": iso_utc(T0 + 5000),
            "paused_by": "ana",
            "ended": None,
        }
        await router.note_recording_resumed(cid, ended)
        assert (await router.get_contact(cid)).recording_paused_since == 0
        assert await _recording_event(subscription) == {
            "type": "recording",
            "contact_id": cid,
            "agent_id": "ana",
            "paused_since": None,
            "paused_by": None,
            "ended": ended,
        }
    finally:
        await subscription.close()


async def test_an_unknown_ending_is_refused_and_changes_nothing(router: Router) -> None:
    cid = await _call_with_ana(router)
    await router.note_recording_paused(cid, T0 + 5000, "ana")
    with pytest.raises(ValueError, match="ended must be one of resumed, pause_max_s"):
        await router.note_recording_resumed(cid, "forgot")
    assert (await router.get_contact(cid)).recording_paused_since == T0 + 5000
