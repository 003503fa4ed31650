"""An agent's "time in state" on the wallboard and the agents API is the start of the
state shown, not the agent's last presence change.

Played through the real Router on the real (embedded) Redis with the clock driven by
`at_ms`; the agents are read back from Redis, as the wallboard reads them. Queue
`general` (wrap-up 10 s), agent dai, available from T0 - 5 min:

| time     | what happens                                  | shown                  |
|----------|-----------------------------------------------|------------------------|
| T0       | chat c1 rings at dai                          | reserved since T0      |
| T0+3 s   | dai accepts c1                                | busy since T0+3 s      |
| T0+20 s  | c2 rings, accepted at 22 s                    | busy since T0+3 s      |
| T0+30 s  | c1 completed (c2 still held)                  | busy since T0+3 s      |
| T0+40 s  | c2 completed: wrap-up until T0+50 s           | wrap-up since T0+40 s  |
| T0+55 s  |                                               | available since T0+50 s|
| T0+61 s  | c3 accepted, transferred at 70 s (no wrap-up) | available since T0+70 s|
| T0+80 s  | dai goes not ready                            | not ready since T0+80 s|
"""

from __future__ import annotations

import datetime as dt

import redis.asyncio as aioredis

from router.model import Agent, AgentState, Channel, NewContact, Presence, QueueConfig
from router.service import Router
from router.store import RoutingStore
from switchboard.http.views import state_since_ms

T0 = int(dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC).timestamp() * 1000)
S = 1000


async def shown(router: Router, now: int) -> tuple[str, int | None]:
    agent = await router.get_agent("dai")
    return agent.state(now).value, state_since_ms(agent, now)


async def test_time_in_state_starts_with_the_state_shown(redis_client: aioredis.Redis) -> None:
    router = Router(
        RoutingStore(redis_client),
        [
            QueueConfig(name="general", skill="general", wrap_up_s=10),
            QueueConfig(name="booking", skill="booking", wrap_up_s=0),
        ],
        node_id="n1",
        region="eu",
    )
    await router.publish_configuration(["eu"])
    await router.store.upsert_agent(Agent("dai", "eu", {"general": 3}, ["en"]), at_ms=T0 - 600 * S)
    await router.set_presence("dai", Presence.AVAILABLE, at_ms=T0 - 300 * S)
    assert await shown(router, T0 - 1) == (AgentState.AVAILABLE.value, T0 - 300 * S)

    async def chat(at: int) -> str:
        new = NewContact(Channel.CHAT, "general", "en", customer_id="cust-1")
        return (await router.create_contact(new, at_ms=at)).contact_id

    c1 = await chat(T0)
    assert await shown(router, T0 + S) == ("reserved", T0)
    await router.accept(c1, "dai", at_ms=T0 + 3 * S)
    assert await shown(router, T0 + 4 * S) == ("busy", T0 + 3 * S)
    c2 = await chat(T0 + 20 * S)
    await router.accept(c2, "dai", at_ms=T0 + 22 * S)
    await router.complete(c1, at_ms=T0 + 30 * S)
    assert await shown(router, T0 + 31 * S) == ("busy", T0 + 3 * S)
    await router.complete(c2, at_ms=T0 + 40 * S)
    assert await shown(router, T0 + 45 * S) == ("wrap_up", T0 + 40 * S)
    await router.tick(at_ms=T0 + 50 * S)  # the wrap-up's end: dai takes contacts again
    assert await shown(router, T0 + 55 * S) == ("available", T0 + 50 * S)

    c3 = await chat(T0 + 60 * S)
    await router.accept(c3, "dai", at_ms=T0 + 61 * S)
    await router.transfer(c3, "dai", to_queue="booking", at_ms=T0 + 70 * S)
    assert await shown(router, T0 + 75 * S) == ("available", T0 + 70 * S)
    await router.set_presence("dai", Presence.NOT_READY, "lunch", at_ms=T0 + 80 * S)
    assert await shown(router, T0 + 85 * S) == ("not_ready", T0 + 80 * S)
