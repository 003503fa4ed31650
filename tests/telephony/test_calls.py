"""One worker in the test process on real SIP: IVR by DTMF, offer, bridge, outcomes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from router.service import Router
from router.store import now_ms
from telephony.calls import VoiceCalls
from telephony.endpoint import PjEngine
from telephony.model import Prompt, Reason
from telephony.prompts import CALLBACK_INTRO, PromptRenderer, duration_s

from .conftest import (
    add_agent,
    flow,
    run_sipp,
    running_worker,
    terminal,
    tone_share,
    tone_windows,
    until,
    worker_endpoint,
)


@pytest.fixture
async def worker(router: Router, prompt_cache: Path) -> AsyncIterator[VoiceCalls]:
    async with running_worker(router, prompt_cache) as calls:
        yield calls


def target(calls: VoiceCalls, number: str = "1000") -> str:
    return f"sip:{number}@127.0.0.1:{calls.engine.config.sip_port}"


async def test_dtmf_menus_create_a_voice_contact_in_the_chosen_language_and_queue(
    worker: VoiceCalls, router: Router, parties: Callable[..., Any], tmp_path: Path
) -> None:
    caller = await parties("--record", str(tmp_path / "caller.wav"))
    caller.send(cmd="call", uri=target(worker))
    await caller.wait_for("media")
    caller.send(cmd="dtmf", digits="2")  # language 2: French
    await until(lambda: any(c.ivr and c.ivr.language == "fr" for c in worker.calls.values()))
    caller.send(cmd="dtmf", digits="2")  # reason 2: baggage
    call = await until(lambda: next(iter(worker.by_contact.values()), None))
    contact = await router.get_contact(call.contact_id)
    assert (contact.queue, contact.language, contact.channel.value) == ("baggage", "fr", "voice")
    caller.send(cmd="hangup")
    await until(lambda: not worker.by_contact)
    contact = await router.get_contact(call.contact_id)
    assert contact.state.value == "abandoned"
    await caller.close()
    # Prompts and music only: the tone detector of the bridging test must not fire here.
    assert tone_share(tmp_path / "caller.wav", 1000.0, last_s=3) < 0.1


async def test_offer_calls_the_agent_bridges_both_ways_and_hangup_completes(
    worker: VoiceCalls,
    router: Router,
    parties: Callable[..., Any],
    node_events: Callable[[Any], None],
    tone_wav: Path,
    tmp_path: Path,
) -> None:
    node_events(worker.handle_router_event)
    agent = await parties("--answer", "--tone", str(tone_wav))
    await add_agent(router, "alice", agent.uri, {"booking": 3})
    recording = tmp_path / "caller.wav"
    caller = await parties("--record", str(recording))
    caller.send(cmd="call", uri=target(worker))
    await caller.wait_for("media")
    caller.send(cmd="dtmf", digits="11")  # English, booking
    await agent.wait_for("answered", timeout=20)
    call = await until(
        lambda: next((c for c in worker.by_contact.values() if c.state == "talking"), None)
    )
    await asyncio.sleep(2.0)  # let the agent's tone reach the caller's recording
    caller.send(cmd="hangup")
    await agent.wait_for("hangup")
    contact = await until(lambda: terminal(router, call.contact_id))
    assert contact.state.value == "completed"
    assert contact.agent_id == "alice"
    await caller.close()  # the recorder writes its WAV header when the phone stops
    assert tone_share(recording, 1000.0) > 0.5


async def test_sipp_caller_with_rfc2833_dtmf_reaches_the_chosen_queue(
    worker: VoiceCalls, router: Router, tmp_path: Path
) -> None:
    opened: list[str] = []
    worker.report = lambda event: (
        opened.append(event["contact_id"]) if event["type"] == "contact_open" else None
    )
    port = worker.engine.config.sip_port
    assert await run_sipp(port, "ivr_dtmf.xml", tmp_path) == 0
    assert len(opened) == 1
    contact = await until(lambda: terminal(router, opened[0]))
    assert (contact.queue, contact.language, contact.state.value) == ("baggage", "en", "abandoned")
    assert contact.customer_id == "+15551230000"


@pytest.fixture
async def patient_worker(router: Router, prompt_cache: Path) -> AsyncIterator[VoiceCalls]:
    """A worker whose callers hear their position every 1.5 s."""
    flows = [flow(languages=("en",), announce_every_s=1.5)]
    async with running_worker(router, prompt_cache, flows=flows) as calls:
        yield calls


async def test_callback_keeps_the_place_then_calls_agent_then_customer_and_bridges(
    patient_worker: VoiceCalls,
    router: Router,
    parties: Callable[..., Any],
    node_events: Callable[[Any], None],
    tone_wav: Path,
    tmp_path: Path,
) -> None:
    node_events(patient_worker.handle_router_event)
    customer = await parties("--answer", "--record", str(tmp_path / "customer-{leg}.wav"))
    call = await choose_a_callback(patient_worker, router, customer)
    agent = await parties("--answer", "--tone", str(tone_wav))
    await add_agent(router, "carol", agent.uri, {"booking": 2})
    await agent.wait_for("answered", timeout=20)
    called_back = await customer.wait_for("incoming", timeout=20)  # the node dials back
    recording = tmp_path / f"customer-{called_back['leg']}.wav"
    await customer.wait_for("answered", where=lambda e: e.get("code") is None, timeout=20)
    await asyncio.sleep(intro_s(patient_worker) + 2.0)  # who calls (test_callback_intro.py)
    agent.send(cmd="hangup")
    contact = await until(lambda: terminal(router, call.contact_id))
    assert (contact.state.value, contact.agent_id) == ("completed", "carol")
    await customer.close()
    assert tone_share(recording, 1000.0) > 0.5  # the customer heard the agent


async def test_the_agent_hears_ringing_while_the_customer_is_called_back_then_the_customer(
    patient_worker: VoiceCalls,
    router: Router,
    parties: Callable[..., Any],
    node_events: Callable[[Any], None],
    caller_tone: Path,
    tmp_path: Path,
) -> None:
    """The agent picked up and waits while the customer's phone rings: they heard
    silence, as if the line were dead. Now a ringing tone (425 Hz), which stops when the
    customer, who has heard who calls, is put through."""
    node_events(patient_worker.handle_router_event)
    customer = await parties("--answer", "--answer-delay", "3", "--tone", str(caller_tone))
    call = await choose_a_callback(patient_worker, router, customer)
    agent = await parties("--answer", "--record", str(tmp_path / "agent-{leg}.wav"))
    await add_agent(router, "carol", agent.uri, {"booking": 2})
    answered = await agent.wait_for("answered", timeout=20)
    called_back = await customer.wait_for("incoming", timeout=20)
    await customer.wait_for("answered", where=lambda e: e["leg"] == called_back["leg"], timeout=20)
    # The customer's introduction, then more than the tone's cadence (1 s on, 4 off).
    await asyncio.sleep(intro_s(patient_worker) + 6.0)
    agent.send(cmd="hangup")
    contact = await until(lambda: terminal(router, call.contact_id))
    assert (contact.state.value, contact.agent_id) == ("completed", "carol")
    await agent.close()
    recording = tmp_path / f"agent-{answered['leg']}.wav"
    assert tone_share(recording, 425.0, first=True) > 0.5  # ringing while the phone rang
    assert tone_share(recording, 600.0, last_s=5.0) > 0.5  # then the customer
    # and no more ringing over them (a second of it in a window: a share near 0.08)
    assert max(tone_windows(recording, 425.0, last_s=5.0)) < 0.01


def intro_s(worker: VoiceCalls, language: str = "en") -> float:
    """How long a called-back customer hears who calls before the agent is put through."""
    path = worker.voice.prompter.prompts.path
    return sum(duration_s(path(Prompt(key, language))) for key in CALLBACK_INTRO)


async def choose_a_callback(worker: VoiceCalls, router: Router, customer: Any) -> Any:
    """`customer` calls the booking queue and presses the callback digit at the first
    announcement: their contact waits on with their place, to be called back."""
    customer.send(cmd="call", uri=target(worker))
    await customer.wait_for("media")
    customer.send(cmd="dtmf", digits="1")  # booking (one language: no language menu)
    call = await until(lambda: next(iter(worker.by_contact.values()), None))
    where = await router.position(call.contact_id)
    assert where.position == 1
    offer = worker.voice.prompter.prompts.path(
        Prompt("queue.callback_offer", "en", (("digit", "1"),))
    )
    await until(lambda: offer in call.heard)  # the first announcement offers the callback
    customer.send(cmd="dtmf", digits="1")  # "press 1 for a callback"
    await customer.wait_for("hangup", timeout=20)
    contact = await router.get_contact(call.contact_id)
    assert contact.state.value == "queued" and contact.callback_uri.startswith("sip:party@")
    return call


async def test_a_caller_nobody_can_serve_hears_the_position_and_no_wait(
    patient_worker: VoiceCalls, router: Router, parties: Callable[..., Any]
) -> None:
    """No agent of the queue signed in: the announcement says the place in line alone,
    never "the wait is about 2 minutes" computed as if one agent served the queue."""
    caller = await parties()
    caller.send(cmd="call", uri=target(patient_worker))
    await caller.wait_for("media")
    caller.send(cmd="dtmf", digits="1")  # booking (one language: no language menu)
    call = await until(lambda: next(iter(patient_worker.by_contact.values()), None))
    prompts = patient_worker.voice.prompter.prompts
    place_only = prompts.path(Prompt("queue.position_no_wait", "en", (("position", "1"),)))
    await until(lambda: place_only in call.heard)
    assert (await router.position(call.contact_id)).ewt_s is None
    # No announcement with minutes was ever rendered for this caller, whatever the count.
    with_wait = [
        prompts.known(Prompt("queue.position", "en", (("position", "1"), ("minutes", m))))
        for m in range(1, 121)
    ]
    assert with_wait == [None] * 120
    caller.send(cmd="hangup")
    await until(lambda: not patient_worker.by_contact)
    await caller.close()


async def test_unanswered_offer_is_revoked_the_agent_leg_dropped_and_the_caller_kept(
    worker: VoiceCalls,
    router: Router,
    parties: Callable[..., Any],
    node_events: Callable[[Any], None],
    tmp_path: Path,
) -> None:
    node_events(worker.handle_router_event)
    sleepy = await parties()  # rings, never answers
    await add_agent(router, "frank", sleepy.uri, {"booking": 2})
    caller = await parties("--record", str(tmp_path / "caller.wav"))
    caller.send(cmd="call", uri=target(worker))
    await caller.wait_for("media")
    caller.send(cmd="dtmf", digits="11")
    await sleepy.wait_for("incoming", timeout=20)
    # ring_s = 5 in the test queues: the router revokes, the worker cancels the agent leg.
    await sleepy.wait_for("hangup", timeout=20)
    call = next(iter(worker.by_contact.values()))
    contact = await router.get_contact(call.contact_id)
    agent = await router.get_agent("frank")
    assert contact.state.value == "queued" and agent.presence.value == "not_ready"
    assert call.state == "queued" and not caller.process.returncode
    assert not any(e["type"] == "hangup" for e in caller.events)


async def test_a_number_without_a_flow_is_refused_404_before_any_answer(
    prompt_cache: Path, router: Router, parties: Callable[..., Any]
) -> None:
    config = worker_endpoint(numbers=("800",))
    calls = VoiceCalls(
        engine_factory=lambda on_event: PjEngine(config, on_event),
        routing=router,
        flows=[flow(number="800")],
        prompts=PromptRenderer(prompt_cache),
        node_id="node-t",
        clock=now_ms,
    )
    await calls.start()
    try:
        caller = await parties()
        caller.send(cmd="call", uri=target(calls, "999"))
        refused = await caller.wait_for("hangup")
        assert refused["code"] == 404 and not calls.by_contact
        assert not any(e["type"] == "answered" for e in caller.events)
    finally:
        await calls.stop()


@pytest.fixture
async def skill_worker(router: Router, prompt_cache: Path) -> AsyncIterator[VoiceCalls]:
    """One language; reason 1 is the booking queue, routed by the skill "vip"."""
    reasons = (Reason("1", "booking", "booking", skill="vip"),)
    flows = [flow(languages=("en",), reasons=reasons)]
    async with running_worker(router, prompt_cache, flows=flows) as calls:
        yield calls


async def test_the_ivr_reasons_skill_reaches_the_contact_and_routes_it(
    skill_worker: VoiceCalls,
    router: Router,
    parties: Callable[..., Any],
    node_events: Callable[[Any], None],
) -> None:
    """Issue 18's bug: `[[ivr.reasons]] skill` was read and then dropped on the way."""
    node_events(skill_worker.handle_router_event)
    booker = await parties("--answer")  # the queue's own skill only: must not get the call
    await add_agent(router, "bob", booker.uri, {"booking": 5})
    vip = await parties("--answer")
    await add_agent(router, "vera", vip.uri, {"vip": 3})
    caller = await parties()
    caller.send(cmd="call", uri=target(skill_worker))
    await caller.wait_for("media")
    caller.send(cmd="dtmf", digits="1")
    await vip.wait_for("answered", timeout=20)
    call = next(iter(skill_worker.by_contact.values()))
    contact = await router.get_contact(call.contact_id)
    assert (contact.queue, contact.skill, contact.agent_id) == ("booking", "vip", "vera")
    assert not any(e["type"] == "incoming" for e in booker.events)
