"""Warm transfers and the router, with real SIP through a node (a worker process, the
Router on real Redis): the consulted colleague is held for the consultation (reserved
while their phone rings, busy once they answer: nothing else is offered to them), a
finished transfer connects the caller to them at once, an unanswered consultation ends
after the queue's ring time with the caller back at the agent, and every consultation,
the abandoned ones too, is on the contact with its outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from router.model import AgentState, Contact
from router.service import Router
from switchboard.common.clock import now_ms

from .conftest import (
    add_agent,
    agent_talking,
    node_uri,
    recorded,
    terminal,
    tone_share,
    until,
)


async def state_of(router: Router, agent_id: str) -> tuple[AgentState, int]:
    """The agent's routing state and voice load, as GET /agents/{id} shows them."""
    agent = await router.get_agent(agent_id)
    return agent.state(now_ms()), agent.load["voice"]


async def noted(router: Router, contact_id: str, count: int = 1) -> Contact:
    """The contact once `count` transfers are on it."""

    async def enough() -> Contact | None:
        contact = await router.get_contact(contact_id)
        return contact if len(contact.transfers) >= count else None

    contact: Contact = await until(enough)
    return contact


async def test_the_colleague_is_held_for_the_consultation_and_takes_the_caller_at_once(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    colleague_tone: Path,
    caller_tone: Path,
    tmp_path: Path,
) -> None:
    voice = await node()
    dave, caller, contact_id = await agent_talking(
        voice, router, parties, tone_wav, "dave", "--tone", str(caller_tone)
    )
    gina = await parties("--answer", "--answer-delay", "2", "--tone", str(colleague_tone))
    await add_agent(router, "gina", gina.uri, {"booking": 2})
    assert await state_of(router, "gina") == (AgentState.AVAILABLE, 0)

    assert await voice.transfer(contact_id, "agent:gina", warm=True) == "held"
    await gina.wait_for("incoming", timeout=10)
    assert await state_of(router, "gina") == (AgentState.RESERVED, 1)  # ringing for it
    await gina.wait_for("answered", timeout=20)

    async def busy() -> bool:
        return await state_of(router, "gina") == (AgentState.BUSY, 1)

    await until(busy, timeout=10)

    # A new caller for the queue meanwhile: dave and gina are both taken, so it waits;
    # gina's phone does not ring a second time.
    second = await parties()
    second.send(cmd="call", uri=node_uri(voice))
    await second.wait_for("media", timeout=20)
    second.send(cmd="dtmf", digits="1")
    second_id = await until(lambda: next((c for c in voice.pool.owner if c != contact_id), None))
    await asyncio.sleep(1.5)
    assert (await router.get_contact(second_id)).state.value == "queued"
    assert sum(e["type"] == "incoming" for e in gina.events) == 1

    # Finished: the caller goes straight to gina (no queue, no offer, no second ring).
    assert await voice.complete_transfer(contact_id) == "talking"
    contact = await router.get_contact(contact_id)
    assert (contact.state.value, contact.agent_id) == ("connected", "gina")
    assert await state_of(router, "gina") == (AgentState.BUSY, 1)
    await dave.wait_for("hangup", timeout=15)
    joined = await recorded(caller, tmp_path / "joined.wav")
    assert tone_share(joined, 1500.0, last_s=1.5) > 0.5  # the caller talks to gina
    heard = await recorded(gina, tmp_path / "gina.wav")
    assert tone_share(heard, 600.0, last_s=1.5) > 0.5  # and gina hears the caller
    assert sum(e["type"] == "incoming" for e in gina.events) == 1

    # Dave's slot came back: the waiting caller is his now.
    async def taken_by_dave() -> bool:
        waiting = await router.get_contact(second_id)
        return waiting.state.value == "connected" and waiting.agent_id == "dave"

    await until(taken_by_dave, timeout=20)

    caller.send(cmd="hangup")
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.agent_id) == ("completed", "gina")
    (transfer,) = contact.transfers
    assert (transfer["mode"], transfer["from_agent"], transfer["to"], transfer["outcome"]) == (
        "warm",
        "dave",
        "agent:gina",
        "completed",
    )
    assert contact.agent_chain == ["dave", "gina"]
    second.send(cmd="hangup")


async def test_an_unanswered_consultation_ends_after_the_ring_time_and_returns_the_caller(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    tmp_path: Path,
) -> None:
    voice = await node()
    _, caller, contact_id = await agent_talking(voice, router, parties, tone_wav, "dave")
    gina = await parties()  # rings, never answers
    await add_agent(router, "gina", gina.uri, {"booking": 2})

    await voice.transfer(contact_id, "agent:gina", warm=True)
    rung = await gina.wait_for("incoming", timeout=10)
    rang_at = asyncio.get_running_loop().time()
    await gina.wait_for("hangup", where=lambda e: e["leg"] == rung["leg"], timeout=20)
    rang_s = asyncio.get_running_loop().time() - rang_at
    assert 3.5 <= rang_s <= 9.0, rang_s  # the queue's ring time: 5 s

    contact = await noted(router, contact_id)
    assert (contact.state.value, contact.agent_id) == ("connected", "dave")
    (transfer,) = contact.transfers
    assert (transfer["mode"], transfer["to"], transfer["outcome"], transfer["reason"]) == (
        "warm",
        "agent:gina",
        "returned",
        "no_answer",
    )
    back = await recorded(caller, tmp_path / "back.wav")
    assert tone_share(back, 1000.0, last_s=1.5) > 0.5  # dave again
    # A consultation's missed ring is no RONA: gina is free and still available.
    assert await state_of(router, "gina") == (AgentState.AVAILABLE, 0)


async def test_a_caller_who_hangs_up_during_the_consultation_is_noted_and_frees_the_colleague(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    colleague_tone: Path,
) -> None:
    voice = await node()
    dave, caller, contact_id = await agent_talking(voice, router, parties, tone_wav, "dave")
    gina = await parties("--answer", "--tone", str(colleague_tone))
    await add_agent(router, "gina", gina.uri, {"booking": 2})
    await voice.transfer(contact_id, "agent:gina", warm=True)
    await gina.wait_for("answered", timeout=20)
    await asyncio.sleep(1.0)

    caller.send(cmd="hangup")
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.agent_id) == ("completed", "dave")
    await gina.wait_for("hangup", timeout=15)
    await dave.wait_for("hangup", timeout=15)
    contact = await noted(router, contact_id)
    (transfer,) = contact.transfers
    assert (transfer["mode"], transfer["to"], transfer["outcome"], transfer["reason"]) == (
        "warm",
        "agent:gina",
        "abandoned",
        "caller_hangup",
    )
    assert int(str(transfer["consulted_ms"])) >= 1000

    async def gina_free() -> bool:
        return await state_of(router, "gina") == (AgentState.AVAILABLE, 0)

    await until(gina_free, timeout=10)


async def test_the_router_holds_a_colleague_for_one_consultation_and_lets_go_once(
    router: Router,
) -> None:
    """`consult` in routing.lua alone: reserve, answered, release (idempotent), hand_over."""
    from router.errors import RoutingError
    from router.model import Channel, NewContact, Presence

    for agent_id in ("dave", "gina", "hal"):
        await add_agent(router, agent_id, f"sip:{agent_id}@phones", {"booking": 2})
    await router.set_presence("gina", Presence.NOT_READY)
    await router.set_presence("hal", Presence.NOT_READY)
    call = NewContact(channel=Channel.VOICE, queue="booking", language="en")
    first = await router.create_contact(call)
    assert first.agent_id == "dave"
    await router.accept(first.contact_id, "dave")
    await router.set_presence("gina", Presence.AVAILABLE)
    await router.set_presence("hal", Presence.AVAILABLE)

    await router.consult(first.contact_id, "gina", "reserve")
    assert await state_of(router, "gina") == (AgentState.RESERVED, 1)
    with pytest.raises(RoutingError, match="consulting gina"):
        await router.consult(first.contact_id, "hal", "reserve")  # one at a time
    second = await router.create_contact(call)  # nobody but hal may take it
    assert second.agent_id == "hal"
    await router.accept(second.contact_id, "hal")
    with pytest.raises(RoutingError, match="busy"):
        await router.consult(second.contact_id, "gina", "reserve")  # held for the first
    await router.consult(first.contact_id, "gina", "answered")
    assert await state_of(router, "gina") == (AgentState.BUSY, 1)
    await router.consult(first.contact_id, "gina", "release")
    await router.consult(first.contact_id, "gina", "release")  # once only
    assert await state_of(router, "gina") == (AgentState.AVAILABLE, 0)

    await router.consult(first.contact_id, "gina", "reserve")
    await router.consult(first.contact_id, "gina", "answered")
    await router.consult(first.contact_id, "gina", "hand_over")
    contact = await router.get_contact(first.contact_id)
    assert (contact.state.value, contact.agent_id) == ("connected", "gina")
    assert await state_of(router, "gina") == (AgentState.BUSY, 1)
    assert (await router.get_agent("dave")).load["voice"] == 0  # his slot back
    await router.consult(first.contact_id, "", "release")  # nothing held any more
    assert await state_of(router, "gina") == (AgentState.BUSY, 1)
    await router.complete(first.contact_id, "gina")
    assert (await router.get_agent("gina")).load["voice"] == 0


async def test_a_call_that_ends_mid_consultation_lets_the_colleague_go(router: Router) -> None:
    """The node running the call dies while dave consults gina (its calls fail on
    adoption): gina's slot comes back with the call's end, not held for ever."""
    from router.model import Channel, NewContact

    for agent_id in ("dave", "gina"):
        await add_agent(router, agent_id, f"sip:{agent_id}@phones", {"booking": 2})
    call = NewContact(channel=Channel.VOICE, queue="booking", language="en")
    first = await router.create_contact(call)
    await router.accept(first.contact_id, first.agent_id)
    colleague = "gina" if first.agent_id == "dave" else "dave"
    await router.consult(first.contact_id, colleague, "reserve")
    assert await state_of(router, colleague) == (AgentState.RESERVED, 1)
    await router.fail(first.contact_id, "node_lost")
    assert await state_of(router, colleague) == (AgentState.AVAILABLE, 0)
    ended = await router.get_contact(first.contact_id)
    assert f"consultation with {colleague} ended" in " ".join(ended.explanation)
