"""What an agent may hold: the capacity chosen at sign-in lasts the session, whatever
the roster does meanwhile (an import, an admin's edit); the roster's capacity is the
one a sign-in that names none takes, not the previous session's."""

from __future__ import annotations

from router.model import Channel, ContactState, NewContact, Presence
from router.service import Router
from tests.router.conftest import make_agent
from tests.router.test_routing import T0


def chat() -> NewContact:
    return NewContact(channel=Channel.CHAT, queue="booking", language="en")


async def test_a_roster_import_keeps_the_capacity_an_agent_signed_in_with(
    router: Router,
) -> None:
    """ana's roster says three chats; she signs in for one. Re-imported mid-shift (a
    skill added before a peak), she is still offered one chat at a time."""
    ana = make_agent("ana")
    await router.upsert_agent(ana)
    await router.login("ana", channels={"chat": 1})
    await router.set_presence("ana", Presence.AVAILABLE, at_ms=T0)
    ana.skills = {"booking": 4, "baggage": 2}
    await router.upsert_agent(ana)
    agent = await router.get_agent("ana")
    assert agent.capacity == {"voice": 1, "chat": 1}
    assert agent.skills == {"booking": 4, "baggage": 2}
    first = await router.create_contact(chat(), at_ms=T0 + 1000)
    second = await router.create_contact(chat(), at_ms=T0 + 2000)
    assert (first.state, first.agent_id) == (ContactState.OFFERED, "ana")
    assert second.state == ContactState.QUEUED


async def test_signing_in_without_channels_takes_the_rosters_capacity(router: Router) -> None:
    ana = make_agent("ana")
    await router.upsert_agent(ana)
    await router.login("ana", channels={"chat": 1, "voice": 0})
    await router.set_presence("ana", Presence.OFFLINE, "logged out")
    await router.login("ana")  # the next day: the roster's three chats, not yesterday's one
    assert (await router.get_agent("ana")).capacity == {"voice": 1, "chat": 3}
    await router.set_presence("ana", Presence.OFFLINE, "logged out")
    ana.capacity = {"voice": 1, "chat": 2}  # the planner's new roster, while she is out
    await router.upsert_agent(ana)
    assert (await router.get_agent("ana")).capacity == {"voice": 1, "chat": 2}
    await router.login("ana")
    assert (await router.get_agent("ana")).capacity == {"voice": 1, "chat": 2}
    await router.login("ana", channels={"voice": 0})  # the other channel: the roster's
    assert (await router.get_agent("ana")).capacity == {"voice": 0, "chat": 2}
