"""A Hong Kong caller in a real SIP call: with Cantonese offered beside Mandarin, the IVR
greets them in Cantonese (a +852 number guesses `yue` first), the language menu names
Cantonese in Cantonese, and their key makes a contact whose language is `yue`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from router.service import Router
from telephony.calls import VoiceCalls
from telephony.model import Prompt
from telephony.prompts import prompt_text

from .conftest import flow, running_worker, until


@pytest.fixture
async def worker(router: Router, prompt_cache: Path) -> AsyncIterator[VoiceCalls]:
    flows = [flow(number="852", languages=("en", "zh", "yue"))]
    async with running_worker(router, prompt_cache, flows=flows) as calls:
        yield calls


async def test_a_hong_kong_caller_is_greeted_and_queued_in_cantonese(
    worker: VoiceCalls, router: Router, parties: Callable[..., Any]
) -> None:
    path = worker.voice.prompter.prompts.path
    caller = await parties("--user", "+85221234567")
    caller.send(cmd="call", uri=f"sip:852@127.0.0.1:{worker.engine.config.sip_port}")
    await caller.wait_for("media")
    call = await until(lambda: next(iter(worker.calls.values()), None))  # worker may lag
    welcome = Prompt("welcome", "yue")
    assert prompt_text(welcome) == "歡迎致電斯威奇博德航空。"
    await until(lambda: path(welcome) in call.heard)
    assert call.heard[0] == path(welcome)  # Cantonese first, not Mandarin
    cantonese = Prompt("ivr.language_option", "yue", (("digit", "3"),))
    assert prompt_text(cantonese) == "廣東話請按3。"
    await until(lambda: path(cantonese) in call.heard)
    caller.send(cmd="dtmf", digits="3")  # 廣東話
    booking = Prompt("ivr.reason_option", "yue", (("digit", "1"), ("reason", "booking")))
    assert prompt_text(booking) == "訂位同更改行程請按1。"
    await until(lambda: call.heard.count(path(booking)) >= 1)
    caller.send(cmd="dtmf", digits="1")
    contact = await router.get_contact(await until(lambda: call.contact_id))
    assert (contact.queue, contact.language) == ("booking", "yue")
