"""Softphones with an account: REGISTER with digest auth at the node's Kamailio, and the
router's offers reaching the contact they registered. Real SIP: Kamailio, the worker
pool, pjsua2 softphones on loopback, a real Router on Redis."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from router.events import EventHub
from router.model import Presence
from router.service import Router
from router.users_store import UserRecord, UserStore
from switchboard.settings import load_settings
from telephony.service import VoiceFrontDoor
from telephony.softphones import SipAccount

from .conftest import Party, add_agent, free_udp_port, until
from .test_pool import CONFIG, _free_block, _terminal, node_uri

pytestmark = pytest.mark.skipif(
    not Path("/usr/sbin/kamailio").exists() and os.system("command -v kamailio >/dev/null"),
    reason="Kamailio is not installed (make test installs it: scripts/system-deps.sh)",
)


@pytest.fixture
async def front_door(
    router: Router, tmp_path: Path, prompt_cache: Path
) -> AsyncIterator[VoiceFrontDoor]:
    """A node's voice front door with Kamailio, one worker and the node's users."""
    config = tmp_path / "node.toml"
    config.write_text(
        CONFIG.format(
            port=free_udp_port(),
            front_door="kamailio",
            workers=1,
            calls=4,
            worker_port_base=_free_block(1),
            rtp_port_base=42000 + (os.getpid() % 100) * 100,
            cache=prompt_cache,
        )
    )
    hub = EventHub(router.store)
    await hub.start()
    users = UserStore(router.store.client)
    voice = VoiceFrontDoor(load_settings(config), router, hub, workdir=tmp_path / "v", users=users)
    try:
        await voice.start()
        await asyncio.wait_for(hub.connected.wait(), 5)
        yield voice
    finally:
        await voice.stop()
        await hub.stop()


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


async def test_a_softphone_registers_only_with_its_password(
    front_door: VoiceFrontDoor, parties: Callable[..., Any]
) -> None:
    voice = front_door
    ana = await staff(voice, "ana")
    assert ana.uri == f"sip:ana@127.0.0.1:{voice.sip.port}"
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

    caller = await parties()
    caller.send(cmd="call", uri=node_uri(voice))
    await caller.wait_for("media", timeout=20)
    caller.send(cmd="dtmf", digits="1")
    incoming = await phone.wait_for("incoming", timeout=20)
    assert incoming["to_user"] == "ana"
    await phone.wait_for("answered", timeout=20)
    assert voice.pool is not None
    contact_id = await until(lambda: next(iter(voice.pool.owner), None))

    async def connected() -> bool:
        return (await router.get_contact(contact_id)).state.value == "connected"

    await until(connected)
    caller.send(cmd="hangup")
    await phone.wait_for("hangup", timeout=15)  # the BYE reaches the softphone through Kamailio
    contact = await until(lambda: _terminal(router, contact_id))
    assert (contact.state.value, contact.agent_id) == ("completed", "ana")


async def test_an_unregistered_softphone_rings_no_one_and_the_caller_goes_to_the_next_agent(
    front_door: VoiceFrontDoor, router: Router, parties: Callable[..., Any]
) -> None:
    voice = front_door
    ana = await staff(voice, "ana")  # an account, but no softphone registered
    await add_agent(router, "ana", ana.uri, {"booking": 2})

    caller = await parties()
    caller.send(cmd="call", uri=node_uri(voice))
    await caller.wait_for("media", timeout=20)
    caller.send(cmd="dtmf", digits="1")
    assert voice.pool is not None
    contact_id = await until(lambda: next(iter(voice.pool.owner), None))

    async def ana_rona() -> bool:
        agent = await router.get_agent("ana")
        return agent.presence == Presence.NOT_READY and agent.reason == "no answer"

    await until(ana_rona)  # Kamailio's 480 is the worker's no-answer: RONA
    contact = await router.get_contact(contact_id)
    assert contact.state.value == "queued" and not contact.agent_id

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
    contact = await until(lambda: _terminal(router, contact_id))
    assert (contact.state.value, contact.agent_id) == ("completed", "bob")
