"""An agent's own ring time: longer than a queue's for an agent who needs more time to
answer (WCAG 2.2.1, an adjustable time limit); a queue's longer ring still holds."""

from __future__ import annotations

from dataclasses import replace

import pytest

from router.model import Channel, ContactState, NewContact, Presence
from router.roster import read_roster
from router.service import Router
from switchboard.common.errors import InputError
from tests.router.conftest import make_agent

T0 = 1_700_000_000_000
QUEUE_RING_MS = 5_000  # tests/router/conftest.py: booking rings for 5 s


async def offered_to(router: Router, agent_ring_s: int) -> str:
    agent = replace(make_agent("a1"), ring_s=agent_ring_s)
    await router.store.upsert_agent(agent, at_ms=T0)
    await router.set_presence("a1", Presence.AVAILABLE, at_ms=T0)
    contact = await router.create_contact(
        NewContact(channel=Channel.CHAT, queue="booking", language="en"), at_ms=T0
    )
    assert contact.state == ContactState.OFFERED and contact.agent_id == "a1"
    return contact.contact_id


async def test_an_agent_with_a_longer_ring_time_keeps_the_offer_past_the_queues(
    router: Router,
) -> None:
    contact_id = await offered_to(router, agent_ring_s=20)
    await router.tick(at_ms=T0 + QUEUE_RING_MS + 1)
    assert (await router.get_contact(contact_id)).state == ContactState.OFFERED
    assert (await router.get_agent("a1")).presence == Presence.AVAILABLE
    await router.tick(at_ms=T0 + 20_001)
    assert (await router.get_contact(contact_id)).state == ContactState.QUEUED
    agent = await router.get_agent("a1")
    assert agent.presence == Presence.NOT_READY and agent.reason == "no answer"


async def test_a_shorter_agent_ring_time_does_not_cut_the_queues(router: Router) -> None:
    contact_id = await offered_to(router, agent_ring_s=2)
    await router.tick(at_ms=T0 + 2_001)
    assert (await router.get_contact(contact_id)).state == ContactState.OFFERED
    await router.tick(at_ms=T0 + QUEUE_RING_MS + 1)
    assert (await router.get_contact(contact_id)).state == ContactState.QUEUED


async def test_the_offer_event_and_the_agent_carry_the_agents_ring_time(router: Router) -> None:
    await offered_to(router, agent_ring_s=40)
    offers = await router.store.client.zrange(router.store.keys.offers(), 0, -1, withscores=True)
    assert [score for _, score in offers] == [T0 + 40_000]
    assert (await router.get_agent("a1")).ring_s == 40


ROSTER = "agent_id,region,skills,languages,ring_s\n{rows}"


def test_the_roster_reads_ring_s_and_a_blank_is_each_queues() -> None:
    rows = "ana,emea,booking:3,en,45\nbo,emea,booking:3,en,\n"
    agents = read_roster(ROSTER.format(rows=rows), "agents.csv", ["emea"])
    assert [(agent.agent_id, agent.ring_s) for agent in agents] == [("ana", 45), ("bo", 0)]


async def test_a_roster_without_the_column_keeps_each_agents_ring_time(router: Router) -> None:
    """A planners' export knows nothing of ring times: importing it leaves what an
    admin set."""
    (set_by_admin,) = read_roster(ROSTER.format(rows="ana,emea,booking:3,en,200\n"), "a", ["emea"])
    await router.store.upsert_agent(set_by_admin, at_ms=T0)
    plain = "agent_id,region,skills,languages\nana,emea,booking:4,en\n"
    (exported,) = read_roster(plain, "agents.csv", ["emea"])
    assert exported.ring_s is None
    await router.store.upsert_agent(exported, at_ms=T0)
    agent = await router.get_agent("ana")
    assert agent.ring_s == 200 and agent.skills == {"booking": 4}


@pytest.mark.parametrize("value", ["301", "-1", "1.5", "soon", "²"])
def test_a_bad_ring_s_names_the_row_and_field(value: str) -> None:
    text = ROSTER.format(rows=f"ana,emea,booking:3,en,{value}\n")
    with pytest.raises(InputError, match=r"agents.csv: row 2: field ring_s: expected whole"):
        read_roster(text, "agents.csv", ["emea"])
