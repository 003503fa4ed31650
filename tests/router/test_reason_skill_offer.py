"""A contact with a skill of its own (an IVR reason's, not its queue's) is offered to an
agent of that skill who becomes ready, though the agent lacks the queue's skill: routing
looked only at the queues whose skill the ready agent had, so such a contact waited for
its next relaxation step, or for ever in a queue without one."""

from __future__ import annotations

from router.model import ContactState, Presence
from router.service import Router
from tests.router.test_reachable_waits import agent, router, waiting
from tests.router.test_routing import T0

__all__ = ["router"]  # the fixture


async def test_an_agent_of_the_reasons_skill_who_becomes_ready_is_offered_it(
    router: Router,
) -> None:
    contact_id = await waiting(router, "air", language="ko", skill="baggage")
    bo = agent("bo", "ko", baggage=3)
    await router.store.upsert_agent(bo, at_ms=T0 + 1000)
    await router.set_presence("bo", Presence.AVAILABLE, at_ms=T0 + 1000)
    contact = await router.get_contact(contact_id)
    assert (contact.state, contact.agent_id) == (ContactState.OFFERED, "bo")


async def test_an_agent_with_neither_skill_is_not_offered_it(router: Router) -> None:
    contact_id = await waiting(router, "air", language="ko", skill="baggage")
    cy = agent("cy", "ko", loyalty=3)
    await router.store.upsert_agent(cy, at_ms=T0 + 1000)
    await router.set_presence("cy", Presence.AVAILABLE, at_ms=T0 + 1000)
    contact = await router.get_contact(contact_id)
    assert (contact.state, contact.agent_id) == (ContactState.QUEUED, "")
