"""A region-scoped supervisor's wallboard shows their regions only: each queue's figures
over the contacts and agents there, the waiting split of their regions, and the alerts
of their queues there and of their regions' nodes. Real node (europe-west, of the
three-region configuration) over HTTP on the real Redis, real routing."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from router.model import Agent, Channel, ContactState, NewContact, Presence, Role
from switchboard.common.clock import now_ms
from switchboard.node import Node
from tests.nodes import ROOT, http_session, login, running_node

PASSWORD = "a-long-password"
EUROPE, ASIA = "europe-west", "asia-east"


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    async with running_node(
        redis_url,
        ROOT / "config" / "regions-3.toml",
        region=EUROPE,
        node_id="eu-1",
        users=[("sup", Role.SUPERVISOR, PASSWORD)],
        agents=[
            Agent("eu-ag", EUROPE, {"booking": 4}, ["en"]),
            Agent("as-ag", ASIA, {"booking": 4}, ["en"]),
        ],
    ) as node:
        await node.sessions.save_user("sup-asia", Role.SUPERVISOR, PASSWORD, regions=(ASIA,))
        yield node


async def booking(node: Node, region: str, customer: str, ago_s: float = 0) -> str:
    """A booking chat waiting in `region`, queued `ago_s` seconds ago."""
    new = NewContact(Channel.CHAT, "booking", "en", customer_id=customer, region=region)
    contact = await node.router.create_contact(new, at_ms=now_ms() - int(ago_s * 1000))
    return contact.contact_id


async def served_by(node: Node, agent: str, contact_id: str) -> None:
    """The agent, alone ready, is offered the contact, answers it now and completes it;
    they stay ready, in booking's 10 s wrap-up (nothing is offered them while the test
    reads the boards), so they serve booking."""
    await node.router.login(agent)
    await node.router.set_presence(agent, Presence.AVAILABLE)
    offered = await node.router.get_contact(contact_id)
    assert (offered.state, offered.agent_id) == (ContactState.OFFERED, agent)
    await node.router.accept(contact_id, agent)
    await node.router.complete(contact_id, agent)


async def day_in_two_regions(node: Node) -> None:
    """Europe: one chat answered after a minute (under booking's 20 s target), three
    waiting, one of them for a minute. Asia: one answered at once, one abandoned, one
    waiting. Adoptions: a Europe node's (eu-1 took over), an Asia node's (its agent
    as-ag signed out) and one of a node nobody knows."""
    await served_by(node, "eu-ag", await booking(node, EUROPE, "c-eu-1", ago_s=60))
    await served_by(node, "as-ag", await booking(node, ASIA, "c-as-1"))
    await node.router.abandon(await booking(node, ASIA, "c-as-2"))
    await booking(node, EUROPE, "c-eu-2", ago_s=60)
    await booking(node, EUROPE, "c-eu-3")
    await booking(node, EUROPE, "c-eu-4")
    await booking(node, ASIA, "c-as-3")
    at = time.time()
    for dead, heir, agents in (("eu-9", "eu-1", []), ("as-9", "eu-1", ["as-ag"])):
        adoption = {"dead_node": dead, "heir": heir, "adopted": 2, "failed": 0, "agents": agents}
        await node.membership.record_adoption({**adoption, "at": at})
    unknown = {"dead_node": "zz-9", "heir": "zz-8", "adopted": 1, "failed": 1, "agents": []}
    await node.membership.record_adoption({**unknown, "at": at})


async def boards(node: Node) -> dict[str, dict[str, Any]]:
    async with http_session(node) as http:
        found = {}
        for user in ("sup", "sup-asia"):
            headers = await login(http, user, PASSWORD)
            response = await http.get("/api/v1/wallboard", headers=headers)
            assert response.status == 200
            found[user] = dict(await response.json())
    return found


def queue(board: dict[str, Any], name: str) -> dict[str, Any]:
    return next(q for q in board["queues"] if q["queue"] == name)


def alerts(board: dict[str, Any], *kinds: str) -> list[tuple[str, str]]:
    return sorted(
        (a["kind"], a.get("queue") or a.get("node") or a.get("region", ""))
        for a in board["alerts"]
        if a["kind"] in kinds
    )


async def test_a_region_scoped_supervisor_sees_their_regions_queue_figures(node: Node) -> None:
    await day_in_two_regions(node)
    board = (await boards(node))["sup-asia"]
    row = queue(board, "booking")
    assert row["waiting"] == 1 and row["waiting_by_region"] == {ASIA: 1}
    assert row["longest_wait_s"] < 20  # Europe's minute-long wait is not theirs
    today = row["today"]
    assert (today["offered"], today["answered"], today["abandoned"]) == (2, 1, 1)
    assert today["service_level"] == 1.0 and today["abandonment_rate"] == 0.5
    assert row["service_level"] == 1.0 and row["last_30_min"]["answered"] == 1
    assert today["service_level_with_abandons"] == 1.0  # its abandon was within 20 s
    assert row["serving_agents"] == 1  # as-ag (ready, in wrap-up); eu-ag is not theirs
    # the card agrees with the per-region row it is made of, and sees no other region
    (per_region,) = [r for r in board["by_region_and_queue"] if r["queue"] == "booking"]
    assert (per_region["region"], per_region["waiting"]) == (ASIA, 1)
    assert (per_region["closed"], per_region["answered"], per_region["abandoned"]) == (2, 1, 1)
    assert {r["region"] for r in board["by_region_and_queue"]} == {ASIA}
    assert [r["region"] for r in board["regions"]] == [ASIA]
    for name in ("baggage", "general", "emergency"):
        assert queue(board, name)["waiting"] == 0 and queue(board, name)["today"]["offered"] == 0


async def test_a_region_scoped_supervisor_gets_their_regions_alerts_only(node: Node) -> None:
    await day_in_two_regions(node)
    found = await boards(node)
    everyone, asia = found["sup"], found["sup-asia"]
    # Europe's late answer brings booking under target and its minute-long wait is over
    # booking's 20 s: alerts for the supervisor of every region, not for Asia's.
    assert ("service_level", "booking") in alerts(everyone, "service_level")
    assert alerts(everyone, "waiting_too_long") == [("waiting_too_long", "booking")]
    assert alerts(asia, "service_level", "waiting_too_long") == []
    assert alerts(everyone, "node_down") == [
        ("node_down", "as-9"),
        ("node_down", "eu-9"),
        ("node_down", "zz-9"),
    ]
    assert alerts(asia, "node_down") == [("node_down", "as-9")]


async def test_the_supervisor_of_every_region_keeps_the_whole_queue(node: Node) -> None:
    await day_in_two_regions(node)
    row = queue((await boards(node))["sup"], "booking")
    assert row["waiting"] == 4 and row["waiting_by_region"] == {EUROPE: 3, ASIA: 1}
    assert row["longest_wait_s"] >= 60
    assert row["today"]["answered"] == 2 and row["today"]["service_level"] == 0.5
    assert row["serving_agents"] == 2


async def test_a_region_scoped_supervisor_is_shown_the_wait_the_queue_announces(
    node: Node,
) -> None:
    """The EWT is the queue's, whatever the reader's regions: the wait its chosen method
    announces to a new caller (4 waiting, 2 agents serving booking), on the wallboard and
    in the queue API alike. It was once computed apart for a region's supervisor (their
    1 waiting x the handle time / their 1 agent), so the card and the customers differed."""
    await day_in_two_regions(node)
    found = await boards(node)
    everyone, asia = queue(found["sup"], "booking"), queue(found["sup-asia"], "booking")
    assert (asia["waiting"], asia["serving_agents"]) == (1, 1)  # still their regions'
    assert (everyone["waiting"], everyone["serving_agents"]) == (4, 2)
    assert asia["ewt_s"] is not None and asia["ewt_s"] == everyone["ewt_s"]
    async with http_session(node) as http:
        for user in ("sup", "sup-asia"):
            headers = await login(http, user, PASSWORD)
            response = await http.get("/api/v1/queues/booking", headers=headers)
            assert response.status == 200
            assert (await response.json())["ewt_s"] == everyone["ewt_s"], user
