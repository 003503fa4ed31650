"""Whom a case may be given to (docs/security.md): its owner is offered the customer's
next contacts before anyone, whatever the queue's skills, so the owner named must serve
the case's queue, and a supervisor names only an agent they oversee. A probe made an
emergency-only agent, whom the supervisor could not even read, the owner of a booking
case: that customer's next booking chat rang at her alone."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from router.access import Principal
from router.cases.service import CaseChange, CaseRequest
from router.model import Agent, Channel, NewContact, Presence, Role
from switchboard.node import Node
from tests.cases.conftest import PASSWORD, case_config, staff, started
from tests.nodes import http_session

ADMIN = Principal("adm", Role.ADMIN)


async def test_an_owner_serves_the_cases_queue_and_is_one_the_giver_oversees(
    case_node: Node,
) -> None:
    router = case_node.router
    # kai takes booking in Tokyo, outside the Paris booking supervisor's regions.
    await router.upsert_agent(Agent("kai", "tokyo", {"booking": 4}, ["en"]))
    await case_node.sessions.save_user(
        "pam", Role.SUPERVISOR, PASSWORD, queues=("booking",), regions=("paris",)
    )
    case = await case_node.cases.create(ADMIN, CaseRequest("c-40", "Refund", "booking"))
    url = f"/api/v1/cases/{case.case_id}"
    async with http_session(case_node) as http:
        pam, bob = await staff(http, "pam"), await staff(http, "bob")
        admin = await staff(http, "adm")

        # sen takes only senior: never the owner of a booking case, whoever names him.
        for headers in (pam, admin):
            refused = await http.patch(url, json={"owner": "sen"}, headers=headers)
            assert refused.status == 400 and (await refused.json())["field"] == "$.owner"
        opened = await _open(http, admin, owner="sen")
        assert opened.status == 400 and (await opened.json())["field"] == "$.owner"
        # kai serves booking, but not where pam oversees.
        refused = await http.patch(url, json={"owner": "kai"}, headers=pam)
        assert refused.status == 403, await refused.text()
        assert (await case_node.cases.store.get(case.case_id)).owner == ""  # type: ignore[union-attr]

        given = await http.patch(url, json={"owner": "bob"}, headers=pam)
        assert (await given.json())["owner"] == "bob"
        # bob hands it to a colleague who serves booking, not to one who does not.
        refused = await http.patch(url, json={"owner": "sen"}, headers=bob)
        assert refused.status == 400 and (await refused.json())["field"] == "$.owner"
        handed = await http.patch(url, json={"owner": "ana"}, headers=bob)
        assert (await handed.json())["owner"] == "ana"
        assert (await _open(http, admin, owner="kai")).status == 201  # an admin: anyone skilled


async def test_an_owner_who_does_not_serve_the_new_contacts_queue_is_not_waited_for(
    case_node: Node,
) -> None:
    """The case moved to senior keeps its owner (ana, who takes no senior contacts):
    the customer's next senior chat goes by the queue's skills, not to ana first."""
    router = case_node.router
    for agent_id in ("ana", "sen"):
        await router.set_presence(agent_id, Presence.AVAILABLE)
    case = await case_node.cases.create(
        ADMIN, CaseRequest("c-41", "Refund", "booking", owner="ana")
    )
    booking = NewContact(Channel.CHAT, "booking", "en", customer_id="c-41")
    prepared, _ = await case_node.cases.before_create(booking, None)
    assert prepared.preferred_agent == "ana"  # her queue: she is waited for first

    await case_node.cases.change(ADMIN, case.case_id, CaseChange(queue="senior"))
    senior = NewContact(Channel.CHAT, "senior", "en", customer_id="c-41")
    prepared, _ = await case_node.cases.before_create(senior, None)
    assert prepared.preferred_agent == "" and prepared.priority == 0
    contact = await router.create_contact(prepared)
    assert contact.agent_id == "sen"


async def test_an_agent_lists_the_cases_whose_contact_they_hold(case_node: Node) -> None:
    """ana serves the chat of a case bob owns: she may read the case, and it is in her
    list while she holds the chat (it was not: a probe's list was empty)."""
    router = case_node.router
    case = await case_node.cases.create(
        ADMIN, CaseRequest("c-43", "Refund", "booking", owner="bob")
    )
    await router.set_presence("ana", Presence.AVAILABLE)
    chat = await router.create_contact(
        NewContact(Channel.CHAT, "booking", "en", customer_id="c-43")
    )
    assert chat.agent_id == "ana"  # bob is signed out: nobody waits for him
    await router.accept(chat.contact_id, "ana")
    async with http_session(case_node) as http:
        ana = await staff(http, "ana")

        async def listed() -> list[str]:
            response = await http.get("/api/v1/cases", headers=ana)
            return [c["case_id"] for c in (await response.json())["cases"]]

        assert (await http.get(f"/api/v1/cases/{case.case_id}", headers=ana)).status == 200
        assert await listed() == [case.case_id]
        await router.complete(chat.contact_id, "ana")
        assert await listed() == []


async def _open(
    http: aiohttp.ClientSession, headers: dict[str, str], owner: str
) -> aiohttp.ClientResponse:
    body = {"subject": "Lost bag", "customer": {"id": "c-42"}, "queue": "booking"}
    if owner:
        body["owner"] = owner
    return await http.post("/api/v1/cases", json=body, headers=headers)


async def test_a_supervisor_of_another_region_opens_a_case_in_theirs_unnamed(
    redis_url: str, tmp_path: Path
) -> None:
    """A case for a customer id alone went to the node's region, which a supervisor of
    Lyon alone may not open cases in (403, a probe's): it goes to theirs."""
    lyon = (
        '\n[[regions]]\nname = "lyon"\ntimezone = "Europe/Paris"\nopen = "09:00"\nclose = "18:00"\n'
    )
    async with started(redis_url, case_config(tmp_path, lyon)) as node:
        await node.sessions.save_user(
            "lea", Role.SUPERVISOR, PASSWORD, queues=("booking",), regions=("lyon",)
        )
        async with http_session(node) as http:
            lea = await staff(http, "lea")
            opened = await _open(http, lea, owner="")
            assert opened.status == 201, await opened.text()
            assert (await opened.json())["region"] == "lyon"
            admin = await _open(http, await staff(http, "adm"), owner="")
            assert (await admin.json())["region"] == "paris"  # the node's, as before
