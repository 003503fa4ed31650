"""What the case, admin and webhook routes decide lives below them (the architecture
review, findings 2, 4 and 6): the regions a case, agent or user may name are the
deployment's (`Router.known_regions`, the same on every node), not this node's file; the
service refuses an owner who is no agent and a case for nobody, each naming one field;
a case's history is read through the service; a malformed case id in a path is 400
naming it; an unknown webhook is a domain error; a report shows the records in the
reader's scope."""

from __future__ import annotations

from typing import Any

import pytest

from router import access
from router.access import Principal
from router.cases.service import CaseRequest
from router.cases.webhooks import UnknownWebhook, WebhookDelivery
from router.errors import InvalidInput
from router.model import Role
from switchboard.http.api import API
from switchboard.http.openapi import document
from switchboard.node import Node
from tests.cases.conftest import staff
from tests.nodes import http_session

ADMIN = Principal("adm", Role.ADMIN)


async def another_nodes_region(node: Node, region: str) -> None:
    """A region only another node's file lists, published as that node's start does."""
    await node.router.store.publish_regions([*node.router.known_regions, region])
    await node.router.reload_queues()


async def test_a_region_is_one_of_the_deployments_not_of_this_nodes_file(
    case_node: Node,
) -> None:
    await another_nodes_region(case_node, "lyon")
    assert "lyon" not in case_node.regions.names  # this node's file: paris alone
    async with http_session(case_node) as http:
        admin = await staff(http, "adm")
        case = {"subject": "Lost bag", "customer": {"id": "c-1"}, "queue": "booking"}
        opened = await http.post("/api/v1/cases", json={**case, "region": "lyon"}, headers=admin)
        assert opened.status == 201, await opened.text()
        listed = await http.get("/api/v1/cases?region=lyon", headers=admin)
        assert [c["region"] for c in (await listed.json())["cases"]] == ["lyon"]
        agent = {"region": "lyon", "skills": {"booking": 3}, "languages": ["fr"]}
        put = await http.put("/api/v1/admin/agents/lea", json=agent, headers=admin)
        assert put.status == 200, await put.text()
        user = {"role": "supervisor", "password": "a-long-password", "regions": ["lyon"]}
        put = await http.put("/api/v1/admin/users/lou", json=user, headers=admin)
        assert put.status == 200, await put.text()

        # A region no node has: 400 naming the field and the deployment's regions.
        refusals = [
            await http.post("/api/v1/cases", json={**case, "region": "mars"}, headers=admin),
            await http.get("/api/v1/cases?region=mars", headers=admin),
            await http.put(
                "/api/v1/admin/agents/lea", json={**agent, "region": "mars"}, headers=admin
            ),
            await http.put(
                "/api/v1/admin/users/lou", json={**user, "regions": ["mars"]}, headers=admin
            ),
        ]
        fields = []
        for refused in refusals:
            body = await refused.json()
            assert refused.status == 400 and body["expected"] == "one of lyon, paris", body
            fields.append(body["field"])
        assert fields == ["$.region", "query.region", "$.region", "$.regions[0]"]


async def test_the_service_names_the_owner_and_the_customer_fields(case_node: Node) -> None:
    cases = case_node.cases
    with pytest.raises(InvalidInput) as nobody:
        await cases.create(ADMIN, CaseRequest("c-1", "Refund", "booking", owner="nobody"))
    assert (nobody.value.field, nobody.value.found) == ("$.owner", "nobody")
    with pytest.raises(InvalidInput) as no_customer:
        await cases.create(ADMIN, CaseRequest("", "Refund", "booking"))
    assert no_customer.value.field == "$.customer.id"
    async with http_session(case_node) as http:
        admin = await staff(http, "adm")
        body = {"subject": "Refund", "queue": "booking"}
        refused = await http.post("/api/v1/cases", json=body, headers=admin)
        assert refused.status == 400
        assert (await refused.json())["field"] == "$.customer.id"  # one name, not `$.customer`


async def test_a_case_and_its_history_come_from_the_service(case_node: Node) -> None:
    case = await case_node.cases.create(ADMIN, CaseRequest("c-2", "Refund", "booking"))
    read, history = await case_node.cases.get_with_history(ADMIN, case.case_id)
    assert read.case_id == case.case_id
    assert [entry.action for entry in history] == ["created"]
    async with http_session(case_node) as http:
        admin = await staff(http, "adm")
        shown = await (await http.get(f"/api/v1/cases/{case.case_id}", headers=admin)).json()
        assert [entry["action"] for entry in shown["history"]] == ["created"]
        malformed = await http.get("/api/v1/cases/not-an-id", headers=admin)
        assert malformed.status == 400 and (await malformed.json())["field"] == "path.case"
        assert (await http.get("/api/v1/cases/ffff", headers=admin)).status == 404


def test_the_case_id_rule_is_in_the_published_document() -> None:
    paths = document(API.operations)["paths"]
    for method in ("get", "patch"):
        (named,) = paths["/api/v1/cases/{case}"][method]["parameters"][:1]
        assert named["name"] == "case" and named["schema"]["maxLength"] == 64


async def test_an_unknown_webhook_is_a_domain_error_answered_404(case_node: Node) -> None:
    delivery = WebhookDelivery(case_node.cases.store, [])
    with pytest.raises(UnknownWebhook, match="no such webhook 'nope'"):
        await delivery.dead_letters("nope", 10)
    with pytest.raises(UnknownWebhook, match="no such webhook 'nope'"):
        await delivery.redeliver("nope", "1-0")


def test_a_report_shows_the_records_of_the_readers_scope() -> None:
    records: list[dict[str, Any]] = [
        {"queue": "booking", "region": "paris"},
        {"queue": "general", "region": "paris"},
        {"queue": "booking", "region": "lyon"},
    ]
    booking = Principal("sup", Role.SUPERVISOR, queues=frozenset({"booking"}))
    paris = Principal("sup", Role.SUPERVISOR, regions=frozenset({"paris"}))
    assert access.records_shown(booking, records) == [records[0], records[2]]
    assert access.records_shown(paris, records) == records[:2]
    assert access.records_shown(Principal("pia", Role.PLANNER), records) == records
    assert access.REPORT_READERS == (Role.SUPERVISOR, Role.PLANNER, Role.ADMIN)
