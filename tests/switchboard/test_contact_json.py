"""The contact as staff and as its customer see it: the holds of the agent's phone, past
and under way."""

from __future__ import annotations

from dataclasses import replace

from router.model import Channel, Contact, ContactState
from switchboard.http.views import contact_json

CALL = Contact(
    contact_id="c1",
    channel=Channel.VOICE,
    queue="booking",
    language="en",
    region="emea",
    state=ContactState.CONNECTED,
    agent_id="dave",
)


def test_staff_see_each_hold_and_the_customer_does_not() -> None:
    contact = replace(
        CALL,
        state=ContactState.COMPLETED,
        holds=[{"at_ms": 1_700_000_000_000, "held_ms": 42_500, "agent": "dave"}],
    )
    assert contact_json(contact)["holds"] == [
        {"at": "2023-11-14T22:13:20+00:00", "held_s": 42.5, "agent_id": "dave"}
    ]
    assert "holds" not in contact_json(contact, for_customer=True)


def test_staff_see_a_hold_under_way_and_the_customer_does_not() -> None:
    contact = replace(CALL, on_hold_since=1_700_000_000_000)
    assert contact_json(contact)["on_hold_since"] == "2023-11-14T22:13:20+00:00"
    assert "on_hold_since" not in contact_json(contact, for_customer=True)
    assert contact_json(CALL)["on_hold_since"] is None


def test_staff_see_a_recording_pause_under_way_and_the_customer_does_not() -> None:
    contact = replace(CALL, recording_paused_since=1_700_000_000_000)
    assert contact_json(contact)["recording_paused_since"] == "2023-11-14T22:13:20+00:00"
    assert "recording_paused_since" not in contact_json(contact, for_customer=True)
    assert contact_json(CALL)["recording_paused_since"] is None


def test_staff_see_each_transfer_with_an_outside_number_masked() -> None:
    contact = replace(
        CALL,
        state=ContactState.COMPLETED,
        transfers=[
            {
                "at_ms": 1_700_000_000_000,
                "mode": "warm",
                "by": "desktop",
                "from_agent": "dave",
                "to": "agent:bob",
                "consulted_ms": 13_737,
                "outcome": "completed",
            },
            {
                "at_ms": 1_700_000_100_000,
                "mode": "blind",
                "by": "phone",
                "from_agent": "bob",
                "to": "number:+15551234567",
            },
        ],
    )
    warm, blind = contact_json(contact)["transfers"]
    assert warm == {
        "at": "2023-11-14T22:13:20+00:00",
        "mode": "warm",
        "by": "desktop",
        "from_agent": "dave",
        "to": "agent:bob",
        "consulted_s": 13.737,
        "outcome": "completed",
    }
    assert (blind["to"], blind["consulted_s"], blind["outcome"]) == (
        "number:••••••••••67",
        None,
        None,
    )
    assert contact_json(contact, show_numbers=True)["transfers"][1]["to"] == "number:+15551234567"
    assert "transfers" not in contact_json(contact, for_customer=True)
