"""A passenger reads the advisory's message for their own tag, script and region: the
SMS gateway's warning (the webhook) as the chat's notice, both by one rule. Simplified
Chinese reaches a Traditional reader (zh-TW, zh-HK, zh-Hant-TW) converted, and the event
says so and carries the passenger's own tag; regional variants given (pt-BR and pt-PT,
zh-TW and zh) are each kept for their readers; one tag spelled twice (en and EN) is
refused, naming both."""

from __future__ import annotations

from typing import Any

import pytest

from i18n.chinese import to_script
from switchboard.node import Node
from tests.advisories.conftest import (
    Gateway,
    body,
    chat_of,
    declare,
    outbox_events,
    staff,
    until_true,
)
from tests.nodes import http_session

STORM_ZH = "马德里暴风雨：您的航班IB3170延误。"
STORM_TW = "馬德里暴風雨：您的航班IB3170延誤。"  # Taiwan's (OpenCC s2twp)


async def known(node: Node, customer: str, language: str) -> None:
    """A customer whose latest contact (an ended chat) was in `language`."""
    contact, _ = await chat_of(node, customer, language)
    await node.router.abandon(contact.contact_id)


def warnings_of(events: list[dict[str, Any]], advisory_id: str) -> dict[str, dict[str, Any]]:
    return {
        e["data"]["customer"]: e["data"] for e in events if e["data"]["advisory_id"] == advisory_id
    }


async def test_a_traditional_chinese_passenger_is_warned_in_traditional_characters(
    node: Node, gateway: tuple[Gateway, str]
) -> None:
    for customer, tag in [("c-tw", "zh-TW"), ("c-hant", "zh-Hant-TW"), ("c-hk", "zh-HK")]:
        await known(node, customer, tag)
    await known(node, "c-cn", "zh")
    customers = ["c-tw", "c-hant", "c-hk", "c-cn"]
    async with http_session(node) as http:
        answer = await declare(
            http, await staff(http, "sup"), customers=customers, messages={"zh": STORM_ZH}
        )
    received, _ = gateway
    await until_true(lambda: len(received.events) >= 4)
    sent = warnings_of(received.events, answer["advisory_id"])
    assert {c: (d["language"], d["customer_language"], d["text"]) for c, d in sent.items()} == {
        "c-tw": ("zh-TW", "zh-TW", STORM_TW),
        "c-hant": ("zh-Hant-TW", "zh-Hant-TW", STORM_TW),
        "c-hk": ("zh-HK", "zh-HK", to_script(STORM_ZH, "zh-HK")),
        "c-cn": ("zh", "zh", STORM_ZH),  # a Simplified reader reads it as written
    }
    assert to_script(STORM_ZH, "zh-HK") != STORM_ZH


async def test_the_chat_and_the_sms_say_the_same_to_a_taiwanese_passenger(node: Node) -> None:
    """One rule for both halves: the text posted into a zh-TW customer's live chat reads
    as the webhook's text to them."""
    chat, token = await chat_of(node, "c-tw", "zh-TW")  # queued: nobody is signed in
    async with http_session(node) as http:
        answer = await declare(
            http, await staff(http, "sup"), customers=["c-tw"], messages={"zh": STORM_ZH}
        )
        response = await http.get(
            f"/api/v1/contacts/{chat.contact_id}/messages", headers={"X-Customer-Token": token}
        )
        messages = (await response.json())["messages"]
    (warning,) = warnings_of(await outbox_events(node), answer["advisory_id"]).values()
    (notice,) = [m for m in messages if m["sender"] == "center"]
    customer_reads = (notice.get("translations") or {}).get("zh") or notice["text"]
    assert customer_reads == warning["text"] == STORM_TW


async def test_regional_variants_are_each_kept_for_their_readers(
    node: Node, gateway: tuple[Gateway, str]
) -> None:
    passengers = {
        "c-br": "pt-BR",
        "c-pt": "pt-PT",
        "c-tw": "zh-TW",
        "c-cn": "zh",
        "c-hk": "zh-HK",
        "c-gb": "en-GB",
    }
    for customer, tag in passengers.items():
        await known(node, customer, tag)
    messages = {
        "pt-BR": "Seu voo atrasou.",
        "pt-PT": "O seu voo está atrasado.",
        "zh-TW": "您的班機延誤。",
        "zh": "您的航班延误。",
        "en-US": "Your flight is delayed (US).",
        "en-GB": "Your flight is delayed (GB).",
    }
    async with http_session(node) as http:
        headers = await staff(http, "sup")
        answer = await declare(http, headers, customers=list(passengers), messages=messages)
        read = await (
            await http.get(f"/api/v1/advisories/{answer['advisory_id']}", headers=headers)
        ).json()
    assert read["messages"] == messages  # all six kept, as given
    assert answer["fallbacks"] == {}
    sent = warnings_of(await outbox_events(node), answer["advisory_id"])
    assert {c: (d["language"], d["text"]) for c, d in sent.items()} == {
        "c-br": ("pt-BR", messages["pt-BR"]),
        "c-pt": ("pt-PT", messages["pt-PT"]),
        "c-tw": ("zh-TW", messages["zh-TW"]),
        "c-cn": ("zh", messages["zh"]),
        "c-hk": ("zh-TW", messages["zh-TW"]),  # Traditional, though Taiwan's: its script
        "c-gb": ("en-GB", messages["en-GB"]),
    }


async def test_a_simplified_reader_of_a_traditional_only_message_reads_simplified(
    node: Node,
) -> None:
    await known(node, "c-cn", "zh-CN")
    async with http_session(node) as http:
        answer = await declare(
            http, await staff(http, "sup"), customers=["c-cn"], messages={"zh-TW": STORM_TW}
        )
    (warning,) = warnings_of(await outbox_events(node), answer["advisory_id"]).values()
    assert (warning["language"], warning["text"]) == ("zh-CN", STORM_ZH)


@pytest.mark.parametrize(
    "messages,first,second",
    [
        ({"en": "a", "EN": "b"}, "en", "EN"),
        ({"pt-BR": "a", "pt_br": "b"}, "pt-BR", "pt_br"),
        ({"zh-tw": "a", "ZH-TW": "b"}, "zh-tw", "ZH-TW"),
    ],
)
async def test_one_tag_spelled_twice_is_refused_naming_both_keys(
    node: Node, messages: dict[str, str], first: str, second: str
) -> None:
    async with http_session(node) as http:
        headers = await staff(http, "sup")
        response = await http.post(
            "/api/v1/advisories", json=body(messages=messages), headers=headers
        )
        answer = await response.json()
        listed = await (await http.get("/api/v1/advisories", headers=headers)).json()
    assert response.status == 400, answer
    assert answer["field"] == "$.messages", answer
    assert repr(first) in answer["expected"] and repr(second) in answer["expected"], answer
    assert listed == {"advisories": []}
    assert await outbox_events(node) == []
