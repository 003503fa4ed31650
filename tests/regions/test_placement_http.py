"""A chat for a closed region is placed where it can be served, and says why."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import aiohttp

from regions.node import Node
from router.model import Agent, Presence
from switchboard.settings import RedisConfig, load_settings

ROOT = Path(__file__).resolve().parents[2]


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
    settings = load_settings(config, region="asia-east", node_id="asia-1")
    settings = dataclasses.replace(settings, redis=RedisConfig(url=redis_url), http_port=0)
    node = Node(settings)
    await node.start()
    try:
        await node.store.upsert_agent(Agent("li", "asia-east", {"booking": 4}, ["en", "fr"]))
        await node.router.set_presence("li", Presence.AVAILABLE)
        await asyncio.sleep(0.3)  # one heartbeat: asia-east is healthy
        async with aiohttp.ClientSession(f"http://127.0.0.1:{node.http_port}") as http:
            response = await http.post(
                "/api/v1/contacts",
                json={
                    "channel": "chat",
                    "queue": "booking",
                    "language": "fr",
                    "customer": {"id": "c"},
                    "region": "europe-west",
                },
            )
            body = await response.json()
        assert response.status == 201
        assert body["region"] == "asia-east" and body["agent_id"] == "li"
        assert "home region europe-west closed" in body["placement"]
    finally:
        await node.stop()
