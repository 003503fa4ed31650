"""An offer that ends comes back: after a missed ring (RONA) to the same agent once they
are available again, in queue order; after a decline to other agents first, and to the
decliner too once the short bar is over (never waiting for ever while they are free)."""

from __future__ import annotations

from router.model import Channel, ContactState, NewContact, Presence
from router.service import Router
from switchboard.common.clock import now_ms
from tests.router.conftest import make_agent
from tests.router.test_routing import T0, ready

DECLINE_BAR_MS = 5_000  # router/routing.lua DECLINE_BAR_MS
BOOKING_RING_MS = 5_000  # tests/router/conftest.py: booking rings 5 s
GENERAL_RING_MS = 15_000  # general sets none: QueueConfig's 15 s


def chat(queue: str = "booking", language: str = "en", **kw) -> NewContact:
    return NewContact(channel=Channel.CHAT, queue=queue, language=language, **kw)


async def serve(router: Router, contact_id: str, agent_id: str, at_ms: int) -> None:
    contact = await router.get_contact(contact_id)
    assert (contact.state, contact.agent_id) == (ContactState.OFFERED, agent_id)
    await router.accept(contact_id, agent_id, at_ms=at_ms)
    await router.complete(contact_id, agent_id, at_ms=at_ms + 1000)


async def outcomes(router: Router) -> dict[str, list[str]]:
    recorded: dict[str, list[str]] = {}
    async for record in router.store.records():
        recorded.setdefault(record["contact_id"], []).append(record["state"])
    return recorded


async def test_after_a_missed_ring_the_agent_back_is_offered_the_same_contact_first(
    router: Router,
) -> None:
    """The walkthrough: a Spanish chat in `general`, tom the only agent who fits. His
    offer rings out; a newer chat comes meanwhile; back available, tom is offered the
    chat that rang out (the head of the queue), then the newer one."""
    tom = make_agent("tom", languages=("es",), general=3)
    tom.capacity = {"voice": 0, "chat": 1}
    await ready(router, tom, T0)
    older = await router.create_contact(chat("general", "es"), at_ms=T0 + 1000)
    assert (older.state, older.agent_id) == (ContactState.OFFERED, "tom")

    rona, *_ = await router.tick(at_ms=T0 + 1000 + GENERAL_RING_MS)
    assert rona == 1
    rang_out = await router.get_contact(older.contact_id)
    assert rang_out.state == ContactState.QUEUED
    assert "offer to tom ended: no_answer" in rang_out.explanation[-1]
    assert (await router.get_agent("tom")).presence == Presence.NOT_READY

    newer = await router.create_contact(chat("general", "es"), at_ms=T0 + 20_000)
    assert newer.state == ContactState.QUEUED  # tom is not ready

    await router.set_presence("tom", Presence.AVAILABLE, at_ms=T0 + 30_000)
    again = await router.get_contact(older.contact_id)
    assert (again.state, again.agent_id) == (ContactState.OFFERED, "tom")
    assert again.explanation[-1].startswith("agent freed:")
    assert (await router.get_contact(newer.contact_id)).state == ContactState.QUEUED

    await serve(router, older.contact_id, "tom", T0 + 31_000)
    await serve(router, newer.contact_id, "tom", T0 + 33_000)
    assert await outcomes(router) == {
        older.contact_id: ["completed"],
        newer.contact_id: ["completed"],
    }


async def test_a_missed_ring_by_the_preferred_agent_hands_the_contact_to_the_queue(
    router: Router,
) -> None:
    """A case's owner who lets the offer ring out has had their turn: the queue takes it."""
    await ready(router, make_agent("owner"), T0 + 500)
    await ready(router, make_agent("other"), T0)
    contact = await router.create_contact(
        chat(preferred_agent="owner", prefer_s=60), at_ms=T0 + 1000
    )
    assert contact.agent_id == "owner"
    await router.tick(at_ms=T0 + 1000 + BOOKING_RING_MS)
    moved_on = await router.get_contact(contact.contact_id)
    assert (moved_on.state, moved_on.agent_id) == (ContactState.OFFERED, "other")
    await serve(router, contact.contact_id, "other", T0 + 7000)
    assert await outcomes(router) == {contact.contact_id: ["completed"]}


async def test_a_declined_contact_goes_to_another_free_agent_first(router: Router) -> None:
    await ready(router, make_agent("a1"), T0)  # idle longest: first in line
    await ready(router, make_agent("a2"), T0 + 1000)
    contact = await router.create_contact(chat(), at_ms=T0 + 2000)
    assert contact.agent_id == "a1"

    declined = await router.decline(contact.contact_id, "a1", "declined", at_ms=T0 + 3000)
    assert (declined.state, declined.agent_id) == (ContactState.OFFERED, "a2")
    assert "offer to a1 ended: declined" in declined.explanation[-2]
    assert (await router.get_agent("a1")).presence == Presence.AVAILABLE

    await serve(router, contact.contact_id, "a2", T0 + 4000)
    assert await outcomes(router) == {contact.contact_id: ["completed"]}


async def test_an_agent_freed_during_the_bar_takes_the_declined_contact(router: Router) -> None:
    """Agent-driven: nobody else free at the decline; another agent who comes within the
    bar is offered it, not the decliner."""
    await ready(router, make_agent("a1"), T0)
    contact = await router.create_contact(chat(), at_ms=T0 + 1000)
    declined = await router.decline(contact.contact_id, "a1", "declined", at_ms=T0 + 2000)
    assert declined.state == ContactState.QUEUED
    await ready(router, make_agent("a2"), T0 + 3000)
    taken = await router.get_contact(contact.contact_id)
    assert (taken.state, taken.agent_id) == (ContactState.OFFERED, "a2")
    await router.fail(contact.contact_id, "worker_lost", at_ms=T0 + 4000)
    assert await outcomes(router) == {contact.contact_id: ["failed"]}


async def test_a_declined_contact_comes_back_to_the_decliner_when_nobody_else_can(
    router: Router,
) -> None:
    await ready(router, make_agent("a1"), T0)
    contact = await router.create_contact(chat(), at_ms=T0 + 1000)
    declined_at = T0 + 2000
    declined = await router.decline(contact.contact_id, "a1", "declined", at_ms=declined_at)
    assert declined.state == ContactState.QUEUED  # not straight back to a1

    # Within the bar neither a1 freeing up again nor the timer offers it to a1.
    await router.set_presence("a1", Presence.NOT_READY, "coffee", at_ms=declined_at + 100)
    await router.set_presence("a1", Presence.AVAILABLE, at_ms=declined_at + 200)
    await router.tick(at_ms=declined_at + DECLINE_BAR_MS - 1)
    assert (await router.get_contact(contact.contact_id)).state == ContactState.QUEUED

    # The bar over, the timer offers it to a1, the only one who fits.
    await router.tick(at_ms=declined_at + DECLINE_BAR_MS)
    again = await router.get_contact(contact.contact_id)
    assert (again.state, again.agent_id) == (ContactState.OFFERED, "a1")
    assert again.explanation[-1].startswith("contact routed:")

    await serve(router, contact.contact_id, "a1", declined_at + DECLINE_BAR_MS + 1000)
    assert await outcomes(router) == {contact.contact_id: ["completed"]}


async def test_after_the_bar_an_agent_coming_back_takes_the_declined_contact(
    router: Router,
) -> None:
    """Agent-driven after the bar: the decliner, away when it ended, is offered it on return."""
    await ready(router, make_agent("a1"), T0)
    contact = await router.create_contact(chat(), at_ms=T0 + 1000)
    await router.decline(contact.contact_id, "a1", "declined", at_ms=T0 + 2000)
    await router.set_presence("a1", Presence.NOT_READY, "break", at_ms=T0 + 2100)
    await router.tick(at_ms=T0 + 2000 + DECLINE_BAR_MS)
    assert (await router.get_contact(contact.contact_id)).state == ContactState.QUEUED
    await router.set_presence("a1", Presence.AVAILABLE, at_ms=T0 + 9000)
    again = await router.get_contact(contact.contact_id)
    assert (again.state, again.agent_id) == (ContactState.OFFERED, "a1")
    await router.abandon(contact.contact_id, at_ms=T0 + 9500)
    assert await outcomes(router) == {contact.contact_id: ["abandoned"]}


async def test_going_offline_gives_back_the_offer_and_the_chat_held(router: Router) -> None:
    """a1 goes offline (signed out) with a chat connected and another ringing: both go
    back to the queue at their places, a1 stays offline when the ring time passes, and
    a2, available, is offered them in that order."""
    await ready(router, make_agent("a1"), T0)
    await router.store.upsert_agent(make_agent("a2"), at_ms=T0)  # not signed in yet
    held = await router.create_contact(chat(), at_ms=T0 + 1000)
    await router.accept(held.contact_id, "a1", at_ms=T0 + 2000)
    ringing = await router.create_contact(chat(), at_ms=T0 + 3000)
    assert (ringing.state, ringing.agent_id) == (ContactState.OFFERED, "a1")

    await router.set_presence("a1", Presence.OFFLINE, "logged out", at_ms=T0 + 4000)
    a1 = await router.get_agent("a1")
    assert (a1.presence, a1.load["chat"], a1.offers) == (Presence.OFFLINE, 0, 0)
    waiting = [cid for cid, _ in await router.store.waiting("booking")]
    assert waiting == [held.contact_id, ringing.contact_id]
    revoked = await router.get_contact(ringing.contact_id)
    assert "offer to a1 ended: logged out" in revoked.explanation[-1]

    rona, *_ = await router.tick(at_ms=T0 + 3000 + BOOKING_RING_MS + 1)
    assert rona == 0
    assert (await router.get_agent("a1")).presence == Presence.OFFLINE

    await router.set_presence("a2", Presence.AVAILABLE, at_ms=T0 + 10_000)
    for contact in (held, ringing):
        now = await router.get_contact(contact.contact_id)
        assert (now.state, now.agent_id) == (ContactState.OFFERED, "a2")


async def test_a_ring_out_never_brings_an_offline_agent_back(router: Router) -> None:
    """A call rings at a1, whose node is then lost (a1 offline, the call kept: it lives
    on this node). When its ring time ends the call goes back to the queue and a1 stays
    offline: no "no answer" for someone who is not there."""
    await router.store.upsert_agent(make_agent("a1"))
    await router.store.set_login("a1", "sip:a1@127.0.0.1:9", "n2", {"voice": 1, "chat": 0})
    await router.set_presence("a1", Presence.AVAILABLE)
    call = await router.create_contact(
        NewContact(channel=Channel.VOICE, queue="booking", language="en")
    )
    assert (call.state, call.agent_id) == (ContactState.OFFERED, "a1")
    adopted = await router.adopt("n2", "n1")
    assert adopted.agents == ["a1"]
    assert (await router.get_agent("a1")).presence == Presence.OFFLINE

    rona, *_ = await router.tick(at_ms=now_ms() + BOOKING_RING_MS + 1000)
    assert rona == 1
    assert (await router.get_contact(call.contact_id)).state == ContactState.QUEUED
    a1 = await router.get_agent("a1")
    assert (a1.presence, a1.reason, a1.load["voice"]) == (Presence.OFFLINE, "node lost", 0)


async def test_a_phone_answering_busy_makes_its_agent_not_ready(router: Router) -> None:
    """tom's phone answers 486 (on another call, do-not-disturb): he goes not ready,
    "phone busy", as after a ring-out, instead of being rung again every few seconds;
    the call waits at the head of the queue for someone else."""
    tom = make_agent("tom", booking=3)
    await ready(router, tom, T0)
    call = NewContact(channel=Channel.VOICE, queue="booking", language="en")
    offered = await router.create_contact(call, at_ms=T0 + 1000)
    assert (offered.state, offered.agent_id) == (ContactState.OFFERED, "tom")
    await router.decline(offered.contact_id, "tom", reason="phone_busy", at_ms=T0 + 2000)
    agent = await router.get_agent("tom")
    assert (agent.presence, agent.reason) == (Presence.NOT_READY, "phone busy")
    await router.tick(at_ms=T0 + 2000 + DECLINE_BAR_MS + 1000)
    waiting = await router.get_contact(offered.contact_id)
    assert (waiting.state, waiting.agent_id) == (ContactState.QUEUED, "")
