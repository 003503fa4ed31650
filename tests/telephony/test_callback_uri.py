"""Where and how long a callback dials the customer, and how it is counted, with real SIP
through a node (one worker process on the node's SIP port, UDP and TCP, the Router on
real Redis): a TCP caller is called back over TCP (sipp listening on TCP alone); a caller
with a number is called back through `[sip] outside_uri` (the trunk), not at the Contact;
an unanswered customer rings for twice the queue's ring time, then the callback ends
`callback_unanswered` and the agent is free; the call counts once in the node's metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from router.metrics import Metrics
from router.service import Router
from telephony.calls.callback import contact_target, phone_number
from telephony.model import Prompt
from telephony.pool import CommandRefused
from telephony.prompts import CALLBACK_INTRO, PromptRenderer, duration_s

from .conftest import (
    HERE,
    QUEUES,
    add_agent,
    free_sip_port,
    music_share,
    node_uri,
    recorded,
    rtp_block,
    terminal,
    tone_share,
    until,
)


async def sipp(
    scenario: str, port: int, tmp_path: Path, *, remote: int | None = None
) -> asyncio.subprocess.Process:
    """sipp over TCP alone (`-t t1`) on 127.0.0.1:port: a caller of the node at `remote`,
    or (without it) a phone waiting for a call; its errors in tmp_path."""
    target = [f"127.0.0.1:{remote}", "-s", "2000"] if remote is not None else []
    return await asyncio.create_subprocess_exec(
        "sipp",
        *target,
        *("-sf", str(HERE / "sipp" / scenario), "-m", "1", "-t", "t1"),
        *("-i", "127.0.0.1", "-p", str(port), "-mp", str(rtp_block())),
        *("-timeout", "60s", "-nostdin", "-trace_err"),
        *("-error_file", str(tmp_path / f"{scenario}.errors.log")),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=tmp_path,
    )


async def ended(process: asyncio.subprocess.Process, timeout: float) -> int:
    """The exit code of a sipp run; killed by its PID if it outlives `timeout`."""
    try:
        return await asyncio.wait_for(process.wait(), timeout)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def errors(tmp_path: Path, scenario: str) -> str:
    path = tmp_path / f"{scenario}.errors.log"
    return path.read_text(errors="replace") if path.exists() else ""


async def waiting_for_callback(router: Router, voice: Any) -> str:
    """The contact of the caller who asked for a callback, once it waits for it."""

    async def asked() -> str | None:
        for contact_id in await router.store.client.smembers(f"{router.store.keys.tag}live"):
            contact = await router.get_contact(contact_id)
            if contact.callback_uri and contact.state.value == "queued":
                return contact_id
        return None

    return str(await until(asked, timeout=30))


async def ask_for_callback(voice: Any, router: Router, caller: Any) -> str:
    """A pjsua2 caller dials the node, picks booking, then presses 1 in the queue."""
    caller.send(cmd="call", uri=node_uri(voice))
    await caller.wait_for("media", timeout=20)
    caller.send(cmd="dtmf", digits="1")  # booking (one language: no language menu)
    contact_id = await until(lambda: next(iter(voice.pool.owner), None), timeout=20)
    await asyncio.sleep(2.0)  # past "please hold", waiting with music
    caller.send(cmd="dtmf", digits="1")  # "press 1 for a callback"
    await caller.wait_for("hangup", timeout=20)
    assert await waiting_for_callback(router, voice) == contact_id
    return str(contact_id)


async def test_a_tcp_caller_is_called_back_over_tcp(
    node: Callable[..., Any], router: Router, parties: Callable[..., Any], tmp_path: Path
) -> None:
    """The Contact `<sip:caller@127.0.0.1:P;transport=TCP>` kept whole: the callback
    reaches a phone that listens on TCP alone (it was dialled over UDP, to nobody, and the
    agent heard silence until pjsip gave up)."""
    voice = await node()
    port = free_sip_port()
    caller = await sipp("callback_tcp_caller.xml", port, tmp_path, remote=voice.sip.port)
    assert await ended(caller, 45) == 0, errors(tmp_path, "callback_tcp_caller.xml")
    contact_id = await waiting_for_callback(router, voice)
    contact = await router.get_contact(contact_id)
    assert contact.callback_uri.lower() == f"sip:caller@127.0.0.1:{port};transport=tcp"

    phone = await sipp("callback_tcp_answer.xml", port, tmp_path)  # TCP only, same port
    await asyncio.sleep(1.0)  # listening
    agent = await parties("--answer")
    await add_agent(router, "carol", agent.uri, {"booking": 2})
    await agent.wait_for("answered", timeout=20)

    async def talking() -> bool:
        current = await router.get_contact(contact_id)
        return current.state.value == "connected" and current.agent_id == "carol"

    await until(talking, timeout=20)
    await asyncio.sleep(2.5)  # the customer's phone answers after ringing 1 s
    agent.send(cmd="hangup")
    assert await ended(phone, 30) == 0, errors(tmp_path, "callback_tcp_answer.xml")
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.agent_id) == ("completed", "carol")


async def test_a_caller_with_a_number_is_called_back_through_the_outside_uri(
    node: Callable[..., Any], router: Router, parties: Callable[..., Any]
) -> None:
    """A caller through a trunk or PBX: the Contact is the trunk's, the number is in
    From; the callback dials the number through `[sip] outside_uri`."""
    trunk = await parties("--answer")
    voice = await node(outside_uri=f"sip:{{number}}@127.0.0.1:{trunk.port}")
    caller = await parties("--answer", "--user", "+15551230000")  # stands for the PBX
    contact_id = await ask_for_callback(voice, router, caller)
    contact = await router.get_contact(contact_id)
    assert contact.callback_uri == f"sip:+15551230000@127.0.0.1:{trunk.port}"

    agent = await parties("--answer")
    await add_agent(router, "carol", agent.uri, {"booking": 2})
    dialled = await trunk.wait_for("incoming", timeout=30)
    assert "+15551230000" in dialled["to"]
    await trunk.wait_for("answered", timeout=20)
    await asyncio.sleep(1.0)
    agent.send(cmd="hangup")
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.agent_id) == ("completed", "carol")
    # Never at the PBX's own Contact.
    assert sum(e["type"] == "incoming" for e in caller.events) == 0


def sip_calls(voice: Any) -> dict[str, float]:
    """The node's `switchboard_sip_calls_total` by outcome (those seen here)."""
    registry = voice.metrics.registry
    return {
        outcome: registry.get_sample_value("switchboard_sip_calls_total", {"outcome": outcome})
        or 0.0
        for outcome in ("completed", "failed", "abandoned", "unknown")
    }


async def counted_node(node: Callable[..., Any]) -> Any:
    voice = await node()
    assert voice.pool is not None
    voice.metrics = voice.pool.metrics = Metrics("node-t")  # before any call
    return voice


async def carol_calls_back(
    voice: Any, router: Router, parties: Callable[..., Any], tone_wav: Path, *customer: str
) -> tuple[Any, Any, str]:
    """A caller (a party started with `customer`) who asked for a callback, and carol,
    who takes it with her phone's 1 kHz tone: the customer, carol and the contact."""
    caller = await parties(*customer)
    contact_id = await ask_for_callback(voice, router, caller)
    carol = await parties("--answer", "--tone", str(tone_wav))
    await add_agent(router, "carol", carol.uri, {"booking": 2})
    return caller, carol, contact_id


async def media_after(party: Any, seen: int) -> None:
    """Until the party's call brings media after its `seen` first events: a new call
    picked up (its first call, the one it made, had media of its own)."""

    async def media() -> bool:
        return any(e["type"] == "media" for e in party.events[seen:])

    await until(media, timeout=20)


async def agent_ends_the_call(voice: Any, router: Router, agent: Any, contact_id: str) -> None:
    """carol talks with the called-back customer a second, then hangs up: the contact is
    completed with her, and the node counts one completed call, nothing else."""
    await asyncio.sleep(1.0)
    agent.send(cmd="hangup")
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.agent_id) == ("completed", "carol")
    await until(lambda: sip_calls(voice)["completed"] == 1)
    await asyncio.sleep(0.5)
    assert sip_calls(voice) == {"completed": 1.0, "failed": 0.0, "abandoned": 0.0, "unknown": 0.0}


async def test_a_callback_counts_once_in_the_metrics_with_its_outcome(
    node: Callable[..., Any], router: Router, parties: Callable[..., Any], tone_wav: Path
) -> None:
    """The caller leaving the queue to wait for the callback is no call's end: it counted
    `unknown`, and the callback's own outcome a second time."""
    voice = await counted_node(node)
    customer, agent, contact_id = await carol_calls_back(
        voice, router, parties, tone_wav, "--answer"
    )
    await customer.wait_for("incoming", timeout=30)  # the node calls back
    await customer.wait_for("answered", where=lambda e: e.get("code") is None, timeout=20)
    await agent_ends_the_call(voice, router, agent, contact_id)


async def test_an_unanswered_callback_rings_twice_the_ring_time_then_frees_the_agent(
    node: Callable[..., Any], router: Router, parties: Callable[..., Any], tone_wav: Path
) -> None:
    """The agent waits while the customer's phone rings: at most twice the queue's ring
    time (ring_s = 5 here), then the customer leg is cancelled, the contact ends
    `failed`/`callback_unanswered` (counted once) and the agent can take the next call."""
    voice = await counted_node(node)
    # The customer does not answer the callback.
    caller, agent, contact_id = await carol_calls_back(
        voice, router, parties, tone_wav, "--user", "customer"
    )
    called = await caller.wait_for("incoming", timeout=30)
    rang_at = asyncio.get_running_loop().time()
    await caller.wait_for("hangup", where=lambda e: e["leg"] == called["leg"], timeout=25)
    rang_s = asyncio.get_running_loop().time() - rang_at
    assert 8.0 <= rang_s <= 14.0, rang_s
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.reason) == ("failed", "callback_unanswered")
    await agent.wait_for("hangup", timeout=10)

    async def free() -> bool:
        carol = await router.get_agent("carol")
        return carol.load["voice"] == 0

    await until(free, timeout=10)

    await until(lambda: sip_calls(voice)["failed"] == 1)
    await asyncio.sleep(0.5)
    assert sip_calls(voice) == {"completed": 0.0, "failed": 1.0, "abandoned": 0.0, "unknown": 0.0}


async def test_a_callback_refused_busy_is_tried_again_and_answered_the_second_time(
    node: Callable[..., Any], router: Router, parties: Callable[..., Any], tone_wav: Path
) -> None:
    """With `callback_attempts = 2` the customer who refused the first call (busy) is
    called again `callback_retry_s` later, answers and talks with the agent: one contact,
    completed with the agent, counted once. (It ended `failed`/`callback_unanswered` at
    the first refusal: one attempt was all there was.)"""
    await router.define_queue(replace(QUEUES[0], callback_attempts=2, callback_retry_s=2))
    stop = asyncio.Event()  # the node's routing timer, which brings the next attempt
    timers = asyncio.get_running_loop().create_task(router.run_timers(0.25, stop))
    try:
        await _tried_again_then_answered(await counted_node(node), router, parties, tone_wav)
    finally:
        stop.set()
        await timers


async def _tried_again_then_answered(
    voice: Any, router: Router, parties: Callable[..., Any], tone_wav: Path
) -> None:
    # The customer answers only when told.
    customer, agent, contact_id = await carol_calls_back(
        voice, router, parties, tone_wav, "--user", "customer"
    )
    first = await customer.wait_for("incoming", timeout=30)
    customer.send(cmd="hangup", code=486)
    await customer.wait_for("hangup", where=lambda e: e["leg"] == first["leg"], timeout=15)

    async def waits_again() -> bool:
        contact = await router.get_contact(contact_id)
        return contact.state.value == "queued" and "attempt 1 of 2" in contact.explanation[-1]

    await until(waits_again, timeout=10)

    async def called_again() -> bool:  # pjsua may give the new call the old one's leg
        return [e["type"] for e in customer.events].count("incoming") == 2

    await until(called_again, timeout=30)
    seen = len(customer.events)
    customer.send(cmd="answer")
    await media_after(customer, seen)
    await agent_ends_the_call(voice, router, agent, contact_id)


async def test_a_called_back_customer_transferred_hears_music_and_is_not_called_again(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    tmp_path: Path,
    prompt_cache: Path,
) -> None:
    """carol sends the customer she called back to queue general: they hear music, and
    dave, who takes it there, is bridged to the call they are on. (They heard silence,
    and dave's answer dialled them a second time, the first call left up with no
    contact; the contact ended with the second call.)"""
    voice = await counted_node(node)
    customer, _, contact_id = await carol_calls_back(voice, router, parties, tone_wav, "--answer")
    await customer.wait_for("incoming", timeout=30)  # the node calls back
    await media_after(customer, len(customer.events))  # they pick up
    renderer = PromptRenderer(prompt_cache)  # they hear who calls (test_callback_intro.py)
    intro_s = sum(duration_s(renderer.path(Prompt(key, "en"))) for key in CALLBACK_INTRO)
    await asyncio.sleep(intro_s + 1.0)  # then carol and the customer talk
    assert await voice.transfer(contact_id, "queue:general") == "queued"
    held = await recorded(customer, tmp_path / "held.wav")
    assert music_share(held) > 0.5
    dave = await parties("--answer", "--tone", str(tone_wav))
    await add_agent(router, "dave", dave.uri, {"general": 2})
    await dave.wait_for("media", timeout=20)
    heard = await recorded(customer, tmp_path / "dave.wav")
    assert tone_share(heard, 1000.0) > 0.15  # dave's tone, on the call they were on
    assert [e["type"] for e in customer.events].count("incoming") == 1
    dave.send(cmd="hangup")
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.agent_id) == ("completed", "dave")
    await customer.wait_for("hangup", where=lambda e: not e.get("inbound", True), timeout=10)


async def test_an_agent_who_gives_up_while_the_customer_rings_is_an_attempt_not_answered(
    node: Callable[..., Any], router: Router, parties: Callable[..., Any], tone_wav: Path
) -> None:
    """carol hangs up while the called-back customer's phone rings: their phone stops,
    carol is free without wrap-up, and the customer is called again later. (The contact
    ended completed with carol, in wrap-up, and the callback was never made.) Before,
    she cannot transfer a customer who is not on the line yet (that ended the call)."""
    await router.define_queue(replace(QUEUES[0], callback_attempts=2, callback_retry_s=60))
    voice = await counted_node(node)
    # The customer answers only when told.
    customer, carol, contact_id = await carol_calls_back(
        voice, router, parties, tone_wav, "--user", "customer"
    )
    ringing = await customer.wait_for("incoming", timeout=30)
    with pytest.raises(CommandRefused, match="has not picked up yet"):
        await voice.transfer(contact_id, "queue:general")
    carol.send(cmd="hangup")
    await customer.wait_for("hangup", where=lambda e: e["leg"] == ringing["leg"], timeout=10)

    async def waits_again() -> bool:
        contact = await router.get_contact(contact_id)
        return contact.state.value == "queued" and "attempt 1 of 2" in contact.explanation[-1]

    await until(waits_again, timeout=10)
    assert (await router.get_agent("carol")).wrap_up_until_ms == 0


@pytest.mark.parametrize(
    ("contact", "target"),
    [
        ("<sip:caller@127.0.0.1:17308;transport=TCP>", "sip:caller@127.0.0.1:17308;transport=TCP"),
        # Kamailio's alias names the connection of the call that ended.
        (
            "<sip:c@10.0.0.9:5070;transport=tcp;alias=10.0.0.9~5070~2>",
            "sip:c@10.0.0.9:5070;transport=tcp",
        ),
        ('"Ann" <sip:ann@h:5062;ob>;expires=60', "sip:ann@h:5062;ob"),
        ("sip:sipp@10.0.0.1:5060", "sip:sipp@10.0.0.1:5060"),
        ("sip:x@h;transport=tcp;expires=3", "sip:x@h;transport=tcp"),
    ],
)
def test_a_callback_dials_the_contact_uri_with_its_parameters(contact: str, target: str) -> None:
    assert contact_target(contact) == target


@pytest.mark.parametrize(
    ("user", "number"),
    [
        ("+15551230000", "+15551230000"),
        ("+1 (555) 123-0000", "+15551230000"),
        ("0301234", "0301234"),
        ("caller", ""),
        ("anonymous", ""),
        ("100", ""),
        ("", ""),
    ],
)
def test_a_telephone_number_is_told_from_other_sip_users(user: str, number: str) -> None:
    assert phone_number(user) == number
