"""A customer's language tag as sites and browsers write it reaches an agent who speaks it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from router.model import Agent, Role
from router.roster import read_roster
from tests.nodes import http_session, login, new_chat, running_node


@pytest.fixture
async def http(redis_url: str) -> AsyncIterator[aiohttp.ClientSession]:
    ana = Agent("ana", "default", {"booking": 4}, ["en", "es", "he"], {"voice": 1, "chat": 3})
    async with (
        running_node(redis_url, users=[("ana", Role.AGENT, "ana-secret-1")], agents=[ana]) as node,
        http_session(node) as session,
    ):
        yield session


@pytest.mark.parametrize(
    ("tag", "language"),
    [("es-MX", "es"), ("ES", "es"), ("EN_us", "en"), ("iw-IL", "he"), ("iw", "he"), ("spa", "es")],
)
async def test_a_region_tag_is_served_by_an_agent_of_its_language(
    http: aiohttp.ClientSession, tag: str, language: str
) -> None:
    """`es-MX` (a site's `data-lang`, a browser's locale) is offered at once to an agent
    who speaks `es`: it used to wait, queued, beside a free one."""
    ana = await login(http, "ana", "ana-secret-1")
    state = await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
    assert state.status == 200
    chat = await new_chat(http, language=tag)
    assert chat["language"] == language
    contact = await (await http.get(f"/api/v1/contacts/{chat['contact_id']}", headers=ana)).json()
    assert (contact["state"], contact["agent_id"]) == ("offered", "ana")
    assert "step=exact" in contact["explanation"][0]


def test_the_roster_reads_a_language_by_its_subtag() -> None:
    text = "agent_id,region,skills,languages\nana,default,booking:3,ES-mx;es;en-GB\n"
    (agent,) = read_roster(text, "agents.csv", ["default"])
    assert agent.languages == ["es", "en"]


def test_the_roster_reads_a_retired_code_as_its_current_one() -> None:
    """A roster keeping Hebrew as `iw` (Java's Locale wrote it so for years) and Tagalog
    as `tl`: matched with customers who write `he` and `fil`."""
    text = "agent_id,region,skills,languages\ndana,default,booking:3,iw;tl;in\n"
    (agent,) = read_roster(text, "agents.csv", ["default"])
    assert agent.languages == ["he", "fil", "id"]
