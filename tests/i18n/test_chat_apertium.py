"""A Spanish chat taken by an English-only agent through an Apertium pair, end to end.

The node publishes the translator's pairs; the router's `translation` step lets Tom take
the chat because es→en and en→es exist (here from Apertium alone, no Argos model); each
message then reaches its reader translated by Apertium, the original kept.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator

import pytest

from i18n.translation import Translator
from router.model import Agent, Role
from switchboard.node import Node
from switchboard.settings import load_settings
from tests.i18n.translators import APERTIUM_ONLY
from tests.nodes import ROOT, http_session, login, new_chat, running_node


@pytest.fixture(scope="module")
def translator() -> Iterator[Translator]:
    translator = Translator(settings=APERTIUM_ONLY)
    yield translator
    translator.close()


@pytest.fixture
async def node(redis_url: str, translator: Translator) -> AsyncIterator[Node]:
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
        for _ in range(100):  # the pairs are published by a background task at start
            pairs = await node.client.smembers("sb:{rt}:translation_pairs")
            if {b"es>en", b"en>es"} <= pairs or {"es>en", "en>es"} <= pairs:
                break
            await asyncio.sleep(0.05)
        yield node


async def test_apertium_carries_a_chat_without_a_shared_language(node: Node) -> None:
    async with http_session(node) as http:
        tom = await login(http, "tom", "tom-secret-1")
        await http.put("/api/v1/agents/tom/state", json={"state": "available"}, headers=tom)
        created = await new_chat(http, queue="baggage", language="es")
        assert created["state"] == "offered" and created["agent_id"] == "tom"
        contact_id = created["contact_id"]
        seen_by_tom = await (await http.get(f"/api/v1/contacts/{contact_id}", headers=tom)).json()
        assert "step=translation" in seen_by_tom["explanation"][-1]
        customer = {"X-Customer-Token": created["customer_token"]}
        await http.post(f"/api/v1/contacts/{contact_id}/accept", headers=tom)

        question = await (
            await http.post(
                f"/api/v1/contacts/{contact_id}/messages",
                json={"text": "Necesito ayuda con mi cuenta."},
                headers=customer,
            )
        ).json()
        answer = await (
            await http.post(
                f"/api/v1/contacts/{contact_id}/messages",
                json={"text": "Where is my flight?"},
                headers=tom,
            )
        ).json()

    assert question["text"] == "Necesito ayuda con mi cuenta."
    assert question["translations"] == {"en": "I need help with my account."}
    assert answer["text"] == "Where is my flight?"
    assert "mi vuelo" in answer["translations"]["es"]
    assert question["missing_translation"] == answer["missing_translation"] == []
