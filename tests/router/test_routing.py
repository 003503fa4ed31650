"""Routing decisions on a real Redis, driven with an explicit clock."""

from __future__ import annotations

from router.model import Channel, ContactState, NewContact, Presence, QueueConfig, Strategy
from router.service import Router
from tests.router.conftest import QUEUES, make_agent

T0 = 1_700_000_000_000


def chat(queue: str = "booking", language: str = "en", **kw) -> NewContact:
    return NewContact(channel=Channel.CHAT, queue=queue, language=language, **kw)


async def ready(router: Router, agent, at_ms: int = T0) -> None:
    await router.store.upsert_agent(agent, at_ms=at_ms)
    await router.set_presence(agent.agent_id, Presence.AVAILABLE, at_ms=at_ms)


async def test_contact_is_offered_to_longest_idle_agent(router: Router) -> None:
    await ready(router, make_agent("a1"), T0 + 2000)
    await ready(router, make_agent("a2"), T0 + 1000)
    contact = await router.create_contact(chat(), at_ms=T0 + 5000)
    assert contact.state == ContactState.OFFERED
    assert contact.agent_id == "a2"
    assert "strategy=longest_idle" in contact.explanation[-1]


async def test_full_life_cycle_records_one_outcome(router: Router) -> None:
    await ready(router, make_agent("a1"))
    contact = await router.create_contact(chat(), at_ms=T0 + 1000)
    await router.accept(contact.contact_id, "a1", at_ms=T0 + 3000)
    done = await router.complete(contact.contact_id, "a1", at_ms=T0 + 60_000)
    assert done.state == ContactState.COMPLETED and done.outcome == "completed"
    records = [r async for r in router.store.records()]
    assert [(r["contact_id"], r["state"]) for r in records] == [(contact.contact_id, "completed")]
    assert records[0]["answered_at"] == str(T0 + 3000)


async def test_second_outcome_is_refused(router: Router) -> None:
    contact = await router.create_contact(chat(), at_ms=T0)
    await router.abandon(contact.contact_id, at_ms=T0 + 1000)
    try:
        await router.fail(contact.contact_id, "late", at_ms=T0 + 2000)
    except ValueError as error:
        assert "abandoned" in str(error)
    else:
        raise AssertionError("a second outcome was accepted")
    records = [r async for r in router.store.records()]
    assert len(records) == 1 and records[0]["state"] == "abandoned"


async def test_chat_capacity_is_never_exceeded(router: Router) -> None:
    await ready(router, make_agent("a1"))
    contacts = [await router.create_contact(chat(), at_ms=T0 + i) for i in range(5)]
    offered = [c for c in contacts if c.state == ContactState.OFFERED]
    assert len(offered) == 3
    agent = await router.get_agent("a1")
    assert agent.load["chat"] == 3
    # When one chat ends the next waiting one is offered at once.
    await router.accept(offered[0].contact_id, "a1", at_ms=T0 + 10)
    await router.complete(offered[0].contact_id, at_ms=T0 + 20)
    assert (await router.get_contact(contacts[3].contact_id)).state == ContactState.OFFERED


async def test_ring_timeout_puts_agent_not_ready_and_contact_back_at_head(router: Router) -> None:
    await ready(router, make_agent("a1"))
    first = await router.create_contact(chat(), at_ms=T0)
    await router.set_presence("a1", Presence.AVAILABLE, at_ms=T0)
    later = [await router.create_contact(chat(), at_ms=T0 + 100 + i) for i in range(3)]
    assert first.agent_id == "a1"
    await router.tick(at_ms=T0 + 5_001)  # ring_s = 5
    contact = await router.get_contact(first.contact_id)
    agent = await router.get_agent("a1")
    assert contact.state == ContactState.QUEUED
    assert agent.presence == Presence.NOT_READY and agent.reason == "no answer"
    assert await router.store.queue_position("booking", first.contact_id) == 1
    assert later  # the others stayed behind it
    assert "no_answer" in contact.explanation[-1]


async def test_relaxation_steps_fire_at_configured_waits(router: Router) -> None:
    # The only agent speaks English, is in another region, proficiency 2 (< 3).
    await ready(router, make_agent("far", region="asia", languages=("en",), booking=2))
    contact = await router.create_contact(chat(language="de"), at_ms=T0)
    cid = contact.contact_id
    steps = {}
    for second in (9, 11, 19, 21, 29):
        await router.tick(at_ms=T0 + second * 1000)
        steps[second] = (await router.get_contact(cid)).state
    assert all(state == ContactState.QUEUED for state in steps.values())
    assert (await router.get_contact(cid)).explanation == []
    await router.tick(at_ms=T0 + 31_000)
    offered = await router.get_contact(cid)
    assert offered.state == ContactState.OFFERED and offered.agent_id == "far"
    assert "step=proficiency" in offered.explanation[-1]


async def test_language_step_accepts_fallback_language(router: Router) -> None:
    await ready(router, make_agent("en1", languages=("en",)))
    contact = await router.create_contact(chat(language="de"), at_ms=T0)
    await router.tick(at_ms=T0 + 9_000)
    assert (await router.get_contact(contact.contact_id)).state == ContactState.QUEUED
    await router.tick(at_ms=T0 + 10_500)
    offered = await router.get_contact(contact.contact_id)
    assert offered.agent_id == "en1" and "step=language" in offered.explanation[-1]


async def test_region_step_reaches_other_region(router: Router) -> None:
    await ready(router, make_agent("asia1", region="asia", languages=("de",)))
    contact = await router.create_contact(chat(language="de"), at_ms=T0)
    await router.tick(at_ms=T0 + 15_000)
    assert (await router.get_contact(contact.contact_id)).state == ContactState.QUEUED
    await router.tick(at_ms=T0 + 20_500)
    offered = await router.get_contact(contact.contact_id)
    assert offered.agent_id == "asia1" and "step=region" in offered.explanation[-1]


async def test_most_skilled_strategy_prefers_proficiency(router: Router) -> None:
    await ready(router, make_agent("novice", booking=3), T0)
    await ready(router, make_agent("expert", booking=5), T0 + 5000)
    contact = await router.create_contact(chat(queue="expert"), at_ms=T0 + 6000)
    assert contact.agent_id == "expert"


async def test_most_skilled_takes_the_longest_idle_of_the_most_proficient(router: Router) -> None:
    await ready(router, make_agent("idle4", booking=4), T0)
    await ready(router, make_agent("late5", booking=5), T0 + 3000)
    await ready(router, make_agent("early5", booking=5), T0 + 1000)
    contact = await router.create_contact(chat(queue="expert"), at_ms=T0 + 6000)
    assert contact.agent_id == "early5"


async def test_least_occupied_chat_goes_to_the_lighter_load(router: Router) -> None:
    support = QueueConfig(name="support", skill="support", strategy=Strategy.LEAST_OCCUPIED)
    spread = Router(router.store, [*QUEUES, support], node_id="n1", region="eu")
    await spread.publish_configuration(["eu"])
    await ready(spread, make_agent("first", support=3), T0)
    await ready(spread, make_agent("second", support=3), T0 + 1000)
    chosen = []
    for i in range(3):
        contact = await spread.create_contact(chat(queue="support"), at_ms=T0 + 5000 + i)
        chosen.append(contact.agent_id)
    # Equal loads fall back to the longest idle; a loaded agent waits its turn.
    assert chosen == ["first", "second", "first"]


async def test_round_robin_spreads_offers(router: Router) -> None:
    for name in ("r1", "r2", "r3"):
        await ready(router, make_agent(name, general=3))
    chosen = []
    for i in range(3):
        contact = await router.create_contact(chat(queue="general"), at_ms=T0 + 1000 * (i + 1))
        chosen.append(contact.agent_id)
    assert sorted(chosen) == ["r1", "r2", "r3"]


async def test_maximum_wait_overflows_to_target_queue(router: Router) -> None:
    contact = await router.create_contact(chat(), at_ms=T0)
    await router.tick(at_ms=T0 + 101_000)
    moved = await router.get_contact(contact.contact_id)
    assert moved.queue == "general" and moved.state == ContactState.QUEUED
    assert "maximum wait" in moved.explanation[-1]


async def test_priority_moves_contact_ahead(router: Router) -> None:
    plain = await router.create_contact(chat(), at_ms=T0)
    urgent = await router.create_contact(chat(priority=2), at_ms=T0 + 30_000)
    assert await router.store.queue_position("booking", urgent.contact_id) == 1
    assert await router.store.queue_position("booking", plain.contact_id) == 2


async def test_an_index_that_lost_step_never_puts_an_agent_over_capacity(router: Router) -> None:
    """Scans trust index membership for room; the winner is checked in full. An agent
    whose load was written behind the script's back is skipped and its indexes put right."""
    await ready(router, make_agent("a1"), T0 + 1000)  # the longest idle: first in line
    await ready(router, make_agent("a2"), T0 + 2000)
    agent_key = router.store.keys.agent("a1")
    await router.store.client.hset(agent_key, mapping={"load_chat": 3})
    contact = await router.create_contact(chat(), at_ms=T0 + 5000)
    assert contact.state == ContactState.OFFERED and contact.agent_id == "a2"
    assert (await router.get_agent("a1")).load["chat"] == 3
    indexed = await router.store.client.zrange(f"{router.store.keys.tag}avail:eu:booking:en", 0, -1)
    assert "a1" not in indexed


async def test_an_agent_gone_from_under_its_index_entry_is_dropped(router: Router) -> None:
    await ready(router, make_agent("a1"), T0 + 1000)
    await ready(router, make_agent("a2"), T0 + 2000)
    await router.store.client.delete(router.store.keys.agent("a1"))
    contact = await router.create_contact(chat(), at_ms=T0 + 5000)
    assert contact.state == ContactState.OFFERED and contact.agent_id == "a2"
    indexed = await router.store.client.zrange(f"{router.store.keys.tag}avail:eu:booking:en", 0, -1)
    assert indexed == ["a2"]  # a1 dropped; a2, with two chats of room left, stays


async def test_a_transfer_to_a_named_agent_waits_for_that_agent_first(router: Router) -> None:
    """The target agent alone may take it for the queue's ring time (5 s), even while
    another agent is free; the target freeing up gets it; else the queue does after."""
    await ready(router, make_agent("holder"), T0)
    contact = await router.create_contact(chat(), at_ms=T0 + 100)
    await router.accept(contact.contact_id, "holder", at_ms=T0 + 200)
    await router.store.upsert_agent(make_agent("target"), at_ms=T0)  # logged out: busy elsewhere
    await ready(router, make_agent("free"), T0)
    moved = await router.move(
        contact.contact_id,
        "booking",
        "transfer by holder",
        held_by="holder",
        first_to="target",
        at_ms=T0 + 1000,
    )
    assert moved.state == ContactState.QUEUED and moved.agent_id == ""
    await router.tick(at_ms=T0 + 3000)
    assert (await router.get_contact(contact.contact_id)).state == ContactState.QUEUED
    await router.set_presence("target", Presence.AVAILABLE, at_ms=T0 + 4000)
    offered = await router.get_contact(contact.contact_id)
    assert (offered.state, offered.agent_id) == (ContactState.OFFERED, "target")
    assert "step=preferred" in offered.explanation[-1]


async def test_the_named_agent_first_then_the_queue_after_the_ring_time(router: Router) -> None:
    await ready(router, make_agent("holder"), T0)
    contact = await router.create_contact(chat(), at_ms=T0 + 100)
    await router.accept(contact.contact_id, "holder", at_ms=T0 + 200)
    await router.store.upsert_agent(make_agent("target"), at_ms=T0)
    await ready(router, make_agent("free"), T0)
    await router.move(
        contact.contact_id,
        "booking",
        "transfer",
        held_by="holder",
        first_to="target",
        at_ms=T0 + 1000,
    )
    await router.tick(at_ms=T0 + 5_999)
    assert (await router.get_contact(contact.contact_id)).state == ContactState.QUEUED
    await router.tick(at_ms=T0 + 6_001)  # ring_s = 5 after the transfer
    offered = await router.get_contact(contact.contact_id)
    assert (offered.state, offered.agent_id) == (ContactState.OFFERED, "free")


async def test_a_new_contact_goes_to_its_preferred_agent_and_a_decline_frees_it(
    router: Router,
) -> None:
    """A case's owner is offered the customer's new contact first; declining hands it to
    the queue at once instead of offering it to the owner again."""
    await ready(router, make_agent("owner"), T0 + 500)
    await ready(router, make_agent("other"), T0)  # idle longer: first in line otherwise
    contact = await router.create_contact(
        chat(preferred_agent="owner", prefer_s=60), at_ms=T0 + 1000
    )
    assert (contact.state, contact.agent_id) == (ContactState.OFFERED, "owner")
    declined = await router.decline(contact.contact_id, "owner", "declined", at_ms=T0 + 2000)
    assert (declined.state, declined.agent_id) == (ContactState.OFFERED, "other")
