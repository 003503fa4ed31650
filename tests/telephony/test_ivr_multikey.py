"""Menus of 10 or more languages: "press 12" is two keys, collected as IVRs do (an
inter-digit wait only while the keys so far could begin a longer option, '#' ends at
once); and a caller who pressed nothing hears "we did not hear a choice", not "invalid".
Pure rules first, then the same on real SIP (pjsua2 caller, the test worker)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from router.service import Router
from telephony.calls import VoiceCalls
from telephony.ivr import INTER_DIGIT_S, IvrSession
from telephony.model import Play, Prompt, Route, WaitDigit

from .conftest import flow, running_worker, until

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TWENTY = (
    *("en", "es", "pt", "fr", "de", "it", "nl", "ru", "ar", "he"),
    *("hi", "zh", "ja", "ko", "th", "vi", "id", "ms", "tr", "pl"),
)


def keys(actions: list[Any]) -> list[str]:
    return [p.key for a in actions if isinstance(a, Play) for p in a.prompts]


def session(languages: tuple[str, ...] = TWENTY, **changes: Any) -> IvrSession:
    ivr = IvrSession(flow(languages=languages, **changes), [], NOON)
    ivr.start()
    return ivr


def test_two_keys_pick_options_10_to_20_of_a_twenty_language_menu() -> None:
    ivr = session()
    assert ivr.digit("1") == [WaitDigit(INTER_DIGIT_S)]  # "1" may begin 10-19
    assert ivr.language == "en" and ivr.step == "language"
    menu = ivr.digit("2")
    assert ivr.language == "zh" and ivr.step == "reason"
    assert {p.language for a in menu if isinstance(a, Play) for p in a.prompts} == {"zh"}
    assert ivr.digit("2") == [Route("baggage", "", "zh", 0, "baggage")]
    ivr = session()
    assert ivr.digit("2") == [WaitDigit(INTER_DIGIT_S)]  # "2" may begin 20
    ivr.digit("0")
    assert ivr.language == "pl"


def test_a_key_that_could_grow_is_taken_after_the_inter_digit_wait_or_at_hash() -> None:
    ivr = session()
    ivr.digit("1")
    menu = ivr.timeout()  # no second key: "1" is English
    assert ivr.language == "en" and "ivr.reason_option" in keys(menu)
    assert "ivr.no_input" not in keys(menu) and "ivr.invalid" not in keys(menu)
    ivr = session()
    ivr.digit("2")
    ivr.digit("#")  # '#' ends the entry at once
    assert (ivr.language, ivr.step) == ("es", "reason")


def test_a_choice_that_cannot_grow_is_taken_at_once() -> None:
    ivr = session()
    ivr.digit("3")  # 30 > 20: Portuguese now, no wait
    assert (ivr.language, ivr.step) == ("pt", "reason")
    nine = TWENTY[:9]
    ivr = session(nine)
    menu = ivr.digit("1")  # a menu of up to 9: one key, as always
    assert (ivr.language, ivr.step) == ("en", "reason")
    assert "ivr.reason_option" in keys(menu)
    twelve = TWENTY[:12]
    ivr = session(twelve)
    ivr.digit("2")  # 20 > 12
    assert ivr.language == "es"


def test_keys_that_name_no_option_are_a_wrong_try() -> None:
    ivr = session(TWENTY[:12])
    ivr.digit("1")
    retry = ivr.digit("5")  # 15 in a menu of 12
    assert keys(retry)[0] == "ivr.invalid" and ivr.step == "language"
    assert ivr.digit("1") == [WaitDigit(INTER_DIGIT_S)]  # the entry starts afresh
    ivr.digit("1")
    assert ivr.language == "hi" and ivr.step == "reason"  # the 11th


def test_no_key_at_all_says_no_input_not_invalid() -> None:
    ivr = session(("en", "fr"), max_tries=3)
    first = ivr.timeout()
    assert keys(first)[0] == "ivr.no_input"
    assert "ivr.invalid" not in keys(first)
    # No key at all moves on after one round (test_ivr_silent_caller.py): the reasons.
    assert ivr.step == "reason"
    assert keys(ivr.timeout())[0] == "ivr.no_input"  # the reason menu too
    wrong = ivr.digit("7")
    assert keys(wrong)[0] == "ivr.invalid"


# -- real SIP: a pjsua2 caller, RFC 2833 digits

TEN = TWENTY[:10]  # en … he: "press 10" is Hebrew


@pytest.fixture
async def worker(router: Router, prompt_cache: Path) -> AsyncIterator[VoiceCalls]:
    flows = [flow(number="300", languages=TEN), flow(number="400", languages=("en", "fr"))]
    async with running_worker(router, prompt_cache, flows=flows) as calls:
        yield calls


def dial(worker: VoiceCalls, number: str) -> str:
    return f"sip:{number}@127.0.0.1:{worker.engine.config.sip_port}"


async def test_a_caller_presses_1_then_0_for_hebrew_and_is_queued_in_hebrew(
    worker: VoiceCalls, router: Router, parties: Callable[..., Any]
) -> None:
    caller = await parties("--user", "+15551230000")
    caller.send(cmd="call", uri=dial(worker, "300"))
    await caller.wait_for("media")
    call = await until(lambda: next(iter(worker.calls.values()), None))
    await until(lambda: call.heard)  # the menu is playing
    caller.send(cmd="dtmf", digits="1")  # barges in; "1" could begin 10
    await asyncio.sleep(0.6)  # well within the inter-digit wait
    caller.send(cmd="dtmf", digits="0")
    await until(lambda: call.ivr is not None and call.ivr.language == "he")
    assert call.ivr.step == "reason"
    caller.send(cmd="dtmf", digits="2")  # baggage
    contact = await router.get_contact(await until(lambda: call.contact_id))
    assert (contact.queue, contact.language) == ("baggage", "he")


async def test_a_caller_who_presses_nothing_hears_no_input_and_not_invalid(
    worker: VoiceCalls, parties: Callable[..., Any]
) -> None:
    path = worker.voice.prompter.prompts.path
    caller = await parties("--user", "+33612345678")  # French first
    caller.send(cmd="call", uri=dial(worker, "400"))
    await caller.wait_for("media")
    call = await until(lambda: next(iter(worker.calls.values()), None))
    no_input = path(Prompt("ivr.no_input", "fr"))
    await until(lambda: no_input in call.heard, timeout=20)
    assert path(Prompt("ivr.invalid", "fr")) not in call.heard
    caller.send(cmd="hangup")
