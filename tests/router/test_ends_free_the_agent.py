"""However a contact ends, the agent it held is free for the next one waiting, and an
abandon is the queue's, not the agent's it was ringing at."""

from __future__ import annotations

from router.model import Channel, ContactState, NewContact
from router.service import Router
from tests.router.conftest import make_agent
from tests.router.test_routing import T0, ready


def call() -> NewContact:
    return NewContact(channel=Channel.VOICE, queue="booking", language="en")


async def test_a_failed_call_frees_the_agent_for_the_caller_waiting(router: Router) -> None:
    """ana takes a callback whose customer never answers (the call fails): the caller
    who waited meanwhile is offered to her at once, not left queued beside a free agent."""
    await ready(router, make_agent("ana"), T0)
    callback = await router.create_contact(call(), at_ms=T0 + 1000)
    await router.accept(callback.contact_id, "ana", at_ms=T0 + 2000)
    waiting = await router.create_contact(call(), at_ms=T0 + 3000)
    assert waiting.state == ContactState.QUEUED
    failed = await router.fail(callback.contact_id, "callback_unanswered", at_ms=T0 + 30_000)
    assert (failed.state, failed.agent_id) == (ContactState.FAILED, "ana")
    now = await router.get_contact(waiting.contact_id)
    assert (now.state, now.agent_id) == (ContactState.OFFERED, "ana")


async def test_a_caller_leaving_while_it_rings_is_abandoned_by_nobody(router: Router) -> None:
    await ready(router, make_agent("ana"), T0)
    ringing = await router.create_contact(call(), at_ms=T0 + 1000)
    assert (ringing.state, ringing.agent_id) == (ContactState.OFFERED, "ana")
    left = await router.abandon(ringing.contact_id, "caller_hangup", at_ms=T0 + 3000)
    assert (left.state, left.agent_id) == (ContactState.ABANDONED, "")
    stored = await router.get_contact(ringing.contact_id)
    assert "the customer left while it rang at ana" in stored.explanation[-1]
    records = [r async for r in router.store.records()]
    assert [(r["state"], r.get("agent_id", "")) for r in records] == [("abandoned", "")]
    agent = await router.get_agent("ana")
    assert (agent.load, agent.offers) == ({"voice": 0, "chat": 0}, 0)
