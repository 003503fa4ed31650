"""A voice offer made while the node's routing events were cut off (a Redis outage: the
subscription not back yet although Redis answers) still rings the agent's phone once the
events come back, with the ring time left. Before, the worker never heard the offer: the
phone stayed silent and the call rang out as the agent's 'no answer'. Real pjsua2 phones,
real Redis; the gap is the node's pub/sub connection killed and kept from coming back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from router.model import ContactState, Presence
from router.service import Router
from tests.gated_events import Gated

from .conftest import add_agent, connected_contact, node_uri, terminal, until


async def test_an_offer_made_during_an_event_gap_rings_the_agents_phone_when_events_return(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    redis_client: aioredis.Redis,
) -> None:
    voice = await node()
    hub = voice.events
    gate = Gated(router.store)
    hub.source = gate

    caller = await parties()
    caller.send(cmd="call", uri=node_uri(voice))
    await caller.wait_for("media", timeout=20)
    caller.send(cmd="dtmf", digits="1")  # booking: nobody signed in, the caller waits
    contact_id = await until(lambda: next(iter(voice.pool.owner), None))
    await until(lambda: _in_state(router, contact_id, ContactState.QUEUED))

    gate.held = True
    await redis_client.client_kill_filter(_type="pubsub")  # the node's events connection
    await until(lambda: not hub.connected.is_set())

    phone = await parties("--answer", "--tone", str(tone_wav))
    await add_agent(router, "ana", phone.uri, {"booking": 2})  # the offer, unheard here
    offered = await router.get_contact(contact_id)
    assert (offered.state, offered.agent_id) == (ContactState.OFFERED, "ana")
    await asyncio.sleep(1.0)
    assert not [e for e in phone.events if e["type"] == "incoming"], "heard during the gap"
    assert not hub.connected.is_set()

    gate.held = False
    await phone.wait_for("answered", timeout=10)
    assert await connected_contact(voice, router) == contact_id
    contact = await router.get_contact(contact_id)
    assert (contact.state, contact.agent_id) == (ContactState.CONNECTED, "ana")
    agent = await router.get_agent("ana")
    assert agent.presence == Presence.AVAILABLE and agent.reason != "no_answer"

    caller.send(cmd="hangup")
    ended = await until(lambda: terminal(router, contact_id))
    assert (ended.state.value, ended.agent_id) == ("completed", "ana")
    records = [r async for r in router.store.records()]
    assert [(r["contact_id"], r["state"]) for r in records] == [(contact_id, "completed")]


async def _in_state(router: Router, contact_id: str, state: ContactState) -> bool:
    return (await router.get_contact(contact_id)).state == state
