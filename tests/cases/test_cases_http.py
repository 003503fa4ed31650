"""Cases against the real Redis and HTTP app, with a clock the test drives: SLA timers in
business hours (holidays, pauses) that escalate once, follow-ups that close and reopen,
emotion words that move a waiting chat to the senior queue, and the case's owner first."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp

from router.access import Principal
from router.cases.service import CaseRequest
from router.desk import ChatSite, DeskConfig
from router.identity import sign
from router.model import Agent, Channel, ContactState, NewContact, Presence, Role
from router.store import now_ms
from switchboard.node import Node
from tests.cases.conftest import Clock, case_config, events_for, paris_ms, staff, started
from tests.nodes import http_session, new_chat

MONDAY_10 = paris_ms(2025, 3, 3, 10)


async def open_case(
    node: Node, http: aiohttp.ClientSession, headers: dict[str, str], customer: str = "c-1"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A waiting chat and a case opened on it by the admin; (chat, case)."""
    chat = await new_chat(http, customer=customer)
    assert chat["state"] == "queued"
    response = await http.post(
        "/api/v1/cases",
        json={"subject": "Lost bag", "contact_id": chat["contact_id"]},
        headers=headers,
    )
    assert response.status == 201, await response.text()
    return chat, await response.json()


async def case_of(
    http: aiohttp.ClientSession, case_id: str, headers: dict[str, str]
) -> dict[str, Any]:
    response = await http.get(f"/api/v1/cases/{case_id}", headers=headers)
    assert response.status == 200, await response.text()
    return dict(await response.json())


def timer(case: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(t for t in case["timers"] if t["kind"] == kind)


async def breaches_after_tick(node: Node, case_id: str) -> int:
    """Tick (the node's own timer task may tick too), then count the case's breaches."""
    await node.cases.tick()
    return [h.action for h in await node.cases.store.history(case_id)].count("sla_breached")


async def test_a_first_response_target_passing_in_business_hours_escalates_exactly_once(
    case_node: Node,
) -> None:
    clock = Clock(MONDAY_10)
    case_node.cases.clock = clock
    # gil serves general (not booking): the escalation has someone to move the chat to.
    await case_node.store.upsert_agent(Agent("gil", "paris", {"general": 3}, ["en"]))
    await case_node.router.set_presence("gil", Presence.AVAILABLE)
    async with http_session(case_node) as http:
        admin, supervisor = await staff(http, "adm"), await staff(http, "sup")
        other = await staff(http, "sup2")
        socket = await http.ws_connect("/api/v1/cases/events", headers=supervisor)
        elsewhere = await http.ws_connect("/api/v1/cases/events", headers=other)
        chat, case = await open_case(case_node, http, admin)
        assert timer(case, "first_response")["due_at"] == "2025-03-03T13:00:00+00:00"  # 14:00 Paris

        clock.set(paris_ms(2025, 3, 3, 11, 59))
        await case_node.cases.tick()
        clock.set(paris_ms(2025, 3, 3, 12, 1))  # half of the target: a warning
        await case_node.cases.tick()
        warnings = await events_for(socket, 1.0, "sla_warning")
        assert [w["timer"] for w in warnings] == ["first_response"]

        clock.set(paris_ms(2025, 3, 3, 14, 1))
        ticks = await asyncio.gather(*(case_node.cases.tick() for _ in range(4)))
        assert sum(result.breaches for result in ticks) <= 1  # the node's timer task ticks too
        clock.set(paris_ms(2025, 3, 4, 9, 30))
        assert await breaches_after_tick(case_node, case["case_id"]) == 1
        breached = await events_for(socket, 2.5, "sla_breached")
        assert len(breached) == 1, breached
        assert breached[0]["case_id"] == case["case_id"] and breached[0]["queue"] == "booking"
        assert breached[0]["timer"] == "first_response" and breached[0]["moved_to"] == "general"
        # general's supervisor is told too: the escalation moved the case to their queue
        assert [e["case_id"] for e in await events_for(elsewhere, 1.0, "sla_breached")] == [
            case["case_id"]
        ]

        # The escalation: priority raised and the waiting chat moved, with the reason.
        contact = await (
            await http.get(f"/api/v1/contacts/{chat['contact_id']}", headers=admin)
        ).json()
        assert contact["queue"] == "general" and contact["priority"] == 2
        assert any("SLA first response of case" in line for line in contact["explanation"])
        after = await case_of(http, case["case_id"], admin)
        assert after["priority"] == 2 and after["queue"] == "general"
        assert timer(after, "first_response")["breached_at"] == "2025-03-03T13:00:00+00:00"
        assert [h["action"] for h in after["history"]].count("sla_breached") == 1

        wallboard = await (await http.get("/api/v1/wallboard", headers=admin)).json()
        assert any(
            a["kind"] == "sla_breach" and a["case_id"] == case["case_id"]
            for a in wallboard["alerts"]
        )
        report = await (
            await http.get(
                "/api/v1/reports/sla", params={"from": "2025-03-01T00:00:00Z"}, headers=admin
            )
        ).json()
        standard = next(p for p in report["policies"] if p["policy"] == "standard")
        assert standard["breaches"] == 1 and standard["first_response_breaches"] == 1
        assert report["escalations"] == {"sla.first_response": 1}
        await socket.close()
        await elsewhere.close()


async def test_the_timer_pauses_while_the_case_waits_on_the_customer(case_node: Node) -> None:
    clock = Clock(MONDAY_10)
    case_node.cases.clock = clock
    async with http_session(case_node) as http:
        admin = await staff(http, "adm")
        chat, case = await open_case(case_node, http, admin)
        url = f"/api/v1/cases/{case['case_id']}"
        clock.set(paris_ms(2025, 3, 3, 11))
        paused = await (
            await http.patch(url, json={"status": "pending_customer"}, headers=admin)
        ).json()
        assert timer(paused, "first_response")["state"] == "paused"
        assert timer(paused, "first_response")["due_at"] is None
        clock.set(paris_ms(2025, 3, 3, 14, 30))  # past the unpaused due time: no breach
        assert await breaches_after_tick(case_node, case["case_id"]) == 0
        # The customer writes: the case is open again and the timer counts from now.
        clock.set(paris_ms(2025, 3, 3, 15))
        token = {"X-Customer-Token": chat["customer_token"]}
        sent = await http.post(
            f"/api/v1/contacts/{chat['contact_id']}/messages",
            json={"text": "here is my booking reference"},
            headers=token,
        )
        assert sent.status == 201
        resumed = await case_of(http, case["case_id"], admin)
        assert resumed["status"] == "open"
        first = timer(resumed, "first_response")
        assert first["spent_s"] == 3600 and first["due_at"] == "2025-03-03T17:00:00+00:00"  # 18:00
        clock.set(paris_ms(2025, 3, 3, 17, 59))
        assert await breaches_after_tick(case_node, case["case_id"]) == 0
        clock.set(paris_ms(2025, 3, 4, 9, 1))  # 18:00-09:00 is closed: it breached at 18:00
        assert await breaches_after_tick(case_node, case["case_id"]) == 1
        late = timer(await case_of(http, case["case_id"], admin), "first_response")
        assert late["breached_at"] == "2025-03-03T17:00:00+00:00"


async def test_a_holiday_in_the_regions_calendar_does_not_count(case_node: Node) -> None:
    # Wednesday 2025-04-30 16:00; Thursday 1 May is a French public holiday.
    clock = Clock(paris_ms(2025, 4, 30, 16))
    case_node.cases.clock = clock
    async with http_session(case_node) as http:
        admin = await staff(http, "adm")
        _, case = await open_case(case_node, http, admin)
        assert timer(case, "first_response")["due_at"] == "2025-05-02T09:00:00+00:00"  # Fri 11:00
        clock.set(paris_ms(2025, 5, 1, 17))  # would be 2 h past the target on a working day
        assert await breaches_after_tick(case_node, case["case_id"]) == 0
        assert (
            timer(await case_of(http, case["case_id"], admin), "first_response")["spent_s"] == 7200
        )
        clock.set(paris_ms(2025, 5, 2, 10, 59))
        assert await breaches_after_tick(case_node, case["case_id"]) == 0
        clock.set(paris_ms(2025, 5, 2, 11, 1))
        assert await breaches_after_tick(case_node, case["case_id"]) == 1


async def test_without_the_holiday_the_same_case_is_due_on_thursday(
    redis_url: str, tmp_path: Path
) -> None:
    async with started(redis_url, case_config(tmp_path, holidays="DE-BE")) as node:
        node.cases.clock = Clock(paris_ms(2025, 4, 30, 16))  # 1 May is a holiday in Berlin too
        async with http_session(node) as http:
            _, case = await open_case(node, http, await staff(http, "adm"))
            assert timer(case, "first_response")["due_at"] == "2025-05-02T09:00:00+00:00"
    text = case_config(tmp_path).read_text().replace('holidays = "FR"\n', "")
    (tmp_path / "plain.toml").write_text(text)
    async with started(redis_url, tmp_path / "plain.toml") as node:
        node.cases.clock = Clock(paris_ms(2025, 4, 30, 16))
        async with http_session(node) as http:
            _, case = await open_case(node, http, await staff(http, "adm"), customer="c-2")
            assert timer(case, "first_response")["due_at"] == "2025-05-01T09:00:00+00:00"


async def test_a_follow_up_closes_on_confirmation_and_a_reply_reopens(case_node: Node) -> None:
    clock = Clock(MONDAY_10)
    case_node.cases.clock = clock
    async with http_session(case_node) as http:
        admin = await staff(http, "adm")
        chat, case = await open_case(case_node, http, admin)
        token = {"X-Customer-Token": chat["customer_token"]}
        customer_socket = await http.ws_connect(
            f"/api/v1/contacts/{chat['contact_id']}/events", headers=token
        )
        url = f"/api/v1/cases/{case['case_id']}"
        solved = await (await http.patch(url, json={"status": "solved"}, headers=admin)).json()
        assert (
            solved["status"] == "solved" and solved["close_due_at"] == "2025-03-06T09:00:00+00:00"
        )
        followups = await events_for(customer_socket, 1.0, "case_followup")
        assert [f["case_id"] for f in followups] == [case["case_id"]]

        # A reply reopens it.
        clock.set(MONDAY_10 + 60_000)
        sent = await http.post(
            f"/api/v1/contacts/{chat['contact_id']}/messages",
            json={"text": "it still does not work"},
            headers=token,
        )
        assert sent.status == 201
        reopened = await case_of(http, case["case_id"], admin)
        assert reopened["status"] == "open" and reopened["close_due_at"] is None
        assert reopened["history"][-1]["action"] == "reopened"
        assert timer(reopened, "resolution")["state"] == "running"

        # Solved again, the customer confirms: closed.
        await http.patch(url, json={"status": "solved"}, headers=admin)
        confirm = f"/api/v1/contacts/{chat['contact_id']}/case/confirm"
        assert (await http.post(confirm, json={"solved": True}, headers=admin)).status == 403
        answer = await http.post(confirm, json={"solved": True}, headers=token)
        assert answer.status == 200 and (await answer.json())["status"] == "closed"
        closed = await case_of(http, case["case_id"], admin)
        assert all(t["state"] == "stopped" for t in closed["timers"])
        assert (await http.post(confirm, json={"solved": True}, headers=token)).status == 409
        await customer_socket.close()

        # Nobody answers a follow-up: the case closes after close_after.
        _, other = await open_case(case_node, http, admin, customer="c-2")
        other_url = f"/api/v1/cases/{other['case_id']}"
        await http.patch(other_url, json={"status": "solved"}, headers=admin)
        clock.set(MONDAY_10 + 71 * 3_600_000)
        await case_node.cases.tick()
        assert (await case_of(http, other["case_id"], admin))["status"] == "solved"
        clock.set(MONDAY_10 + 60_000 + 72 * 3_600_000)  # solved at MONDAY_10 + 1 min
        await case_node.cases.tick()
        late = await case_of(http, other["case_id"], admin)
        assert late["status"] == "closed"
        assert late["history"][-1]["detail"]["why"] == "no reply to the follow-up"


async def test_an_emotion_phrase_moves_a_waiting_chat_to_the_senior_queue(case_node: Node) -> None:
    async with http_session(case_node) as http:
        admin = await staff(http, "adm")
        await case_node.router.set_presence("sen", Presence.AVAILABLE)  # senior is served
        for language, text, words in (
            ("zh", "你们的服务太差了，我非常失望！", ["太差了", "失望"]),
            ("es", "Llevo una hora esperando y estoy muy DECEPCIONADA", ["decepcionada"]),
        ):
            chat = await new_chat(http, language=language, customer=f"upset-{language}")
            token = {"X-Customer-Token": chat["customer_token"]}
            messages = f"/api/v1/contacts/{chat['contact_id']}/messages"
            calm = await http.post(messages, json={"text": "hola / 你好"}, headers=token)
            assert calm.status == 201
            contact_url = f"/api/v1/contacts/{chat['contact_id']}"
            assert (await (await http.get(contact_url, headers=admin)).json())["queue"] == "booking"
            assert (await http.post(messages, json={"text": text}, headers=token)).status == 201
            contact = await (await http.get(contact_url, headers=admin)).json()
            assert contact["queue"] == "senior" and contact["state"] == "offered", contact
            assert contact["priority"] == 2 and contact["agent_id"] == "sen"
            why = [line for line in contact["explanation"] if line.startswith("moved from booking")]
            assert len(why) == 1 and all(f"'{word}'" in why[0] for word in words), why
            assert f"({language}" in why[0]
            found = await (await http.get(f"{contact_url}/case", headers=admin)).json()
            assert [t["words"] for t in found["triggers"]] == [words]
            assert found["triggers"][0]["actions"] == [
                "priority 0 -> 2",
                "moved from booking to senior",
            ]
            # An anonymous chat: flagged, raised and moved, but no case by the emotion rule
            # (nobody could follow it up; tests/cases/test_emotion_routing.py).
            assert found["case"] is None
        wallboard = await (await http.get("/api/v1/wallboard", headers=admin)).json()
        assert sum(a["kind"] == "emotion" for a in wallboard["alerts"]) == 2


async def test_an_upset_customer_already_with_a_person_is_flagged_not_moved(
    case_node: Node,
) -> None:
    async with http_session(case_node) as http:
        agent = await staff(http, "ana")
        await case_node.router.set_presence("ana", Presence.AVAILABLE)
        desktop = await http.ws_connect("/api/v1/agents/ana/events", headers=agent)
        chat = await new_chat(http, customer="c-3")
        assert chat["state"] == "offered"
        await http.post(f"/api/v1/contacts/{chat['contact_id']}/accept", headers=agent)
        sent = await http.post(
            f"/api/v1/contacts/{chat['contact_id']}/messages",
            json={"text": "This is unacceptable!"},
            headers={"X-Customer-Token": chat["customer_token"]},
        )
        assert sent.status == 201
        flags = await events_for(desktop, 1.5, "contact_flagged")
        assert [f["words"] for f in flags] == [["unacceptable"]]
        contact = await (
            await http.get(f"/api/v1/contacts/{chat['contact_id']}", headers=agent)
        ).json()
        assert contact["queue"] == "booking" and contact["state"] == "connected"
        assert flags[0]["actions"] == ["priority 0 -> 2"]
        await desktop.close()


async def test_a_returning_customer_is_offered_first_to_the_cases_owner(
    redis_url: str, tmp_path: Path
) -> None:
    """Only a customer the site vouches for is known again (a signed identity)."""
    site = ChatSite("airline", ("https://www.airline.example",), "a-site-secret")
    known = {"identity": sign(site.secret, {"sub": "c-9", "exp": time.time() + 600})}
    async with (
        started(redis_url, case_config(tmp_path), desk=DeskConfig(sites=(site,))) as case_node,
        http_session(case_node) as http,
    ):
        router = case_node.router
        # bob idle longest, so he would win: a second apart (the same millisecond is a tie,
        # which goes to ana's name: a fast box lost this race)
        await router.set_presence("bob", Presence.AVAILABLE, at_ms=now_ms() - 2000)
        await router.set_presence("ana", Presence.AVAILABLE, at_ms=now_ms() - 1000)
        first = await new_chat(http, site="airline", **known)
        assert first["agent_id"] == "bob"
        await router.accept(first["contact_id"], "bob")
        await case_node.cases.create(  # a supervisor's or admin's, for ana
            Principal("adm", Role.ADMIN), CaseRequest("c-9", "Refund", "booking", owner="ana")
        )
        await router.complete(first["contact_id"], "bob")
        await router.set_presence("ana", Presence.NOT_READY)
        await router.set_presence("ana", Presence.AVAILABLE)  # bob idle longer again
        back = await new_chat(http, site="airline", **known)
        assert back["agent_id"] == "ana", back
        admin = await staff(http, "adm")
        contact = await (
            await http.get(f"/api/v1/contacts/{back['contact_id']}", headers=admin)
        ).json()
        assert "step=preferred" in contact["explanation"][-1]
        linked = await (
            await http.get(f"/api/v1/contacts/{back['contact_id']}/case", headers=admin)
        ).json()
        assert linked["case"]["owner"] == "ana" and back["contact_id"] in linked["case"]["contacts"]
        history = (await case_of(http, linked["case"]["case_id"], admin))["history"]
        assert [h["action"] for h in history][:2] == ["created", "linked"]


async def test_a_call_from_the_customer_is_linked_and_answering_it_is_the_first_response(
    case_node: Node,
) -> None:
    """The IVR creates calls through Router.create_contact: the same hook links them."""
    clock = Clock(MONDAY_10)
    case_node.cases.clock = clock
    async with http_session(case_node) as http:
        admin = await staff(http, "adm")
        opened = await http.post(
            "/api/v1/cases",
            json={"subject": "Refund", "customer": {"id": "c-4"}, "queue": "booking"},
            headers=admin,
        )
        case_id = (await opened.json())["case_id"]
        await case_node.router.set_presence("ana", Presence.AVAILABLE)
        call = await case_node.router.create_contact(
            NewContact(Channel.VOICE, "booking", "en", customer_id="c-4")
        )
        assert call.state == ContactState.OFFERED and call.agent_id == "ana"
        clock.set(MONDAY_10 + 600_000)
        await case_node.router.accept(call.contact_id, "ana")
        case: dict[str, Any] = {}
        for _ in range(50):  # the node follows the routing event: bounded wait
            case = await case_of(http, case_id, admin)
            if timer(case, "first_response")["state"] == "stopped":
                break
            await asyncio.sleep(0.05)
        assert case["contacts"] == [call.contact_id] and case["owner"] == "ana"
        first = timer(case, "first_response")
        assert first["state"] == "stopped" and first["spent_s"] == 600 and not first["breached_at"]


async def test_cases_are_listed_and_filtered_by_what_each_may_see(case_node: Node) -> None:
    async with http_session(case_node) as http:
        admin, ana, bob = (
            await staff(http, "adm"),
            await staff(http, "ana"),
            await staff(http, "bob"),
        )
        supervisor, other = await staff(http, "sup"), await staff(http, "sup2")
        made = []
        for customer, queue, owner in (
            ("c-1", "booking", "ana"),
            ("c-2", "general", "ana"),
            ("c-3", "booking", "bob"),
        ):
            response = await http.post(
                "/api/v1/cases",
                json={
                    "subject": "Refund",
                    "customer": {"id": customer},
                    "queue": queue,
                    "owner": owner,
                },
                headers=admin,
            )
            assert response.status == 201, await response.text()
            made.append((await response.json())["case_id"])

        async def listed(headers: dict[str, str], **query: str) -> list[str]:
            response = await http.get("/api/v1/cases", params=query, headers=headers)
            assert response.status == 200, await response.text()
            return [case["case_id"] for case in (await response.json())["cases"]]

        assert await listed(admin) == made[::-1]  # newest first
        assert await listed(ana) == [made[1], made[0]] and await listed(bob) == [made[2]]
        assert await listed(supervisor) == [made[2], made[0]]
        assert await listed(other) == [made[1]]
        assert await listed(admin, queue="booking", owner="ana") == [made[0]]
        assert await listed(admin, customer="c-3") == [made[2]]
        assert await listed(admin, status="closed") == []
        bad = await http.get("/api/v1/cases", params={"status": "lost"}, headers=admin)
        assert bad.status == 400 and (await bad.json())["field"] == "query.status"

        url = f"/api/v1/cases/{made[0]}"
        note = await http.post(f"{url}/notes", json={"text": "called the airport"}, headers=ana)
        assert note.status == 201
        codes = await http.post(
            f"{url}/wrap-up", json={"codes": ["refund", "lost_bag"]}, headers=ana
        )
        assert (await codes.json())["wrap_up_codes"] == ["refund", "lost_bag"]
        assert (await http.get(url, headers=bob)).status == 403
        case = await case_of(http, made[0], supervisor)  # not theirs: audited
        assert [n["text"] for n in case["notes"]] == ["called the airport"]
        assert [(h["actor"], h["action"]) for h in case["history"]] == [
            ("adm", "created"),
            ("ana", "note"),
            ("ana", "wrap_up"),
        ]
        audit = await (await http.get("/api/v1/audit", headers=admin)).json()
        assert any(e["actor"] == "sup" and e["action"] == "case.read" for e in audit["entries"])
        assert (await http.get("/api/v1/cases/ffff", headers=admin)).status == 404
        assert (await http.get("/api/v1/cases/not-an-id", headers=admin)).status == 400
        closed = await http.patch(url, json={"status": "closed"}, headers=ana)
        assert (await closed.json())["status"] == "closed"
        reopen = await http.patch(url, json={"status": "open"}, headers=admin)
        assert reopen.status == 409


async def test_retention_scrubs_closed_cases_and_keeps_their_counts(case_node: Node) -> None:
    """`[privacy] retention_days` and `privacy retain` reach cases: a case closed before
    the cut-off loses its customer, subject and notes; a live one keeps them."""
    clock = Clock(MONDAY_10)
    case_node.cases.clock = clock
    async with http_session(case_node) as http:
        admin = await staff(http, "adm")
        _, old = await open_case(case_node, http, admin)
        url = f"/api/v1/cases/{old['case_id']}"
        await http.patch(url, json={"subject": "Lost bag at CDG, passport inside"}, headers=admin)
        await http.post(f"{url}/notes", json={"text": "passport no. X123"}, headers=admin)
        closed = await http.patch(url, json={"status": "closed"}, headers=admin)
        assert (await closed.json())["status"] == "closed"
        _, live = await open_case(case_node, http, admin)

        later = MONDAY_10 + 31 * 86_400_000
        await case_node.reports.apply_retention(days=30, at_ms=later)

        scrubbed = await case_of(http, old["case_id"], admin)
        assert (scrubbed["subject"], scrubbed["notes"]) == ("", [])
        assert scrubbed["status"] == "closed" and scrubbed["closed_at"]
        changes = [h for h in scrubbed["history"] if h["action"] == "subject"]
        assert changes and all(h["detail"] == {} for h in changes)
        kept = await case_of(http, live["case_id"], admin)
        assert kept["subject"] == "Lost bag" and kept["status"] == "open"
        assert await case_node.casework.cases.store.customer_case_ids(old["customer"]["id"]) == []


async def test_a_contacts_case_is_read_by_its_agent_while_holding_it_and_audited_for_others(
    case_node: Node,
) -> None:
    """bob serves a chat whose case ana owns: he reads the case while the chat is his, not
    after it ended; a supervisor's reads of the case and of the customer's trigger words
    are written to the audit log."""
    async with http_session(case_node) as http:
        router = case_node.router
        await router.set_presence("ana", Presence.NOT_READY)
        await router.set_presence("bob", Presence.AVAILABLE)
        chat = await new_chat(http, customer="c-7")
        assert chat["agent_id"] == "bob"
        await router.accept(chat["contact_id"], "bob")
        await case_node.cases.create(
            Principal("adm", Role.ADMIN),
            CaseRequest("", "Refund", "booking", owner="ana", contact_id=chat["contact_id"]),
        )
        bob, supervisor = await staff(http, "bob"), await staff(http, "sup")
        url = f"/api/v1/contacts/{chat['contact_id']}"
        held = await http.get(f"{url}/case", headers=bob)
        assert held.status == 200 and (await held.json())["case"]["owner"] == "ana"
        assert (await http.get(f"{url}/case", headers=supervisor)).status == 200  # + triggers
        await router.complete(chat["contact_id"], "bob")
        assert (await http.get(f"{url}/case", headers=bob)).status == 403
        entries = await case_node.reports.audit_log()
        assert {(e.actor, e.action) for e in entries} >= {
            ("sup", "case.read"),
            ("sup", "contact.triggers"),
        }
        assert not any(e.actor == "bob" for e in entries)


async def test_an_agent_opens_a_case_only_from_a_contact_they_hold_for_its_customer(
    case_node: Node,
) -> None:
    """bob, who serves nobody of customer c-20's, cannot open a case for c-20 (and so is
    not offered c-20's next chat first, nor made its owner); from a chat he holds he opens
    one for that chat's customer only, owned by himself, in its queue or one of his
    skills. Supervisors open cases in their queues only."""
    router = case_node.router
    async with http_session(case_node) as http:
        ana, bob = await staff(http, "ana"), await staff(http, "bob")
        supervisor, admin = await staff(http, "sup"), await staff(http, "adm")
        hijack = {"subject": "mine now", "customer": {"id": "c-20"}, "queue": "booking"}
        refused = await http.post("/api/v1/cases", json={**hijack, "priority": 9}, headers=bob)
        assert refused.status == 403, await refused.text()
        assert await case_node.cases.store.customer_case_ids("c-20", 10) == []
        # c-20's next chat goes to the free agent, at its own priority: bob owns nothing.
        await router.set_presence("bob", Presence.NOT_READY)
        await router.set_presence("ana", Presence.AVAILABLE)
        chat = await router.create_contact(
            NewContact(Channel.CHAT, "booking", "en", customer_id="c-20")
        )
        assert (chat.state, chat.agent_id, chat.priority) == (ContactState.OFFERED, "ana", 0)
        await router.fail(chat.contact_id, "test over")

        # bob holds a chat of c-21: a case from it is c-21's, never another customer's.
        await router.set_presence("ana", Presence.NOT_READY)
        await router.set_presence("bob", Presence.AVAILABLE)
        held = await router.create_contact(
            NewContact(Channel.CHAT, "booking", "en", customer_id="c-21")
        )
        assert held.agent_id == "bob"
        await router.accept(held.contact_id, "bob")
        from_held = {"subject": "Refund", "contact_id": held.contact_id}
        other = await http.post(
            "/api/v1/cases", json={**from_held, "customer": {"id": "c-20"}}, headers=bob
        )
        assert other.status == 400 and (await other.json())["field"] == "$.customer.id"
        for refused_body, who in (
            ({**from_held, "queue": "senior"}, bob),  # not his skill, not the chat's queue
            ({**from_held, "owner": "ana"}, bob),  # an agent owns what he opens
            (from_held, ana),  # not hers
        ):
            answer = await http.post("/api/v1/cases", json=refused_body, headers=who)
            assert answer.status == 403, (refused_body, await answer.text())
        assert await case_node.cases.store.customer_case_ids("c-20", 10) == []
        assert await case_node.cases.store.case_of_contact(held.contact_id) is None
        opened = await http.post(
            "/api/v1/cases", json={**from_held, "customer": {"id": "c-21"}}, headers=bob
        )
        assert opened.status == 201, await opened.text()
        case = await opened.json()
        assert (case["customer"]["id"], case["owner"], case["queue"]) == ("c-21", "bob", "booking")
        assert case["contacts"] == [held.contact_id]

        # In wrap-up, from the chat he has just finished: the follow-up case is his to open.
        served = await router.create_contact(
            NewContact(Channel.CHAT, "booking", "en", customer_id="c-24")
        )
        await router.accept(served.contact_id, "bob")
        await router.complete(served.contact_id, "bob")
        follow_up = {"subject": "Call back", "contact_id": served.contact_id}
        later = await http.post("/api/v1/cases", json=follow_up, headers=bob)
        assert later.status == 201, await later.text()
        assert (await later.json())["customer"]["id"] == "c-24"
        assert (await http.post("/api/v1/cases", json=follow_up, headers=ana)).status == 403

        # A supervisor of booking opens booking's cases, not general's.
        elsewhere = {"subject": "Refund", "customer": {"id": "c-22"}, "queue": "general"}
        assert (await http.post("/api/v1/cases", json=elsewhere, headers=supervisor)).status == 403
        assert await case_node.cases.store.customer_case_ids("c-22", 10) == []
        mine = await http.post(
            "/api/v1/cases", json={**elsewhere, "queue": "booking"}, headers=supervisor
        )
        assert mine.status == 201 and (await mine.json())["queue"] == "booking"
        anywhere = await http.post(
            "/api/v1/cases", json={**elsewhere, "customer": {"id": "c-23"}}, headers=admin
        )
        assert anywhere.status == 201 and (await anywhere.json())["queue"] == "general"


async def test_a_closed_case_changes_no_more_and_moves_stay_in_the_movers_scope(
    redis_url: str, tmp_path: Path
) -> None:
    codes = '[[dispositions]]\nqueue = "booking"\ncodes = ["refund", "rebooked"]\n'
    async with (
        started(redis_url, case_config(tmp_path, codes)) as node,
        http_session(node) as http,
    ):
        admin, supervisor = await staff(http, "adm"), await staff(http, "sup")
        opened = await http.post(
            "/api/v1/cases",
            json={"subject": "Refund", "customer": {"id": "c-30"}, "queue": "booking"},
            headers=admin,
        )
        case_id = (await opened.json())["case_id"]
        url = f"/api/v1/cases/{case_id}"
        # booking's supervisor may not move the case out of their queues.
        moved = await http.patch(url, json={"queue": "general"}, headers=supervisor)
        assert moved.status == 403
        assert await stored(node, case_id, "queue") == "booking"
        # Wrap-up codes come from the queue's list, as a contact's do.
        wrong = await http.post(
            f"{url}/wrap-up", json={"codes": ["refund", "whatever"]}, headers=supervisor
        )
        assert wrong.status == 400 and (await wrong.json())["field"] == "$.codes[1]"
        assert await stored(node, case_id, "wrap_up_codes") == []
        right = await http.post(f"{url}/wrap-up", json={"codes": ["refund"]}, headers=admin)
        assert (await right.json())["wrap_up_codes"] == ["refund"]

        closed = await http.patch(url, json={"status": "closed"}, headers=admin)
        assert (await closed.json())["status"] == "closed"
        before = await node.cases.store.get(case_id)
        history = await node.cases.store.history(case_id)
        chat = await new_chat(http, customer="c-31")
        for method, path, body in (
            ("PATCH", url, {"priority": 9}),
            ("PATCH", url, {"subject": "changed after close"}),
            ("PATCH", url, {"owner": "ana"}),
            ("PATCH", url, {"queue": "general"}),
            ("PATCH", url, {"status": "open"}),
            ("POST", f"{url}/notes", {"text": "late note"}),
            ("POST", f"{url}/wrap-up", {"codes": ["rebooked"]}),
            ("POST", f"{url}/contacts", {"contact_id": chat["contact_id"]}),
        ):
            answer = await http.request(method, path, json=body, headers=admin)
            assert answer.status == 409, (method, path, body, answer.status)
            assert (await answer.json())["message"] == f"case {case_id} is closed"
        assert await node.cases.store.get(case_id) == before
        assert await node.cases.store.history(case_id) == history
        again = await http.patch(url, json={"status": "closed"}, headers=admin)
        assert again.status == 200  # nothing to change


async def stored(node: Node, case_id: str, field: str) -> Any:
    """A field of the case as stored."""
    case = await node.cases.store.get(case_id)
    assert case is not None
    return getattr(case, field)
