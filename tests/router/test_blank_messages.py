"""What the API refuses in a chat message, as a customer reads it: characters that are
letters or symbols to Unicode but draw nothing (the Braille blank, the Hangul fillers,
variation selectors) are no more "something to read" than a zero-width space; the limit
of 4000 counts characters (code points, as the customer's page does), and its refusal
reads like the API's other messages, not like the validation library's."""

from __future__ import annotations

import unicodedata
from typing import Annotated

import aiohttp
import pytest
from pydantic import BaseModel, Field, StringConstraints, ValidationError

from switchboard.common.ids import Text, first_fault
from switchboard.common.readable import BLANK, readable
from switchboard.http.schemas import ContactWrapUp, NewChat, NewMessage, QueueDefinition
from tests.nodes import http_session, new_chat, running_node

# Blank to a reader, yet neither a separator (Z) nor a format (Cf) or control (Cc).
BLANKS = {
    "\u2800": "BRAILLE PATTERN BLANK",
    "\u3164": "HANGUL FILLER",
    "\u115f": "HANGUL CHOSEONG FILLER",
    "\u1160": "HANGUL JUNGSEONG FILLER",
    "\uffa0": "HALFWIDTH HANGUL FILLER",
    "\u034f": "COMBINING GRAPHEME JOINER",
    "\ufe0f": "VARIATION SELECTOR-16",
    "\U000e0100": "VARIATION SELECTOR-17",
    "\u180b": "MONGOLIAN FREE VARIATION SELECTOR ONE",
    "\u17b4": "KHMER VOWEL INHERENT AQ",
}


@pytest.mark.parametrize("blank", sorted(BLANKS))
def test_a_blank_that_is_no_space_alone_has_nothing_to_read(blank: str) -> None:
    assert unicodedata.name(blank) == BLANKS[blank]
    assert not unicodedata.category(blank).startswith(("Z", "Cf", "Cc"))
    assert not readable(blank)
    assert not readable(f" {blank}\u200b{blank}\u3000")


def test_the_list_holds_only_blanks_outside_the_invisible_categories() -> None:
    """One list (switchboard/common/readable.BLANK, mirrored by the customer page's check): each is
    a character Unicode files elsewhere than Z, Cf, Cc; every one alone is refused."""
    assert set(BLANKS) <= BLANK
    for blank in BLANK:
        assert not unicodedata.category(blank).startswith(("Z", "Cf", "Cc")), hex(ord(blank))
        assert not readable(blank), hex(ord(blank))


@pytest.mark.parametrize("text", ["a\u3164", "\u2800\u2801", "❤\ufe0f", "\u1100\u1161", "ㅤhi"])
def test_a_blank_beside_something_to_read_is_taken(text: str) -> None:
    assert readable(text)


def customer(chat: dict[str, str]) -> dict[str, str]:
    return {"X-Customer-Token": chat["customer_token"]}


async def transcript(http: aiohttp.ClientSession, chat: dict[str, str]) -> list[str]:
    listed = await http.get(
        f"/api/v1/contacts/{chat['contact_id']}/messages", headers=customer(chat)
    )
    return [message["text"] for message in (await listed.json())["messages"]]


async def test_blank_messages_are_refused_and_long_ones_counted_in_characters(
    redis_url: str,
) -> None:
    async with running_node(redis_url) as node, http_session(node) as http:
        chat = await new_chat(http)
        path = f"/api/v1/contacts/{chat['contact_id']}/messages"
        for blank in ("\u2800", "\u3164", "\u115f\u1160", "\uffa0 \u200b"):
            sent = await http.post(path, json={"text": blank}, headers=customer(chat))
            assert sent.status == 400, (hex(ord(blank[0])), await sent.text())
            assert (await sent.json())["field"] == "$.text"

        # 4001 emoji: 4001 characters, one too many; said as the API says things.
        over = await http.post(path, json={"text": "😀" * 4001}, headers=customer(chat))
        assert over.status == 400
        refusal = await over.json()
        assert refusal["field"] == "$.text"
        assert refusal["expected"] == "at most 4000 characters", refusal
        assert refusal["message"] == "$.text: expected at most 4000 characters"
        assert refusal["found"] == 4001
        assert await transcript(http, chat) == []

        # 4000 of them (8000 UTF-16 units, what a browser's String.length says) are taken.
        taken = await http.post(path, json={"text": "😀" * 4000}, headers=customer(chat))
        assert taken.status == 201, await taken.text()
        assert await transcript(http, chat) == ["😀" * 4000]


class _Plain(BaseModel):
    name: Annotated[str, StringConstraints(min_length=2, max_length=5)]


def _fault(model: type[BaseModel], body: dict[str, object]) -> tuple[str, object]:
    with pytest.raises(ValidationError) as failure:
        model.model_validate(body)
    fault = first_fault(failure.value, "$")
    return fault.expected, fault.found


def test_pydantic_words_are_said_as_the_api_says_things() -> None:
    """What was expected, without pydantic's "Input should be" or the name of a class
    the caller never sees ("a valid dictionary or instance of ChatCustomer")."""
    chat = {"channel": "chat", "queue": "booking", "language": "en"}
    assert _fault(NewChat, {**chat, "customer": "FF-2001"}) == ("an object", "FF-2001")
    assert _fault(QueueDefinition, {"wrap_up_s": -1}) == ("greater than or equal to 0", -1)


def test_every_length_limit_reads_as_characters() -> None:
    """A limit checked after a validator (`Text`, `Prose`) and a plain one alike: "at
    most N characters", whatever pydantic calls it, and what was found: its length when
    too large to echo back."""
    assert _fault(NewMessage, {"text": "x" * 4001}) == ("at most 4000 characters", 4001)
    assert _fault(ContactWrapUp, {"note": "n" * 2001}) == ("at most 2000 characters", 2001)
    assert _fault(_Plain, {"name": "abcdef"}) == ("at most 5 characters", "abcdef")
    assert _fault(_Plain, {"name": "a"}) == ("at least 2 characters", "a")

    class Listed(BaseModel):
        items: Annotated[list[Text], Field(max_length=2)]

    expected, found = _fault(Listed, {"items": ["a", "b", "c"]})
    assert (expected, found) == ("at most 2 items", 3)
