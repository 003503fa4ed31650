"""What a waiting caller hears of its place: the position and the wait when someone can
serve the queue, the position alone when nobody can (no wait to promise)."""

from __future__ import annotations

import pytest

from telephony.calls.waiting import position_prompt
from telephony.model import Prompt
from telephony.prompts import prompt_text


def test_a_known_wait_is_said_in_whole_minutes_at_least_one() -> None:
    assert position_prompt("en", "3", 150.0) == Prompt(
        "queue.position", "en", (("position", "3"), ("minutes", 2))
    )
    assert position_prompt("en", "1", 10.0).values == (("position", "1"), ("minutes", 1))


def test_without_a_wait_the_caller_hears_the_position_alone() -> None:
    assert position_prompt("de", "3", None) == Prompt(
        "queue.position_no_wait", "de", (("position", "3"),)
    )


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "You are number 3 in line."),
        ("de", "Sie sind Nummer 3 in der Warteschlange."),
        ("ja", "あなた の じゅんばん わ 3 ばんめ です。"),
    ],
)
def test_the_position_alone_is_said_from_the_catalog_without_minutes(
    language: str, said: str
) -> None:
    assert prompt_text(position_prompt(language, "3", None)) == said
