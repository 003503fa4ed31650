"""A chat between a customer and an agent who share no language, translated both ways.

The model is a tiny Argos Translate package built on the fly (no model can be
downloaded here), installed through argostranslate's real installer; its
translations are gibberish, so the test checks the plumbing: who reads what, the
original kept, and the routing step that let this agent take the chat at all.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest

from router.model import Agent, Role
from switchboard.node import Node
from switchboard.settings import load_settings
from tests.nodes import ROOT, http_session, login, new_chat, running_node


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
    queues = [
        dataclasses.replace(q, relax_translation_after_s=0.0) if q.name == "baggage" else q
        for q in load_settings(ROOT / "config" / "default.toml").queues
    ]
    async with running_node(
        redis_url,
        translator=translator,
        queues=queues,
        users=[("tom", Role.AGENT, "tom-secret-1")],
        agents=[Agent("tom", "default", {"baggage": 4}, ["en"])],
    ) as node:
        for _ in range(50):  # the pairs are published by a background task at start
            if await node.client.scard("sb:{rt}:translation_pairs") == 2:
                break
            await asyncio.sleep(0.05)
        yield node


async def test_chat_without_a_shared_language(node: Node, translator) -> None:
    async with http_session(node) as http:
        tom = await login(http, "tom", "tom-secret-1")
        await http.put("/api/v1/agents/tom/state", json={"state": "available"}, headers=tom)
        created = await new_chat(http, queue="baggage", language="es")
        # Tom speaks only English; the translation step let him take a Spanish chat.
        assert created["state"] == "offered" and created["agent_id"] == "tom"
        contact_id = created["contact_id"]
        # The explanation is for staff; the customer's view leaves it out.
        assert "explanation" not in created
        seen_by_tom = await (await http.get(f"/api/v1/contacts/{contact_id}", headers=tom)).json()
        assert "step=translation" in seen_by_tom["explanation"][-1]
        customer = {"X-Customer-Token": created["customer_token"]}
        await http.post(f"/api/v1/contacts/{contact_id}/accept", headers=tom)

        question = await (
            await http.post(
                f"/api/v1/contacts/{contact_id}/messages",
                json={"text": "hola mi maleta esta perdida"},
                headers=customer,
            )
        ).json()
        answer = await (
            await http.post(
                f"/api/v1/contacts/{contact_id}/messages",
                json={"text": "where is my bag"},
                headers=tom,
            )
        ).json()

    assert question["language"] == "es" and question["text"] == "hola mi maleta esta perdida"
    expected_en = translator.translate("hola mi maleta esta perdida", "es", "en").text
    assert question["translations"] == {"en": expected_en} and expected_en != question["text"]
    assert answer["language"] == "en" and answer["text"] == "where is my bag"
    expected_es = translator.translate("where is my bag", "en", "es").text
    assert answer["translations"] == {"es": expected_es}
    assert question["missing_translation"] == answer["missing_translation"] == []
