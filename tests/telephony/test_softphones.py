"""Softphones with an account: REGISTER with digest auth at the node's Kamailio, and the
router's offers reaching the contact they registered. Real SIP: Kamailio, the worker
pool, pjsua2 softphones on loopback, a real Router on Redis."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from router.model import Agent, AgentState, Presence, Role
from router.service import Router
from router.users_store import UserRecord, UserStore
from switchboard.common.clock import now_ms
from switchboard.node import Node
from switchboard.settings import RedisConfig, load_settings
from telephony.service import VoiceFrontDoor
from telephony.softphones import SipAccount
from tests.nodes import TEST_AUTH, http_session, login

from . import baresip_phone as baresip
from .conftest import (
    NODE_CONFIG,
    Party,
    add_agent,
    call_agent,
    connected_contact,
    free_sip_port,
    node_uri,
    recorded,
    rtp_block,
    running_voice,
    terminal,
    tone_share,
    until,
)
from .test_pool import CONFIG, _free_block

PASSWORD = "a-long-password"
DOMAIN = "switchboard.test"  # the accounts' domain and digest realm, not the host

pytestmark = pytest.mark.skipif(
    shutil.which("kamailio") is None,
    reason="Kamailio is not installed (make test installs it: scripts/system-deps.sh)",
)


@pytest.fixture
async def front_door(
    router: Router, tmp_path: Path, prompt_cache: Path
) -> AsyncIterator[VoiceFrontDoor]:
    """A node's voice front door with Kamailio, one worker and the node's users; its
    accounts' domain is not its host."""
    config = tmp_path / "node.toml"
    config.write_text(
        CONFIG.format(
            port=free_sip_port(),
            front_door="kamailio",
            workers=1,
            calls=4,
            worker_port_base=_free_block(1),
            rtp_port_base=rtp_block(),  # the worker's RTP apart from the phones' blocks
            cache=prompt_cache,
        ).replace("[sip]\n", f'[sip]\ndomain = "{DOMAIN}"\n')
    )
    users = UserStore(router.store.client)
    async with running_voice(config, router, tmp_path / "v", users=users) as voice:
        yield voice


async def staff(voice: VoiceFrontDoor, user_id: str) -> SipAccount:
    """A user of the node, allowed to register (what signing in does)."""
    assert voice.softphones is not None
    users = voice.softphones.users
    assert isinstance(users, UserStore)
    await users.put(UserRecord(user_id, "agent", "scrypt$unused"))
    return await voice.softphones.allow(user_id)


async def softphone(
    parties: Callable[..., Any], account: SipAccount, password: str | None = None, *extra: str
) -> Party:
    party: Party = await parties(
        "--user",
        account.user,
        "--registrar",
        f"sip:{account.server}",
        "--domain",
        account.domain,
        "--password",
        account.password if password is None else password,
        *extra,
    )
    return party


async def registered(party: Party) -> dict[str, Any]:
    """The registrar's final answer (a 401 challenge is answered by pjsua itself)."""
    event: dict[str, Any] = await party.wait_for(
        "registration", timeout=15, where=lambda e: e["code"] != 401 or not e["active"]
    )
    return event


async def contacts(voice: VoiceFrontDoor) -> str:
    assert voice.front_door is not None and voice.softphones is not None
    registrar = voice.softphones.registrar
    return str(await registrar.call("ul.dump"))  # type: ignore[attr-defined]


async def caller_in_queue(voice: VoiceFrontDoor, parties: Callable[..., Any]) -> Any:
    """A caller dials the node and picks the booking queue (1) in the IVR."""
    caller = await parties()
    caller.send(cmd="call", uri=node_uri(voice))
    await caller.wait_for("media", timeout=20)
    caller.send(cmd="dtmf", digits="1")
    return caller


async def test_a_softphone_registers_only_with_its_password(
    front_door: VoiceFrontDoor, parties: Callable[..., Any]
) -> None:
    voice = front_door
    ana = await staff(voice, "ana")
    assert ana.uri == f"sip:ana@127.0.0.1:{voice.sip.port}" and ana.domain == DOMAIN
    assert len(ana.password) == 24

    wrong = await softphone(parties, ana, "not-the-password")
    refused = await registered(wrong)
    assert refused["code"] == 401 and not refused["active"]
    assert "ana" not in await contacts(voice)

    phone = await softphone(parties, ana)
    accepted = await registered(phone)
    assert accepted["code"] == 200 and accepted["active"]
    assert f"127.0.0.1:{phone.port}" in await contacts(voice)

    # A user the registrar has no account for is refused, whatever the password.
    stranger = SipAccount("zed", ana.domain, ana.server, "udp", ana.password)
    unknown = await registered(await softphone(parties, stranger))
    assert unknown["code"] == 403 and not unknown["active"]

    # Revoked: the contact is gone at once and registering again fails.
    assert voice.softphones is not None
    await voice.softphones.forget("ana")
    assert "ana" not in await contacts(voice)
    again = await softphone(parties, ana)
    assert (await registered(again))["code"] == 403


async def test_an_offer_rings_the_registered_softphone_and_the_call_completes(
    front_door: VoiceFrontDoor, router: Router, parties: Callable[..., Any]
) -> None:
    voice = front_door
    ana = await staff(voice, "ana")
    phone = await softphone(parties, ana, None, "--answer")
    assert (await registered(phone))["code"] == 200
    await add_agent(router, "ana", ana.uri, {"booking": 2})

    caller = await caller_in_queue(voice, parties)
    incoming = await phone.wait_for("incoming", timeout=20)
    assert incoming["to_user"] == "ana"
    await phone.wait_for("answered", timeout=20)
    contact_id = await connected_contact(voice, router)
    caller.send(cmd="hangup")
    await phone.wait_for("hangup", timeout=15)  # the BYE reaches the softphone through Kamailio
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.agent_id) == ("completed", "ana")


async def test_an_unregistered_softphone_rings_no_one_and_the_caller_goes_to_the_next_agent(
    front_door: VoiceFrontDoor, router: Router, parties: Callable[..., Any]
) -> None:
    voice = front_door
    ana = await staff(voice, "ana")  # an account, but no softphone registered
    await add_agent(router, "ana", ana.uri, {"booking": 2})

    await caller_in_queue(voice, parties)
    pool = voice.pool
    assert pool is not None
    contact_id = await until(lambda: next(iter(pool.owner), None))

    await offer_ended_unreachable(router, "ana", contact_id)

    bob = await staff(voice, "bob")
    phone = await softphone(parties, bob, None, "--answer")
    assert (await registered(phone))["code"] == 200
    await add_agent(router, "bob", bob.uri, {"booking": 1})
    await phone.wait_for("answered", timeout=20)

    async def with_bob() -> bool:
        found = await router.get_contact(contact_id)
        return found.state.value == "connected" and found.agent_id == "bob"

    await until(with_bob)
    phone.send(cmd="hangup")
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.agent_id) == ("completed", "bob")


async def test_an_offer_to_a_name_with_no_account_here_is_refused_not_answered_by_a_worker(
    front_door: VoiceFrontDoor, router: Router, parties: Callable[..., Any]
) -> None:
    """An agent whose SIP URI names the node but no user signed in here (no account, or
    signed out): the front door answers 404 and the offer ends (RONA). The worker's
    INVITE (From `switchboard-w0`) used to fall through to the REFER-loop rule, came back
    to the worker, which answered it itself: the caller was "connected" to zed, heard
    nothing, and the contact was completed five seconds later."""
    voice = front_door
    await add_agent(router, "zed", f"sip:zed@127.0.0.1:{voice.sip.port}", {"booking": 2})
    await caller_in_queue(voice, parties)
    pool = voice.pool
    assert pool is not None
    contact_id = await until(lambda: next(iter(pool.owner), None))

    await offer_ended_unreachable(router, "zed", contact_id)


async def test_a_registered_phone_that_answers_nothing_is_unreachable_not_a_ring_out(
    front_door: VoiceFrontDoor, router: Router, parties: Callable[..., Any]
) -> None:
    """A phone registered at an address where nothing answers any more (switched off,
    gone off the network, before its registration ran out): Kamailio's INVITE gets no
    answer at all, not even a provisional one, and it answers the worker 408 after its
    fr_timer. The agent goes not ready as "phone unreachable", never as a ring-out."""
    voice = front_door
    ana = await staff(voice, "ana")
    gone = f"<sip:ana@127.0.0.1:{free_sip_port()}>"  # a UDP port nobody listens on
    phone = await softphone(parties, ana, None, "--contact", gone)
    assert (await registered(phone))["code"] == 200
    await add_agent(router, "ana", ana.uri, {"booking": 2})

    await caller_in_queue(voice, parties)
    pool = voice.pool
    assert pool is not None
    contact_id = await until(lambda: next(iter(pool.owner), None))

    await offer_ended_unreachable(router, "ana", contact_id)
    assert not [event for event in phone.events if event["type"] == "incoming"]


async def test_a_phone_that_rings_out_is_still_no_answer(
    front_door: VoiceFrontDoor, router: Router, parties: Callable[..., Any]
) -> None:
    """The phone rings and nobody picks up: the router's ring time ends the offer and the
    worker cancels the INVITE (487). That is the agent's no answer (RONA), not an
    unreachable phone."""
    voice = front_door
    ana = await staff(voice, "ana")
    phone = await softphone(parties, ana)  # registered, never answers
    assert (await registered(phone))["code"] == 200
    await add_agent(router, "ana", ana.uri, {"booking": 2})
    stop = asyncio.Event()
    timers = asyncio.get_running_loop().create_task(router.run_timers(0.25, stop))
    try:
        await caller_in_queue(voice, parties)
        await phone.wait_for("incoming", timeout=20)
        hangup = await phone.wait_for("hangup", timeout=20)  # the ring time (5 s) ran out
        assert hangup["code"] == 487

        async def ana_rona() -> Agent | None:
            agent = await router.get_agent("ana")
            return agent if agent.presence == Presence.NOT_READY else None

        assert (await until(ana_rona, timeout=10)).reason == "no answer"
        assert voice.pool is not None
        contact = await router.get_contact(next(iter(voice.pool.owner)))
        assert "offer to ana ended: no_answer" in " ".join(map(str, contact.explanation))
    finally:
        stop.set()
        await timers


@pytest.fixture
async def kamailio_node(
    redis_url: str, tmp_path: Path, prompt_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Node]:
    """A whole node (HTTP, Redis, Kamailio, one worker), in its own directory."""
    monkeypatch.chdir(tmp_path)  # the node's var/telephony (Kamailio, the SIP secret)
    config = tmp_path / "node.toml"
    text = NODE_CONFIG.format(
        port=free_sip_port(), rtp_port_base=rtp_block(), cache=prompt_cache, outside_uri=""
    )
    config.write_text(
        text.replace(
            'front_door = "none"',
            f'front_door = "kamailio"\nworker_port_base = {_free_block(1)}',
        )
    )
    settings = dataclasses.replace(
        load_settings(config), redis=RedisConfig(url=redis_url), http_port=0, auth=TEST_AUTH
    )
    node = Node(settings, voice=True)
    await node.start()
    try:
        yield node
    finally:
        await node.stop()


async def test_staff_sign_in_read_their_account_register_and_are_called_there(
    kamailio_node: Node, parties: Callable[..., Any]
) -> None:
    node = kamailio_node
    voice = node.voice
    for agent_id in ("ana", "bob"):
        await node.router.upsert_agent(
            Agent(agent_id=agent_id, region="default", skills={"booking": 2}, languages=["en"])
        )
    for user, role in (("ana", Role.AGENT), ("bob", Role.AGENT), ("sue", Role.SUPERVISOR)):
        await node.sessions.save_user(user, role, PASSWORD)
    async with http_session(node) as http:
        # Signing in without a SIP URI: calls reach the account's registered contact.
        response = await http.post(
            "/api/v1/agents/login",
            json={"agent_id": "ana", "password": PASSWORD, "channels": {"voice": 1}},
        )
        assert response.status == 200, await response.text()
        signed_in = await response.json()
        server = f"127.0.0.1:{voice.sip.port}"
        assert signed_in["agent"]["sip_uri"] == f"sip:ana@{server}"
        ana = {"Authorization": f"Bearer {signed_in['token']}"}
        bob = await login(http, "bob", PASSWORD)

        own = await http.get("/api/v1/agents/ana/sip-account", headers=ana)
        assert own.status == 200 and own.headers["Cache-Control"] == "no-store"
        account = SipAccount(**{k: v for k, v in (await own.json()).items() if k != "uri"})
        assert (account.user, account.domain, account.server, account.transport) == (
            "ana",
            "127.0.0.1",
            server,
            "udp",
        )
        assert list(account.transports) == ["udp", "tcp"]  # the front door takes both
        assert (await http.get("/api/v1/agents/ana/sip-account", headers=bob)).status == 403
        # No clear-text SIP password in Redis: only the salt it is derived from.
        keys = [key async for key in node.client.scan_iter("*")]
        for key in keys:
            if await node.client.type(key) == "hash":
                assert account.password not in str(await node.client.hgetall(key))

        phone = await softphone(parties, account, None, "--answer")
        assert (await registered(phone))["code"] == 200
        await node.router.set_presence("ana", Presence.AVAILABLE)
        caller = await parties()
        contact_id = await call_agent(voice, node.router, caller, phone)

        # A supervisor joins from their own registered softphone.
        sue = await login(http, "sue", PASSWORD)
        sues = await http.get("/api/v1/agents/sue/sip-account", headers=sue)
        sue_account = SipAccount(**{k: v for k, v in (await sues.json()).items() if k != "uri"})
        sue_phone = await softphone(parties, sue_account, None, "--answer")
        assert (await registered(sue_phone))["code"] == 200
        joined = await http.put(
            f"/api/v1/contacts/{contact_id}/monitor",
            json={"mode": "listen", "phone": sue_account.uri},
            headers=sue,
        )
        assert joined.status == 200, await joined.text()
        await sue_phone.wait_for("answered", timeout=20)

        caller.send(cmd="hangup")
        await phone.wait_for("hangup", timeout=15)
        contact = await until(lambda: terminal(node.router, contact_id))
        assert (contact.state.value, contact.agent_id) == ("completed", "ana")

        # Signing out of a second session keeps the phone registered (one still open).
        second = await login(http, "ana", PASSWORD)
        assert (await http.post("/api/v1/agents/logout", headers=second)).status == 200
        await asyncio.sleep(1.0)  # every node has taken the sign-out's event by then
        assert f"127.0.0.1:{phone.port}" in await contacts(voice)

        # Signing out: the softphone is not called, but it keeps registering (200) and
        # its registration stays, so that signed in again the agent is called there at
        # once (a phone unaware of a dropped registration was refused 480 until its own
        # refresh, minutes later: every offer rang out at once as the agent's no answer;
        # test_softphone_signed_out.py has the refresh and the refused call).
        assert (await http.post("/api/v1/agents/logout", headers=ana)).status == 200
        await asyncio.sleep(1.0)  # every node has taken the sign-out's event by then
        retry = await softphone(parties, account)
        assert (await registered(retry))["code"] == 200
        await retry.close()
        assert f"127.0.0.1:{phone.port}" in await contacts(voice)
        back = await http.post(
            "/api/v1/agents/login",
            json={"agent_id": "ana", "password": PASSWORD, "channels": {"voice": 1}},
        )
        assert back.status == 200, await back.text()
        await node.router.set_presence("ana", Presence.AVAILABLE)
        again = await parties()
        await call_agent(voice, node.router, again, phone)
        again.send(cmd="hangup")
        await phone.wait_for("hangup", timeout=15)

    # An admin revokes the supervisor's account: the old password no longer registers.
    assert await node.sessions.reset_sip_account("sue")
    await until(lambda: _absent(voice, "sue"))
    stale = await softphone(parties, sue_account)
    assert (await registered(stale))["code"] == 401
    assert voice.softphones is not None
    fresh = await voice.softphones.account("sue")
    assert fresh.password != sue_account.password
    renewed = await softphone(parties, fresh)
    assert (await registered(renewed))["code"] == 200


async def _absent(voice: VoiceFrontDoor, user: str) -> bool:
    return f"AoR': '{user}'" not in await contacts(voice) and f'"{user}"' not in await contacts(
        voice
    )


@pytest.mark.skipif(not baresip.available(), reason="baresip (Debian baresip-core) is missing")
async def test_baresip_registers_and_answers_an_offered_call(
    front_door: VoiceFrontDoor, router: Router, parties: Callable[..., Any], tmp_path: Path
) -> None:
    """The same through a second, independent SIP stack: baresip's digest auth, its
    registration and its automatic answer."""
    voice = front_door
    ana = await staff(voice, "ana")
    wrong = await baresip.BaresipPhone.start(ana, tmp_path / "wrong", password="not-it")
    try:
        await wrong.wait_for("401 Unauthorized")
        assert "ana" not in await contacts(voice)
    finally:
        await wrong.close()
    phone = await baresip.BaresipPhone.start(ana, tmp_path / "ana")
    try:
        await phone.wait_for("200 OK")
        await until(lambda: _registered_at(voice, phone.port))
        caller, contact_id = await _baresip_answers(voice, router, parties, tmp_path, ana.uri)
        caller.send(cmd="hangup")
        contact = await until(lambda: terminal(router, contact_id))
        assert (contact.state.value, contact.agent_id) == ("completed", "ana")
    finally:
        await phone.close()


@pytest.mark.skipif(
    not baresip.available("g722"), reason="baresip (Debian baresip-core) is missing"
)
async def test_a_phone_set_to_g722_alone_answers_in_g722_and_the_caller_hears_it(
    front_door: VoiceFrontDoor, router: Router, parties: Callable[..., Any], tmp_path: Path
) -> None:
    """A desk phone set to wideband G.722 alone (baresip with its g722 module only):
    the offer lists G.722 after G.711, the phone answers in G.722 and the caller hears
    it through the 8 kHz bridge. (The offer was G.711 alone: the phone refused it with
    488, and the agent was unreachable.)"""
    voice = front_door
    ana = await staff(voice, "ana")
    phone = await baresip.BaresipPhone.start(ana, tmp_path / "ana", codecs=("g722",))
    try:
        await phone.wait_for("200 OK")
        await until(lambda: _registered_at(voice, phone.port))
        caller, contact_id = await _baresip_answers(voice, router, parties, tmp_path, ana.uri)
        await phone.wait_for("G722")
        caller.send(cmd="hangup")
        contact = await until(lambda: terminal(router, contact_id))
        assert (contact.state.value, contact.agent_id) == ("completed", "ana")
    finally:
        await phone.close()


@pytest.mark.skipif(not baresip.available(), reason="baresip (Debian baresip-core) is missing")
async def test_baresip_hears_a_refused_transfer_and_its_hang_up_ends_the_contact(
    front_door: VoiceFrontDoor, router: Router, parties: Callable[..., Any], tmp_path: Path
) -> None:
    """ana transfers the caller from baresip (`transfer`, a REFER) to bob, who is signed
    out: the router refuses, the last NOTIFY says 480 and baresip reports the failure.
    baresip 1.0 then hangs up (on a failed transfer as on a done one; later versions keep
    the call): that is ana leaving, the contact completed with her and ana free. (The
    NOTIFY said 200 and the phone's BYE came while the router decided: it was lost, the
    contact stayed `connected`, ana `busy` and the caller in silence, for good.)"""
    voice = front_door
    ana = await staff(voice, "ana")
    await add_agent(router, "bob", "sip:bob@127.0.0.1:9", {"booking": 2})
    await router.set_presence("bob", Presence.OFFLINE)
    phone = await baresip.BaresipPhone.start(ana, tmp_path / "ana", control=True)
    try:
        await phone.wait_for("200 OK")
        await until(lambda: _registered_at(voice, phone.port))
        caller, contact_id = await _baresip_answers(voice, router, parties, tmp_path, ana.uri)
        await phone.command("transfer", f"sip:bob@127.0.0.1:{voice.sip.port}")
        await phone.wait_for("transfer failure: 480", timeout=20)
        await caller.wait_for("hangup", timeout=15)
        contact = await until(lambda: terminal(router, contact_id))
        assert (contact.state.value, contact.agent_id, contact.transfers) == (
            "completed",
            "ana",
            [],
        )
        agent = await router.get_agent("ana")
        assert agent.state(now_ms()) == AgentState.AVAILABLE  # wrap-up 0
    finally:
        await phone.close()


async def _baresip_answers(
    voice: VoiceFrontDoor,
    router: Router,
    parties: Callable[..., Any],
    tmp_path: Path,
    uri: str,
) -> tuple[Any, str]:
    """A caller queued for ana (at `uri`, a baresip phone that answers with a 1 kHz
    tone) is connected to her and hears her: the caller and the contact's id."""
    await add_agent(router, "ana", uri, {"booking": 2})
    caller = await caller_in_queue(voice, parties)
    contact_id = await connected_contact(voice, router, timeout=20)
    heard = await recorded(caller, tmp_path / "caller.wav")
    assert tone_share(heard, 1000.0) > 0.15  # baresip's tone, bridged to the caller
    return caller, contact_id


async def _registered_at(voice: VoiceFrontDoor, port: int) -> bool:
    return f"127.0.0.1:{port}" in await contacts(voice)


@pytest.mark.skipif(not baresip.available(), reason="baresip (Debian baresip-core) is missing")
async def test_a_softphone_registered_over_tcp_is_called_over_its_connection(
    front_door: VoiceFrontDoor, router: Router, parties: Callable[..., Any], tmp_path: Path
) -> None:
    """baresip registers over TCP (`;transport=tcp`); the registrar keeps the address the
    connection came from, so the offer's INVITE, the re-INVITE and the BYE when the caller
    hangs up all go to the phone over that one connection (the worker sends them to
    Kamailio over UDP); Kamailio never opens another one to the phone's Contact."""
    voice = front_door
    ana = await staff(voice, "ana")
    phone = await baresip.BaresipPhone.start(ana, tmp_path / "ana", transport="tcp")
    try:
        await phone.wait_for("{0/TCP/v4} 200 OK")
        await until(lambda: _registered_at(voice, phone.port))
        (registration,) = await _tcp_connections(voice)
        # Kept: the connection's own address, not the Contact's (baresip's listening port).
        received = f"sip:127.0.0.1:{registration['src_port']};transport=tcp"
        assert registration["src_port"] != phone.port and received in await contacts(voice)

        caller, contact_id = await _baresip_answers(voice, router, parties, tmp_path, ana.uri)
        caller.send(cmd="hangup")
        await phone.wait_for("terminated")  # the worker's BYE reached baresip
        contact = await until(lambda: terminal(router, contact_id))
        assert (contact.state.value, contact.agent_id) == ("completed", "ana")
        assert [c["id"] for c in await _tcp_connections(voice)] == [registration["id"]]
    finally:
        await phone.close()


async def test_a_pjsua2_softphone_on_tcp_is_reached_over_its_connection_not_its_contact(
    front_door: VoiceFrontDoor, router: Router, parties: Callable[..., Any]
) -> None:
    """A pjsua2 phone on TCP whose Contact names an address nobody can connect to, as a
    phone behind NAT does: the offer, its ACK and the BYE must still take the connection
    the REGISTER came on (the registrar's `received`, then the alias Kamailio puts on the
    answer's Contact), never a new one."""
    voice = front_door
    ana = await staff(voice, "ana")
    unreachable = "<sip:ana@127.0.0.1:9;transport=tcp>"  # the discard port: nobody there
    phone = await softphone(parties, ana, None, "--answer", "--tcp", "--contact", unreachable)
    assert (await registered(phone))["code"] == 200
    (registration,) = await _tcp_connections(voice)
    assert registration["src_port"] != phone.port
    assert "sip:ana@127.0.0.1:9;transport=tcp" in await contacts(voice)
    await add_agent(router, "ana", ana.uri, {"booking": 2})

    caller = await caller_in_queue(voice, parties)
    await phone.wait_for("answered", timeout=20)
    contact_id = await connected_contact(voice, router)
    caller.send(cmd="hangup")
    await phone.wait_for("hangup", timeout=15)
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.agent_id) == ("completed", "ana")
    assert [c["id"] for c in await _tcp_connections(voice)] == [registration["id"]]


async def _tcp_connections(voice: VoiceFrontDoor) -> list[dict[str, Any]]:
    """Kamailio's open TCP connections (`core.tcp_list`): id, src_ip/src_port (the peer)."""
    assert voice.softphones is not None
    registrar = voice.softphones.registrar
    return list(await registrar.call("core.tcp_list") or [])  # type: ignore[attr-defined]


async def offer_ended_unreachable(router: Router, agent_id: str, contact_id: str) -> None:
    """The offer to `agent_id` ended as their phone being unreachable (Kamailio's 480,
    404 or its fr_timer): they went not ready as "phone unreachable", never as a ring-out,
    and the caller waits again, the offer's end in the contact's explanation."""

    async def unreachable() -> bool:
        agent = await router.get_agent(agent_id)
        return agent.presence == Presence.NOT_READY and agent.reason == "phone unreachable"

    await until(unreachable, timeout=15)
    contact = await router.get_contact(contact_id)
    assert contact.state.value == "queued" and not contact.agent_id
    ended = f"offer to {agent_id} ended: phone_unreachable"
    assert ended in " ".join(map(str, contact.explanation))
