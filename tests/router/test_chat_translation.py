"""A chat between a customer and an agent who share no language, translated both ways.

The model is a tiny Argos Translate package built on the fly (no model can be
downloaded here), installed through argostranslate's real installer; its
translations are gibberish, so the test checks the plumbing: who reads what, the
original kept, and the routing step that let this agent take the chat at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from switchboard.node import Node
from tests.translated_chat import node_with_tom, spanish_chat_with_tom


@pytest.fixture(scope="module")
def translator(tmp_path_factory: pytest.TempPathFactory):
    from i18n import argos

    argos.configure(tmp_path_factory.mktemp("argos-home"))
    from i18n.translation import Translator, install_model
    from tests.i18n.tiny_model import build_tiny_package

    models = tmp_path_factory.mktemp("models")
    packages = tmp_path_factory.mktemp("packages")
    for source, target, seed in (("es", "en", 11), ("en", "es", 12)):
        install_model(build_tiny_package(models, source, target, seed=seed), packages)
    return Translator(packages)


@pytest.fixture
async def node(redis_url: str, translator) -> AsyncIterator[Node]:
    async with node_with_tom(redis_url, translator) as node:
        yield node


async def test_chat_without_a_shared_language(node: Node, translator) -> None:
    created, question, answer = await spanish_chat_with_tom(
        node, "hola mi maleta esta perdida", "where is my bag"
    )
    # The explanation is for staff; the customer's view leaves it out.
    assert "explanation" not in created
    assert question["language"] == "es" and question["text"] == "hola mi maleta esta perdida"
    expected_en = translator.translate("hola mi maleta esta perdida", "es", "en").text
    assert question["translations"] == {"en": expected_en} and expected_en != question["text"]
    assert answer["language"] == "en" and answer["text"] == "where is my bag"
    expected_es = translator.translate("where is my bag", "en", "es").text
    assert answer["translations"] == {"es": expected_es}
    assert question["missing_translation"] == answer["missing_translation"] == []
