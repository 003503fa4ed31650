"""Who is told live when an SLA breach's escalation moves a case to another queue: the
supervisors of the queue it breached in (it left them) and of the queue that holds it now
(they must act), nobody else; and the wallboard alert is for the new queue's."""

from __future__ import annotations

from router.model import Role
from switchboard.node import Node
from tests.cases.conftest import PASSWORD, Clock, events_for, paris_ms, staff
from tests.cases.test_cases_http import MONDAY_10, open_case
from tests.nodes import http_session


async def test_a_breach_that_moves_the_case_reaches_both_queues_supervisors(
    case_node: Node,
) -> None:
    # senior's supervisor: a third queue, neither where it breached nor where it goes
    await case_node.sessions.save_user("sup_senior", Role.SUPERVISOR, PASSWORD, queues=("senior",))
    clock = Clock(MONDAY_10)
    case_node.cases.clock = clock
    async with http_session(case_node) as http:
        admin = await staff(http, "adm")
        booking, general = await staff(http, "sup"), await staff(http, "sup2")
        senior = await staff(http, "sup_senior")
        sockets = {
            name: await http.ws_connect("/api/v1/cases/events", headers=headers)
            for name, headers in (("sup", booking), ("sup2", general), ("sup_senior", senior))
        }
        _, case = await open_case(case_node, http, admin)
        clock.set(paris_ms(2025, 3, 4, 9, 30))  # past the first response target: breached
        await case_node.cases.tick()
        told = {name: await events_for(s, 1.5, "sla_breached") for name, s in sockets.items()}
        # the new queue's supervisor, told, can open the case and sees the alert
        opened = await http.get(f"/api/v1/cases/{case['case_id']}", headers=general)
        board = await (await http.get("/api/v1/wallboard", headers=general)).json()
        old_board = await (await http.get("/api/v1/wallboard", headers=booking)).json()
        for socket in sockets.values():
            await socket.close()
    assert {name: len(events) for name, events in told.items()} == {
        "sup": 1,  # it left their queue
        "sup2": 1,  # it is theirs now
        "sup_senior": 0,  # another queue's supervisor learns nothing of it
    }
    for name in ("sup", "sup2"):
        (event,) = told[name]
        assert event["case_id"] == case["case_id"], name
        assert (event["queue"], event["moved_to"]) == ("booking", "general"), name
        assert "moved to general" in event["message"], event
    assert opened.status == 200 and (await opened.json())["queue"] == "general"
    alerts = [a for a in board["alerts"] if a["kind"] == "sla_breach"]
    assert [a["case_id"] for a in alerts] == [case["case_id"]]
    assert not [a for a in old_board["alerts"] if a["kind"] == "sla_breach"]


async def test_a_breach_that_does_not_move_the_case_reaches_its_queue_only(
    case_node: Node,
) -> None:
    """Without a move (the case is already in the escalation queue) nobody else is told."""
    clock = Clock(MONDAY_10)
    case_node.cases.clock = clock
    async with http_session(case_node) as http:
        admin = await staff(http, "adm")
        booking, general = await staff(http, "sup"), await staff(http, "sup2")
        to_general = await http.ws_connect("/api/v1/cases/events", headers=general)
        to_booking = await http.ws_connect("/api/v1/cases/events", headers=booking)
        _, case = await open_case(case_node, http, admin)
        moved = await http.patch(
            f"/api/v1/cases/{case['case_id']}", json={"queue": "general"}, headers=admin
        )
        assert moved.status == 200, await moved.text()
        await events_for(to_booking, 0.5)  # the move's own events
        clock.set(paris_ms(2025, 3, 4, 9, 30))
        await case_node.cases.tick()
        general_told = await events_for(to_general, 1.5, "sla_breached")
        booking_told = await events_for(to_booking, 0.3, "sla_breached")
        await to_general.close()
        await to_booking.close()
    (event,) = general_told
    assert (event["queue"], event["moved_to"]) == ("general", None)
    assert "moved" not in event["message"]
    assert booking_told == []
