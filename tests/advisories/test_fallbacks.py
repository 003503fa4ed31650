"""A passenger whose language the messages lack gets English, else the first message
given (the documented rule); the declaration's answer says how many passengers got which
fallback, by their language tag, so the declarer learns their texts missed someone."""

from __future__ import annotations

from switchboard.node import Node
from tests.advisories.conftest import chat_of, declare, outbox_events, staff
from tests.nodes import http_session


async def known(node: Node, customer: str, language: str) -> None:
    contact, _ = await chat_of(node, customer, language)
    await node.router.abandon(contact.contact_id)


async def test_the_answer_counts_the_passengers_of_each_fallback(node: Node) -> None:
    passengers = {"c-tw": "zh-TW", "c-tw2": "zh-TW", "c-sv": "sv", "c-br": "pt-BR", "c-pt": "pt"}
    for customer, tag in passengers.items():
        await known(node, customer, tag)
    customers = [*passengers, "c-new"]  # c-new has no contact: no language known
    portuguese = {"pt-BR": "Seu voo atrasou.", "pt-PT": "O seu voo está atrasado."}
    async with http_session(node) as http:
        headers = await staff(http, "sup")
        answer = await declare(http, headers, customers=customers, messages=portuguese)
        with_english = await declare(
            http, headers, customers=customers, messages={"en": "Delayed.", **portuguese}
        )
        read = await (
            await http.get(f"/api/v1/advisories/{answer['advisory_id']}", headers=headers)
        ).json()
    assert answer["warned"] == 6
    assert answer["fallbacks"] == {
        "zh-TW": {"sent": "pt-BR", "passengers": 2},
        "sv": {"sent": "pt-BR", "passengers": 1},
        "und": {"sent": "pt-BR", "passengers": 1},
    }  # c-br reads its own, c-pt the first Portuguese given: no fallback
    assert read["fallbacks"] == answer["fallbacks"]  # the operator's view keeps it
    assert with_english["fallbacks"] == {
        "zh-TW": {"sent": "en", "passengers": 2},
        "sv": {"sent": "en", "passengers": 1},
        "und": {"sent": "en", "passengers": 1},
    }
    sent = {
        e["data"]["customer"]: e["data"]["language"]
        for e in await outbox_events(node)
        if e["data"]["advisory_id"] == answer["advisory_id"]
    }
    assert sent == {
        "c-tw": "pt-BR",
        "c-tw2": "pt-BR",
        "c-sv": "pt-BR",
        "c-new": "pt-BR",
        "c-br": "pt-BR",
        "c-pt": "pt-BR",
    }


async def test_every_language_spoken_is_no_fallback(node: Node) -> None:
    await known(node, "c-es", "es-MX")
    async with http_session(node) as http:
        answer = await declare(http, await staff(http, "sup"), customers=["c-es"])
    assert answer["fallbacks"] == {}


async def test_the_answer_s_fallbacks_are_in_the_openapi_document(node: Node) -> None:
    async with http_session(node) as http:
        document = await (await http.get("/api/v1/openapi.json")).json()
    created = document["paths"]["/api/v1/advisories"]["post"]["responses"]["201"]
    assert "fallbacks" in created["description"]
