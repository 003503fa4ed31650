"""A Spanish chat taken by Tom, who speaks only English: the set-up both translation
engines' end-to-end tests share (Argos in tests/router, Apertium in tests/i18n)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

from router.chat import TranslatorPort
from router.model import Agent, Role
from switchboard.node import Node
from switchboard.settings import load_settings
from tests.nodes import ROOT, http_session, login, new_chat, running_node

TOM = ("tom", "tom-secret-1")


@contextlib.asynccontextmanager
async def node_with_tom(redis_url: str, translator: TranslatorPort) -> AsyncIterator[Node]:
    """A node whose baggage queue may use translation at once, and whose translator's
    es<->en pairs are published (a background task does it at start)."""
    queues = [
        dataclasses.replace(q, relax_translation_after_s=0.0) if q.name == "baggage" else q
        for q in load_settings(ROOT / "config" / "default.toml").queues
    ]
    async with running_node(
        redis_url,
        translator=translator,
        queues=queues,
        users=[(TOM[0], Role.AGENT, TOM[1])],
        agents=[Agent("tom", "default", {"baggage": 4}, ["en"])],
    ) as node:
        for _ in range(100):
            if {"es>en", "en>es"} <= await node.client.smembers(node.store.keys.translation_pairs):
                break
            await asyncio.sleep(0.05)
        yield node


async def spanish_chat_with_tom(
    node: Node, question: str, answer: str
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A customer asks in Spanish, Tom answers in English: (chat as created, the
    customer's message, Tom's message), each message as stored with its translations.
    Tom could take the chat only through the routing's translation step."""
    async with http_session(node) as http:
        tom = await login(http, *TOM)
        await http.put("/api/v1/agents/tom/state", json={"state": "available"}, headers=tom)
        created = await new_chat(http, queue="baggage", language="es")
        assert created["state"] == "offered" and created["agent_id"] == "tom"
        contact_id = created["contact_id"]
        seen_by_tom = await (await http.get(f"/api/v1/contacts/{contact_id}", headers=tom)).json()
        assert "step=translation" in seen_by_tom["explanation"][-1]
        await http.post(f"/api/v1/contacts/{contact_id}/accept", headers=tom)
        messages = f"/api/v1/contacts/{contact_id}/messages"
        customer = {"X-Customer-Token": created["customer_token"]}
        asked = await (await http.post(messages, json={"text": question}, headers=customer)).json()
        answered = await (await http.post(messages, json={"text": answer}, headers=tom)).json()
    return created, asked, answered
