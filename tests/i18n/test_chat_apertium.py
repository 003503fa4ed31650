"""A Spanish chat taken by an English-only agent through an Apertium pair, end to end.

The node publishes the translator's pairs; the router's `translation` step lets Tom take
the chat because es→en and en→es exist (here from Apertium alone, no Argos model); each
message then reaches its reader translated by Apertium, the original kept.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from i18n.translation import Translator
from switchboard.node import Node
from tests.i18n.translators import APERTIUM_ONLY
from tests.translated_chat import node_with_tom, spanish_chat_with_tom


@pytest.fixture(scope="module")
def translator() -> Iterator[Translator]:
    translator = Translator(settings=APERTIUM_ONLY)
    yield translator
    translator.close()


@pytest.fixture
async def node(redis_url: str, translator: Translator) -> AsyncIterator[Node]:
    async with node_with_tom(redis_url, translator) as node:
        yield node


async def test_apertium_carries_a_chat_without_a_shared_language(node: Node) -> None:
    _, question, answer = await spanish_chat_with_tom(
        node, "Necesito ayuda con mi cuenta.", "Where is my flight?"
    )
    assert question["text"] == "Necesito ayuda con mi cuenta."
    assert question["translations"] == {"en": "I need help with my account."}
    assert answer["text"] == "Where is my flight?"
    assert "mi vuelo" in answer["translations"]["es"]
    assert question["missing_translation"] == answer["missing_translation"] == []


# A card number typed in a chat an engine translates: the engine is given the mask, never
# the number, and the reader's translation carries the mask as written.
async def test_the_translation_of_a_card_number_is_of_its_mask(node: Node) -> None:
    _, question, answer = await spanish_chat_with_tom(
        node, "Mi tarjeta es 4242 4242 4242 4242, gracias.", "Charged to 5555555555554444."
    )
    assert question["text"] == "Mi tarjeta es •••• •••• •••• 4242, gracias."
    assert question["translations"] == {"en": "My card is •••• •••• •••• 4242, thank you."}
    assert answer["text"] == "Charged to •••• •••• •••• 4444."
    assert "•••• •••• •••• 4444" in answer["translations"]["es"]
    assert question["redacted"] == answer["redacted"] == ["card_number"]
