"""The wallboard's and the agents API's "time in state" over the real node on the real
Redis: an agent busy with a chat is busy since its answer, not since they clicked
Available (the same computation for both, switchboard/http/views.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from router.model import Agent, Role
from tests.nodes import http_session, login, new_chat, running_node


@pytest.fixture
async def http(redis_url: str) -> AsyncIterator[aiohttp.ClientSession]:
    async with (
        running_node(
            redis_url,
            users=[("sup", Role.SUPERVISOR, "sup-secret-1"), ("ana", Role.AGENT, "ana-secret-1")],
            agents=[Agent("ana", "default", {"booking": 4, "general": 3}, ["en"])],
        ) as node,
        http_session(node) as session,
    ):
        yield session


def seconds(iso: str) -> float:
    return dt.datetime.fromisoformat(iso).timestamp()


async def test_busy_since_the_answer(http: aiohttp.ClientSession) -> None:
    sup = await login(http, "sup", "sup-secret-1")
    ana = await login(http, "ana", "ana-secret-1")
    await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
    await asyncio.sleep(0.5)
    chat = await new_chat(http, queue="general", customer="w-1")
    before_answer = time.time()
    answer = await http.post(f"/api/v1/contacts/{chat['contact_id']}/accept", headers=ana)
    assert answer.status == 200, await answer.text()

    board = await (await http.get("/api/v1/wallboard", headers=sup)).json()
    listed = next(a for a in board["agents"]["list"] if a["agent_id"] == "ana")
    assert listed["state"] == "busy"
    assert seconds(listed["since"]) >= before_answer - 0.05
    agents = await (await http.get("/api/v1/agents", headers=sup)).json()
    api = next(a for a in agents["agents"] if a["agent_id"] == "ana")
    assert (api["state"], api["state_since"]) == ("busy", listed["since"])
