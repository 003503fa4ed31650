"""A called-back customer hears who calls before the agent (IVR probe 3, finding 5: they
were put straight through to a voice with not a word of who it was). The introduction is
in their language; the agent hears the ringing tone meanwhile, never the introduction,
and then the customer. Real SIP: the test worker and two pjsua2 parties."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from router.service import Router
from telephony.calls import VoiceCalls
from telephony.model import Prompt
from telephony.prompts import CALLBACK_INTRO, duration_s, prompt_text
from tests.i18n.test_sip import chunk_matches, samples

from .conftest import add_agent, flow, running_worker, terminal, tone_share, until


@pytest.fixture
async def french_worker(router: Router, prompt_cache: Path) -> AsyncIterator[VoiceCalls]:
    """One French flow whose callers hear their position (and the callback offer) every
    1.5 s."""
    flows = [flow(languages=("fr",), announce_every_s=1.5)]
    async with running_worker(router, prompt_cache, flows=flows) as calls:
        yield calls


def test_the_introduction_is_in_the_callers_language_in_every_catalog() -> None:
    english = [prompt_text(Prompt(key, "en")) for key in CALLBACK_INTRO]
    assert english == [
        "This is Switchboard Airlines, calling you back as you asked.",
        "Connecting you to an agent now.",
    ]
    for language in ("fr", "de", "ja", "zh", "ar", "ko", "yue"):
        said = [prompt_text(Prompt(key, language)) for key in CALLBACK_INTRO]
        assert all(said) and not set(said) & set(english), (language, said)


async def test_a_called_back_customer_hears_who_calls_then_the_agent(
    french_worker: VoiceCalls,
    router: Router,
    parties: Callable[..., Any],
    node_events: Callable[[Any], None],
    tone_wav: Path,
    caller_tone: Path,
    tmp_path: Path,
) -> None:
    worker = french_worker
    node_events(worker.handle_router_event)
    customer = await parties(
        "--answer", "--tone", str(caller_tone), "--record", str(tmp_path / "customer-{leg}.wav")
    )
    customer.send(cmd="call", uri=f"sip:1000@127.0.0.1:{worker.engine.config.sip_port}")
    await customer.wait_for("media")
    customer.send(cmd="dtmf", digits="1")  # booking (one language: no language menu)
    waiting = await until(lambda: next(iter(worker.by_contact.values()), None))
    path = worker.voice.prompter.prompts.path
    offer = path(Prompt("queue.callback_offer", "fr", (("digit", "1"),)))
    await until(lambda: offer in waiting.heard)
    customer.send(cmd="dtmf", digits="1")  # "press 1 to be called back"
    await customer.wait_for("hangup", timeout=20)
    contact_id = waiting.contact_id

    agent = await parties(
        "--answer", "--tone", str(tone_wav), "--record", str(tmp_path / "agent-{leg}.wav")
    )
    await add_agent(router, "carol", agent.uri, {"booking": 2})
    answered = await agent.wait_for("answered", timeout=20)
    called_back = await customer.wait_for("incoming", timeout=20)
    await customer.wait_for("answered", where=lambda e: e["leg"] == called_back["leg"], timeout=20)
    intro = [path(Prompt(key, "fr")) for key in CALLBACK_INTRO]
    callback = await until(lambda: worker.by_contact.get(contact_id))
    await until(lambda: callback.heard[:2] == intro)  # the first thing the customer hears
    await asyncio.sleep(sum(duration_s(p) for p in intro) + 3.0)  # then the agent
    agent.send(cmd="hangup")
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.agent_id) == ("completed", "carol")
    await customer.close()
    await agent.close()

    heard = samples(tmp_path / f"customer-{called_back['leg']}.wav")
    said = np.concatenate([samples(p) for p in intro])
    assert float(np.median(chunk_matches(said, heard))) > 0.8  # the French introduction
    assert tone_share(tmp_path / f"customer-{called_back['leg']}.wav", 1000.0) > 0.5  # the agent
    agent_heard = tmp_path / f"agent-{answered['leg']}.wav"
    assert float(np.median(chunk_matches(said, samples(agent_heard)))) < 0.6  # not the agent
    assert tone_share(agent_heard, 425.0, first=True) > 0.5  # ringing meanwhile
    assert tone_share(agent_heard, 600.0) > 0.5  # then the customer
