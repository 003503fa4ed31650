"""A case is one customer's: staff link to it only that customer's contacts, and only
that customer answers its follow-up (docs/security.md). A stranger's chat linked to
c-77's case would let the stranger close it (closed is final). On a real node, Redis
and HTTP."""

from __future__ import annotations

from typing import Any

import aiohttp

from router.model import Presence
from switchboard.node import Node
from tests.cases.conftest import staff
from tests.nodes import new_chat


async def vouched_chat(
    node: Node,
    http: aiohttp.ClientSession,
    admin: dict[str, str],
    customer: str,
    to_ana: bool = True,
) -> dict[str, Any]:
    """A booking chat the admin starts for `customer` (offered to ana, when asked)."""
    await node.router.set_presence("ana", Presence.AVAILABLE)
    response = await http.post(
        "/api/v1/contacts",
        headers=admin,
        json={
            "channel": "chat",
            "queue": "booking",
            "language": "en",
            "customer": {"id": customer},
        },
    )
    assert response.status == 201, await response.text()
    chat = dict(await response.json())
    assert chat["agent_id"] == ("ana" if to_ana else chat["agent_id"]), chat
    return chat


async def held_by_ana(
    node: Node, http: aiohttp.ClientSession, ana: dict[str, str], chat: dict[str, Any]
) -> None:
    accepted = await http.post(f"/api/v1/contacts/{chat['contact_id']}/accept", headers=ana)
    assert accepted.status == 200, await accepted.text()


async def test_a_contact_of_another_customer_is_not_linked(case_node: Node) -> None:
    async with aiohttp.ClientSession(f"http://127.0.0.1:{case_node.http_port}") as http:
        ana, admin = await staff(http, "ana"), await staff(http, "adm")
        mine = await vouched_chat(case_node, http, admin, "c-77")
        await held_by_ana(case_node, http, ana, mine)
        opened = await http.post(
            f"/api/v1/contacts/{mine['contact_id']}/case", json={"subject": "Refund"}, headers=ana
        )
        assert opened.status == 201, await opened.text()
        case_id = (await opened.json())["case_id"]

        await case_node.router.set_presence("ana", Presence.AVAILABLE)
        stranger = await new_chat(http)  # anonymous: a customer of its own
        await held_by_ana(case_node, http, ana, stranger)
        other = await vouched_chat(case_node, http, admin, "c-88", to_ana=False)
        for chat in (stranger, other):
            linked = await http.post(
                f"/api/v1/cases/{case_id}/contacts",
                json={"contact_id": chat["contact_id"]},
                headers=admin,
            )
            assert linked.status == 400, await linked.text()
            assert (await linked.json())["field"] == "$.contact_id"
            assert await case_node.cases.store.case_of_contact(chat["contact_id"]) is None

        again = await vouched_chat(
            case_node, http, admin, "c-77", to_ana=False
        )  # the customer, again
        linked = await http.post(
            f"/api/v1/cases/{case_id}/contacts",
            json={"contact_id": again["contact_id"]},
            headers=admin,
        )
        assert linked.status == 200, await linked.text()
    case = await case_node.cases.store.get(case_id)
    assert case is not None
    assert case.contacts == [mine["contact_id"], again["contact_id"]]


async def test_only_the_cases_customer_answers_its_follow_up(case_node: Node) -> None:
    """A chat of another customer linked before links were checked: its token does not
    close the case; the case's own customer's does."""
    async with aiohttp.ClientSession(f"http://127.0.0.1:{case_node.http_port}") as http:
        ana, admin = await staff(http, "ana"), await staff(http, "adm")
        mine = await vouched_chat(case_node, http, admin, "c-77")
        await held_by_ana(case_node, http, ana, mine)
        opened = await http.post(
            f"/api/v1/contacts/{mine['contact_id']}/case", json={"subject": "Refund"}, headers=ana
        )
        case_id = (await opened.json())["case_id"]
        await case_node.router.set_presence("ana", Presence.AVAILABLE)
        stranger = await new_chat(http)
        contact = await case_node.router.get_contact(stranger["contact_id"])
        cases = case_node.cases
        at = cases._now(None)
        await cases._change(case_id, lambda c, d: cases.life.link(c, contact, "adm", d, at), at)
        solved = await http.patch(
            f"/api/v1/cases/{case_id}", json={"status": "solved"}, headers=ana
        )
        assert (await solved.json())["status"] == "solved"

        answer = await http.post(
            f"/api/v1/contacts/{stranger['contact_id']}/case/confirm",
            json={"solved": True},
            headers={"X-Customer-Token": stranger["customer_token"]},
        )
        assert answer.status == 403, await answer.text()
        case = await cases.store.get(case_id)
        assert case is not None and case.status.value == "solved"

        answer = await http.post(
            f"/api/v1/contacts/{mine['contact_id']}/case/confirm",
            json={"solved": True},
            headers={"X-Customer-Token": mine["customer_token"]},
        )
        assert answer.status == 200, await answer.text()
        assert (await answer.json())["status"] == "closed"
