"""A card number typed into a case's subject is masked where it enters the case service,
as in a note: the case, its history, the case list and Redis hold only the mask, and
the node counts it (PCI DSS: docs/security.md, "Card numbers")."""

from __future__ import annotations

from router.access import Principal
from router.cases.service import CaseChange, CaseRequest
from router.model import Role
from switchboard.node import Node
from tests.cases.conftest import staff
from tests.cases.test_card_numbers_masked import holds_a_card, stored_text
from tests.nodes import http_session

ADMIN = Principal("adm", Role.ADMIN)


async def test_a_card_number_in_a_case_subject_is_masked(case_node: Node) -> None:
    async with http_session(case_node) as http:
        admin = await staff(http, "adm")
        opened = await http.post(
            "/api/v1/cases",
            json={
                "subject": "Refund to 6011 1111 1111 1117 exp 12/27",
                "customer": {"id": "c-1"},
                "queue": "booking",
            },
            headers=admin,
        )
        assert opened.status == 201, await opened.text()
        case = await opened.json()
        assert case["subject"] == "Refund to •••• •••• •••• 1117 exp ••/••"
        url = f"/api/v1/cases/{case['case_id']}"

        new_subject = {"subject": "Refund to 5555\n5555\n5555\n4444 cvv 123"}
        changed = await http.patch(url, json=new_subject, headers=admin)
        assert changed.status == 200, await changed.text()
        assert (await changed.json())["subject"] == "Refund to •••• •••• •••• 4444 cvv •••"
        # The same subject again is no change: it is compared once masked.
        again = await http.patch(url, json=new_subject, headers=admin)
        assert again.status == 200, await again.text()
        read = await (await http.get(url, headers=admin)).json()
        listed = await (await http.get("/api/v1/cases", headers=admin)).json()

    subjects = [entry["detail"] for entry in read["history"] if entry["action"] == "subject"]
    assert subjects == [
        {
            "subject": "Refund to •••• •••• •••• 4444 cvv •••",
            "was": "Refund to •••• •••• •••• 1117 exp ••/••",
        }
    ]
    assert [c["subject"] for c in listed["cases"]] == [read["subject"]]

    # Opened by the service's other callers (a CRM through the API, a desk): the same.
    direct = await case_node.cases.create(
        ADMIN, CaseRequest("c-2", "Fee paid by 378282246310005", "booking")
    )
    assert direct.subject == "Fee paid by •••• •••• •••• 0005"
    direct = await case_node.cases.change(
        ADMIN, direct.case_id, CaseChange(subject="Fee paid by 4242424242424242")
    )
    assert direct.subject == "Fee paid by •••• •••• •••• 4242"

    kept = await stored_text(case_node.client)
    assert any("Refund to" in value for value in kept)  # the scan does read the cases
    assert not [value for value in kept if holds_a_card(value) or "cvv 123" in value]
    scraped = case_node.metrics.exposition().decode()
    assert 'switchboard_chat_redactions_total{kind="card_number"} 5.0' in scraped
    assert 'switchboard_chat_redactions_total{kind="card_security_code"} 2.0' in scraped
