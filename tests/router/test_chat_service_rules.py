"""The rules of a customer's chat are the service's (`Contacts`), not its HTTP handler's:

- a queue or a region that does not exist is 400 naming its field, whoever starts the
  chat (staff, who may start any queue's, too);
- the customer's own chat is watched from its start (through the spawner it is given),
  a chat staff start for a customer is not;
- the waiting place a live stream sends is asked through access: a stranger gets none;
- a second rating is refused by the service (409).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Coroutine
from typing import Any

import pytest

from router.access import Customer, Principal
from router.contacts import ChatRequest, CustomerClaims
from router.errors import InvalidInput, RoutingError
from router.model import Agent, ContactState, Presence, Role
from switchboard.node import Node
from tests.nodes import running_node

SUPERVISOR = Principal("sup", Role.SUPERVISOR)


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    agents = [Agent("ana", "default", {"booking": 4}, ["en"])]
    async with running_node(redis_url, agents=agents) as node:
        yield node


@pytest.mark.parametrize("actor", [None, SUPERVISOR])
async def test_an_unknown_queue_is_refused_naming_it(node: Node, actor: Principal | None) -> None:
    with pytest.raises(InvalidInput) as refused:
        await node.contacts.start_chat(ChatRequest(queue="nowhere", language="en"), actor)
    assert refused.value.field == "$.queue"
    assert refused.value.expected == f"one of {', '.join(node.router.queues)}"


@pytest.mark.parametrize("actor", [None, SUPERVISOR])
async def test_an_unknown_region_is_refused_naming_it(node: Node, actor: Principal | None) -> None:
    """Refused from anyone: from a customer it would be ignored, but a typo is told."""
    claims = CustomerClaims("c-1", region="atlantis")
    request = ChatRequest(queue="booking", language="en", claims=claims)
    with pytest.raises(InvalidInput) as refused:
        await node.contacts.start_chat(request, actor)
    assert refused.value.field == "$.region"
    assert refused.value.expected == f"one of {', '.join(node.router.known_regions)}"
    known = ChatRequest("booking", "en", claims=CustomerClaims("c-1", region="default"))
    contact, _ = await node.contacts.start_chat(known, actor)
    assert contact.queue == "booking"


async def test_only_the_customers_own_chat_is_watched_from_its_start(node: Node) -> None:
    spawned: list[Coroutine[Any, Any, Any]] = []
    request = ChatRequest(queue="booking", language="en")
    own, _ = await node.contacts.start_chat(request, None, spawned.append)
    assert len(spawned) == 1
    assert "Contacts.await_window" in repr(spawned[0])
    spawned.pop().close()
    await node.contacts.start_chat(request, SUPERVISOR, spawned.append)
    assert spawned == []
    assert own.state == ContactState.QUEUED


async def test_the_waiting_place_is_for_those_who_may_watch(node: Node) -> None:
    contact, _ = await node.contacts.start_chat(ChatRequest(queue="booking", language="en"))
    cid = contact.contact_id
    place = await node.contacts.position_update(Customer(cid), cid)
    assert place is not None and (place["type"], place["position"]) == ("position", 1)
    assert await node.contacts.position_update(SUPERVISOR, cid) == place
    assert await node.contacts.position_update(Principal("bo", Role.AGENT), cid) is None
    other, _ = await node.contacts.start_chat(ChatRequest(queue="booking", language="en"))
    assert await node.contacts.position_update(Customer(other.contact_id), cid) is None


async def test_a_second_rating_is_refused_by_the_service(node: Node) -> None:
    contact, _ = await node.contacts.start_chat(ChatRequest(queue="booking", language="en"))
    cid = contact.contact_id
    await node.router.set_presence("ana", Presence.AVAILABLE)
    await node.router.accept(cid, "ana")
    await node.router.complete(cid, "ana")
    customer = Customer(cid)
    assert await node.contacts.position_update(customer, cid) is None  # waits no more
    await node.contacts.rate(customer, cid, 5)
    with pytest.raises(RoutingError, match="already rated"):
        await node.contacts.rate(customer, cid, 4)
