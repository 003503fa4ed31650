"""A Cantonese passenger (`yue`, `yue-HK`) reads written Chinese: the advisory's Chinese
message reaches them, by SMS (the webhook, to a gateway on loopback) as in their chat,
in Hong Kong's Traditional characters (`reading_tag`, as the pages), and they are not
counted as a fallback; only when no Chinese message is given do they get English, and
are counted."""

from __future__ import annotations

from typing import Any

from i18n.chinese import to_script
from switchboard.node import Node
from tests.advisories.conftest import Gateway, chat_of, declare, staff, until_true
from tests.nodes import http_session

STORM_ZH = "马德里暴风雨：您的航班IB3170延误，里面有详情。"
STORM_HK = to_script(STORM_ZH, "zh-HK")  # Hong Kong's characters (OpenCC s2hk)
STORM_EN = "Storm at MAD: your flight IB3170 is delayed."
CANTONESE = {"c-yue": "yue", "c-hk": "yue-HK"}


async def known(node: Node, customer: str, language: str) -> None:
    """A customer whose latest contact (an ended chat) was in `language`."""
    contact, _ = await chat_of(node, customer, language)
    await node.router.abandon(contact.contact_id)


async def warned(
    node: Node, gateway: tuple[Gateway, str], messages: dict[str, str]
) -> tuple[dict[str, Any], dict[str, tuple[str, str, str]]]:
    """Declares an advisory with `messages` for the Cantonese passengers; its answer, and
    what the gateway received for each: (language, customer_language, text)."""
    async with http_session(node) as http:
        answer = await declare(
            http, await staff(http, "sup"), customers=list(CANTONESE), messages=messages
        )
    received, _ = gateway

    def mine() -> list[dict[str, Any]]:
        return [
            e["data"] for e in received.events if e["data"]["advisory_id"] == answer["advisory_id"]
        ]

    await until_true(lambda: len(mine()) >= len(CANTONESE))
    sent = {d["customer"]: (d["language"], d["customer_language"], d["text"]) for d in mine()}
    return answer, sent


async def test_a_cantonese_passenger_reads_the_chinese_message_in_traditional(
    node: Node, gateway: tuple[Gateway, str]
) -> None:
    for customer, tag in CANTONESE.items():
        await known(node, customer, tag)
    answer, sent = await warned(node, gateway, {"en": STORM_EN, "zh": STORM_ZH})
    assert STORM_HK != STORM_ZH
    assert sent == {
        "c-yue": ("zh-Hant-HK", "yue", STORM_HK),
        "c-hk": ("zh-Hant-HK", "yue-HK", STORM_HK),
    }
    assert answer["fallbacks"] == {}


async def test_a_traditional_message_reaches_them_as_written(
    node: Node, gateway: tuple[Gateway, str]
) -> None:
    for customer, tag in CANTONESE.items():
        await known(node, customer, tag)
    for given in ("zh-HK", "zh-Hant"):
        answer, sent = await warned(node, gateway, {"en": STORM_EN, given: STORM_HK})
        assert sent == {
            "c-yue": (given, "yue", STORM_HK),
            "c-hk": (given, "yue-HK", STORM_HK),
        }, given
        assert answer["fallbacks"] == {}


async def test_without_a_chinese_message_they_read_english_and_are_counted(
    node: Node, gateway: tuple[Gateway, str]
) -> None:
    for customer, tag in CANTONESE.items():
        await known(node, customer, tag)
    answer, sent = await warned(node, gateway, {"en": STORM_EN, "es": "Su vuelo se retrasa."})
    assert sent == {"c-yue": ("en", "yue", STORM_EN), "c-hk": ("en", "yue-HK", STORM_EN)}
    assert answer["fallbacks"] == {
        "yue": {"sent": "en", "passengers": 1},
        "yue-HK": {"sent": "en", "passengers": 1},
    }


async def test_the_chat_and_the_sms_say_the_same_to_a_cantonese_passenger(
    node: Node, gateway: tuple[Gateway, str]
) -> None:
    """A yue-HK passenger's live chat (queued: nobody is signed in) is told the text of
    their SMS, in Traditional characters."""
    await known(node, "c-yue", "yue")
    chat, token = await chat_of(node, "c-hk", "yue-HK")
    _, sent = await warned(node, gateway, {"en": STORM_EN, "zh": STORM_ZH})
    async with http_session(node) as http:
        response = await http.get(
            f"/api/v1/contacts/{chat.contact_id}/messages", headers={"X-Customer-Token": token}
        )
        assert response.status == 200, await response.text()
        messages = (await response.json())["messages"]
    (notice,) = [m for m in messages if m["sender"] == "center"]
    assert notice["text"] == sent["c-hk"][2] == STORM_HK
