"""A worker process that dies (SIGKILL here; a crash or the OOM killer alike) takes its
calls' audio with it: the front door hangs those calls up on both sides, with a BYE to
the caller and one to the agent's softphone the worker had bridged it to, rather than
leaving both in silence until they give up (a soak probe's caller waited 53 s, then
its BYE got 481 from the restarted worker). Kamailio keeps each call as a dialog in the
profile of the worker that answered or placed it, and the pool asks the front door to
end that worker's dialogs once it finds the worker dead. Another worker's call goes on.

Real Kamailio, two worker processes, pjsua2 callers and registered pjsua2 softphones."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from router.metrics import Metrics
from router.service import Router
from router.users_store import UserRecord, UserStore
from telephony.frontdoor import WORKER_PROFILE, fifo_rpc
from telephony.pool import WorkerHandle
from telephony.service import VoiceFrontDoor
from telephony.softphones import KamailioRegistrar

from .conftest import (
    Party,
    add_agent,
    connected_contact,
    free_sip_port,
    node_uri,
    recorded,
    rtp_block,
    run_sipp,
    running_voice,
    terminal,
    tone_share,
    until,
)
from .test_pool import CONFIG, _free_block

pytestmark = pytest.mark.skipif(
    shutil.which("kamailio") is None,
    reason="Kamailio is not installed (make test installs it: scripts/system-deps.sh)",
)

# A BYE crosses loopback in milliseconds; this only bounds the wait for a caller that
# nobody hangs up (before the fix, the soak probe's waited until it gave up itself).
HANG_UP_WAIT_S = 15


@pytest.fixture
async def voice(
    router: Router, tmp_path: Path, prompt_cache: Path
) -> AsyncIterator[VoiceFrontDoor]:
    """A node's voice: Kamailio over two worker processes, the node's users (softphone
    accounts on Kamailio's registrar) and metrics."""
    config = tmp_path / "node.toml"
    config.write_text(
        CONFIG.format(
            port=free_sip_port(),
            front_door="kamailio",
            workers=2,
            calls=4,
            worker_port_base=_free_block(2),
            rtp_port_base=rtp_block(),  # the workers' RTP apart from the phones' blocks
            cache=prompt_cache,
        )
    )
    users = UserStore(router.store.client)
    async with running_voice(
        config, router, tmp_path / "v", users=users, metrics=Metrics("node-t")
    ) as node:
        yield node


async def agent_phone(
    voice: VoiceFrontDoor,
    router: Router,
    parties: Callable[..., Any],
    agent_id: str,
    tone: Path | None = None,
) -> Party:
    """An agent signed in with their account: a softphone registered at the node's
    Kamailio, answering every call with `tone` (without one it rings and never answers);
    offers reach it through Kamailio."""
    assert voice.softphones is not None
    users = voice.softphones.users
    assert isinstance(users, UserStore)
    await users.put(UserRecord(agent_id, "agent", "scrypt$unused"))
    account = await voice.softphones.allow(agent_id)
    phone: Party = await parties(
        *("--user", agent_id, "--registrar", f"sip:{account.server}"),
        *("--domain", account.domain, "--password", account.password),
        *(("--answer", "--tone", str(tone)) if tone is not None else ()),
    )
    await phone.wait_for("registration", timeout=15, where=lambda e: e["code"] == 200)
    await add_agent(router, agent_id, account.uri, {"booking": 2})
    return phone


async def connected_call(
    voice: VoiceFrontDoor, router: Router, caller: Party, phone: Party
) -> tuple[str, WorkerHandle]:
    """The caller dials the node and picks booking; once the agent's phone answered and
    the contact is connected: its id and the worker holding the call."""
    pool = voice.pool
    assert pool is not None
    known = set(pool.owner)
    caller.send(cmd="call", uri=node_uri(voice))
    await caller.wait_for("media", timeout=20)
    caller.send(cmd="dtmf", digits="1")
    await phone.wait_for("media", timeout=20)
    contact_id: str = await until(lambda: next(iter(set(pool.owner) - known), None))

    async def connected() -> bool:
        return (await router.get_contact(contact_id)).state.value == "connected"

    await until(connected)
    return contact_id, pool.owner[contact_id]


async def worker_dialogs(voice: VoiceFrontDoor, worker: WorkerHandle) -> list[dict[str, Any]]:
    """The calls Kamailio lists for the worker (its dialog profile), each listed once."""
    assert voice.front_door is not None
    value = str(worker.sip_port)
    listed = await asyncio.to_thread(
        fifo_rpc, voice.front_door.fifo, "dlg.profile_list", [WORKER_PROFILE, value]
    )
    assert all(d["profiles"] == [{WORKER_PROFILE: value}] for d in listed or []), listed
    return list(listed or [])


def hangups(party: Party) -> list[dict[str, Any]]:
    return [event for event in party.events if event["type"] == "hangup"]


async def test_a_dead_workers_caller_and_agent_phone_are_hung_up_and_the_other_call_goes_on(
    voice: VoiceFrontDoor,
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    colleague_tone: Path,
    tmp_path: Path,
) -> None:
    ana = await agent_phone(voice, router, parties, "ana", tone_wav)  # 1 kHz
    lost_caller = await parties()
    lost_id, lost = await connected_call(voice, router, lost_caller, ana)
    bob = await agent_phone(voice, router, parties, "bob", colleague_tone)  # 1.5 kHz
    other_caller = await parties()
    other_id, other = await connected_call(voice, router, other_caller, bob)
    assert other is not lost  # the dispatcher gave the second caller the idle worker
    # Kamailio holds each worker's two calls: the caller's, and the worker's to the phone.
    assert await call_load(voice) == {lost.sip_port: 1, other.sip_port: 1}
    assert len(await worker_dialogs(voice, lost)) == 2
    assert len(await worker_dialogs(voice, other)) == 2

    old_pid, starts = lost.pid, lost.starts
    assert old_pid is not None
    os.kill(old_pid, signal.SIGKILL)

    # Both ends of the dead worker's call are hung up on (a BYE: neither hung up itself).
    ended = await lost_caller.wait_for("hangup", timeout=HANG_UP_WAIT_S)
    assert not ended["inbound"]  # the caller's own call, ended by the far end
    dropped = await ana.wait_for("hangup", timeout=HANG_UP_WAIT_S)
    assert dropped["inbound"]
    contact = await until(lambda: terminal(router, lost_id))
    assert (contact.state.value, contact.reason) == ("failed", "worker_lost")
    await until(lambda: lost.starts > starts and lost.ready.is_set(), timeout=30)
    await until(lambda: _no_live(voice, lost))
    # The caller's call-load slot at the dead worker is freed with it (the caller sends
    # no BYE now, whose passing freed it before): its successor takes `maxload` calls.
    assert await until(lambda: _load_of(voice, lost.sip_port, 0))
    assert (await call_load(voice))[other.sip_port] == 1

    # The other worker's caller still talks with bob, and ends the call as usual.
    assert not hangups(other_caller) and not hangups(bob)
    heard = await recorded(other_caller, tmp_path / "other.wav")
    assert tone_share(heard, 1500.0, last_s=1.5) > 0.5
    assert (await router.get_contact(other_id)).state.value == "connected"
    other_caller.send(cmd="hangup")
    await bob.wait_for("hangup", timeout=HANG_UP_WAIT_S)
    contact = await until(lambda: terminal(router, other_id))
    assert (contact.state.value, contact.agent_id) == ("completed", "bob")
    assert await until(lambda: _load_of(voice, other.sip_port, 0))
    assert voice.front_door is not None  # a slot freed twice, or never taken, is an ERROR
    assert "ERROR" not in (voice.front_door.workdir / "kamailio.log").read_text()


async def call_load(voice: VoiceFrontDoor) -> dict[int, int]:
    """Each worker's callers as Kamailio's dispatcher counts them (algorithm 10's load),
    by the worker's SIP port."""
    assert voice.front_door is not None
    listed = await KamailioRegistrar(voice.front_door.rpc).call("dispatcher.list")
    targets = [t["DEST"] for record in listed["RECORDS"] for t in record["SET"]["TARGETS"]]
    return {int(d["URI"].rsplit(":", 1)[1]): int(d["RUNTIME"]["DLGLOAD"]) for d in targets}


async def _load_of(voice: VoiceFrontDoor, port: int, load: int) -> bool:
    return (await call_load(voice))[port] == load


async def _no_live(voice: VoiceFrontDoor, worker: WorkerHandle) -> bool:
    """Kamailio keeps no call of the worker but ended ones (state 5, until they expire)."""
    return all(int(d.get("state", 0)) == 5 for d in await worker_dialogs(voice, worker))


async def test_an_agent_phone_still_ringing_for_a_dead_worker_is_cancelled(
    voice: VoiceFrontDoor, router: Router, parties: Callable[..., Any]
) -> None:
    """The worker dies while the agent's phone rings with its offer: Kamailio cancels
    that INVITE (487 at the phone) rather than letting it ring for its own 60 s, while
    the router, which freed the agent, may offer them the next call."""
    ana = await agent_phone(voice, router, parties, "ana")  # rings, never answers
    caller = await parties()
    caller.send(cmd="call", uri=node_uri(voice))
    await caller.wait_for("media", timeout=20)
    caller.send(cmd="dtmf", digits="1")
    await ana.wait_for("incoming", timeout=20)
    pool = voice.pool
    assert pool is not None
    contact_id: str = await until(lambda: next(iter(pool.owner), None))
    worker = pool.owner[contact_id]
    assert [d["state"] for d in await worker_dialogs(voice, worker)].count(4) == 1
    assert worker.pid is not None

    os.kill(worker.pid, signal.SIGKILL)

    assert not (await caller.wait_for("hangup", timeout=HANG_UP_WAIT_S))["inbound"]
    cancelled = await ana.wait_for("hangup", timeout=HANG_UP_WAIT_S)
    assert (cancelled["inbound"], cancelled["code"]) == (True, 487)
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.reason) == ("failed", "worker_lost")


async def test_a_tcp_caller_of_a_dead_worker_gets_its_bye_over_its_own_connection(
    voice: VoiceFrontDoor,
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    tmp_path: Path,
) -> None:
    """A caller over TCP whose Contact names a port nobody listens on (as behind NAT):
    the front door's BYE reaches it over the connection its INVITE came on (the alias
    Kamailio put on its Contact), and sipp's scenario, which waits for the node's BYE,
    ends as scripted."""
    ana = await agent_phone(voice, router, parties, "ana", tone_wav)
    caller = asyncio.get_running_loop().create_task(
        run_sipp(voice.sip.port, "ivr_agent_hangs_up.xml", tmp_path, transport="t1")
    )
    await ana.wait_for("media", timeout=30)
    contact_id = await connected_contact(voice, router)
    assert voice.pool is not None
    worker = voice.pool.owner[contact_id]
    assert worker.pid is not None

    os.kill(worker.pid, signal.SIGKILL)

    errors = tmp_path / "sipp-errors.log"
    code = await asyncio.wait_for(caller, HANG_UP_WAIT_S)
    assert code == 0, errors.read_text(errors="replace") if errors.exists() else code
    await ana.wait_for("hangup", timeout=HANG_UP_WAIT_S)
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.reason) == ("failed", "worker_lost")
