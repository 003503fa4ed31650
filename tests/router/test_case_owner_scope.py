"""Whom an agent may hand a case to (docs/security.md, "Naming a case's owner"): the
owner is offered the customer's next contacts first, past regional routing, so an agent
who owns the case names only a colleague within the case's own scope (its queue's
skill, its region), as a supervisor of the case could. A probe found an agent in one
region handing a case to a colleague in another, which that region's own supervisor was
refused."""

from __future__ import annotations

from pathlib import Path

from router.access import Principal
from router.cases.service import CaseRequest
from router.model import Agent, Role
from tests.cases.conftest import PASSWORD, case_config, staff, started
from tests.nodes import http_session

ADMIN = Principal("adm", Role.ADMIN)
LYON = '\n[[regions]]\nname = "lyon"\ntimezone = "Europe/Paris"\nopen = "09:00"\nclose = "18:00"\n'


async def test_an_agent_hands_a_case_only_to_a_colleague_of_its_region(
    redis_url: str, tmp_path: Path
) -> None:
    async with started(redis_url, case_config(tmp_path, LYON)) as node:
        # kai takes booking in Lyon; the case is of Paris, as its supervisor pam.
        await node.router.upsert_agent(Agent("kai", "lyon", {"booking": 4}, ["en"]))
        await node.sessions.save_user("kai", Role.AGENT, PASSWORD)
        await node.sessions.save_user(
            "pam", Role.SUPERVISOR, PASSWORD, queues=("booking",), regions=("paris",)
        )
        case = await node.cases.create(
            ADMIN, CaseRequest("c-50", "Refund", "booking", region="paris", owner="bob")
        )
        url = f"/api/v1/cases/{case.case_id}"

        async def owner() -> str:
            found = await node.cases.store.get(case.case_id)
            assert found is not None
            return found.owner

        async with http_session(node) as http:
            bob, ana = await staff(http, "bob"), await staff(http, "ana")
            pam, admin = await staff(http, "pam"), await staff(http, "adm")

            # Paris's supervisor may not send the case to Lyon; nor may its owner.
            for headers in (pam, bob):
                refused = await http.patch(url, json={"owner": "kai"}, headers=headers)
                assert refused.status == 403, await refused.text()
                assert await owner() == "bob"
            said = (await refused.json())["message"]
            assert "agent bob may not make agent kai a case's owner" in said
            assert "lyon" in said and "paris" in said  # why: the regions, named

            # A colleague of its region and queue: handed over.
            handed = await http.patch(url, json={"owner": "ana"}, headers=bob)
            assert handed.status == 200 and (await handed.json())["owner"] == "ana"
            # One without the queue's skill is a wrong body, whoever names him.
            wrong = await http.patch(url, json={"owner": "sen"}, headers=ana)
            assert wrong.status == 400 and (await wrong.json())["field"] == "$.owner"
            # The agent who holds it now may not send it to Lyon either; an admin may.
            refused = await http.patch(url, json={"owner": "kai"}, headers=ana)
            assert refused.status == 403 and await owner() == "ana"
            given = await http.patch(url, json={"owner": "kai"}, headers=admin)
            assert given.status == 200 and await owner() == "kai"
            # kai, of Lyon, owns a case of Paris now: he too hands it only within Paris.
            kai = await staff(http, "kai")
            assert (await http.patch(url, json={"owner": "bob"}, headers=kai)).status == 200
