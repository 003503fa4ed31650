"""A partner site's signed customers are its own: with `customer_prefix` its ids never
name the center's customers (their history, cases and tier), even when the partner
signs the same id; the airline's own site keeps the center's ids."""

from __future__ import annotations

import time

from router.desk import ChatSite, DeskConfig
from router.identity import sign
from tests.nodes import http_session, new_chat, running_node

AIRLINE = ChatSite("airline", ("https://www.airline.example",), "airline-secret")
PARTNER = ChatSite(
    "partner", ("https://hotels.example",), "partner-secret", customer_prefix="partner:"
)
DESK = DeskConfig(sites=(AIRLINE, PARTNER), public_requests_per_minute=600)


def identity(site: ChatSite, sub: str) -> str:
    return sign(site.secret, {"sub": sub, "exp": time.time() + 600, "tier": "gold"})


async def test_a_partner_signing_the_airlines_customer_id_reaches_another_customer(
    redis_url: str,
) -> None:
    async with running_node(redis_url, desk=DESK) as node, http_session(node) as http:
        own = await new_chat(http, identity=identity(AIRLINE, "c-4242"), site="airline")
        partner = await new_chat(http, identity=identity(PARTNER, "c-4242"), site="partner")
        assert own["customer"]["id"] == "c-4242"
        assert partner["customer"]["id"] == "partner:c-4242"
        history = await node.router.store.customer_contacts("c-4242")
        assert [c.contact_id for c in history] == [own["contact_id"]]
