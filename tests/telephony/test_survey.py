"""The post-call DTMF survey on real SIP: after the agent hangs up, the caller rates 1-5.

One worker in the test process (as in test_calls.py), pjsua2 phones in subprocesses, the
real Router and the reports' ratings on the shared Redis. The contact is completed
once, when the agent hangs up; the survey happens after, and only its rating is added.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from router.events import EventHub
from router.reports.report import ReportOptions, build_report
from router.reports.service import Reports
from router.reports.store import RecordStore
from router.reports.survey import SurveyConfig
from router.service import Router
from switchboard.common.configfile import ConfigReader
from switchboard.common.errors import ConfigError
from switchboard.settings import load_settings
from telephony.calls import Call, VoiceCalls
from telephony.config import read_voice_surveys
from telephony.model import Prompt
from telephony.pipe import PipeRatings, PipeRouting, serve_request
from telephony.prompts import prompt_text, static_prompts
from telephony.service import VoiceFrontDoor

from .conftest import (
    add_agent,
    flow,
    free_sip_port,
    free_udp_port,
    rtp_block,
    running_worker,
    until,
)
from .test_pool import CONFIG


def ratings_of(router: Router) -> Reports:
    return Reports(RecordStore(router.store))


@pytest.fixture
async def worker(router: Router, prompt_cache: Path) -> AsyncIterator[VoiceCalls]:
    """Callers of `baggage` are asked to rate; `booking` has no voice survey."""
    async with running_worker(
        router,
        prompt_cache,
        flows=[flow(digit_timeout_s=2.0)],
        surveys={"baggage": SurveyConfig("baggage", voice=True)},
        ratings=ratings_of(router),
    ) as calls:
        yield calls


def target(calls: VoiceCalls) -> str:
    return f"sip:1000@127.0.0.1:{calls.engine.config.sip_port}"


async def talking(
    worker: VoiceCalls, router: Router, parties: Callable[..., Any], digits: str, skill: str
) -> tuple[Any, Any, Call]:
    """A caller who chose `digits` in the IVR, bridged to an agent with `skill`."""
    agent = await parties("--answer")
    await add_agent(router, "gina", agent.uri, {skill: 2})
    caller = await parties()
    caller.send(cmd="call", uri=target(worker))
    await caller.wait_for("media")
    caller.send(cmd="dtmf", digits=digits)
    await agent.wait_for("answered", timeout=20)
    call = await until(
        lambda: next((c for c in worker.by_contact.values() if c.state == "talking"), None)
    )
    return caller, agent, call


async def records_of(router: Router, contact_id: str) -> list[dict[str, str]]:
    return [r async for r in router.store.records() if r["contact_id"] == contact_id]


async def completed_once(router: Router, contact_id: str) -> None:
    contact = await router.get_contact(contact_id)
    assert (contact.state.value, contact.agent_id) == ("completed", "gina")
    records = await records_of(router, contact_id)
    assert [r["state"] for r in records] == ["completed"]


async def test_caller_rates_after_the_agent_hangs_up_in_their_language_and_csat_counts_it(
    worker: VoiceCalls,
    router: Router,
    parties: Callable[..., Any],
    node_events: Callable[[Any], None],
) -> None:
    node_events(worker.handle_router_event)
    caller, agent, call = await talking(worker, router, parties, "22", "baggage")  # fr, baggage
    agent.send(cmd="hangup")
    await agent.wait_for("hangup")
    # The contact is completed when the agent leaves, before any key of the survey.
    await until(lambda: call.state == "survey")
    assert (await router.get_contact(call.contact_id)).state.value == "completed"
    assert call.survey is not None and call.survey.language == "fr"
    assert not any(e["type"] == "hangup" for e in caller.events)  # still on the line
    caller.send(cmd="dtmf", digits="94")  # a wrong key, then 4
    ended = await caller.wait_for("hangup", timeout=20)  # thanks, then the node hangs up
    assert ended["code"] == 200 and call.state == "ended"
    assert call.survey.rating == 4
    renderer = worker.voice.prompter.prompts
    asked, invalid, thanks = (
        renderer.path(Prompt(key, "fr"))
        for key in ("survey.question", "survey.invalid", "survey.thanks")
    )
    heard = call.heard[call.heard.index(asked) :]  # the files played to the caller, in French
    assert heard[:4] == [asked, invalid, asked, thanks]

    assert await ratings_of(router).store.ratings() == {call.contact_id: 4}
    key = f"{router.store.keys.tag}contact:{call.contact_id}"
    assert await router.store.client.hget(key, "rating") == "4"
    await completed_once(router, call.contact_id)

    records = await records_of(router, call.contact_id)
    now = int(time.time() * 1000)
    period = ReportOptions(start_ms=now - 3_600_000, end_ms=now + 60_000, by=("channel",))
    report = build_report(records, period, ratings=await ratings_of(router).store.ratings())
    assert (report.total.csat, report.total.average_rating) == (1.0, 4.0)


@pytest.mark.parametrize("caller_leaves", [False, True], ids=["silence", "caller_hangs_up"])
async def test_no_key_or_a_hang_up_during_the_survey_leaves_no_rating(
    caller_leaves: bool,
    worker: VoiceCalls,
    router: Router,
    parties: Callable[..., Any],
    node_events: Callable[[Any], None],
) -> None:
    node_events(worker.handle_router_event)
    caller, agent, call = await talking(worker, router, parties, "12", "baggage")  # en, baggage
    agent.send(cmd="hangup")
    await until(lambda: call.state == "survey")
    if caller_leaves:
        caller.send(cmd="hangup")
    ended = await caller.wait_for("hangup", timeout=20)  # the digit timeout is 2 s
    await until(lambda: call.state == "ended" and call.leg not in worker.calls)
    assert call.survey is not None and call.survey.rating is None
    if not caller_leaves:
        assert ended["code"] == 200  # goodbye after silence, then the node hung up
    assert await ratings_of(router).store.ratings() == {}
    await completed_once(router, call.contact_id)


async def test_caller_hanging_up_first_gets_no_survey(
    worker: VoiceCalls,
    router: Router,
    parties: Callable[..., Any],
    node_events: Callable[[Any], None],
) -> None:
    node_events(worker.handle_router_event)
    caller, agent, call = await talking(worker, router, parties, "12", "baggage")
    caller.send(cmd="hangup")
    await agent.wait_for("hangup")  # the node ends the agent leg as before
    await until(lambda: call.state == "ended" and call.leg not in worker.calls)
    assert call.survey is None
    assert await ratings_of(router).store.ratings() == {}
    await completed_once(router, call.contact_id)


async def test_a_queue_without_a_voice_survey_ends_the_call_with_the_agent(
    worker: VoiceCalls,
    router: Router,
    parties: Callable[..., Any],
    node_events: Callable[[Any], None],
) -> None:
    node_events(worker.handle_router_event)
    caller, agent, call = await talking(worker, router, parties, "11", "booking")
    agent.send(cmd="hangup")
    await caller.wait_for("hangup", timeout=20)
    assert call.survey is None and call.state == "ended"
    assert await ratings_of(router).store.ratings() == {}
    await completed_once(router, call.contact_id)


# -- the node side: ratings over the worker pipe, configuration, prompts ---------------------


async def test_a_worker_process_rating_is_stored_by_the_node(
    router: Router, parties: Callable[..., Any], tmp_path: Path, prompt_cache: Path
) -> None:
    """The node reads [[surveys]], its worker process asks, the node's reports keep."""
    config = tmp_path / "node.toml"
    config.write_text(
        CONFIG.format(
            port=free_sip_port(),
            front_door="none",
            workers=1,
            calls=4,
            worker_port_base=free_udp_port(),
            rtp_port_base=rtp_block(),
            cache=prompt_cache,
        )
        + '\n[[surveys]]\nqueue = "booking"\nvoice = true\n'
    )
    hub = EventHub(router.store)
    await hub.start()
    voice = VoiceFrontDoor(
        load_settings(config), router, hub, workdir=tmp_path / "voice", ratings=ratings_of(router)
    )
    try:
        assert list(voice.surveys) == ["booking"]
        await voice.start()
        await asyncio.wait_for(hub.connected.wait(), 5)
        agent = await parties("--answer")
        await add_agent(router, "gina", agent.uri, {"booking": 2})
        caller = await parties()
        caller.send(cmd="call", uri=f"sip:1000@127.0.0.1:{voice.sip.port}")
        await caller.wait_for("media", timeout=20)
        caller.send(cmd="dtmf", digits="1")  # one language: booking at once
        await agent.wait_for("answered", timeout=20)
        pool = voice.pool
        assert pool is not None
        contact_id = await until(lambda: next(iter(pool.owner), None))
        # Hang up once the router has accepted: before, the hang-up is a declined offer.
        await until(lambda: _in_state(router, contact_id, "connected"))
        agent.send(cmd="hangup")
        await until(lambda: _in_state(router, contact_id, "completed"))
        caller.send(cmd="dtmf", digits="5")
        await caller.wait_for("hangup", timeout=20)
        assert await ratings_of(router).store.ratings() == {contact_id: 5}
        await completed_once(router, contact_id)
    finally:
        await voice.stop()
        await hub.stop()


async def _in_state(router: Router, contact_id: str, state: str) -> bool:
    return (await router.get_contact(contact_id)).state.value == state


async def test_a_worker_rating_travels_the_pipe_to_the_routers_rating_store(
    router: Router,
) -> None:
    read_fd, write_fd = os.pipe()
    try:
        client = PipeRouting(write_fd)
        store = ratings_of(router)

        async def rate(score: int) -> bool:
            pending = asyncio.ensure_future(PipeRatings(client).add("c-77", score, "voice"))
            await asyncio.sleep(0)
            request = json.loads(os.read(read_fd, 65536).decode().splitlines()[0])
            assert request["op"] == "rate"
            client.on_reply(json.loads(json.dumps(await serve_request(router, request, store))))
            return await pending

        assert await rate(5) is True
        assert await rate(2) is False  # rated once
        assert await store.store.ratings() == {"c-77": 5}
        without = await serve_request(router, {"rpc": 9, "op": "rate", "args": {}})
        assert "no survey ratings" in without["error"]
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_voice_surveys_come_from_the_surveys_tables(tmp_path: Path) -> None:
    path = tmp_path / "node.toml"
    path.write_text(
        '[[surveys]]\nqueue = "baggage"\nvoice = true\nlanguages = ["fr"]\n\n'
        '[[surveys]]\nqueue = "booking"\nchat = true\n'
    )
    surveys = read_voice_surveys(ConfigReader.open(path), queues=["booking", "baggage"])
    assert list(surveys) == ["baggage"] and surveys["baggage"].languages == ("fr",)

    path.write_text('[[surveys]]\nqueue = "lost"\nvoice = true\n')
    reader = ConfigReader.open(path)
    read_voice_surveys(reader, queues=["booking"])
    with pytest.raises(ConfigError, match=r"surveys\[0\]\.queue: expected one of booking"):
        reader.faults.raise_if_any()


def test_survey_prompts_are_prerendered_in_the_offered_languages_only() -> None:
    prompts = static_prompts(
        [flow(languages=("en", "fr"))], [SurveyConfig("baggage", voice=True, languages=("fr",))]
    )
    survey = {p for p in prompts if p.key.startswith("survey.")}
    assert {p.language for p in survey} == {"fr"}
    assert {p.key for p in survey} == {
        "survey.question",
        "survey.invalid",
        "survey.thanks",
        "survey.goodbye",
    }
    assert not any(p.key.startswith("survey.") for p in static_prompts([flow()]))
    question = prompt_text(Prompt("survey.question", "de"))
    assert (
        "1" in question
        and "5" in question
        and question != prompt_text(Prompt("survey.question", "en"))
    )
