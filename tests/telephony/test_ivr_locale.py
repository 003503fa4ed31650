"""The IVR speaks each culture's way, with real SIP: the region's locale profile picks the
greeting and the menus' length (checked by which prompt files the caller hears), and SIP
INFO digits (DTMF method 1) work the menus as RFC 2833 ones do."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from router.service import Router
from telephony.calls import VoiceCalls
from telephony.model import Prompt
from telephony.style import locale_style

from .conftest import flow, running_worker, until


@pytest.fixture
async def worker(router: Router, prompt_cache: Path) -> AsyncIterator[VoiceCalls]:
    """Number 100 for the Americas (verbose for Spanish), 200 for Europe (brief)."""
    flows = [
        flow(number="100", region="america-east", languages=("en", "es")),
        flow(number="200", region="europe-west", languages=("de", "en")),
    ]
    async with running_worker(router, prompt_cache, flows=flows, styles=locale_style) as calls:
        yield calls


def dial(worker: VoiceCalls, number: str) -> str:
    return f"sip:{number}@127.0.0.1:{worker.engine.config.sip_port}"


async def test_a_spanish_caller_in_a_verbose_region_hears_the_long_menu(
    worker: VoiceCalls, router: Router, parties: Callable[..., Any]
) -> None:
    path = worker.voice.prompter.prompts.path
    caller = await parties("--user", "+34911234567")  # a Spanish number: Spanish first
    caller.send(cmd="call", uri=dial(worker, "100"))
    await caller.wait_for("media")
    call = await until(lambda: next(iter(worker.calls.values()), None))  # worker may lag
    informal = path(Prompt("welcome_informal", "es"))  # the Americas greet informally
    await until(lambda: informal in call.heard)
    assert call.heard[0] == informal
    caller.send(cmd="dtmf", digits="2")  # Español
    intro, hint = path(Prompt("choose_reason", "es")), path(Prompt("menu_repeat_hint", "es"))
    await until(lambda: hint in call.heard)
    menu = call.heard[call.heard.index(intro) : call.heard.index(hint) + 1]
    assert call.flow is not None and len(menu) == 2 + len(call.flow.reasons)  # intro, hint
    caller.send(cmd="dtmf", digits="*")  # "to hear these options again, press star"
    await until(lambda: call.heard.count(intro) == 2)
    caller.send(cmd="dtmf", digits="2")
    contact = await router.get_contact(await until(lambda: call.contact_id))
    assert (contact.queue, contact.language, contact.region) == ("baggage", "es", "america-east")


async def test_a_german_caller_in_a_brief_region_hears_the_short_menu_keyed_by_sip_info(
    worker: VoiceCalls, router: Router, parties: Callable[..., Any]
) -> None:
    path = worker.voice.prompter.prompts.path
    caller = await parties("--user", "+4930123456")
    caller.send(cmd="call", uri=dial(worker, "200"))
    await caller.wait_for("media")
    call = await until(lambda: next(iter(worker.calls.values()), None))  # worker may lag
    formal = path(Prompt("welcome", "de"))
    await until(lambda: formal in call.heard)
    caller.send(cmd="dtmf", digits="1", method="info")  # Deutsch, by SIP INFO
    option = path(Prompt("ivr.reason_option", "de", (("digit", "1"), ("reason", "booking"))))
    await until(lambda: option in call.heard)
    assert path(Prompt("choose_reason", "de")) not in call.heard
    assert path(Prompt("menu_repeat_hint", "de")) not in call.heard
    caller.send(cmd="dtmf", digits="1", method="info")
    contact = await router.get_contact(await until(lambda: call.contact_id))
    assert (contact.queue, contact.language, contact.region) == ("booking", "de", "europe-west")
