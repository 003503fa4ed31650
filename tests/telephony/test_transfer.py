"""Transfers with real SIP through a node (VoiceFrontDoor, a worker process, the Router):
REFER accepted with 202 and carried out, to a queue, a named agent and an outside number;
a REFER the node refuses (no such name, an agent signed out) reported to the phone as a
failure in its last NOTIFY, so that it keeps the call; a phone hanging up while the router
decides its transfer; warm transfers from the desktop that hold the caller with music,
then join or return."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from router.model import AgentState, Presence
from router.service import Router
from switchboard.common.clock import now_ms

from .conftest import (
    Party,
    add_agent,
    agent_talking,
    call_agent,
    connected_contact,
    music_share,
    node_uri,
    recorded,
    refer_refused,
    rtp_block,
    start_sipp,
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


async def test_refer_to_the_accounts_domain_names_the_node(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    colleague_tone: Path,
    tmp_path: Path,
) -> None:
    """A phone writes the transfer target with its account's domain (`[sip] domain`, not
    the host): `sip:baggage@LOCALHOST:<port>` is the node's queue, carried out by the
    router (it was taken for an outside party: the caller bridged to pjsua's call to it,
    the contact completed with dave as if handed out of the centre)."""
    voice = await node(sip='domain = "localhost"')
    dave, caller, contact_id = await agent_talking(voice, router, parties, tone_wav, "dave")
    erin = await parties("--answer", "--tone", str(colleague_tone))
    await add_agent(router, "erin", erin.uri, {"baggage": 2})

    dave.send(cmd="transfer", target=f"sip:baggage@LOCALHOST:{voice.sip.port}")
    done = await dave.wait_for("transfer_status", where=lambda e: e["final"], timeout=20)
    assert done["code"] == 200
    await erin.wait_for("answered", timeout=20)
    heard = await recorded(caller, tmp_path / "after.wav")
    assert tone_share(heard, 1500.0, last_s=1.5) > 0.5  # the caller talks to erin
    contact = await router.get_contact(contact_id)
    assert (contact.state.value, contact.agent_id) == ("connected", "erin")
    (transfer,) = contact.transfers
    assert (transfer["by"], transfer["to"]) == ("refer", "queue:baggage")
    await dave.wait_for("hangup", timeout=15)  # the transferor's leg, once its NOTIFY went


async def test_refer_to_a_number_at_the_node_dials_it_through_the_trunk(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    colleague_tone: Path,
    tmp_path: Path,
) -> None:
    """`sip:+4930123456@<node>` names a number: the worker dials it through `[sip]
    outside_uri` and the caller hears music until it answers, then talks to it; the
    phone's NOTIFY says 200 once the node has taken it on. (pjsua's call to the node
    itself was taken for the outside party: the caller was bridged to that loop, and the
    number never rang.)"""
    outside = await parties("--answer", "--tone", str(colleague_tone))
    voice = await node(outside_uri=f"sip:{{number}}@127.0.0.1:{outside.port}")
    dave, caller, contact_id = await agent_talking(voice, router, parties, tone_wav, "dave")

    dave.send(cmd="transfer", target=node_uri(voice, "+4930123456"))
    incoming = await outside.wait_for("incoming", timeout=20)
    assert "+4930123456" in incoming["to"]
    done = await dave.wait_for("transfer_status", where=lambda e: e["final"], timeout=20)
    assert done["code"] == 200
    await dave.wait_for("hangup", timeout=15)
    await outside.wait_for("answered", timeout=20)
    heard = await recorded(caller, tmp_path / "caller.wav")
    assert tone_share(heard, 1500.0, last_s=1.5) > 0.5
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.agent_id) == ("completed", "dave")
    (transfer,) = contact.transfers
    assert (transfer["by"], transfer["to"]) == (
        "refer",
        f"sip:+4930123456@127.0.0.1:{outside.port}",
    )
    caller.send(cmd="hangup")
    await outside.wait_for("hangup", timeout=15)


async def agent_state(router: Router, agent_id: str) -> AgentState:
    return (await router.get_agent(agent_id)).state(now_ms())


async def test_a_refer_to_no_such_name_is_refused_to_the_phone_and_the_call_goes_on(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    tmp_path: Path,
) -> None:
    """A typo (`carol`: no queue, agent or number the node can dial) gets 202, then a last
    NOTIFY saying 404: the phone keeps the call, the caller still talks to dave. (It said
    200, as if the transfer worked: phones hang up on that, and the caller was cut off, the
    contact recorded `completed`.)"""
    voice = await node()
    dave, caller, contact_id = await agent_talking(voice, router, parties, tone_wav, "dave")

    await refer_refused(
        voice, router, dave, caller, contact_id, "carol", tmp_path / "after.wav", agent_id="dave"
    )

    caller.send(cmd="hangup")
    await dave.wait_for("hangup", timeout=15)
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.agent_id) == ("completed", "dave")
    assert await agent_state(router, "dave") == AgentState.AVAILABLE  # wrap-up 0


async def test_a_refer_to_a_signed_out_agent_is_refused_and_the_agent_ends_the_call(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    tmp_path: Path,
) -> None:
    """The router refuses a transfer to gina, signed out: the phone's last NOTIFY says
    480 and it keeps the call; dave's own hang-up then completes the contact and frees
    him. (The NOTIFY said 200, the phone hung up, and the contact stayed `connected`,
    dave `busy`, the caller in silence: that hang-up was lost.)"""
    voice = await node()
    dave, caller, contact_id = await agent_talking(voice, router, parties, tone_wav, "dave")
    gina = await parties("--answer")
    await add_agent(router, "gina", gina.uri, {"general": 2})
    await router.set_presence("gina", Presence.OFFLINE)

    dave.send(cmd="transfer", target=node_uri(voice, "gina"))
    done = await dave.wait_for("transfer_status", where=lambda e: e["final"], timeout=20)
    assert done["code"] == 480
    heard = await recorded(caller, tmp_path / "after.wav")
    assert tone_share(heard, 1000.0, last_s=1.5) > 0.5
    contact = await router.get_contact(contact_id)
    assert (contact.state.value, contact.agent_id) == ("connected", "dave")

    dave.send(cmd="hangup")
    await caller.wait_for("hangup", timeout=15)
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.agent_id, contact.transfers) == ("completed", "dave", [])
    assert await agent_state(router, "dave") == AgentState.AVAILABLE
    assert not [e for e in gina.events if e["type"] == "incoming"]


async def test_a_phone_hanging_up_while_the_router_decides_its_transfer_is_heard(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """dave's phone sends REFER to gina (signed out) and hangs up at once, while the
    router is still deciding (held back here for a second). The router refuses: the
    hang-up is the agent's, the contact is completed with dave, the caller hung up and
    dave freed. (His leg was out of the call table while the router decided: the BYE
    was dropped and the dead leg put back, the contact `connected` and dave `busy` for
    ever, the caller in silence.)"""
    voice = await node()
    dave, caller, contact_id = await agent_talking(voice, router, parties, tone_wav, "dave")
    gina = await parties("--answer")
    await add_agent(router, "gina", gina.uri, {"general": 2})
    await router.set_presence("gina", Presence.OFFLINE)
    transfer = router.transfer
    asked = asyncio.Event()

    async def slow_transfer(*args: Any, **kwargs: Any) -> Any:
        asked.set()
        await asyncio.sleep(1.5)
        return await transfer(*args, **kwargs)

    monkeypatch.setattr(router, "transfer", slow_transfer)
    dave.send(cmd="transfer", target=node_uri(voice, "gina"))
    await asyncio.wait_for(asked.wait(), 15)
    dave.send(cmd="hangup")  # while the router decides

    await caller.wait_for("hangup", timeout=15)
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.agent_id, contact.transfers) == ("completed", "dave", [])
    assert await agent_state(router, "dave") == AgentState.AVAILABLE


async def sipp_phone(scenario: str, tmp_path: Path, **keys: str) -> tuple[str, Any]:
    """sipp as an agent's phone (a scenario that waits for the offer): its URI and the
    running process (`-key NAME VALUE` for each of `keys`)."""
    keyed = (arg for name, value in keys.items() for arg in ("-key", name, value))
    port, process = await start_sipp(scenario, tmp_path, extra=("-mp", str(rtp_block()), *keyed))
    return f"sip:dave@127.0.0.1:{port}", process


async def test_a_refused_refer_from_a_phone_that_is_not_pjsua_reads_404_in_its_notify(
    node: Callable[..., Any], router: Router, parties: Callable[..., Any], tmp_path: Path
) -> None:
    """sipp as dave's phone (`sipp/agent_refer_refused.xml`) checks the SIP itself: the
    REFER to `carol` gets 202, a NOTIFY `SIP/2.0 100 Trying`, then the last NOTIFY's body
    `SIP/2.0 404 Not Found` with `Subscription-State: terminated`; nothing hangs its call
    up until it does so itself."""
    voice = await node()
    uri, phone = await sipp_phone(
        "agent_refer_refused.xml", tmp_path, refer_to=node_uri(voice, "carol")
    )
    try:
        await add_agent(router, "dave", uri, {"booking": 2})
        caller: Party = await parties()
        caller.send(cmd="call", uri=node_uri(voice))
        await caller.wait_for("media", timeout=20)
        caller.send(cmd="dtmf", digits="1")
        contact_id = await connected_contact(voice, router, timeout=20)
        assert await asyncio.wait_for(phone.wait(), 40) == 0, tmp_path / "sipp-errors.log"
        await caller.wait_for("hangup", timeout=15)  # after dave's own BYE
        contact = await until(lambda: terminal(router, contact_id))
        assert (contact.state.value, contact.agent_id, contact.transfers) == (
            "completed",
            "dave",
            [],
        )
    finally:
        if phone.returncode is None:
            phone.kill()
            await phone.wait()


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


async def test_a_blind_transfer_to_a_number_that_fails_is_noted_requeued_with_why(
    node: Callable[..., Any], router: Router, parties: Callable[..., Any]
) -> None:
    """A blind transfer from the desktop to a number that rings and is refused: the caller
    goes back to the queue and the contact's transfer entry says so (outcome `requeued`,
    and why). It was noted with no outcome when the number was dialled, so the record
    read as if the caller had been handed out. The transferring agent hears of it on
    their own events (`transfer_failed`: to whom, why, which queue the caller is back
    in); their desk only saw the contact go."""
    outside = await parties()  # rings, does not answer
    voice = await node(outside_uri=f"sip:{{number}}@127.0.0.1:{outside.port}")
    dave = await parties("--answer")
    await add_agent(router, "dave", dave.uri, {"booking": 2})
    caller = await parties()
    contact_id = await call_agent(voice, router, caller, dave)
    async with voice.events.listen(agent_id="dave") as daves_events:
        await voice.transfer(contact_id, "tel:+4930123456")
        await outside.wait_for("incoming", timeout=20)
        await dave.wait_for("hangup", timeout=15)
        assert (await router.get_contact(contact_id)).transfers == []  # noted once decided
        outside.send(cmd="hangup", code=486)  # busy

        async def requeued() -> list[dict[str, Any]]:
            return (await router.get_contact(contact_id)).transfers

        (transfer,) = await until(requeued)
        failed = await _next_event(daves_events, "transfer_failed")
    assert (transfer["mode"], transfer["by"], transfer["from_agent"], transfer["outcome"]) == (
        "blind",
        "desktop",
        "dave",
        "requeued",
    )
    assert transfer["to"] == f"sip:+4930123456@127.0.0.1:{outside.port}"
    assert transfer["reason"] == "busy"
    contact = await router.get_contact(contact_id)
    assert contact.state.value in ("queued", "offered")  # waiting again (dave is free)
    assert contact.queue == "booking"
    assert failed == {
        "type": "transfer_failed",
        "contact_id": contact_id,
        "agent_id": "dave",
        "to": transfer["to"],
        "reason": transfer["reason"],
        "queue": "booking",
    }
    caller.send(cmd="hangup")


async def test_an_outside_party_that_answers_and_hangs_up_at_once_completes_the_transfer(
    node: Callable[..., Any], router: Router, parties: Callable[..., Any]
) -> None:
    """The number answers and hangs up within milliseconds (a voicemail that drops, a
    wrong number): the transfer was taken, so the contact is completed, noted
    `completed`, and the caller's call ends. The hang-up raced the answer: the caller
    was sent back to the queue of a contact recorded completed (the move refused)."""
    outside = await parties()
    voice = await node(outside_uri=f"sip:{{number}}@127.0.0.1:{outside.port}")
    dave = await parties("--answer")
    await add_agent(router, "dave", dave.uri, {"booking": 2})
    caller = await parties()
    contact_id = await call_agent(voice, router, caller, dave)
    await voice.transfer(contact_id, "tel:+4930123456")
    await outside.wait_for("incoming", timeout=20)
    await dave.wait_for("hangup", timeout=15)
    outside.send(cmd="hangup")  # 200: answered, then the BYE at once
    await caller.wait_for("hangup", timeout=20)

    async def ended() -> Any:
        contact = await router.get_contact(contact_id)
        return contact if contact.transfers and contact.state.value == "completed" else None

    contact = await until(ended)
    assert [t["outcome"] for t in contact.transfers] == ["completed"]
    assert [r["state"] async for r in router.store.records() if r["contact_id"] == contact_id] == [
        "completed"
    ]


async def _next_event(events: asyncio.Queue[dict[str, Any]], kind: str) -> dict[str, Any]:
    """The next event of `kind` on an agent's event queue (others skipped); bounded."""
    async with asyncio.timeout(15):
        while True:
            event = await events.get()
            if event.get("type") == kind:
                return event


def test_an_outside_party_s_last_status_says_why_it_was_not_reached() -> None:
    """One reading of an unanswered call's last status, for an outside party and for an
    agent's phone alike (telephony.calls.offers.unanswered)."""
    from telephony.calls.offers import unanswered

    codes = (486, 600, 603, 408, 480, 404, 503, 487, 0)
    assert [unanswered(code) for code in codes] == [
        "busy",
        "busy",
        "declined",
        "unreachable",
        "unreachable",
        "unreachable",
        "unreachable",
        "no_answer",
        "no_answer",
    ]


async def test_a_transfer_of_a_call_the_node_does_not_hold_is_refused_with_the_reason(
    node: Callable[..., Any],
) -> None:
    from telephony.service import CommandRefused

    voice = await node()
    with pytest.raises(CommandRefused, match="no call"):
        await voice.transfer("nope", "queue:baggage")
