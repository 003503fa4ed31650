"""The wallboard's `sla_breach` alerts on the real node and Redis, with a clock the test
drives: every breached timer still running alerts, naming the timer. A next response
(the customer wrote again after the agent's first answer, nobody answered within the
policy's 1 h) alerts until the agent answers; a resolution (24 business hours) alerts
until the case is closed, answered or not. The alert is for the supervisors of the
case's queue: the escalation moved it from booking to general."""

from __future__ import annotations

from typing import Any

import aiohttp

from router.model import Presence
from switchboard.node import Node
from tests.cases.conftest import Clock, paris_ms, staff
from tests.nodes import http_session, new_chat

MONDAY_10 = paris_ms(2025, 3, 3, 10)


async def say(
    http: aiohttp.ClientSession, chat: dict[str, Any], text: str, headers: dict[str, str]
) -> None:
    sent = await http.post(
        f"/api/v1/contacts/{chat['contact_id']}/messages", json={"text": text}, headers=headers
    )
    assert sent.status == 201, await sent.text()


async def answered_case(node: Node, http: aiohttp.ClientSession, ana: dict[str, str]) -> Any:
    """A booking chat ana accepted and wrote in, and the case she opened on it (answered:
    no first response runs); (chat, case id)."""
    await node.router.set_presence("ana", Presence.AVAILABLE)
    chat = await new_chat(http, customer="c-7")
    assert chat["agent_id"] == "ana", chat
    accepted = await http.post(f"/api/v1/contacts/{chat['contact_id']}/accept", headers=ana)
    assert accepted.status == 200, await accepted.text()
    await say(http, chat, "Hello, I am looking at your booking.", ana)
    opened = await http.post(
        f"/api/v1/contacts/{chat['contact_id']}/case", json={"subject": "Lost bag"}, headers=ana
    )
    assert opened.status == 201, await opened.text()
    return chat, (await opened.json())["case_id"]


async def case_timer(
    http: aiohttp.ClientSession, case_id: str, kind: str, headers: dict[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The case as `headers`' owner reads it, and its timer of `kind`."""
    response = await http.get(f"/api/v1/cases/{case_id}", headers=headers)
    case = await response.json()
    assert response.status == 200, case
    return case, next(t for t in case["timers"] if t["kind"] == kind)


async def breach_alerts(
    http: aiohttp.ClientSession, headers: dict[str, str], case_id: str
) -> list[dict[str, Any]]:
    """The wallboard's `sla_breach` alerts for the case, as `headers`' owner sees them."""
    response = await http.get("/api/v1/wallboard", headers=headers)
    assert response.status == 200, await response.text()
    alerts = (await response.json())["alerts"]
    return [a for a in alerts if a["kind"] == "sla_breach" and a.get("case_id") == case_id]


async def test_a_breached_next_response_alerts_on_the_wallboard_until_the_agent_answers(
    case_node: Node,
) -> None:
    clock = Clock(MONDAY_10)
    case_node.cases.clock = clock
    async with http_session(case_node) as http:
        ana, admin = await staff(http, "ana"), await staff(http, "adm")
        booking, general = await staff(http, "sup"), await staff(http, "sup2")
        chat, case_id = await answered_case(case_node, http, ana)

        clock.set(paris_ms(2025, 3, 3, 10, 5))
        await say(
            http, chat, "Any news about my bag?", {"X-Customer-Token": chat["customer_token"]}
        )
        clock.set(paris_ms(2025, 3, 3, 11, 6))  # past the 1 h next response target
        await case_node.cases.tick()
        case, late = await case_timer(http, case_id, "next_response", admin)
        assert (late["state"], late["breached_at"]) == ("running", "2025-03-03T10:05:00+00:00")
        assert case["queue"] == "general" and case["priority"] == 2  # escalated: moved

        # The case is general's now: its supervisor sees the alert, booking's does not.
        (alert,) = await breach_alerts(http, general, case_id)
        assert alert["level"] == "critical" and alert["queue"] == "general"
        assert "passed its next response target" in alert["message"]
        assert not await breach_alerts(http, booking, case_id)

        clock.set(paris_ms(2025, 3, 3, 11, 10))
        await say(http, chat, "Found it: it arrives tonight.", ana)
        assert not await breach_alerts(http, general, case_id)
        _, met = await case_timer(http, case_id, "next_response", admin)
        assert (met["state"], met["outcome"]) == ("stopped", "breached")


async def test_a_breached_resolution_alerts_until_the_case_is_closed(case_node: Node) -> None:
    clock = Clock(MONDAY_10)
    case_node.cases.clock = clock
    async with http_session(case_node) as http:
        ana, admin = await staff(http, "ana"), await staff(http, "adm")
        general = await staff(http, "sup2")
        _, case_id = await answered_case(case_node, http, ana)

        clock.set(paris_ms(2025, 3, 6, 10))  # 24 business hours ran out Wednesday 16:00
        await case_node.cases.tick()
        _, late = await case_timer(http, case_id, "resolution", admin)
        assert (late["state"], late["breached_at"]) == ("running", "2025-03-05T15:00:00+00:00")
        (alert,) = await breach_alerts(http, general, case_id)
        assert "passed its resolution target" in alert["message"]

        url = f"/api/v1/cases/{case_id}"
        solved = await http.patch(url, json={"status": "solved"}, headers=admin)
        assert solved.status == 200, await solved.text()
        assert len(await breach_alerts(http, general, case_id)) == 1  # waits, not resolved
        closed = await http.patch(url, json={"status": "closed"}, headers=admin)
        assert closed.status == 200, await closed.text()
        assert not await breach_alerts(http, general, case_id)
        _, ended = await case_timer(http, case_id, "resolution", admin)
        assert (ended["state"], ended["outcome"]) == ("stopped", "breached")
