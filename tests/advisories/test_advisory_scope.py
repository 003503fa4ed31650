"""An advisory reaches as far as its declarer's scope: a supervisor of booking in Tokyo
boosts booking's contacts in Tokyo only and counts Tokyo's agents only; an admin's, or a
supervisor's of booking in every region, covers every region. Each says which regions.
And advisories that could reach nobody, or say nothing, or give a number as text, are
refused naming the field. Over HTTP, on a real node and Redis, with two regions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from router.model import Agent, Presence, Role
from switchboard.node import Node
from tests.advisories.conftest import SECRET, Gateway, body, declare, outbox_events, staff
from tests.cases.conftest import PASSWORD, started, webhook_config
from tests.nodes import http_session

TOKYO = """
[[regions]]
name = "tokyo"
timezone = "Asia/Tokyo"
open = "09:00"
close = "18:00"
holidays = "JP"
"""


@pytest.fixture
async def two_regions(
    redis_url: str, tmp_path: Path, gateway: tuple[Gateway, str]
) -> AsyncIterator[Node]:
    """The advisories' node (region paris: agents ana and bob of booking) with a second
    region, tokyo (agent kei of booking), and supervisors of booking scoped to each."""
    settings = 'events = ["customer.advisory"]\nbackoff = "0.2s"\ntimeout = "5s"\n' + TOKYO
    config = webhook_config(tmp_path, "sms", gateway[1], SECRET, settings)
    async with started(redis_url, config) as node:
        await node.store.upsert_agent(Agent("kei", "tokyo", {"booking": 4}, ["en"]))
        for user, region in (("sup-tokyo", "tokyo"), ("sup-paris", "paris")):
            await node.sessions.save_user(
                user, Role.SUPERVISOR, PASSWORD, queues=("booking",), regions=(region,)
            )
        yield node


async def chat_in(
    http: aiohttp.ClientSession, admin: dict[str, str], customer: str, region: str
) -> dict[str, Any]:
    """A back office (the admin) starts a booking chat of `customer` waiting in `region`;
    the contact as staff read it."""
    response = await http.post(
        "/api/v1/contacts",
        json={
            "channel": "chat",
            "queue": "booking",
            "language": "en",
            "customer": {"id": customer},
            "region": region,
        },
        headers=admin,
    )
    assert response.status == 201, await response.text()
    created = await response.json()
    read = await http.get(f"/api/v1/contacts/{created['contact_id']}", headers=admin)
    contact = dict(await read.json())
    assert contact["region"] == region  # nobody is ready anywhere: it waits where asked
    return contact


async def test_a_region_scoped_supervisors_advisory_boosts_only_their_region(
    two_regions: Node,
) -> None:
    async with http_session(two_regions) as http:
        admin = await staff(http, "adm")
        tokyo = await staff(http, "sup-tokyo")
        answer = await declare(http, tokyo, customers=["FF-1001"], title="Typhoon at PVG")
        advisory_id = answer["advisory_id"]
        in_paris = await chat_in(http, admin, "FF-1001", "paris")
        in_tokyo = await chat_in(http, admin, "FF-1001", "tokyo")
        read = await (await http.get(f"/api/v1/advisories/{advisory_id}", headers=tokyo)).json()
    assert in_paris["priority"] == 0  # as without the advisory: not Tokyo's to boost
    assert not any("advisory" in line for line in in_paris["explanation"])
    assert in_tokyo["priority"] == 2
    assert in_tokyo["explanation"][0] == f"advisory {advisory_id}: Typhoon at PVG"
    assert read["contacts"] == 1
    assert answer["regions"] == read["regions"] == ["tokyo"]


@pytest.mark.parametrize("user", ["adm", "sup"])
async def test_an_admins_or_queue_only_supervisors_advisory_covers_every_region(
    two_regions: Node, user: str
) -> None:
    async with http_session(two_regions) as http:
        admin = await staff(http, "adm")
        answer = await declare(http, await staff(http, user), customers=["FF-1002"])
        boosted = [await chat_in(http, admin, "FF-1002", r) for r in ("paris", "tokyo")]
    assert answer["regions"] is None  # every region
    assert [contact["priority"] for contact in boosted] == [2, 2]


async def test_reading_and_ending_an_advisory_take_the_scope_declaring_it_takes(
    two_regions: Node,
) -> None:
    """Tokyo's supervisor may not end (nor read) an advisory of every region, which goes
    on boosting Paris's contacts; Paris's may not touch Tokyo's. Each reads and ends their
    own, and a supervisor of booking in every region (or an admin) any of booking's."""
    async with http_session(two_regions) as http:
        admin = await staff(http, "adm")
        everywhere, tokyo = await staff(http, "sup"), await staff(http, "sup-tokyo")
        paris = await staff(http, "sup-paris")
        wide = await declare(http, everywhere, customers=["FF-EU1"], title="Snow at CDG")
        theirs = await declare(http, tokyo, customers=["FF-T1"], title="Typhoon at PVG")
        wide_url = f"/api/v1/advisories/{wide['advisory_id']}"
        tokyo_url = f"/api/v1/advisories/{theirs['advisory_id']}"

        refused = await http.delete(wide_url, headers=tokyo)
        assert refused.status == 403, await refused.text()
        assert (await http.get(wide_url, headers=tokyo)).status == 403
        for method in ("GET", "DELETE"):
            assert (await http.request(method, tokyo_url, headers=paris)).status == 403
        listed = await (await http.get("/api/v1/advisories", headers=tokyo)).json()
        assert [a["advisory_id"] for a in listed["advisories"]] == [theirs["advisory_id"]]
        assert (await http.get("/api/v1/advisories", headers=paris)).status == 200

        # Still in effect: a contact of its customer in Paris is boosted.
        in_paris = await chat_in(http, admin, "FF-EU1", "paris")
        assert in_paris["priority"] == 2
        read = await (await http.get(wide_url, headers=everywhere)).json()
        assert read["state"] == "live" and read["contacts"] == 1

        ended = await http.delete(tokyo_url, headers=tokyo)
        assert ended.status == 200 and (await ended.json())["state"] == "ended"
        ended = await http.delete(wide_url, headers=everywhere)
        assert ended.status == 200 and (await ended.json())["state"] == "ended"
        later = await chat_in(http, admin, "FF-EU1", "paris")
    assert later["priority"] == 0


async def test_staffing_counts_the_agents_of_the_advisorys_regions(two_regions: Node) -> None:
    """ana and bob (paris) and kei (tokyo) are signed in with booking's skill: Tokyo's
    supervisor can move kei only; the wallboard's alert is Tokyo's, not Paris's."""
    for agent in ("ana", "bob", "kei"):
        await two_regions.router.set_presence(agent, Presence.NOT_READY)
    async with http_session(two_regions) as http:
        tokyo, paris = await staff(http, "sup-tokyo"), await staff(http, "sup-paris")
        everywhere = await staff(http, "sup")
        theirs = await declare(http, tokyo, customers=["FF-1"], expected_contacts_per_hour=120)
        ours = await declare(http, everywhere, customers=["FF-2"], expected_contacts_per_hour=120)
        boards = {
            name: await (await http.get("/api/v1/wallboard", headers=headers)).json()
            for name, headers in (("tokyo", tokyo), ("paris", paris), ("all", everywhere))
        }
    staffing = theirs["staffing"]
    assert staffing["agents_signed_in"] == 1
    assert staffing["agents_to_move"] == staffing["agents_needed"] - 1 > 0
    assert ours["staffing"]["agents_signed_in"] == 3

    def alerts(board: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {a["advisory_id"]: a for a in board["alerts"] if a["kind"] == "advisory_staffing"}

    shown = {name: alerts(board) for name, board in boards.items()}
    tokyos = shown["tokyo"][theirs["advisory_id"]]
    assert tokyos["regions"] == ["tokyo"] and tokyos["message"].startswith("booking (tokyo): ")
    assert f"{staffing['agents_needed'] - 1} more agents needed" in tokyos["message"]
    assert "1 signed in" in tokyos["message"]
    assert set(shown["paris"]) == {ours["advisory_id"]}  # Tokyo's agents are not theirs
    assert set(shown["tokyo"]) == set(shown["all"]) == {theirs["advisory_id"], ours["advisory_id"]}


BAD: list[tuple[str, Any, str]] = [
    ("customers", ["anon-abc"], "$.customers"),
    ("customers", ["anon-abc", "anon-def"], "$.customers"),
    ("title", "   ", "$.title"),
    ("title", "\t\n", "$.title"),
    ("messages", {"en": "  "}, "$.messages.en"),
    ("expected_contacts_per_hour", "120", "$.expected_contacts_per_hour"),
    ("expected_contacts_per_hour", True, "$.expected_contacts_per_hour"),
    ("priority_boost", "3", "$.priority_boost"),
]


@pytest.mark.parametrize("name,value,field", BAD, ids=[f"{n}={v!r}" for n, v, _ in BAD])
async def test_advisories_that_reach_nobody_or_say_nothing_are_refused(
    node: Node, name: str, value: Any, field: str
) -> None:
    async with http_session(node) as http:
        headers = await staff(http, "adm")
        response = await http.post(
            "/api/v1/advisories", json=body(**{name: value}), headers=headers
        )
        answer = await response.json()
        listed = await (await http.get("/api/v1/advisories", headers=headers)).json()
    assert response.status == 400, answer
    assert answer["field"] == field, answer
    assert listed == {"advisories": []}
    assert await outbox_events(node) == []


async def test_numbers_as_json_numbers_and_anonymous_ids_among_others_still_do(node: Node) -> None:
    async with http_session(node) as http:
        answer = await declare(
            http,
            await staff(http, "adm"),
            customers=["anon-abc", "c-es"],
            expected_contacts_per_hour=120,  # an integer is a number too
            priority_boost=3,
        )
    assert answer["warned"] == 1 and answer["staffing"]["expected_contacts_per_hour"] == 120
