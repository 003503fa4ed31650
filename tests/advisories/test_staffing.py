"""With an expected contact rate, the advisory says how many agents the queue needs for
its service-level target by Erlang C, against those signed in with its skill, and the
wallboard says how many more are needed until the advisory ends or enough sign in."""

from __future__ import annotations

import math

import pytest

from router.model import Presence
from router.stats import DEFAULT_AHT_S
from switchboard.node import Node
from tests.advisories.conftest import declare, later, staff
from tests.nodes import http_session


def erlang_c_agents(per_hour: float, handle_s: float, within_s: float, target: float) -> int:
    """Fewest agents whose service level, 1 - C(n, A) e^(-(n - A) t / AHT), meets the
    target, with C(n, A) the Erlang C probability of waiting, from its textbook sum."""
    load = per_hour * handle_s / 3600
    agents = math.floor(load) + 1
    while True:
        below = sum(load**k / math.factorial(k) for k in range(agents))
        top = load**agents / math.factorial(agents) * agents / (agents - load)
        waits = top / (below + top)
        if 1 - waits * math.exp(-(agents - load) * within_s / handle_s) >= target:
            return agents
        agents += 1


@pytest.mark.parametrize("per_hour", [120.0, 333.0])
async def test_agents_needed_are_erlang_c_against_those_signed_in(
    node: Node, per_hour: float
) -> None:
    await node.router.set_presence("ana", Presence.AVAILABLE)
    await node.router.set_presence("bob", Presence.NOT_READY)  # signed in, on a break
    await node.router.set_presence("sen", Presence.AVAILABLE)  # signed in, not booking's
    queue = node.router.queues["booking"]
    expected = erlang_c_agents(
        per_hour, DEFAULT_AHT_S, queue.answer_within_s, queue.service_level_target
    )
    starts = later(minutes=45)
    async with http_session(node) as http:
        headers = await staff(http, "sup")
        answer = await declare(http, headers, expected_contacts_per_hour=per_hour, starts_at=starts)
        board = await (await http.get("/api/v1/wallboard", headers=headers)).json()
        read = await (
            await http.get(f"/api/v1/advisories/{answer['advisory_id']}", headers=headers)
        ).json()
        await http.delete(f"/api/v1/advisories/{answer['advisory_id']}", headers=headers)
        after = await (await http.get("/api/v1/wallboard", headers=headers)).json()
    staffing = answer["staffing"]
    assert expected > 2
    assert staffing["agents_needed"] == expected
    assert staffing["agents_signed_in"] == 2
    assert staffing["agents_to_move"] == expected - 2
    assert staffing["by"] == read["starts_at"]
    assert read["staffing"]["average_handle_time_s"] == DEFAULT_AHT_S  # no handled contacts yet
    (alert,) = [a for a in board["alerts"] if a["kind"] == "advisory_staffing"]
    assert alert["queue"] == "booking" and alert["advisory_id"] == answer["advisory_id"]
    assert f"{expected - 2} more agents needed by {read['starts_at']}" in alert["message"]
    assert not [a for a in after["alerts"] if a["kind"] == "advisory_staffing"]  # ended


async def test_no_rate_no_staffing_and_no_alert(node: Node) -> None:
    async with http_session(node) as http:
        headers = await staff(http, "sup")
        answer = await declare(http, headers)
        board = await (await http.get("/api/v1/wallboard", headers=headers)).json()
    assert answer["staffing"] is None
    assert not [a for a in board["alerts"] if a["kind"] == "advisory_staffing"]


async def test_another_queues_supervisor_sees_no_alert(node: Node) -> None:
    async with http_session(node) as http:
        await declare(http, await staff(http, "sup"), expected_contacts_per_hour=500)
        board = await (
            await http.get("/api/v1/wallboard", headers=await staff(http, "sup2"))
        ).json()
    assert not [a for a in board["alerts"] if a["kind"] == "advisory_staffing"]


async def test_one_agent_short_reads_agent_in_the_singular(node: Node) -> None:
    """Nobody signed in and a rate one agent handles: "1 more agent needed"."""
    async with http_session(node) as http:
        headers = await staff(http, "sup")
        answer = await declare(http, headers, expected_contacts_per_hour=1.0)
        board = await (await http.get("/api/v1/wallboard", headers=headers)).json()
    assert answer["staffing"]["agents_to_move"] == 1, answer
    (alert,) = [a for a in board["alerts"] if a["kind"] == "advisory_staffing"]
    assert "booking: 1 more agent needed by " in alert["message"], alert
    assert "(1 contacts/h expected: 1 needed, 0 signed in)" in alert["message"], alert
