"""A chat between a customer and an agent who share no language, translated both ways.

The model is a tiny Argos Translate package built on the fly (no model can be
downloaded here), installed through argostranslate's real installer; its
translations are gibberish, so the test checks the plumbing: who reads what, the
original kept, and the routing step that let this agent take the chat at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from router.chat import TranslatorPort
from router.model import Agent, Role
from switchboard.node import Node
from switchboard.settings import load_settings
from tests.nodes import ROOT, http_session, login, new_chat, running_node
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


@contextlib.asynccontextmanager
async def node_with_kenji(
    redis_url: str, translator: TranslatorPort, languages: Sequence[str], **baggage: Any
) -> AsyncIterator[Node]:
    """Kenji takes baggage chats in `languages` (Japanese first); the baggage queue is
    changed by `baggage`; the translator's pairs are published before the first chat."""
    queues = [
        dataclasses.replace(q, **baggage) if q.name == "baggage" else q
        for q in load_settings(ROOT / "config" / "default.toml").queues
    ]
    async with running_node(
        redis_url,
        translator=translator,
        queues=queues,
        users=[("kenji", Role.AGENT, "kenji-secret-1")],
        agents=[Agent("kenji", "default", {"baggage": 4}, list(languages))],
    ) as node:
        wanted = {f"{s}>{t}" for s, t in translator.pairs()}
        for _ in range(100):
            if wanted <= await node.client.smembers(node.store.keys.translation_pairs):
                break
            await asyncio.sleep(0.05)
        yield node


async def kenji_answers_a_spanish_chat(node: Node) -> dict[str, list[dict[str, Any]]]:
    """A Spanish customer writes while the chat rings for Kenji, Kenji accepts, reads,
    answers in English, the customer writes again: every message as each side reads it."""
    async with http_session(node) as http:
        kenji = await login(http, "kenji", "kenji-secret-1")
        await http.put("/api/v1/agents/kenji/state", json={"state": "available"}, headers=kenji)
        created = await new_chat(http, queue="baggage", language="es")
        assert (created["state"], created["agent_id"]) == ("offered", "kenji")
        contact_id = created["contact_id"]
        messages = f"/api/v1/contacts/{contact_id}/messages"
        customer = {"X-Customer-Token": created["customer_token"]}
        posted = await http.post(messages, json={"text": "hola mi maleta"}, headers=customer)
        assert posted.status == 201, await posted.text()
        accepted = await http.post(f"/api/v1/contacts/{contact_id}/accept", headers=kenji)
        assert accepted.status == 200, await accepted.text()
        await http.get(messages, headers=kenji)  # what his desk loads on accepting
        for text, who in (("where is my bag", kenji), ("gracias", customer)):
            posted = await http.post(messages, json={"text": text}, headers=who)
            assert posted.status == 201, await posted.text()
        return {
            "kenji": (await (await http.get(messages, headers=kenji)).json())["messages"],
            "customer": (await (await http.get(messages, headers=customer)).json())["messages"],
            "explanation": (
                await (await http.get(f"/api/v1/contacts/{contact_id}", headers=kenji)).json()
            )["explanation"],
        }


def read_by(message: dict[str, Any], language: str) -> str:
    """What a reader of `language` sees of a message: its text or its translation."""
    if message["language"] == language:
        return str(message["text"])
    return str(message["translations"].get(language, message["text"]))


async def test_an_agent_reached_through_translation_reads_the_language_of_the_pair(
    redis_url: str, translator
) -> None:
    """Kenji speaks Japanese first and English; only es<->en is installed, so the routing
    let him take a Spanish chat through English: he reads and writes English, and the
    customer reads his answers in Spanish (they were carried into Japanese, which no
    engine has, both ways missing)."""
    async with node_with_kenji(
        redis_url,
        translator,
        ["ja", "en"],
        fallback_languages=(),
        relax_translation_after_s=0.0,
    ) as node:
        seen = await kenji_answers_a_spanish_chat(node)
    assert "step=translation" in seen["explanation"][-1]
    assert "languages=es|en" in seen["explanation"][-1]
    first, answer, thanks = seen["kenji"]
    expected = {
        text: translator.translate(text, source, target).text
        for text, source, target in (
            ("hola mi maleta", "es", "en"),
            ("where is my bag", "en", "es"),
            ("gracias", "es", "en"),
        )
    }
    assert all(message["missing_translation"] == [] for message in seen["kenji"])
    # Kenji reads the customer in English, the one written while it rang too.
    assert read_by(first, "en") == expected["hola mi maleta"] != "hola mi maleta"
    assert read_by(thanks, "en") == expected["gracias"] != "gracias"
    # He wrote in English, and the customer reads it in Spanish.
    assert answer["language"] == "en"
    (_, for_customer, _) = seen["customer"]
    assert read_by(for_customer, "es") == expected["where is my bag"] != "where is my bag"


@pytest.fixture(scope="module")
def french_and_english(tmp_path_factory: pytest.TempPathFactory):
    """Argos models es<->en and es<->fr, and no other engine."""
    from i18n import argos

    argos.configure(tmp_path_factory.mktemp("argos-home-fr"))
    from i18n.translation import install_model
    from tests.i18n.tiny_model import build_tiny_package
    from tests.i18n.translators import argos_translator

    models = tmp_path_factory.mktemp("models-fr")
    packages = tmp_path_factory.mktemp("packages-fr")
    pairs = (("es", "en", 11), ("en", "es", 12), ("es", "fr", 14), ("fr", "es", 15))
    for source, target, seed in pairs:
        install_model(build_tiny_package(models, source, target, seed=seed), packages)
    translator = argos_translator(packages)
    yield translator
    translator.close()


async def test_the_agent_reads_the_language_the_routing_matched_them_on(
    redis_url: str, french_and_english
) -> None:
    """Kenji lists French before English; a Spanish chat whose queue falls back to English
    reached him through English (step=language): of two languages a pair reaches, he
    reads the one the routing matched him on."""
    async with node_with_kenji(
        redis_url,
        french_and_english,
        ["fr", "en"],
        fallback_languages=("en",),
        relax_language_after_s=0.0,
    ) as node:
        seen = await kenji_answers_a_spanish_chat(node)
    assert "step=language" in seen["explanation"][-1]
    first, answer, thanks = seen["kenji"]
    assert answer["language"] == "en"
    assert set(first["translations"]) == set(thanks["translations"]) == {"en"}
    assert read_by(thanks, "en") == french_and_english.translate("gracias", "es", "en").text
    assert read_by(seen["customer"][1], "es") == (
        french_and_english.translate("where is my bag", "en", "es").text
    )
