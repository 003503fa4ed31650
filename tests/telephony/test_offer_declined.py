"""An agent's phone that declines the offered call (603 Decline) ends the offer as
`declined`, the reason the router and the desk's own decline give (it said `rejected`).
Real SIP: a node with one worker, pjsua2 phones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from router.service import Router

from .conftest import add_agent, node_uri, until


async def test_a_phone_declining_the_offer_ends_it_as_declined(
    node: Callable[..., Any], router: Router, parties: Callable[..., Any]
) -> None:
    voice = await node()
    phone = await parties()  # rings, answers nothing by itself
    await add_agent(router, "ana", phone.uri, {"booking": 2})
    caller = await parties()
    caller.send(cmd="call", uri=node_uri(voice))
    await caller.wait_for("media", timeout=20)
    caller.send(cmd="dtmf", digits="1")
    await phone.wait_for("incoming", timeout=20)
    phone.send(cmd="hangup", code=603)

    async def declined() -> bool:
        contact_id = next(iter(voice.pool.owner), None)
        if contact_id is None:
            return False
        explanation = " ".join(map(str, (await router.get_contact(contact_id)).explanation))
        return "offer to ana ended: declined" in explanation

    await until(declined)
