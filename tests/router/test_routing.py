"""Routing decisions on a real Redis, driven with an explicit clock."""

from __future__ import annotations

from router.errors import RoutingError, UnknownAgent
from router.model import Channel, ContactState, NewContact, Presence, QueueConfig, Strategy
from router.service import Router
from router.stats import add_buckets
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


async def test_a_second_sign_in_changes_the_chat_room_at_once(router: Router) -> None:
    """ana is full with one chat; a second sign-in gives her room for three: the chat
    waiting is offered to her at once, and so is the next; one with no chat room takes
    her out of chat routing at once."""
    await router.store.upsert_agent(make_agent("ana"))
    await router.login("ana", channels={"chat": 1})
    await router.set_presence("ana", Presence.AVAILABLE)
    first = await router.create_contact(chat())
    waiting = await router.create_contact(chat())
    assert (first.agent_id, waiting.state) == ("ana", ContactState.QUEUED)

    agent = await router.login("ana", channels={"chat": 3})
    assert agent.capacity["chat"] == 3 and agent.load["chat"] == 2
    offered = await router.get_contact(waiting.contact_id)
    assert (offered.state, offered.agent_id) == (ContactState.OFFERED, "ana")
    third = await router.create_contact(chat())
    assert (third.state, third.agent_id) == (ContactState.OFFERED, "ana")

    await router.login("ana", channels={"chat": 0})
    for contact in (first, waiting, third):
        await router.abandon(contact.contact_id)
    fourth = await router.create_contact(chat())
    assert fourth.state == ContactState.QUEUED
    ix = await router.store.client.hget(router.store.keys.agent("ana"), "ix")
    assert ix.endswith(":v")  # indexed for a call only


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


async def test_a_transfer_keeps_the_first_answer_and_goes_to_someone_else_first(
    router: Router,
) -> None:
    """Answered in 0.3 s, transferred to its own queue after 25 s while another agent is
    free: the other agent takes it (not the transferring one, although longest idle), and
    the contact keeps its first answer: one answer, a 0.3 s wait; its handle time is its
    agents' legs (24.7 s and 2 s), not the 0.5 s it rang at bob between them."""
    await ready(router, make_agent("ana"), T0)
    contact = await router.create_contact(chat(), at_ms=T0 + 1000)
    cid = contact.contact_id
    assert contact.agent_id == "ana"
    await router.accept(cid, "ana", at_ms=T0 + 1300)
    await ready(router, make_agent("bob"), T0 + 20_000)  # less idle than ana
    moved = await router.transfer(cid, "ana", to_queue="booking", at_ms=T0 + 26_000)
    assert (moved.state, moved.agent_id) == (ContactState.OFFERED, "bob")
    await router.accept(cid, "bob", at_ms=T0 + 26_500)
    done = await router.complete(cid, "bob", at_ms=T0 + 28_500)
    assert done.timestamps["answered_at"] == T0 + 1300
    assert done.timestamps["offered_at"] == T0 + 1000
    records = [r async for r in router.store.records()]
    assert [(r["state"], r["answered_at"]) for r in records] == [("completed", str(T0 + 1300))]
    figures = await router.last_hour("booking", at_ms=T0 + 30_000)
    assert (figures.answered, figures.answered_in_sl, figures.wait_ms) == (1, 1, 300)
    assert (figures.handled, figures.handle_ms) == (1, 26_700)


async def test_a_transfer_comes_back_to_its_agent_only_when_nobody_else_takes_it(
    router: Router,
) -> None:
    await ready(router, make_agent("ana"), T0)
    contact = await router.create_contact(chat(), at_ms=T0 + 1000)
    await router.accept(contact.contact_id, "ana", at_ms=T0 + 2000)
    moved = await router.move(
        contact.contact_id, "booking", "transfer", held_by="ana", at_ms=T0 + 10_000
    )
    assert (moved.state, moved.agent_id) == (ContactState.QUEUED, "")
    await router.tick(at_ms=T0 + 14_000)
    assert (await router.get_contact(contact.contact_id)).state == ContactState.QUEUED
    await router.tick(at_ms=T0 + 15_001)  # nobody else came within the decline bar (5 s)
    again = await router.get_contact(contact.contact_id)
    assert (again.state, again.agent_id) == (ContactState.OFFERED, "ana")


async def test_a_customer_leaving_after_a_transfer_is_no_abandon(router: Router) -> None:
    """Answered, transferred, then left while ringing at the next agent: one outcome,
    completed by the customer; no abandon in the queue's figures; the ringing agent is
    told and gets the slot back. Its handle time is ana's 4 s: the 6 s it waited after
    the transfer was nobody's."""
    await ready(router, make_agent("ana"), T0)
    contact = await router.create_contact(chat(), at_ms=T0 + 1000)
    cid = contact.contact_id
    await router.accept(cid, "ana", at_ms=T0 + 2000)
    await ready(router, make_agent("bob"), T0 + 5000)
    subscription = await router.store.subscribe()
    try:
        moved = await router.transfer(cid, "ana", to_queue="booking", at_ms=T0 + 6000)
        assert moved.agent_id == "bob"
        left = await router.abandon(cid, "customer_left", at_ms=T0 + 12_000)
        events = await drain(subscription)
    finally:
        await subscription.close()
    assert (left.state, left.reason) == (ContactState.COMPLETED, "customer_left")
    assert ("offer_revoked", "bob", "customer_left") in [
        (e["type"], e.get("agent_id"), e.get("reason")) for e in events
    ]
    assert (await router.get_agent("bob")).load["chat"] == 0
    records = [r async for r in router.store.records()]
    assert [(r["state"], r["answered_at"], r["agent_id"]) for r in records] == [
        ("completed", str(T0 + 2000), "")
    ]
    figures = await router.last_hour("booking", at_ms=T0 + 13_000)
    assert (figures.answered, figures.abandoned, figures.handled) == (1, 0, 1)
    assert figures.handle_ms == 4_000


async def test_a_supervisor_move_of_a_ringing_contact_revokes_the_offer(router: Router) -> None:
    await ready(router, make_agent("ana"), T0)
    contact = await router.create_contact(chat(), at_ms=T0 + 1000)
    assert contact.agent_id == "ana"
    subscription = await router.store.subscribe()
    try:
        moved = await router.move(contact.contact_id, "general", "moved by sup", at_ms=T0 + 2000)
        events = await drain(subscription)
    finally:
        await subscription.close()
    assert (moved.state, moved.queue, moved.agent_id) == (ContactState.QUEUED, "general", "")
    assert ("offer_revoked", contact.contact_id, "ana", "moved") in [
        (e["type"], e.get("contact_id"), e.get("agent_id"), e.get("reason")) for e in events
    ]
    agent = await router.get_agent("ana")
    assert (agent.load["chat"], agent.offers) == (0, 0)
    try:
        await router.accept(contact.contact_id, "ana", at_ms=T0 + 3000)
    except RoutingError:
        pass
    else:
        raise AssertionError("a revoked offer was accepted")


async def test_a_connected_contact_is_moved_only_by_its_agent(router: Router) -> None:
    await ready(router, make_agent("ana"), T0)
    contact = await router.create_contact(chat(), at_ms=T0 + 1000)
    await router.accept(contact.contact_id, "ana", at_ms=T0 + 2000)
    try:
        await router.move(contact.contact_id, "general", "moved by sup", at_ms=T0 + 3000)
    except RoutingError as refused:
        assert "connected to ana" in str(refused) and "transfer" in str(refused)
    else:
        raise AssertionError("a conversation was moved from under its agent")
    after = await router.get_contact(contact.contact_id)
    assert (after.state, after.queue, after.agent_id) == (ContactState.CONNECTED, "booking", "ana")
    assert (await router.get_agent("ana")).load["chat"] == 1


async def test_a_transfer_to_an_unknown_or_signed_out_colleague_changes_nothing(
    router: Router,
) -> None:
    await ready(router, make_agent("ana"), T0)
    await router.store.upsert_agent(make_agent("sam"), at_ms=T0)  # signed out
    contact = await router.create_contact(chat(), at_ms=T0 + 1000)
    await router.accept(contact.contact_id, "ana", at_ms=T0 + 2000)
    refusals: dict[str, type[Exception]] = {
        "nobody-here": UnknownAgent,  # 404 over HTTP
        "sam": RoutingError,  # 409
        "ana": RoutingError,  # herself: 409
    }
    for target, refusal in refusals.items():
        try:
            await router.transfer(contact.contact_id, "ana", to_agent=target, at_ms=T0 + 3000)
        except refusal:
            pass
        else:
            raise AssertionError(f"a transfer to {target} was accepted")
        after = await router.get_contact(contact.contact_id)
        assert (after.state, after.agent_id) == (ContactState.CONNECTED, "ana")
    assert (await router.get_agent("ana")).load["chat"] == 1


async def drain(subscription, quiet_s: float = 0.3) -> list[dict]:
    """The events received until none comes for `quiet_s`."""
    events = []
    while (event := await subscription.next(timeout_s=quiet_s)) is not None:
        events.append(event)
    return events


async def _today(router: Router, queue: str) -> tuple[int, int, int]:
    """The queue's (offered, answered, abandoned) counters over the test's hour."""
    figures = add_buckets(await router.store.stat_buckets(queue, T0, T0 + 3_600_000))
    return figures.offered, figures.answered, figures.abandoned


async def test_offered_follows_a_contact_moved_before_it_was_answered(router: Router) -> None:
    """A queue's offered counter counted arrivals, its answered and abandoned the contacts
    that ended in it: after moves the wallboard showed a queue with 6 offered and 12
    answered. Offered now follows the contact; a transfer (answered first) is offered to
    both queues, each balanced."""
    waiting = await router.create_contact(chat(), at_ms=T0 + 100)
    await router.create_contact(chat(), at_ms=T0 + 200)
    await router.move(waiting.contact_id, "general", "supervisor", at_ms=T0 + 1000)
    await router.abandon(waiting.contact_id, at_ms=T0 + 2000)
    assert await _today(router, "booking") == (1, 0, 0)
    assert await _today(router, "general") == (1, 0, 1)

    await ready(router, make_agent("holder", booking=4), T0 + 3000)
    talked = await router.get_contact(
        (await router.create_contact(chat("expert"), at_ms=T0 + 3100)).contact_id
    )
    await router.accept(talked.contact_id, "holder", at_ms=T0 + 3200)
    await router.move(talked.contact_id, "general", "transfer", held_by="holder", at_ms=T0 + 4000)
    assert await _today(router, "expert") == (1, 1, 0)
    assert await _today(router, "general") == (2, 0, 1)
    # Taken over there, said as staff read it (it named the first answer in epoch ms).
    await ready(router, make_agent("next", general=3), T0 + 4500)
    await router.accept(talked.contact_id, "next", at_ms=T0 + 65_200)
    taken = await router.get_contact(talked.contact_id)
    assert taken.explanation[-1] == "taken over by next (answered first 62 s before)"


async def test_a_ring_out_dates_the_agents_not_ready(router: Router) -> None:
    """After a ring-no-answer the wallboard's "in state" said the agent had been not
    ready since they last went available."""
    await ready(router, make_agent("quiet"), T0)
    offered = await router.create_contact(chat(), at_ms=T0 + 60_000)
    assert offered.agent_id == "quiet"
    await router.tick(at_ms=T0 + 66_000)  # booking rings 5 s
    agent = await router.store.get_agent("quiet")
    assert agent is not None
    assert (agent.presence, agent.presence_since_ms) == (Presence.NOT_READY, T0 + 66_000)
