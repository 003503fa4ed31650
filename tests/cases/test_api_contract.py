"""What an integrator relies on, against a real node on Redis: the case list walked page
by page, query strings and bodies held to one strict rule (a typo, "5" for 5, "yes" for
true or a subject of spaces is a 400 naming the field, and nothing changes), an unknown
owner named as the field at fault, and a login that says when its token ends."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import BaseModel

import router.cases.service as case_service
from router.access import Principal
from router.cases.service import CaseRequest
from router.model import Presence, Role
from router.sessions import SessionPolicy
from router.store import now_ms
from switchboard.http.api import API
from switchboard.node import Node
from tests.cases.conftest import case_config, staff, started
from tests.nodes import TEST_AUTH, http_session, new_chat

ADMIN = Principal("adm", Role.ADMIN)
EXPIRED = "token expired or signed out: sign in again"


async def seed_cases(node: Node, queues: list[str], *, at_ms: int | None = None) -> list[str]:
    """One case per queue given, for customers cust-0, cust-1...; their ids, in order."""
    ids = []
    for number, queue in enumerate(queues):
        request = CaseRequest(f"cust-{number}", f"case {number}", queue)
        ids.append((await node.cases.create(ADMIN, request, at_ms=at_ms)).case_id)
    return ids


async def walk(
    http: aiohttp.ClientSession, headers: dict[str, str], **params: Any
) -> tuple[list[str], list[dict[str, Any]]]:
    """Every case the list answers, following `next` page after page; (ids, pages)."""
    ids: list[str] = []
    pages: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(100):
        query = {**params, **({"before": cursor} if cursor else {})}
        response = await http.get("/api/v1/cases", params=query, headers=headers)
        assert response.status == 200, await response.text()
        page = await response.json()
        pages.append(page)
        ids += [case["case_id"] for case in page["cases"]]
        cursor = page.get("next")
        if not page["truncated"]:
            assert cursor is None
            return ids, pages
        assert cursor, page
    raise AssertionError("the walk did not end")


async def bad_request(response: aiohttp.ClientResponse) -> dict[str, Any]:
    assert response.status == 400, await response.text()
    return dict(await response.json())


# -- 1. the case list: pages, and queries that say what they mean -----------------------------


async def test_an_integrator_walks_every_case_page_by_page_newest_first(case_node: Node) -> None:
    # Four cases in one millisecond (ids break the tie), then five more a second apart
    # (a minute ago: no SLA timer is due, so none moves).
    start = now_ms() - 60_000
    tied = await seed_cases(case_node, ["booking"] * 4, at_ms=start)
    later = [
        (await seed_cases(case_node, [queue], at_ms=start + 1000 + 1000 * n))[0]
        for n, queue in enumerate(["booking", "general", "booking", "general", "booking"])
    ]
    async with http_session(case_node) as http:
        admin, supervisor = await staff(http, "adm"), await staff(http, "sup")
        everything = (await (await http.get("/api/v1/cases", headers=admin)).json())["cases"]
        assert everything and len(everything) == 9
        newest_first = [case["case_id"] for case in everything]
        assert newest_first[:5] == later[::-1]
        assert sorted(newest_first[5:]) == sorted(tied)

        ids, pages = await walk(http, admin, limit=2)
        assert ids == newest_first  # every case once, in the same order
        assert [len(page["cases"]) for page in pages] == [2, 2, 2, 2, 1]
        assert all(page["truncated"] for page in pages[:-1]) and not pages[-1]["truncated"]

        # A supervisor of booking walks booking's only; filters hold across pages.
        ids, _ = await walk(http, supervisor, limit=2)
        assert ids == [i for i in newest_first if i not in (later[1], later[3])]
        ids, _ = await walk(http, admin, limit=1, queue="general")
        assert ids == [later[3], later[1]]

        # A page that holds them all says nothing is left out.
        whole = await (await http.get("/api/v1/cases?limit=9", headers=admin)).json()
        assert len(whole["cases"]) == 9 and whole["truncated"] is False
        assert whole["next"] is None


async def test_a_filter_reads_a_bounded_number_of_cases_and_the_cursor_goes_on_from_there(
    case_node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(case_service, "LIST_SCAN", 3)  # cases one request reads, at most
    queues = ["general"] + ["booking"] * 7 + ["general"]
    start = now_ms() - 60_000
    seeded = [
        (await seed_cases(case_node, [queue], at_ms=start + 1000 * n))[0]
        for n, queue in enumerate(queues)
    ]
    async with http_session(case_node) as http:
        other = await staff(http, "sup2")  # general's supervisor
        ids, pages = await walk(http, other, limit=10)
        assert ids == [seeded[8], seeded[0]]  # reached past seven of booking's
        assert len(pages) == 3 and [len(p["cases"]) for p in pages] == [1, 0, 1]
        # A cursor the scan stopped at names no case the caller may not read.
        visible = set(ids)
        for page in pages[:-1]:
            named = page["next"].partition(".")[2]
            assert not named or named in visible, page["next"]


async def test_the_case_list_refuses_a_mistyped_key_and_an_unknown_queue(case_node: Node) -> None:
    await seed_cases(case_node, ["booking", "general"])
    async with http_session(case_node) as http:
        admin = await staff(http, "adm")
        typo = await bad_request(await http.get("/api/v1/cases?stauts=closed", headers=admin))
        assert typo["field"] == "query.stauts" and "no such field" in typo["expected"]
        queue = await bad_request(await http.get("/api/v1/cases?queue=nosuch", headers=admin))
        assert queue["field"] == "query.queue" and queue["found"] == "nosuch"
        assert queue["expected"] == "one of booking, general, senior"
        region = await bad_request(await http.get("/api/v1/cases?region=mars", headers=admin))
        assert region["field"] == "query.region"
        cursor = await bad_request(await http.get("/api/v1/cases?before=yesterday", headers=admin))
        assert cursor["field"] == "query.before"
        report = await bad_request(
            await http.get("/api/v1/reports/sla?from=2026-12-06&by=queue", headers=admin)
        )
        assert report["field"] == "query.by"
        # A token in the query of a route that is no stream is no credential (it would
        # stay in browser history and proxies' logs): 401, not an unknown key.
        token = admin["Authorization"].removeprefix("Bearer ")
        listed = await http.get("/api/v1/cases", params={"token": token, "status": "open"})
        assert listed.status == 401


async def test_the_openapi_document_shows_the_cursor_and_refuses_other_keys(
    case_node: Node,
) -> None:
    async with http_session(case_node) as http:
        document = await (await http.get("/api/v1/openapi.json")).json()
    listing = document["paths"]["/api/v1/cases"]["get"]
    names = {p["name"] for p in listing["parameters"] if p["in"] == "query"}
    assert {"before", "limit", "status", "queue"} <= names and "token" not in names
    assert document["components"]["schemas"]["CaseQuery"]["additionalProperties"] is False


# -- 2. bodies: strict JSON types, no text of spaces alone -----------------------------------


def _lax_scalars(schema: Any, where: str) -> list[str]:
    """Places in a core schema where an int, float or bool would take a string."""
    found = []
    if isinstance(schema, dict):
        if schema.get("type") in ("int", "bool", "float") and not schema.get("strict"):
            found.append(f"{where}:{schema['type']}")
        for value in schema.values():
            found += _lax_scalars(value, where)
    elif isinstance(schema, list):
        for value in schema:
            found += _lax_scalars(value, where)
    return found


def test_every_request_body_takes_numbers_and_yes_or_no_as_json_writes_them() -> None:
    bodies: set[type[BaseModel]] = {op.body for op in API.operations if op.body is not None}
    assert len(bodies) > 15
    lax = [
        place
        for model in sorted(bodies, key=lambda m: m.__name__)
        for place in _lax_scalars(model.__pydantic_core_schema__, model.__name__)
    ]
    assert lax == []


async def test_a_string_score_is_refused_and_the_contact_stays_unrated(case_node: Node) -> None:
    async with http_session(case_node) as http:
        ana = await staff(http, "ana")
        await case_node.router.set_presence("ana", Presence.AVAILABLE)
        chat = await new_chat(http)
        url = f"/api/v1/contacts/{chat['contact_id']}"
        customer = {"X-Customer-Token": chat["customer_token"]}
        assert (await http.post(f"{url}/accept", headers=ana)).status == 200
        assert (await http.post(f"{url}/complete", headers=ana)).status == 200
        for score in ("5", 5.0, True):
            refused = await bad_request(
                await http.post(f"{url}/rating", json={"score": score}, headers=customer)
            )
            assert refused["field"] == "$.score"
        rated = await http.post(f"{url}/rating", json={"score": 5}, headers=customer)
        assert rated.status == 201, await rated.text()  # not "already rated": none was kept


async def test_yes_does_not_close_a_case_and_spaces_do_not_blank_its_subject(
    case_node: Node,
) -> None:
    async with http_session(case_node) as http:
        admin = await staff(http, "adm")
        chat = await new_chat(http)
        opened = await http.post(
            "/api/v1/cases",
            json={"subject": "Lost bag", "contact_id": chat["contact_id"]},
            headers=admin,
        )
        case = await opened.json()
        url = f"/api/v1/cases/{case['case_id']}"
        await http.patch(url, json={"status": "solved"}, headers=admin)
        confirm = f"/api/v1/contacts/{chat['contact_id']}/case/confirm"
        customer = {"X-Customer-Token": chat["customer_token"]}
        for answer in ("yes", 1, "true"):
            refused = await bad_request(
                await http.post(confirm, json={"solved": answer}, headers=customer)
            )
            assert refused["field"] == "$.solved"
        for body, field in (
            ({"subject": "  "}, "$.subject"),
            ({"subject": "\t\n"}, "$.subject"),
            ({"subject": "a\u0000b"}, "$.subject"),  # a NUL, which chat messages refuse
            ({"subject": "\u200b\u2800"}, "$.subject"),  # invisible: nothing to read
            ({"priority": "3"}, "$.priority"),
        ):
            assert (await bad_request(await http.patch(url, json=body, headers=admin)))[
                "field"
            ] == field
        for text in ("   ", "nul\u0000char", "\u200b\u200b"):
            note = await http.post(f"{url}/notes", json={"text": text}, headers=admin)
            assert (await bad_request(note))["field"] == "$.text"
        kept = await (await http.get(url, headers=admin)).json()
        assert kept["status"] == "solved" and kept["subject"] == "Lost bag"
        assert kept["priority"] == 0 and kept["notes"] == []
        blank = await http.post(
            f"/api/v1/contacts/{chat['contact_id']}/messages",
            json={"text": "  \n "},
            headers=customer,
        )
        assert (await bad_request(blank))["field"] == "$.text"
        # JSON's own forms still pass: an enum's value, true.
        assert (await http.post(confirm, json={"solved": True}, headers=customer)).status == 200


# -- 3. an unknown owner is a field at fault, not a missing case -----------------------------


async def test_an_unknown_owner_is_a_400_naming_the_owner_and_changes_nothing(
    case_node: Node,
) -> None:
    async with http_session(case_node) as http:
        admin = await staff(http, "adm")
        new = {"subject": "x", "customer": {"id": "FF-9"}, "queue": "booking", "owner": "nobody"}
        refused = await bad_request(await http.post("/api/v1/cases", json=new, headers=admin))
        assert refused["field"] == "$.owner" and refused["found"] == "nobody"
        assert "agent" in refused["expected"]
        assert not await case_node.cases.store.customer_case_ids("FF-9")
        opened = await http.post("/api/v1/cases", json={**new, "owner": "ana"}, headers=admin)
        case = await opened.json()
        url = f"/api/v1/cases/{case['case_id']}"
        changed = await bad_request(await http.patch(url, json={"owner": "nobody"}, headers=admin))
        assert changed["field"] == "$.owner" and changed["error"] == "bad_request"
        assert (await (await http.get(url, headers=admin)).json())["owner"] == "ana"
        # A case that does not exist is still 404.
        gone = await http.patch("/api/v1/cases/abc123", json={"owner": "nobody"}, headers=admin)
        assert gone.status == 404


# -- 4. a login says when its token ends; an ended token says so ---------------------------


async def test_a_login_says_when_its_token_ends_and_an_ended_token_says_sign_in_again(
    redis_url: str, tmp_path: Path
) -> None:
    policy = SessionPolicy(
        token_ttl_s=1.5, scrypt_log2_n=TEST_AUTH.scrypt_log2_n, expiry_check_s=3600
    )
    config = case_config(tmp_path)
    async with started(redis_url, config, auth=policy) as node, http_session(node) as http:
        before = dt.datetime.now(dt.UTC)
        answer = await http.post(
            "/api/v1/agents/login", json={"agent_id": "sup", "password": "a-long-password"}
        )
        body = await answer.json()
        ends = dt.datetime.fromisoformat(body["expires_at"])
        assert ends.utcoffset() == dt.timedelta(0)
        assert before + dt.timedelta(seconds=1.4) < ends
        assert ends < dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1.6)
        token = {"Authorization": f"Bearer {body['token']}"}
        assert (await http.get("/api/v1/cases", headers=token)).status == 200

        signed_out = await staff(http, "adm")
        assert (await http.post("/api/v1/agents/logout", headers=signed_out)).status == 200
        chat = await new_chat(http)
        contact = f"/api/v1/contacts/{chat['contact_id']}"
        await asyncio.sleep(max(0.0, ends.timestamp() - time.time()) + 0.2)
        for headers in (token, signed_out, {"Authorization": "Bearer never-issued-1"}):
            for path in ("/api/v1/cases", contact):
                refused = await http.get(path, headers=headers)
                assert refused.status == 401
                assert (await refused.json())["message"] == EXPIRED
        # Without a token at all, the answer says one is needed, not that one ended.
        bare = await (await http.get("/api/v1/cases")).json()
        assert bare["message"] != EXPIRED and "bearer token" in bare["message"]


async def test_use_does_not_carry_a_token_past_its_absolute_end(
    redis_url: str, tmp_path: Path
) -> None:
    policy = SessionPolicy(
        token_ttl_s=1.5,
        idle_timeout_s=1.0,
        scrypt_log2_n=TEST_AUTH.scrypt_log2_n,
        expiry_check_s=3600,
    )
    config = case_config(tmp_path)
    async with started(redis_url, config, auth=policy) as node, http_session(node) as http:
        token = await staff(http, "adm")
        statuses = []
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:  # used every 0.25 s: never idle for 1 s
            statuses.append((await http.get("/api/v1/cases", headers=token)).status)
            await asyncio.sleep(0.25)
        assert statuses[0] == 200 and statuses[-1] == 401, statuses
        assert statuses.count(200) <= 7, statuses  # ended by 1.5 s, not later
