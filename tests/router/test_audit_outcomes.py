"""An audited write is recorded once it took effect, never when it was refused
(docs/security.md): a probe found `contact.move` entries for moves answered 409 and
`case.change` entries for changes answered 400, which read as if they had been done."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from router.access import Principal
from router.cases.service import CaseRequest
from router.model import Presence, Role
from switchboard.node import Node
from tests.cases.conftest import case_config, staff, started
from tests.nodes import http_session, new_chat

ADMIN = Principal("adm", Role.ADMIN)


@pytest.fixture
async def node(redis_url: str, tmp_path: Path) -> AsyncIterator[Node]:
    async with started(redis_url, case_config(tmp_path)) as started_node:
        yield started_node


async def entries(node: Node, action: str) -> list[tuple[str, dict[str, Any]]]:
    return [(e.actor, e.detail) for e in await node.reports.audit_log() if e.action == action]


async def test_a_refused_move_or_end_of_a_contact_leaves_no_entry(node: Node) -> None:
    async with http_session(node) as http:
        admin = await staff(http, "adm")
        waiting = await new_chat(http)  # nobody is signed in: it waits in booking
        await node.router.set_presence("ana", Presence.AVAILABLE)
        taken = await new_chat(http)
        assert taken["agent_id"] == "ana"
        await node.router.accept(taken["contact_id"], "ana")

        refused = await http.post(
            f"/api/v1/contacts/{taken['contact_id']}/move", json={"queue": "general"}, headers=admin
        )
        assert refused.status == 409, await refused.text()  # its agent transfers it
        moved = await http.post(
            f"/api/v1/contacts/{waiting['contact_id']}/move",
            json={"queue": "general"},
            headers=admin,
        )
        assert moved.status == 200, await moved.text()
        assert await entries(node, "contact.move") == [
            ("adm", {"contact_id": waiting["contact_id"], "queue": "general", "was": "booking"})
        ]

        end = f"/api/v1/contacts/{taken['contact_id']}/complete"
        assert (await http.post(end, headers=admin)).status == 200
        assert (await http.post(end, headers=admin)).status == 409  # ended already
        assert await entries(node, "contact.complete") == [
            ("adm", {"contact_id": taken["contact_id"]})
        ]


async def test_a_refused_change_of_a_case_leaves_no_entry(node: Node) -> None:
    case = await node.cases.create(ADMIN, CaseRequest("c-60", "Refund", "booking"))
    url = f"/api/v1/cases/{case.case_id}"
    async with http_session(node) as http:
        sup = await staff(http, "sup")  # booking's supervisor: the case is not theirs
        anonymous = await new_chat(http)

        # sen takes no booking (400); another customer's chat is not linked (400).
        wrong = await http.patch(url, json={"owner": "sen"}, headers=sup)
        assert wrong.status == 400 and (await wrong.json())["field"] == "$.owner"
        link = await http.post(
            f"{url}/contacts", json={"contact_id": anonymous["contact_id"]}, headers=sup
        )
        assert link.status == 400 and (await link.json())["field"] == "$.contact_id"
        assert await entries(node, "case.change") == []

        changed = await http.patch(url, json={"priority": 3, "subject": "Refund"}, headers=sup)
        assert changed.status == 200, await changed.text()
        note = await http.post(f"{url}/notes", json={"text": "Called back"}, headers=sup)
        assert note.status == 201, await note.text()
        closed = await http.patch(url, json={"status": "closed"}, headers=sup)
        assert closed.status == 200, await closed.text()
        late = await http.post(f"{url}/notes", json={"text": "Too late"}, headers=sup)
        assert late.status == 409  # a closed case is final
        assert await entries(node, "case.change") == [
            ("sup", {"case_id": case.case_id, "changed": ["priority"]}),  # the subject was so
            ("sup", {"case_id": case.case_id, "changed": ["notes"]}),
            ("sup", {"case_id": case.case_id, "changed": ["status"]}),
        ]
