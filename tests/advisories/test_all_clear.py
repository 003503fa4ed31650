"""Ending an advisory early (DELETE) tells those it told: one `customer.advisory_ended`
event per passenger it warned (a webhook subscribes to it as to `customer.advisory`),
and a notice in each chat it told that is still live, in their language as the warning
was, with the text given when ending, else the catalog's in their language
(test_all_clear_languages.py). Once, however often and however concurrently it is ended."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from i18n.chinese import to_script
from switchboard.node import Node
from tests.advisories.conftest import (
    SECRET,
    Gateway,
    chat_of,
    declare,
    outbox_events,
    staff,
    transcript,
    until_true,
)
from tests.cases.conftest import started, webhook_config
from tests.nodes import http_session

ENDED = "customer.advisory_ended"
WARNINGS = {
    "en": "Storm at MAD: your flight is delayed.",
    "es": "Tormenta en MAD: su vuelo se retrasa.",
    "zh": "马德里暴风雨：您的航班延误。",
}
ALL_CLEAR = {"en": "All clear: your flight leaves on time.", "zh": "警报解除：您的航班准点起飞。"}
# The `advisories` catalog's Spanish, for the language ALL_CLEAR lacks.
SPANISH = "Actualización: el aviso «Storm at MAD» se ha retirado; ya no está vigente."


@pytest.fixture
async def node(redis_url: str, tmp_path: Path, gateway: tuple[Gateway, str]) -> AsyncIterator[Node]:
    settings = 'events = ["customer.advisory", "customer.advisory_ended"]\ntimeout = "5s"\n'
    config = webhook_config(tmp_path, "sms", gateway[1], SECRET, settings)
    async with started(redis_url, config) as running:
        yield running


async def center_messages(
    http: aiohttp.ClientSession, contact_id: str, token: str
) -> list[dict[str, Any]]:
    return [m for m in await transcript(http, contact_id, token) if m["sender"] == "center"]


def reads(message: dict[str, Any], language: str) -> str:
    """What a customer of `language` reads of a message (its translation, else it)."""
    return str((message.get("translations") or {}).get(language) or message["text"])


async def test_ending_tells_each_passenger_and_live_chat_once_however_often_it_is_ended(
    node: Node, gateway: tuple[Gateway, str]
) -> None:
    taiwan, token = await chat_of(node, "c-tw", "zh-TW")  # live: queued
    gone, _ = await chat_of(node, "c-gone", "es")  # live when declared, over when ended
    spain, _ = await chat_of(node, "c-es", "es-ES")
    await node.router.abandon(spain.contact_id)
    customers = ["c-tw", "c-gone", "c-es", "c-new"]  # c-new: no contact, no language
    async with http_session(node) as http:
        sup = await staff(http, "sup")
        answer = await declare(http, sup, customers=customers, messages=WARNINGS)
        assert (answer["warned"], answer["in_chat"]) == (4, 2)
        await node.router.abandon(gone.contact_id)
        url = f"/api/v1/advisories/{answer['advisory_id']}"
        # Ended five times at once (an ops system retrying, two supervisors), then again.
        ends = await asyncio.gather(
            *(http.delete(url, json={"messages": ALL_CLEAR}, headers=sup) for _ in range(5))
        )
        assert [response.status for response in ends] == [200] * 5
        again = await http.delete(url, headers=sup)
        assert again.status == 200
        notices = await center_messages(http, taiwan.contact_id, token)
        received, _ = gateway
        await until_true(lambda: len([e for e in received.events if e["type"] == ENDED]) >= 4)
        read = await (await http.get(url, headers=sup)).json()
        for _ in range(100):  # bounded: the deliveries are counted as they end
            if read["all_clear"]["delivered"] == 4:
                break
            await asyncio.sleep(0.05)
            read = await (await http.get(url, headers=sup)).json()
    ended = [e["data"] for e in await outbox_events(node, ENDED)]
    assert sorted(d["customer"] for d in ended) == sorted(customers)  # once each
    by_customer = {d["customer"]: d for d in ended}
    assert {
        c: (d["language"], d["customer_language"], d["text"]) for c, d in by_customer.items()
    } == {
        "c-tw": ("zh-TW", "zh-TW", to_script(ALL_CLEAR["zh"], "zh-TW")),
        "c-gone": ("es", "es", SPANISH),  # no Spanish all clear given: the catalog's
        "c-es": ("es", "es-ES", SPANISH),
        "c-new": ("en", None, ALL_CLEAR["en"]),
    }
    assert by_customer["c-tw"]["title"] == "Storm at MAD"
    assert by_customer["c-tw"]["advisory_id"] == answer["advisory_id"]
    assert {"ended_at", "queue"} <= set(by_customer["c-tw"])
    # The live chat told is told once more, in its script; the chat over since is not.
    assert [reads(m, "zh") for m in notices] == [
        to_script(WARNINGS["zh"], "zh-TW"),
        to_script(ALL_CLEAR["zh"], "zh-TW"),
    ]
    assert (read["state"], read["all_clear"]["notified"], read["all_clear"]["in_chat"]) == (
        "ended",
        4,
        1,
    )
    assert {tag: read["all_clear"]["messages"][tag] for tag in ALL_CLEAR} == ALL_CLEAR
    assert read["all_clear"]["messages"]["es"] == SPANISH
    assert read["all_clear"]["delivered"] == 4
    assert read["all_clear"]["deliveries"] == {"sms": {"delivered": 4, "failed": 0}}
    # c-new's language is not known: told in English, a fallback, as the warning counted it.
    assert (
        read["all_clear"]["fallbacks"]
        == read["fallbacks"]
        == {"und": {"sent": "en", "passengers": 1}}
    )
    assert read["delivered"] == 4  # the warnings' own count, apart
    assert len([e for e in received.events if e["type"] == ENDED]) == 4


async def test_without_a_text_the_all_clear_is_the_catalogs_in_their_language(
    node: Node,
) -> None:
    contact, _ = await chat_of(node, "c-es", "es")
    await node.router.abandon(contact.contact_id)
    async with http_session(node) as http:
        sup = await staff(http, "sup")
        answer = await declare(http, sup, customers=["c-es"], messages=WARNINGS)
        response = await http.delete(f"/api/v1/advisories/{answer['advisory_id']}", headers=sup)
        assert response.status == 200, await response.text()
        ended = await response.json()
    (event,) = [e["data"] for e in await outbox_events(node, ENDED)]
    assert event["language"] == "es" and event["customer_language"] == "es"
    assert event["text"] == SPANISH
    assert ended["all_clear"]["messages"]["es"] == SPANISH
    assert "withdrawn" in ended["all_clear"]["messages"]["en"]
    assert ended["all_clear"]["notified"] == 1


@pytest.mark.parametrize(
    "sent,field",
    [
        ({"messages": {"en": "a", "EN": "b"}}, "$.messages"),
        ({"messages": {"en": ""}}, "$.messages.en"),
        ({"messages": {}}, "$.messages"),
        ({"colour": "red"}, "$.colour"),
    ],
)
async def test_a_bad_all_clear_is_400_and_ends_nothing(
    node: Node, sent: dict[str, Any], field: str
) -> None:
    async with http_session(node) as http:
        sup = await staff(http, "sup")
        answer = await declare(http, sup, customers=["c-es"], messages=WARNINGS)
        url = f"/api/v1/advisories/{answer['advisory_id']}"
        response = await http.delete(url, json=sent, headers=sup)
        refused = await response.json()
        read = await (await http.get(url, headers=sup)).json()
    assert response.status == 400, refused
    assert refused["field"].startswith(field), refused
    assert read["state"] == "live" and read["all_clear"] is None
    assert await outbox_events(node, ENDED) == []
