"""Transfers with real SIP through a node (VoiceFrontDoor, a worker process, the Router):
REFER accepted with 202 and carried out, to a queue, a named agent and an outside number;
warm transfers from the desktop that hold the caller with music, then join or return."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from router.model import Presence
from router.service import Router

from .conftest import (
    add_agent,
    agent_talking,
    call_agent,
    music_share,
    node_uri,
    recorded,
    terminal,
    tone_share,
    until,
)


async def test_refer_to_a_queue_is_accepted_and_the_next_agent_takes_the_caller(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    colleague_tone: Path,
    tmp_path: Path,
) -> None:
    voice = await node()
    dave, caller, contact_id = await agent_talking(voice, router, parties, tone_wav, "dave")
    erin = await parties("--answer", "--tone", str(colleague_tone))
    await add_agent(router, "erin", erin.uri, {"baggage": 2})

    dave.send(cmd="transfer", target=node_uri(voice, "baggage"))
    accepted = await dave.wait_for("transfer_status")
    assert (accepted["code"], accepted["reason"]) == (100, "Accepted")  # the REFER got 202
    done = await dave.wait_for("transfer_status", where=lambda e: e["final"], timeout=20)
    assert done["code"] == 200  # the transferor's phone hears that the transfer worked
    await erin.wait_for("answered", timeout=20)
    heard = await recorded(caller, tmp_path / "after.wav")
    assert tone_share(heard, 1500.0, last_s=1.5) > 0.5  # the caller now talks to erin

    caller.send(cmd="hangup")
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.queue, contact.agent_id) == (
        "completed",
        "baggage",
        "erin",
    )
    (transfer,) = contact.transfers
    assert (transfer["mode"], transfer["by"], transfer["to"]) == ("blind", "refer", "queue:baggage")
    assert contact.agent_chain == ["dave", "erin"]


async def test_refer_to_an_agents_name_asks_the_router_for_that_agent(
    node: Callable[..., Any], router: Router, parties: Callable[..., Any]
) -> None:
    voice = await node()
    dave = await parties("--answer")
    await add_agent(router, "dave", dave.uri, {"booking": 2})
    gina = await parties()
    await add_agent(router, "gina", gina.uri, {"general": 2})
    caller = await parties()
    contact_id = await call_agent(voice, router, caller, dave)
    await router.set_presence("dave", Presence.NOT_READY)  # nobody else for the queue

    dave.send(cmd="transfer", target=node_uri(voice, "gina"))
    assert (await dave.wait_for("transfer_status"))["reason"] == "Accepted"

    async def noted() -> Any:
        return (await router.get_contact(contact_id)).transfers

    (transfer,) = await until(noted)
    assert (transfer["to"], transfer["from_agent"]) == ("agent:gina", "dave")
    fields = await router.store.client.hgetall(f"{router.store.keys.tag}contact:{contact_id}")
    assert fields["preferred_agent"] == "gina"
    assert (fields["state"], fields["agent_id"]) == ("offered", "gina")  # her first


async def test_refer_to_a_named_agent_rings_that_agent(
    node: Callable[..., Any], router: Router, parties: Callable[..., Any]
) -> None:
    voice = await node()
    dave = await parties("--answer")
    await add_agent(router, "dave", dave.uri, {"booking": 2})
    gina = await parties("--answer")  # not in the queue's skill: only the name reaches her
    await add_agent(router, "gina", gina.uri, {"general": 2})
    caller = await parties()
    await call_agent(voice, router, caller, dave)
    await router.set_presence("dave", Presence.NOT_READY)
    dave.send(cmd="transfer", target=node_uri(voice, "gina"))
    await gina.wait_for("incoming", timeout=10)


async def test_refer_to_an_outside_number_bridges_the_caller_to_it(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    colleague_tone: Path,
    caller_tone: Path,
    tmp_path: Path,
) -> None:
    voice = await node()
    dave = await parties("--answer")
    await add_agent(router, "dave", dave.uri, {"booking": 2})
    outside = await parties("--answer", "--tone", str(colleague_tone))
    caller = await parties("--tone", str(caller_tone))
    contact_id = await call_agent(voice, router, caller, dave)

    dave.send(cmd="transfer", target=outside.uri)  # not an address of the node: outside
    await outside.wait_for("answered", timeout=20)
    done = await dave.wait_for("transfer_status", where=lambda e: e["final"], timeout=20)
    assert done["code"] == 200
    contact = await until(lambda: terminal(router, contact_id))
    # Handed out of the center: the contact is done, with dave; the call goes on.
    assert (contact.state.value, contact.agent_id) == ("completed", "dave")
    assert contact.transfers[0]["to"] == outside.uri
    heard = await recorded(caller, tmp_path / "caller.wav")
    assert tone_share(heard, 1500.0, last_s=1.5) > 0.5
    heard = await recorded(outside, tmp_path / "outside.wav")
    assert tone_share(heard, 600.0, last_s=1.5) > 0.5
    caller.send(cmd="hangup")
    await outside.wait_for("hangup", timeout=15)


async def test_a_warm_transfer_holds_the_caller_with_music_then_joins_the_colleague(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    colleague_tone: Path,
    caller_tone: Path,
    tmp_path: Path,
) -> None:
    voice = await node()
    dave = await parties("--answer", "--tone", str(tone_wav))
    await add_agent(router, "dave", dave.uri, {"booking": 2})
    gina = await parties("--answer", "--tone", str(colleague_tone))
    await add_agent(router, "gina", gina.uri, {"booking": 2})
    caller = await parties("--tone", str(caller_tone))
    contact_id = await call_agent(voice, router, caller, dave)

    assert await voice.transfer(contact_id, "agent:gina", warm=True) == "held"
    await gina.wait_for("answered", timeout=20)
    held = await recorded(caller, tmp_path / "held.wav")
    assert music_share(held) > 0.5  # music, and neither agent
    assert max(tone_share(held, f, last_s=1.5) for f in (1000.0, 1500.0)) < 0.1
    consult = await recorded(dave, tmp_path / "dave.wav")
    assert tone_share(consult, 1500.0, last_s=1.5) > 0.5  # dave talks to gina
    assert tone_share(consult, 600.0, last_s=1.5) < 0.1  # and the caller cannot hear

    await router.set_presence("dave", Presence.NOT_READY)  # the queue's next agent is gina
    await voice.complete_transfer(contact_id)
    await dave.wait_for("hangup", timeout=15)
    joined = await recorded(caller, tmp_path / "joined.wav")
    assert tone_share(joined, 1500.0, last_s=1.5) > 0.5
    assert sum(e["type"] == "incoming" for e in gina.events) == 1  # no second ring

    caller.send(cmd="hangup")
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.agent_id) == ("completed", "gina")
    (transfer,) = contact.transfers
    assert (transfer["mode"], transfer["to"], transfer["outcome"]) == (
        "warm",
        "agent:gina",
        "completed",
    )
    assert transfer["consulted_ms"] > 2000
    assert contact.agent_chain == ["dave", "gina"]


async def test_a_cancelled_warm_transfer_returns_the_caller_to_the_agent(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    colleague_tone: Path,
    tmp_path: Path,
) -> None:
    voice = await node()
    dave = await parties("--answer", "--tone", str(tone_wav))
    await add_agent(router, "dave", dave.uri, {"booking": 2})
    gina = await parties("--answer", "--tone", str(colleague_tone))
    await add_agent(router, "gina", gina.uri, {"booking": 2})
    caller = await parties()
    contact_id = await call_agent(voice, router, caller, dave)
    await voice.transfer(contact_id, "agent:gina", warm=True)
    await gina.wait_for("answered", timeout=20)
    assert await voice.cancel_transfer(contact_id) == "talking"
    await gina.wait_for("hangup", timeout=15)
    back = await recorded(caller, tmp_path / "back.wav")
    assert tone_share(back, 1000.0, last_s=1.5) > 0.5  # dave again
    contact = await router.get_contact(contact_id)
    assert (contact.state.value, contact.agent_id) == ("connected", "dave")
    assert contact.transfers[-1]["outcome"] == "returned"


async def test_a_warm_transfer_to_a_number_joins_the_caller_outside(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    colleague_tone: Path,
    tmp_path: Path,
) -> None:
    outside = await parties("--answer", "--tone", str(colleague_tone))
    voice = await node(outside_uri=f"sip:{{number}}@127.0.0.1:{outside.port}")
    dave = await parties("--answer")
    await add_agent(router, "dave", dave.uri, {"booking": 2})
    caller = await parties()
    contact_id = await call_agent(voice, router, caller, dave)
    await voice.transfer(contact_id, "tel:+4930123456", warm=True)
    incoming = await outside.wait_for("incoming", timeout=20)
    assert "+4930123456" in incoming["to"]
    await outside.wait_for("answered", timeout=20)
    await asyncio.sleep(0.5)
    assert await voice.complete_transfer(contact_id) == "external"
    await dave.wait_for("hangup", timeout=15)
    heard = await recorded(caller, tmp_path / "caller.wav")
    assert tone_share(heard, 1500.0, last_s=1.5) > 0.5
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.agent_id) == ("completed", "dave")


async def test_a_transfer_of_a_call_the_node_does_not_hold_is_refused_with_the_reason(
    node: Callable[..., Any],
) -> None:
    from telephony.service import CommandRefused

    voice = await node()
    with pytest.raises(CommandRefused, match="no call"):
        await voice.transfer("nope", "queue:baggage")
