"""The timers on a real Redis: a backlog is worked off in short routing calls."""

from __future__ import annotations

from router.model import Channel, ContactState, NewContact
from router.service import Router
from tests.router.conftest import make_agent
from tests.router.test_routing import T0, ready


async def test_a_backlog_of_ring_timeouts_is_done_in_short_calls_of_one_tick(
    router: Router,
) -> None:
    for number in range(40):
        await ready(router, make_agent(f"a{number:02d}"), T0)
    call = NewContact(channel=Channel.VOICE, queue="booking", language="en")
    offered = [await router.create_contact(call, at_ms=T0 + 1000) for _ in range(40)]
    assert all(c.state == ContactState.OFFERED for c in offered)

    first = await router.store.run("tick", at_ms=T0 + 10_000)  # ring_s = 5: all 40 due
    assert (first.number("rona"), first.number("more")) == (32, 1)
    rona, *_ = await router.tick(at_ms=T0 + 10_000)
    assert rona == 8  # the rest, and nothing else was due
    states = [(await router.get_contact(c.contact_id)).state for c in offered]
    # Each went back to the head of the queue; the agents it rang went not-ready.
    assert set(states) == {ContactState.QUEUED}
