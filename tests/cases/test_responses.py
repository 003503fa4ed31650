"""What counts as a response for a case's SLA timers, on the real node and Redis with a
clock the test drives: a chat's first response is its agent's first message (accepting it
is not), whichever way the case meets the chat (opened from it, by a rule, linked); a
response timer that solving or closing ends is no response (`cancelled`, or `breached`
when its target had passed) and stays out of the response times and the attainment; and
the SLA report over HTTP takes the dates `switchboard report` takes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from router.model import Presence
from switchboard.node import Node
from tests.cases.conftest import Clock, case_config, paris_ms, staff, started
from tests.nodes import http_session, new_chat

MONDAY_10 = paris_ms(2025, 3, 3, 10)
FOUR_HOURS_MS = 4 * 3_600_000  # the standard policy's first response target


def timer(case: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((t for t in case["timers"] if t["kind"] == kind), None)


async def case_of(
    http: aiohttp.ClientSession, case_id: str, headers: dict[str, str]
) -> dict[str, Any]:
    response = await http.get(f"/api/v1/cases/{case_id}", headers=headers)
    assert response.status == 200, await response.text()
    return dict(await response.json())


async def timer_records(node: Node, case_id: str) -> list[dict[str, str]]:
    """The report records of the case's ended timers, as stored."""
    return [
        r
        for r in await node.cases.store.records_since(0)
        if r.get("kind") == "timer" and r.get("case_id") == case_id
    ]


async def accepted_chat(
    node: Node,
    http: aiohttp.ClientSession,
    agent: dict[str, str],
    customer: str = "c-1",
    vouched_by: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A booking chat offered to ana and accepted by her (nothing written yet); of
    `customer` when staff who may vouch for customers start it (`vouched_by`), otherwise
    anonymous. Staff link to a case only contacts of the case's customer."""
    await node.router.set_presence("ana", Presence.AVAILABLE)
    if vouched_by is None:
        chat = await new_chat(http, customer=customer)
    else:
        body = {"channel": "chat", "queue": "booking", "language": "en"}
        started = await http.post(
            "/api/v1/contacts", json={**body, "customer": {"id": customer}}, headers=vouched_by
        )
        assert started.status == 201, await started.text()
        chat = dict(await started.json())
    assert chat["agent_id"] == "ana", chat
    accepted = await http.post(f"/api/v1/contacts/{chat['contact_id']}/accept", headers=agent)
    assert accepted.status == 200, await accepted.text()
    return chat


async def say(
    http: aiohttp.ClientSession, chat: dict[str, Any], text: str, headers: dict[str, str]
) -> None:
    sent = await http.post(
        f"/api/v1/contacts/{chat['contact_id']}/messages", json={"text": text}, headers=headers
    )
    assert sent.status == 201, await sent.text()


async def test_a_case_opened_on_an_accepted_chat_times_the_first_response_to_the_first_message(
    case_node: Node,
) -> None:
    """Accepting a chat is not answering it: the case ana opens on the chat she has just
    accepted waits for her first message, which meets the first response 5 minutes on."""
    clock = Clock(MONDAY_10)
    case_node.cases.clock = clock
    async with http_session(case_node) as http:
        ana, admin = await staff(http, "ana"), await staff(http, "adm")
        chat = await accepted_chat(case_node, http, ana)
        opened = await http.post(
            f"/api/v1/contacts/{chat['contact_id']}/case",
            json={"subject": "Change flight CA981"},
            headers=ana,
        )
        assert opened.status == 201, await opened.text()
        case = await opened.json()
        first = timer(case, "first_response")
        assert first is not None and first["state"] == "running", case["timers"]
        assert first["due_at"] == "2025-03-03T13:00:00+00:00"  # 14:00 Paris

        clock.set(MONDAY_10 + 300_000)
        await say(http, chat, "Hello, let me look at your booking.", ana)
        answered = timer(await case_of(http, case["case_id"], admin), "first_response")
        assert answered is not None
        assert (answered["state"], answered["outcome"], answered["spent_s"]) == (
            "stopped",
            "met",
            300,
        )
    (record,) = await timer_records(case_node, case["case_id"])
    assert (record["timer"], record["outcome"], record["wall_s"]) == (
        "first_response",
        "met",
        "300.000",
    )
    assert "responded" not in record


async def test_an_accepted_chat_nobody_writes_in_breaches_its_first_response(
    case_node: Node,
) -> None:
    clock = Clock(MONDAY_10)
    case_node.cases.clock = clock
    async with http_session(case_node) as http:
        ana, admin = await staff(http, "ana"), await staff(http, "adm")
        chat = await accepted_chat(case_node, http, ana)
        opened = await http.post(
            "/api/v1/cases",
            json={"subject": "Refund", "contact_id": chat["contact_id"]},
            headers=admin,
        )
        case = await opened.json()
        assert case["owner"] == "ana"  # the agent holding the chat, as before
        clock.set(paris_ms(2025, 3, 3, 14, 1))
        await case_node.cases.tick()
        late = timer(await case_of(http, case["case_id"], admin), "first_response")
    assert late is not None and late["breached_at"] == "2025-03-03T13:00:00+00:00"
    actions = [h.action for h in await case_node.cases.store.history(case["case_id"])]
    assert actions.count("sla_breached") == 1


async def test_linking_or_opening_on_a_chat_answers_the_case_only_once_the_agent_wrote(
    case_node: Node,
) -> None:
    """A case opened by the API for the customer, then linked by staff to chats: one ana
    accepted but has not written in leaves its first response running; one she wrote in
    meets it. A case opened on a chat she has written in has no first response to wait
    for."""
    clock = Clock(MONDAY_10)
    case_node.cases.clock = clock
    async with http_session(case_node) as http:
        ana, admin = await staff(http, "ana"), await staff(http, "adm")
        # The customer's chats came before the case (later ones would join it at once).
        silent = await accepted_chat(case_node, http, ana, customer="c-40", vouched_by=admin)
        spoken = await accepted_chat(case_node, http, ana, customer="c-40", vouched_by=admin)
        await say(http, spoken, "I am on it.", ana)
        opened = await http.post(
            "/api/v1/cases",
            json={"subject": "Refund", "customer": {"id": "c-40"}, "queue": "booking"},
            headers=admin,
        )
        case_id = (await opened.json())["case_id"]
        link = f"/api/v1/cases/{case_id}/contacts"
        linked = await http.post(link, json={"contact_id": silent["contact_id"]}, headers=admin)
        assert linked.status in (200, 201), await linked.text()
        first = timer(await linked.json(), "first_response")
        assert first is not None and first["state"] == "running"

        clock.set(MONDAY_10 + 120_000)
        linked = await http.post(link, json={"contact_id": spoken["contact_id"]}, headers=admin)
        first = timer(await linked.json(), "first_response")
        assert first is not None and (first["state"], first["outcome"]) == ("stopped", "met")

        # A case opened on a chat its agent has written in has had its first response.
        await case_node.router.set_presence("ana", Presence.AVAILABLE)
        written = await accepted_chat(case_node, http, ana, customer="c-43")
        await say(http, written, "Hello, how can I help?", ana)
        opened = await http.post(
            f"/api/v1/contacts/{written['contact_id']}/case", json={"subject": "Seat"}, headers=ana
        )
        case = await opened.json()
        assert timer(case, "first_response") is None and timer(case, "resolution") is not None


async def test_solving_a_case_nobody_answered_is_no_response(case_node: Node) -> None:
    """Solved 4 s after opening, nobody having answered: the first response is cancelled,
    not met in 4 s; the report counts no first response and leaves it out of the
    attainment."""
    clock = Clock(MONDAY_10)
    case_node.cases.clock = clock
    async with http_session(case_node) as http:
        supervisor, admin = await staff(http, "sup"), await staff(http, "adm")
        opened = await http.post(
            "/api/v1/cases",
            json={"subject": "Seat upgrade", "customer": {"id": "FF-7001"}, "queue": "booking"},
            headers=supervisor,
        )
        case_id = (await opened.json())["case_id"]
        clock.set(MONDAY_10 + 4_000)
        solved = await http.patch(
            f"/api/v1/cases/{case_id}", json={"status": "solved"}, headers=supervisor
        )
        first = timer(await solved.json(), "first_response")
        assert first is not None and (first["state"], first["outcome"]) == ("stopped", "cancelled")
        report = await (
            await http.get(
                "/api/v1/reports/sla", params={"from": "2025-03-01T00:00:00Z"}, headers=admin
            )
        ).json()
    (record,) = await timer_records(case_node, case_id)
    assert (record["timer"], record["outcome"], record["responded"]) == (
        "first_response",
        "cancelled",
        "0",
    )
    (booking,) = report["queues"]
    assert booking["first_responses"] == 0 and booking["frt_mean_s"] is None
    (standard,) = report["policies"]
    assert standard["cancelled"] == 1 and standard["met"] == 0
    assert standard["first_response_attainment"] is None and standard["attainment"] is None


async def test_a_case_solved_before_any_answer_owes_a_first_response_when_the_customer_is_back(
    case_node: Node,
) -> None:
    """Solved before anyone answered (its first response cancelled), the case is reopened
    by its customer's new chat an hour later: it owes a first response again, timed from
    their return. Solved again unanswered, their next message on that chat reopens it
    with a new first response, which ana's first message meets 2 minutes on."""
    clock = Clock(MONDAY_10)
    case_node.cases.clock = clock
    async with http_session(case_node) as http:
        supervisor, ana, admin = (
            await staff(http, "sup"),
            await staff(http, "ana"),
            await staff(http, "adm"),
        )
        opened = await http.post(
            "/api/v1/cases",
            json={"subject": "Refund", "customer": {"id": "FF-8001"}, "queue": "booking"},
            headers=supervisor,
        )
        case_id = (await opened.json())["case_id"]
        url = f"/api/v1/cases/{case_id}"
        clock.set(MONDAY_10 + 4_000)
        await http.patch(url, json={"status": "solved"}, headers=supervisor)

        clock.set(paris_ms(2025, 3, 3, 11))  # a new chat of the customer's: reopened
        created = await http.post(
            "/api/v1/contacts",
            json={
                "channel": "chat",
                "queue": "booking",
                "language": "en",
                "customer": {"id": "FF-8001"},
            },
            headers=admin,
        )
        assert created.status == 201, await created.text()
        chat = await created.json()
        case = await case_of(http, case_id, admin)
        assert case["status"] == "open" and chat["contact_id"] in case["contacts"]
        first = timer(case, "first_response")
        assert first is not None, case["timers"]
        assert (first["state"], first["started_at"], first["due_at"]) == (
            "running",
            "2025-03-03T10:00:00+00:00",  # 11:00 Paris
            "2025-03-03T14:00:00+00:00",
        )

        clock.set(paris_ms(2025, 3, 3, 11, 1))
        await http.patch(url, json={"status": "solved"}, headers=supervisor)
        clock.set(paris_ms(2025, 3, 3, 11, 30))  # the customer writes: reopened
        await say(
            http, chat, "It is still not refunded.", {"X-Customer-Token": chat["customer_token"]}
        )
        case = await case_of(http, case_id, admin)
        first = timer(case, "first_response")
        assert case["status"] == "open" and first is not None
        assert (first["state"], first["started_at"]) == ("running", "2025-03-03T10:30:00+00:00")

        await case_node.router.set_presence("ana", Presence.AVAILABLE)
        accepted = await http.post(f"/api/v1/contacts/{chat['contact_id']}/accept", headers=ana)
        assert accepted.status == 200, await accepted.text()
        clock.set(paris_ms(2025, 3, 3, 11, 32))
        await say(http, chat, "I am sorry, let me look.", ana)
        first = timer(await case_of(http, case_id, admin), "first_response")
        assert first is not None and (first["state"], first["outcome"]) == ("stopped", "met")
    records = await timer_records(case_node, case_id)
    firsts = [
        (r["outcome"], r["wall_s"], r.get("responded", ""))
        for r in records
        if r["timer"] == "first_response"
    ]
    assert firsts == [
        ("cancelled", "4.000", "0"),
        ("cancelled", "60.000", "0"),
        ("met", "120.000", ""),
    ]


async def test_a_contact_answered_already_reopens_a_case_owing_no_first_response(
    case_node: Node,
) -> None:
    """Staff link a chat ana has written in to a case solved before any answer: the
    case reopens answered, owing no first response (none is met in 0 s either)."""
    clock = Clock(MONDAY_10)
    case_node.cases.clock = clock
    async with http_session(case_node) as http:
        ana, admin = await staff(http, "ana"), await staff(http, "adm")
        # The customer's chat came before the case (a later one would join it at once).
        chat = await accepted_chat(case_node, http, ana, customer="FF-8002", vouched_by=admin)
        await say(http, chat, "Hello, I can help.", ana)
        opened = await http.post(
            "/api/v1/cases",
            json={"subject": "Refund", "customer": {"id": "FF-8002"}, "queue": "booking"},
            headers=admin,
        )
        case_id = (await opened.json())["case_id"]
        clock.set(MONDAY_10 + 4_000)
        await http.patch(f"/api/v1/cases/{case_id}", json={"status": "solved"}, headers=admin)
        clock.set(MONDAY_10 + 60_000)
        linked = await http.post(
            f"/api/v1/cases/{case_id}/contacts",
            json={"contact_id": chat["contact_id"]},
            headers=admin,
        )
        assert linked.status in (200, 201), await linked.text()
        case = await linked.json()
        first = timer(case, "first_response")
        assert case["status"] == "open" and first is not None
        assert (first["state"], first["outcome"]) == ("stopped", "cancelled")
    records = await timer_records(case_node, case_id)
    assert [(r["timer"], r["outcome"]) for r in records] == [("first_response", "cancelled")]


async def test_solving_or_closing_ends_an_owed_next_response_without_a_response(
    case_node: Node,
) -> None:
    """ana answers (a first response of 60 s); the customer writes again; nobody replies
    and the case is solved, then closed: the next response is cancelled (no time of 2
    minutes among the next responses), and one whose target had passed stays breached,
    still without a response time."""
    clock = Clock(MONDAY_10)
    case_node.cases.clock = clock
    async with http_session(case_node) as http:
        ana, admin = await staff(http, "ana"), await staff(http, "adm")
        chat = await accepted_chat(case_node, http, ana)
        token = {"X-Customer-Token": chat["customer_token"]}
        opened = await http.post(
            f"/api/v1/contacts/{chat['contact_id']}/case", json={"subject": "Bag"}, headers=ana
        )
        case_id = (await opened.json())["case_id"]
        clock.set(MONDAY_10 + 60_000)
        await say(http, chat, "Hello!", ana)
        clock.set(MONDAY_10 + 120_000)
        await say(http, chat, "Any news about my bag?", token)
        clock.set(MONDAY_10 + 240_000)
        url = f"/api/v1/cases/{case_id}"
        await http.patch(url, json={"status": "solved"}, headers=admin)
        # The customer writes again: open, a next response owed; it breaches (1 h), then
        # the case is closed without a reply.
        clock.set(MONDAY_10 + 300_000)
        await say(http, chat, "Still nothing?", token)
        clock.set(paris_ms(2025, 3, 3, 11, 10))
        await case_node.cases.tick()
        closed = await http.patch(url, json={"status": "closed"}, headers=admin)
        assert (await closed.json())["status"] == "closed"
        report = await (
            await http.get(
                "/api/v1/reports/sla", params={"from": "2025-03-01T00:00:00Z"}, headers=admin
            )
        ).json()
    records = await timer_records(case_node, case_id)
    outcomes = sorted((r["timer"], r["outcome"], r.get("responded") or "") for r in records)
    assert outcomes == [
        ("first_response", "met", ""),
        ("next_response", "breached", "0"),
        ("next_response", "cancelled", "0"),
        ("resolution", "met", ""),
    ]
    # The breach moved the case to general (the policy's escalation).
    queues = {row["queue"]: row for row in report["queues"]}
    assert set(queues) == {"booking", "general"}
    assert queues["booking"]["first_responses"] == 1 and queues["booking"]["frt_mean_s"] == 60
    assert all(row["next_responses"] == 0 for row in queues.values())
    assert all(row["next_response_mean_s"] is None for row in queues.values())
    (standard,) = report["policies"]
    assert standard["cancelled"] == 1
    assert standard["next_response_attainment"] == 0  # the breached one: missed
    assert standard["first_response_attainment"] == 1


async def test_the_sla_report_takes_dates_as_the_command_does(
    redis_url: str, tmp_path: Path
) -> None:
    """`from`/`to` as dates: whole days in `tz` (UTC by default), `to` inclusive; a
    case opened at 00:30 in Paris on Monday is Sunday's in UTC and Monday's in Paris."""
    async with started(redis_url, case_config(tmp_path)) as node:
        node.cases.clock = Clock(paris_ms(2025, 3, 3, 0, 30))
        async with http_session(node) as http:
            admin = await staff(http, "adm")
            opened = await http.post(
                "/api/v1/cases",
                json={"subject": "Refund", "customer": {"id": "c-50"}, "queue": "booking"},
                headers=admin,
            )
            assert opened.status == 201

            async def figures(**query: str) -> tuple[int, dict[str, Any]]:
                response = await http.get("/api/v1/reports/sla", params=query, headers=admin)
                return response.status, dict(await response.json())

            status, utc_monday = await figures(**{"from": "2025-03-03", "to": "2025-03-03"})
            assert status == 200, utc_monday
            assert (utc_monday["from"], utc_monday["to"]) == (
                "2025-03-03T00:00:00+00:00",
                "2025-03-04T00:00:00+00:00",
            )
            assert utc_monday["queues"] == []
            status, sunday = await figures(**{"from": "2025-03-02", "to": "2025-03-02"})
            assert [q["cases_opened"] for q in sunday["queues"]] == [1]
            status, paris = await figures(
                **{"from": "2025-03-03", "to": "2025-03-03", "tz": "Europe/Paris"}
            )
            assert status == 200 and paris["from"] == "2025-03-02T23:00:00+00:00"
            assert [q["cases_opened"] for q in paris["queues"]] == [1]
            # A time's offset whose + the query string made a space is still read.
            status, spaced = await figures(**{"from": "2025-03-02T23:00:00 00:00"})
            assert status == 200 and spaced["from"] == "2025-03-02T23:00:00+00:00"
            for query, field in (
                ({"from": "2025-13-01"}, "query.from"),
                ({"from": "yesterday"}, "query.from"),
                ({"from": "2025-03-03T08:00:00"}, "query.from"),  # no offset
                ({"from": "2025-03-03", "to": "2025-03-02"}, "query.to"),
                ({"from": "2025-03-03", "tz": "Mars/Olympus"}, "query.tz"),
                ({"to": "2025-03-03"}, "query.from"),  # from is needed
            ):
                status, answer = await figures(**query)
                assert status == 400 and answer["field"] == field, (query, answer)
            status, answer = await figures(**{"from": "2025-03-03T08:00:00"})
            assert "2026-12-06" in answer["message"] and "offset" in answer["message"]
            assert "Input should" not in answer["message"]
