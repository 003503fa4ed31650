"""A queue's new skill or rules (an admin's PUT) and the contacts that were in it
already: a ringing one keeps ringing, and when it comes back to the queue (declined, or
its agent gone) it is routed by the queue's new skill; one requeued from a conversation
too; waiting ones are judged by the new maximum wait at once."""

from __future__ import annotations

import dataclasses

from router.model import Channel, NewContact, Presence
from router.service import Router
from router.store import now_ms
from tests.router.conftest import QUEUES, make_agent

EXPERT = next(q for q in QUEUES if q.name == "expert")  # skill booking
LINE = "queue expert now routes skill general"


async def _setup(router: Router) -> str:
    await router.upsert_agent(make_agent("ana", booking=4))
    await router.upsert_agent(make_agent("gus", general=4))
    await router.set_presence("ana", Presence.AVAILABLE)
    contact = await router.create_contact(NewContact(Channel.CHAT, "expert", "en"))
    assert (contact.state.value, contact.agent_id, contact.skill) == ("offered", "ana", "booking")
    await router.set_presence("gus", Presence.AVAILABLE)
    await router.define_queue(dataclasses.replace(EXPERT, skill="general"))
    return contact.contact_id


async def test_a_ringing_contact_keeps_ringing_then_comes_back_with_the_new_skill(
    router: Router,
) -> None:
    cid = await _setup(router)
    ringing = await router.get_contact(cid)
    assert (ringing.state.value, ringing.agent_id) == ("offered", "ana")  # not revoked
    assert (await router.get_agent("gus")).offers == 0

    await router.decline(cid, "ana")
    back = await router.get_contact(cid)
    assert (back.state.value, back.agent_id, back.skill) == ("offered", "gus", "general")
    assert any(LINE in line for line in back.explanation), back.explanation


async def test_a_conversation_requeued_after_the_change_takes_the_new_skill(
    router: Router,
) -> None:
    cid = await _setup(router)
    await router.accept(cid, "ana")
    await router.set_presence("ana", Presence.OFFLINE, "logged out")
    back = await router.get_contact(cid)
    assert (back.state.value, back.agent_id, back.skill) == ("offered", "gus", "general")
    assert any(LINE in line for line in back.explanation), back.explanation


async def test_contacts_waiting_when_nobody_fits_go_to_the_next_agent_with_the_new_skill(
    router: Router,
) -> None:
    """Re-skilled while nobody with the new skill is free: the first one who becomes
    available takes them (agent-driven), the head of the queue first."""
    await router.upsert_agent(make_agent("gus", general=4))
    first = await router.create_contact(NewContact(Channel.CHAT, "expert", "en"))
    second = await router.create_contact(NewContact(Channel.CHAT, "expert", "en"))
    await router.define_queue(dataclasses.replace(EXPERT, skill="general"))
    waiting = await router.get_contact(first.contact_id)
    assert (waiting.state.value, waiting.skill) == ("queued", "general")
    assert any(LINE in line for line in waiting.explanation)

    await router.set_presence("gus", Presence.AVAILABLE)
    for cid in (first.contact_id, second.contact_id):
        taken = await router.get_contact(cid)
        assert (taken.state.value, taken.agent_id) == ("offered", "gus")


async def test_a_contact_stored_without_its_skills_source_follows_when_it_had_the_old_skill(
    router: Router, redis_client
) -> None:
    """A contact an older version stored (no skill_from) is taken for the queue's when
    its skill is the queue's old one; one with another skill (its reason's) keeps it."""
    mine = await router.create_contact(NewContact(Channel.CHAT, "expert", "en"))
    reason = await router.create_contact(NewContact(Channel.CHAT, "expert", "en", skill="vip"))
    for contact in (mine, reason):
        await redis_client.hdel(f"sb:{{rt}}:contact:{contact.contact_id}", "skill_from")
    await router.define_queue(dataclasses.replace(EXPERT, skill="general"))
    assert (await router.get_contact(mine.contact_id)).skill == "general"
    assert (await router.get_contact(reason.contact_id)).skill == "vip"


async def test_a_shorter_maximum_wait_reaches_the_contacts_already_waiting(
    router: Router,
) -> None:
    """booking's maximum wait (100 s, then general) cut to 20 s while a contact has
    waited 30: it overflows at the next tick, not at its next step on the old timetable
    (a supervisor probe's chats moved 45 s after the change)."""
    booking = next(q for q in QUEUES if q.name == "booking")
    waited = await router.create_contact(
        NewContact(Channel.CHAT, "booking", "en"), at_ms=now_ms() - 30_000
    )
    fresh = await router.create_contact(NewContact(Channel.CHAT, "booking", "en"))
    await router.tick()
    assert (await router.get_contact(waited.contact_id)).queue == "booking"
    await router.define_queue(dataclasses.replace(booking, max_wait_s=20))
    await router.tick()
    moved = await router.get_contact(waited.contact_id)
    assert (moved.state.value, moved.queue) == ("queued", "general")
    assert "maximum wait reached" in moved.explanation[-1]
    assert (await router.get_contact(fresh.contact_id)).queue == "booking"  # 20 s to go
