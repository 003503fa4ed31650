"""Sessions that end: logout, revocation on account changes (on every node, open
WebSockets closed), idle timeouts, and login throttling, on a real Redis and HTTP."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import aiohttp
import pytest

import router.sessions as sessions_module
from router.errors import BadCredentials
from router.model import Agent, ContactState, Presence, Role
from router.sessions import SessionPolicy, Sessions
from router.store import RoutingStore
from router.users_store import UserStore
from switchboard.common.clock import now_ms
from tests.nodes import TEST_AUTH, http_session, login, new_chat, running_node

ANA = Agent("ana", "default", {"booking": 4}, ["en"])


async def until_closed(socket: aiohttp.ClientWebSocketResponse) -> aiohttp.WSMessage:
    """The close frame, past the events before it (bounded)."""
    for _ in range(10):
        message = await asyncio.wait_for(socket.receive(), 5)
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            return message
    raise AssertionError("the socket stayed open")


async def status(http: aiohttp.ClientSession, headers: dict[str, str]) -> int:
    return (await http.get("/api/v1/agents/ana", headers=headers)).status


async def test_logout_ends_the_token_and_takes_the_agent_offline(redis_url: str) -> None:
    async with running_node(
        redis_url, users=[("ana", Role.AGENT, "ana-secret-1")], agents=[ANA]
    ) as node:
        async with http_session(node) as http:
            ana = await login(http, "ana", "ana-secret-1")
            assert await status(http, ana) == 200
            assert (await http.post("/api/v1/agents/logout", headers=ana)).status == 200
            assert await status(http, ana) == 401
        assert (await node.router.get_agent("ana")).presence.value == "offline"
        assert await node.sessions.users.token_count("ana") == 0


async def test_a_password_change_closes_the_agents_websocket_on_another_node(
    redis_url: str,
) -> None:
    async with (
        running_node(
            redis_url, node_id="n1", users=[("ana", Role.AGENT, "ana-secret-1")], agents=[ANA]
        ) as one,
        running_node(redis_url, node_id="n2") as two,
        http_session(two) as http,
    ):
        ana = await login(http, "ana", "ana-secret-1")
        socket = await http.ws_connect("/api/v1/agents/ana/events", headers=ana)
        # The change is made through the other node's services (as `users add` does).
        await one.sessions.save_user("ana", Role.AGENT, "a-new-secret-2")
        message = await until_closed(socket)
        assert message.type == aiohttp.WSMsgType.CLOSE and message.data == 4001
        assert await status(http, ana) == 401
        assert await status(http, await login(http, "ana", "a-new-secret-2")) == 200


async def test_a_demoted_supervisor_loses_the_wallboard_at_once(redis_url: str) -> None:
    sue_agent = Agent("sue", "default", {"booking": 4}, ["en"])
    users = [("sue", Role.SUPERVISOR, "sue-secret-1")]
    async with (
        running_node(redis_url, users=users, agents=[sue_agent]) as node,
        http_session(node) as http,
    ):
        sue = await login(http, "sue", "sue-secret-1")
        assert (await http.get("/api/v1/wallboard", headers=sue)).status == 200
        await node.sessions.save_user("sue", Role.AGENT, "sue-secret-1")
        assert (await http.get("/api/v1/wallboard", headers=sue)).status == 401
        again = await login(http, "sue", "sue-secret-1")
        assert (await http.get("/api/v1/wallboard", headers=again)).status == 403


async def test_a_supervisor_signs_an_agent_out(redis_url: str) -> None:
    users = [("ana", Role.AGENT, "ana-secret-1"), ("sup", Role.SUPERVISOR, "sup-secret-1")]
    async with running_node(redis_url, users=users, agents=[ANA]) as node:
        async with http_session(node) as http:
            ana = await login(http, "ana", "ana-secret-1")
            await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
            socket = await http.ws_connect("/api/v1/agents/ana/events", headers=ana)
            sup = await login(http, "sup", "sup-secret-1")
            response = await http.post("/api/v1/agents/ana/logout", headers=sup)
            assert response.status == 200 and (await response.json())["state"] == "offline"
            message = await until_closed(socket)
            assert message.type == aiohttp.WSMsgType.CLOSE
            assert await status(http, ana) == 401
        entries = await node.reports.audit_log()
        assert [(e.actor, e.action, e.detail) for e in entries] == [
            ("sup", "agent.log_out", {"agent_id": "ana"})
        ]


async def events_until(
    events: asyncio.Queue[dict[str, Any]], kinds: set[str], timeout_s: float = 5.0
) -> list[dict[str, Any]]:
    """The events that came until one of each kind in `kinds` has (bounded)."""
    seen: list[dict[str, Any]] = []
    while not kinds <= {event["type"] for event in seen}:
        seen.append(await asyncio.wait_for(events.get(), timeout_s))
    return seen


async def test_signing_out_gives_back_the_offer_and_the_chat_held(redis_url: str) -> None:
    """ana signs out with a chat connected and another ringing: the offer is revoked and
    the chat requeued (both back at their place in the queue, the customer told), she
    stays offline when the ring time passes, and bob, signing in, is offered both."""
    bob = Agent("bob", "default", {"booking": 4}, ["en"])
    users = [("ana", Role.AGENT, "ana-secret-1"), ("bob", Role.AGENT, "bob-secret-1")]
    async with (
        running_node(redis_url, users=users, agents=[ANA, bob]) as node,
        http_session(node) as http,
    ):
        ana = await login(http, "ana", "ana-secret-1")
        await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
        held = await new_chat(http)
        assert (await http.post(f"/api/v1/contacts/{held['contact_id']}/accept", headers=ana)).ok
        ringing = await new_chat(http)
        offer = await node.router.get_contact(ringing["contact_id"])
        assert (offer.state, offer.agent_id) == (ContactState.OFFERED, "ana")
        customer = await http.ws_connect(
            f"/api/v1/contacts/{held['contact_id']}/events",
            params={"customer_token": held["customer_token"]},
        )
        assert (await asyncio.wait_for(customer.receive_json(), 5))["type"] == "ready"
        assert node.hub is not None
        async with node.hub.listen(agent_id="ana") as events:
            assert (await http.post("/api/v1/agents/logout", headers=ana)).status == 200
            seen = await events_until(events, {"offer_revoked", "contact_requeued"})
        revoked = [e for e in seen if e["type"] == "offer_revoked"]
        requeued = [e for e in seen if e["type"] == "contact_requeued"]
        assert [e["contact_id"] for e in revoked] == [ringing["contact_id"]]
        assert [e["contact_id"] for e in requeued] == [held["contact_id"]]
        told = await asyncio.wait_for(customer.receive_json(), 5)
        assert told == {"type": "contact_requeued", "contact_id": held["contact_id"]}
        await customer.close()

        agent = await node.router.get_agent("ana")
        assert (agent.presence, agent.reason) == (Presence.OFFLINE, "logged out")
        assert (agent.load, agent.offers) == ({"voice": 0, "chat": 0}, 0)
        waiting = [cid for cid, _ in await node.router.store.waiting("booking")]
        assert waiting == [held["contact_id"], ringing["contact_id"]]  # their places
        again = await node.router.get_contact(held["contact_id"])
        assert (again.state, again.agent_id) == (ContactState.QUEUED, "")
        assert "agent ana went offline (logged out)" in again.explanation[-1]

        await node.router.tick(at_ms=now_ms() + 20_000)  # past the ring time
        agent = await node.router.get_agent("ana")
        assert agent.presence == Presence.OFFLINE and agent.state(now_ms()).value == "offline"

        bob_token = await login(http, "bob", "bob-secret-1")
        await http.put("/api/v1/agents/bob/state", json={"state": "available"}, headers=bob_token)
        for contact in (held, ringing):
            now = await node.router.get_contact(contact["contact_id"])
            assert (now.state, now.agent_id) == (ContactState.OFFERED, "bob")


@pytest.mark.parametrize("change", ["password", "removal"])
async def test_ending_every_session_of_an_agent_signs_her_out(redis_url: str, change: str) -> None:
    """An admin changes ana's password or removes her account: her sessions end, and
    with them her presence: offline, offered nothing."""
    users = [("ana", Role.AGENT, "ana-secret-1"), ("adm", Role.ADMIN, "adm-secret-1")]
    async with (
        running_node(redis_url, users=users, agents=[ANA]) as node,
        http_session(node) as http,
    ):
        ana = await login(http, "ana", "ana-secret-1")
        await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
        adm = await login(http, "adm", "adm-secret-1")
        if change == "password":
            body = {"role": "agent", "password": "ana-secret-2"}
            done = await http.put("/api/v1/admin/users/ana", json=body, headers=adm)
        else:
            done = await http.delete("/api/v1/admin/users/ana", headers=adm)
        assert done.status in (200, 204), await done.text()
        assert await status(http, ana) == 401
        agent = await node.router.get_agent("ana")
        assert agent.presence == Presence.OFFLINE
        chat = await new_chat(http)
        assert (await node.router.get_contact(chat["contact_id"])).state == ContactState.QUEUED


async def test_an_agent_nobody_is_signed_in_as_may_only_be_set_offline(redis_url: str) -> None:
    users = [("ana", Role.AGENT, "ana-secret-1"), ("sup", Role.SUPERVISOR, "sup-secret-1")]
    async with (
        running_node(redis_url, users=users, agents=[ANA]) as node,
        http_session(node) as http,
    ):
        ana = await login(http, "ana", "ana-secret-1")
        assert (await http.post("/api/v1/agents/logout", headers=ana)).status == 200
        sup = await login(http, "sup", "sup-secret-1")
        for state in ("available", "not_ready"):
            refused = await http.put("/api/v1/agents/ana/state", json={"state": state}, headers=sup)
            assert refused.status == 409
            assert "signed out" in (await refused.json())["message"]
        assert (await node.router.get_agent("ana")).presence == Presence.OFFLINE
        chat = await new_chat(http)
        assert (await node.router.get_contact(chat["contact_id"])).state == ContactState.QUEUED
        offline = await http.put("/api/v1/agents/ana/state", json={"state": "offline"}, headers=sup)
        assert offline.status == 200 and (await offline.json())["state"] == "offline"
        # Signed in again, she (or her supervisor) sets her state as before.
        ana = await login(http, "ana", "ana-secret-1")
        back = await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=sup)
        assert back.status == 200
        offered = await node.router.get_contact(chat["contact_id"])
        assert (offered.state, offered.agent_id) == (ContactState.OFFERED, "ana")


async def test_an_idle_token_ends(redis_url: str) -> None:
    idle = dataclasses.replace(TEST_AUTH, idle_timeout_s=1.0)
    async with (
        running_node(
            redis_url, users=[("ana", Role.AGENT, "ana-secret-1")], agents=[ANA], auth=idle
        ) as node,
        http_session(node) as http,
    ):
        ana = await login(http, "ana", "ana-secret-1")
        for _ in range(3):  # in use: kept alive past the idle time
            await asyncio.sleep(0.5)
            assert await status(http, ana) == 200
        await asyncio.sleep(1.5)
        assert await status(http, ana) == 401


async def test_logging_out_after_another_tab_idled_out_signs_the_agent_out(
    redis_url: str,
) -> None:
    """A token idle too long is gone though still listed under its user: it is no
    session, so logging out of the only live one takes the agent offline, and a
    supervisor may not set her available again."""
    idle = dataclasses.replace(TEST_AUTH, idle_timeout_s=1.0)
    users = [("ana", Role.AGENT, "ana-secret-1"), ("sup", Role.SUPERVISOR, "sup-secret-1")]
    async with (
        running_node(redis_url, users=users, agents=[ANA], auth=idle) as node,
        http_session(node) as http,
    ):
        first = await login(http, "ana", "ana-secret-1")
        await asyncio.sleep(1.6)  # the first tab idles out
        assert await status(http, first) == 401
        ana = await login(http, "ana", "ana-secret-1")
        state = await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
        assert state.status == 200
        assert (await http.post("/api/v1/agents/logout", headers=ana)).status == 200
        assert (await node.router.get_agent("ana")).presence == Presence.OFFLINE
        sup = await login(http, "sup", "sup-secret-1")
        again = await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=sup)
        assert again.status == 409
        assert (await node.router.get_agent("ana")).presence == Presence.OFFLINE


async def test_an_agent_whose_sessions_ran_out_is_signed_out(redis_url: str) -> None:
    """ana closes her desk without logging out, a chat connected: once her token idles
    out her node signs her out as a logout would (the chat back in the queue, offline
    "session expired"), and she stays out; bob, whose desk is in use, stays signed in."""
    lapsing = dataclasses.replace(TEST_AUTH, idle_timeout_s=1.0, expiry_check_s=0.2)
    bob = Agent("bob", "default", {"booking": 4}, ["en"])
    users = [("ana", Role.AGENT, "ana-secret-1"), ("bob", Role.AGENT, "bob-secret-1")]
    async with (
        running_node(redis_url, users=users, agents=[ANA, bob], auth=lapsing) as node,
        http_session(node) as http,
    ):
        ana = await login(http, "ana", "ana-secret-1")
        await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
        held = await new_chat(http)
        assert (await http.post(f"/api/v1/contacts/{held['contact_id']}/accept", headers=ana)).ok
        bob_token = await login(http, "bob", "bob-secret-1")  # not ready, at his desk
        for _ in range(40):  # bob's desk is in use; ana's is gone (bounded: 4 s)
            assert (await http.get("/api/v1/agents/bob", headers=bob_token)).status == 200
            await asyncio.sleep(0.1)
            if (await node.router.get_agent("ana")).presence == Presence.OFFLINE:
                break
        agent = await node.router.get_agent("ana")
        assert (agent.presence, agent.reason) == (Presence.OFFLINE, "session expired")
        assert (agent.load, agent.offers) == ({"voice": 0, "chat": 0}, 0)
        again = await node.router.get_contact(held["contact_id"])
        assert (again.state, again.agent_id) == (ContactState.QUEUED, "")
        assert (await node.router.get_agent("bob")).presence == Presence.NOT_READY
        await asyncio.sleep(0.5)  # later checks leave her signed out
        assert (await node.router.get_agent("ana")).presence == Presence.OFFLINE


async def test_token_records_expire(redis_url: str, redis_client) -> None:
    async with running_node(
        redis_url, users=[("ana", Role.AGENT, "ana-secret-1")], agents=[ANA]
    ) as node:
        async with http_session(node) as http:
            await login(http, "ana", "ana-secret-1")
        ttl = await redis_client.ttl("sb:tokens:ana")
        assert 0 < ttl <= node.settings.auth.token_ttl_s + 1
        token_keys = [key async for key in redis_client.scan_iter("sb:token:*")]
        assert len(token_keys) == 1 and await redis_client.ttl(token_keys[0]) > 0


async def test_repeated_failures_are_throttled_then_forgiven(redis_url: str) -> None:
    quick = dataclasses.replace(TEST_AUTH, max_failures=3, lockout_base_s=1.0)
    async with running_node(
        redis_url, users=[("ana", Role.AGENT, "ana-secret-1")], agents=[ANA], auth=quick
    ) as node:
        async with http_session(node) as http:
            wrong = {"agent_id": "ana", "password": "wrong-password"}
            codes = [(await http.post("/api/v1/agents/login", json=wrong)).status for _ in range(3)]
            assert codes == [401, 401, 401]
            refused = await http.post(
                "/api/v1/agents/login", json={"agent_id": "ana", "password": "ana-secret-1"}
            )
            assert refused.status == 429 and int(refused.headers["Retry-After"]) >= 1
            assert (await refused.json())["error"] == "too_many_requests"
            await asyncio.sleep(1.2)
            await login(http, "ana", "ana-secret-1")  # the right password, after the wait
        assert node.settings.auth.max_failures == 3


async def test_an_unknown_user_costs_a_real_password_check(
    redis_client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pure logic with a spy: the login of a user who does not exist still verifies the
    password, against a hash of the configured cost, so its timing tells nothing."""
    checked: list[str] = []
    real = sessions_module.verify_password

    def spy(password: str, stored: str) -> bool:
        checked.append(stored)
        return real(password, stored)

    monkeypatch.setattr(sessions_module, "verify_password", spy)
    sessions = Sessions(
        UserStore(redis_client), RoutingStore(redis_client), SessionPolicy(scrypt_log2_n=12)
    )
    with pytest.raises(BadCredentials):
        await sessions.login("nobody", "some-password")
    assert len(checked) == 1 and checked[0].startswith(f"scrypt${2**12}$")
