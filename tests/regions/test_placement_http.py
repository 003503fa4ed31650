"""A chat for a closed region is placed where it can be served, and says why."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from router.desk import ChatSite, DeskConfig
from router.identity import sign
from router.model import Agent, Presence, Role
from tests.nodes import ROOT, http_session, login, new_chat, running_node

SITE = ChatSite("airline", ("https://www.airline.example",), "site-secret")


async def test_closed_home_region_places_chat_elsewhere(redis_url: str, tmp_path: Path) -> None:
    text = (ROOT / "config" / "regions-3.toml").read_text()
    # Europe's hours are empty (open at 00:00, close at 00:00): it is always closed.
    text = text.replace(
        'timezone = "Europe/Paris"\nopen = "07:00"\nclose = "22:00"',
        'timezone = "Europe/Paris"\nopen = "00:00"\nclose = "00:00"',
    )
    text = text.replace(
        'timezone = "Asia/Shanghai"\nopen = "07:00"\nclose = "23:00"',
        'timezone = "Asia/Shanghai"\nopen = "00:00"\nclose = "24:00"',
    )
    config = tmp_path / "regions.toml"
    config.write_text(text)
    async with running_node(
        redis_url,
        config,
        region="asia-east",
        node_id="asia-1",
        agents=[Agent("li", "asia-east", {"booking": 4}, ["en", "fr"])],
        desk=DeskConfig(sites=(SITE,)),
        users=[("sup", Role.SUPERVISOR, "sup-secret-1")],
    ) as node:
        await node.router.set_presence("li", Presence.AVAILABLE)
        await asyncio.sleep(0.3)  # one heartbeat: asia-east is healthy
        async with http_session(node) as http:
            # Only a signed identity says where the customer's home is.
            identity = sign(
                SITE.secret, {"sub": "c", "region": "europe-west", "exp": time.time() + 600}
            )
            body = await new_chat(http, language="fr", identity=identity, site="airline")
            # What the browser claims is accepted and ignored: the node's region.
            claims = {
                "channel": "chat",
                "queue": "booking",
                "language": "fr",
                "customer": {"id": "c-77", "tier": "gold"},
                "region": "europe-west",
                "priority": 7,
            }
            said = await http.post("/api/v1/contacts", json=claims)
            assert said.status == 201, await said.text()
            # A supervisor (the airline's back office) is believed.
            sup = await login(http, "sup", "sup-secret-1")
            vouched = await http.post("/api/v1/contacts", json=claims, headers=sup)
            assert vouched.status == 201, await vouched.text()
            bad = await http.post("/api/v1/contacts", json={**claims, "region": "mars"})
            assert bad.status == 400 and (await bad.json())["field"] == "$.region"
            forged = {"Authorization": "Bearer not-a-token"}
            assert (await http.post("/api/v1/contacts", json=claims, headers=forged)).status == 401
        contact = await node.router.get_contact(body["contact_id"])
        anonymous = await node.router.get_contact((await said.json())["contact_id"])
        backed = await node.router.get_contact((await vouched.json())["contact_id"])
    assert body["region"] == "asia-east" and body["agent_id"] == "li"
    assert "home region europe-west closed" in contact.placement
    assert anonymous.customer_id.startswith("anon-") and anonymous.priority == 0
    assert anonymous.customer_tier == "standard" and "europe-west" not in anonymous.placement
    assert (backed.customer_id, backed.customer_tier, backed.priority) == ("c-77", "gold", 7)
    assert "home region europe-west closed" in backed.placement and backed.verified


async def test_a_region_with_an_agent_free_predicts_no_wait(redis_url: str, tmp_path: Path) -> None:
    """li is ready with three free chat places: a chat arriving in her region waits for
    nobody, so placement neither opens it to every region (`overflow_region_ewt_s`) nor
    says it will wait. (With nobody queued it predicted one handle time over the agents:
    every chat was opened to every region, with agents idle at home.)"""
    text = (ROOT / "config" / "regions-3.toml").read_text()
    for hours in ('open = "07:00"\nclose = "23:00"', 'open = "07:00"\nclose = "22:00"'):
        text = text.replace(hours, 'open = "00:00"\nclose = "24:00"')
    text = text.replace("max_wait_s = 900\n", "max_wait_s = 900\noverflow_region_ewt_s = 60\n", 1)
    config = tmp_path / "regions.toml"
    config.write_text(text)
    li = Agent("li", "asia-east", {"booking": 4}, ["en"], capacity={"voice": 0, "chat": 3})
    async with running_node(
        redis_url, config, region="asia-east", node_id="asia-1", agents=[li]
    ) as node:
        await node.router.set_presence("li", Presence.AVAILABLE)
        await asyncio.sleep(0.3)  # one heartbeat: asia-east is healthy
        views = {view.name: view for view in await node.regions.views("booking", "en")}
        assert views["asia-east"].predicted_wait_s == 0.0
        async with http_session(node) as http:
            body = await new_chat(http, language="en")
        contact = await node.router.get_contact(body["contact_id"])
    assert (contact.placement, body["agent_id"]) == ("home region asia-east", "li")
