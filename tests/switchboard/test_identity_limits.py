"""What a chat's customer proves, held to limits on a running node: a site's signed
identity expires within a day (one signed to live for ever could be replayed for ever),
and a signature or customer token of any characters is refused as wrong (400, 401),
never a failure (500)."""

from __future__ import annotations

import time

import pytest

from router.desk import ChatSite, DeskConfig
from router.identity import MAX_LIFETIME_S, sign
from switchboard.node import Node
from tests.nodes import http_session, new_chat, running_node

SITE = ChatSite("airline", ("https://www.airline.example",), "a-site-secret")
DESK = DeskConfig(sites=(SITE,), public_requests_per_minute=600)
CHAT = {"channel": "chat", "queue": "booking", "language": "en", "site": "airline"}


@pytest.fixture
async def node(redis_url: str):
    async with running_node(redis_url, desk=DESK) as node:
        yield node


def signed(exp: float) -> str:
    return sign(SITE.secret, {"sub": "c-42", "exp": exp})


@pytest.mark.parametrize(
    "exp",
    [1e308, 4_102_444_800, time.time() + MAX_LIFETIME_S + 3600],
    ids=["1e308", "year 2100", "25 h ahead"],
)
async def test_an_identity_that_lives_too_long_is_refused(node: Node, exp: float) -> None:
    async with http_session(node) as http:
        answer = await http.post("/api/v1/contacts", json={**CHAT, "identity": signed(exp)})
        body = await answer.json()
    assert answer.status == 400, body
    assert body["field"] == "$.identity.exp"
    assert "at most 24 h ahead" in body["expected"], body


async def test_an_identity_within_a_day_is_taken(node: Node) -> None:
    async with http_session(node) as http:
        for ahead in (600, MAX_LIFETIME_S - 3600):
            chat = await new_chat(http, identity=signed(time.time() + ahead), site="airline")
            assert chat["customer"]["id"] == "c-42"


@pytest.mark.parametrize("signature", ["é" * 64, "\u0661" * 64, "ab\x00cd"])
async def test_a_signature_of_any_characters_is_a_bad_signature(node: Node, signature: str) -> None:
    body = signed(time.time() + 600).partition(".")[0]
    async with http_session(node) as http:
        answer = await http.post(
            "/api/v1/contacts", json={**CHAT, "identity": f"{body}.{signature}"}
        )
        assert answer.status == 400, await answer.text()
        assert (await answer.json())["found"] == "a bad signature"


async def test_a_customer_token_of_any_characters_is_a_wrong_token(node: Node) -> None:
    async with http_session(node) as http:
        contact_id = (await new_chat(http))["contact_id"]
        path = f"/api/v1/contacts/{contact_id}"
        for query in ("customer_token=%C3%A9", "customer_token=%E4%B8%AD%E6%96%87"):
            answer = await http.get(f"{path}?{query}")
            assert answer.status == 401, await answer.text()
        # A header arrives as Latin-1: é is two characters beyond ASCII.
        answer = await http.get(path, headers={"X-Customer-Token": "é".encode().decode("latin-1")})
        assert answer.status == 401, await answer.text()
        answer = await http.get(f"{path}/messages?customer_token=%C3%A9")
        assert answer.status == 401, await answer.text()
