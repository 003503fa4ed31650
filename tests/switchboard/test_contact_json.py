"""The contact as staff and as its customer see it: the holds of the agent's phone."""

from __future__ import annotations

from router.model import Channel, Contact, ContactState
from switchboard.http.views import contact_json


def test_staff_see_each_hold_and_the_customer_does_not() -> None:
    contact = Contact(
        contact_id="c1",
        channel=Channel.VOICE,
        queue="booking",
        language="en",
        region="emea",
        state=ContactState.COMPLETED,
        agent_id="dave",
        holds=[{"at_ms": 1_700_000_000_000, "held_ms": 42_500, "agent": "dave"}],
    )
    assert contact_json(contact)["holds"] == [
        {"at": "2023-11-14T22:13:20+00:00", "held_s": 42.5, "agent_id": "dave"}
    ]
    assert "holds" not in contact_json(contact, for_customer=True)
