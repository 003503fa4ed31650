"""The node's voice front door end to end: Kamailio, worker processes, real Router."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from router.events import EventHub
from router.metrics import Metrics
from router.service import Router
from switchboard.settings import load_settings
from telephony.capacity import built_max_calls
from telephony.frontdoor import FrontDoor, FrontDoorFailed
from telephony.pool import START_ATTEMPTS, WorkerStartError
from telephony.service import VoiceFrontDoor

from .conftest import (
    add_agent,
    call_agent,
    connected_contact,
    free_sip_port,
    free_udp_port,
    node_uri,
    run_sipp,
    terminal,
    until,
)

CONFIG = """
[node]
id = "node-t"
region = "default"

[[regions]]
name = "default"
timezone = "UTC"

[[queues]]
name = "booking"
skill = "booking"
ring_s = 5
wrap_up_s = 0

[[queues]]
name = "general"
skill = "general"
ring_s = 5
wrap_up_s = 0

[sip]
host = "127.0.0.1"
port = {port}
front_door = "{front_door}"
workers = {workers}
calls_per_worker = {calls}
worker_port_base = {worker_port_base}
rtp_port_base = {rtp_port_base}
rtp_ports_per_worker = 20
restart_delay_s = 0.2
prompt_cache_dir = "{cache}"

[[ivr]]
number = "*"
region = "default"
languages = ["en"]
default_queue = "general"
digit_timeout_s = 3
max_tries = 2

[[ivr.reasons]]
digit = "1"
name = "booking"
queue = "booking"
"""


def _free_block(count: int) -> int:
    """A base port with `count` consecutive free UDP ports after it."""
    for _ in range(50):
        base = free_udp_port()
        if base + count < 65000 and all(_is_free(base + i) for i in range(count)):
            return base
    raise RuntimeError("no free port block")


def _is_free(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def make_front_door(
    router: Router, tmp_path: Path, prompt_cache: Path
) -> Iterator[Callable[..., Any]]:
    async def make(
        workers: int, front_door: str = "kamailio", calls: int = 4, sip: str = "", port: int = 0
    ) -> VoiceFrontDoor:
        """`sip`: more lines for the [sip] section (`tcp = false`); `port`: the node's SIP
        port (a free one by default)."""
        config = tmp_path / f"node{len(made)}.toml"
        config.write_text(
            CONFIG.replace("[sip]\n", f"[sip]\n{sip}\n").format(
                port=port or free_sip_port(),
                front_door=front_door,
                workers=workers,
                calls=calls,
                worker_port_base=_free_block(workers),
                rtp_port_base=40000 + (os.getpid() % 100) * 200,
                cache=prompt_cache,
            )
        )
        settings = load_settings(config)
        hub = EventHub(router.store)
        await hub.start()
        voice = VoiceFrontDoor(
            settings, router, hub, workdir=tmp_path / f"voice{len(made)}", metrics=Metrics("node-t")
        )
        made.append((voice, hub))
        await voice.start()
        await asyncio.wait_for(hub.connected.wait(), 5)
        return voice

    made: list[tuple[VoiceFrontDoor, EventHub]] = []
    yield make
    # Teardown runs in the test's loop through the async fixture below.
    pending.extend(made)


pending: list[tuple[VoiceFrontDoor, EventHub]] = []


@pytest.fixture(autouse=True)
async def _stop_front_doors() -> AsyncIterator[None]:
    yield
    while pending:
        voice, hub = pending.pop()
        await voice.stop()
        await hub.stop()


async def test_call_through_kamailio_reaches_an_agent_and_completes(
    make_front_door: Callable[..., Any], router: Router, parties: Callable[..., Any], tmp_path: Path
) -> None:
    voice = await make_front_door(workers=2, calls=0)  # 0: as many as the pjsua2 build holds
    callers = built_max_calls() // 2
    assert voice.front_door is not None and voice.capacity == 2 * callers
    listed = (voice.front_door.workdir / "dispatcher.list").read_text()
    assert listed.count(f"maxload={callers}") == 2
    agent = await parties("--answer")
    await add_agent(router, "bob", agent.uri, {"booking": 2})
    caller = await parties("--record", str(tmp_path / "c.wav"))
    contact_id = await call_agent(voice, router, caller, agent)
    agent.send(cmd="hangup")  # the agent ends the call: the caller's leg is hung up too
    await caller.wait_for("hangup", timeout=15)
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.agent_id) == ("completed", "bob")
    # The node's metrics count the call's outcome (the worker reports it over its pipe).
    await until(lambda: sip_calls(voice, "completed") == 1)


async def test_a_refer_through_kamailio_is_decided_by_the_worker_holding_the_call(
    make_front_door: Callable[..., Any], router: Router, parties: Callable[..., Any]
) -> None:
    """Two workers: pjsua's call for a REFER to the node comes back through Kamailio to
    the worker that placed it (the other, less loaded, used to get it and answer it at
    once: the phone's NOTIFY said 200 before anything was decided). That worker answers
    it with the outcome: 404 for a name it does not know (the phone keeps the call),
    then 200 for the queue `general`, whose agent takes the caller. (8 calls a worker: the
    held loop and pjsua's call for it take two while the new agent rings.)"""
    voice = await make_front_door(workers=2, calls=8)
    dave = await parties("--answer")
    await add_agent(router, "dave", dave.uri, {"booking": 2})
    erin = await parties("--answer")
    await add_agent(router, "erin", erin.uri, {"general": 2})
    caller = await parties()
    contact_id = await call_agent(voice, router, caller, dave)

    def finals() -> list[int]:
        return [e["code"] for e in dave.events if e["type"] == "transfer_status" and e["final"]]

    dave.send(cmd="transfer", target=node_uri(voice, "carol"))
    assert await until(finals, timeout=20) == [404]
    assert (await router.get_contact(contact_id)).state.value == "connected"
    assert not [e for e in dave.events if e["type"] == "hangup"]

    dave.send(cmd="transfer", target=node_uri(voice, "general"))
    await until(lambda: len(finals()) == 2, timeout=20)
    assert finals() == [404, 200]
    await erin.wait_for("answered", timeout=20)
    await dave.wait_for("hangup", timeout=15)
    caller.send(cmd="hangup")
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.agent_id) == ("completed", "erin")
    assert [t["to"] for t in contact.transfers] == ["queue:general"]


async def test_full_pool_answers_503_and_a_killed_worker_loses_only_its_calls(
    make_front_door: Callable[..., Any], router: Router, parties: Callable[..., Any], tmp_path: Path
) -> None:
    voice = await make_front_door(workers=1)
    assert voice.pool is not None
    callers = [await parties("--record", str(tmp_path / f"c{i}.wav")) for i in range(3)]
    for caller in callers[:2]:
        caller.send(cmd="call", uri=node_uri(voice))
        await caller.wait_for("media", timeout=20)
        caller.send(cmd="dtmf", digits="1")
    await until(lambda: len(voice.pool.owner) == 2)
    callers[2].send(cmd="call", uri=node_uri(voice))
    refused = await callers[2].wait_for("hangup", timeout=20)
    assert refused["code"] == 503

    worker = voice.pool.workers[0]
    old_pid = worker.pid
    contact_ids = list(worker.contacts)
    assert old_pid is not None
    os.kill(old_pid, signal.SIGKILL)
    for contact_id in contact_ids:
        contact = await until(partial(terminal, router, contact_id))
        assert (contact.state.value, contact.reason) == ("failed", "worker_lost")
    await until(lambda: worker.pid != old_pid and worker.ready.is_set(), timeout=30)
    assert sip_calls(voice, "worker_lost") == 2
    assert voice.metrics.registry.get_sample_value("switchboard_worker_restarts_total") == 1
    # Their audio gone, the two callers hang up; the BYEs free their slots in the dispatcher.
    for caller in callers[:2]:
        caller.send(cmd="hangup")
        await caller.wait_for("hangup", timeout=15)
    # The restarted worker takes calls again (Kamailio's probe puts it back in rotation).
    fresh = await parties("--record", str(tmp_path / "fresh.wav"))
    fresh.send(cmd="call", uri=node_uri(voice))
    await fresh.wait_for("media", timeout=30)


def sip_calls(voice: VoiceFrontDoor, outcome: str) -> float:
    assert isinstance(voice.metrics, Metrics)  # the node's, as make_front_door gives it
    value = voice.metrics.registry.get_sample_value(
        "switchboard_sip_calls_total", {"outcome": outcome}
    )
    return value or 0.0


def _group(pgid: int) -> list[int]:
    """The live processes of a process group (from /proc; zombies left out)."""
    members = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if entry.name.isdigit() and fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


async def test_stopping_ends_every_kamailio_process_even_a_stuck_one(
    make_front_door: Callable[..., Any],
) -> None:
    """A Kamailio child that cannot act on SIGTERM (stopped here; in a test run once,
    waiting on a shared-memory lock) outlived a main process that gave up on it."""
    voice = await make_front_door(workers=1)
    assert voice.front_door is not None and voice.front_door.process is not None
    main = voice.front_door.process.pid
    children = [pid for pid in _group(main) if pid != main]
    assert children  # Kamailio forks its receivers and timers
    os.kill(children[0], signal.SIGSTOP)
    await voice.front_door.stop()
    # SIGKILL is delivered at once but a process dies when the kernel gets to it: on a
    # loaded machine the stopped child was still listed a moment after (a CI run)
    for _ in range(50):
        if not _group(main):
            break
        await asyncio.sleep(0.1)
    assert _group(main) == []


async def test_a_sip_port_taken_over_tcp_is_named_in_the_error_and_nothing_is_left(
    tmp_path: Path,
) -> None:
    """Kamailio listens on UDP and TCP on one port; a port free for UDP only (a browser's
    outgoing connection held it in a CI run) ended in "exited at start" and no reason."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    door = FrontDoor(host="127.0.0.1", port=port, destinations=[], workdir=tmp_path / "k")
    try:
        with pytest.raises(FrontDoorFailed, match="did not come up") as failure:
            await door.start()
    finally:
        holder.close()
    assert "bind" in str(failure.value).lower() or "address" in str(failure.value).lower()
    assert door.process is None and door.log_file is None


async def test_a_sip_port_taken_without_front_door_fails_the_start_saying_why(
    make_front_door: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    """The worker could not bind the node's SIP port: it was restarted every 2 s for 30 s
    (16 tracebacks), then the node exited "cannot start node n: " with no reason (a
    probe's). Now the start fails after START_ATTEMPTS tries with the worker's reason (a
    port taken for a moment, by an outgoing connection, is ridden out)."""
    caplog.set_level(logging.INFO, logger="telephony.pool")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        port = squatter.getsockname()[1]
        with pytest.raises(WorkerStartError) as failure:
            await make_front_door(workers=1, front_door="none", port=port)
    message = str(failure.value)
    assert f"SIP 127.0.0.1:{port}" in message and "already in use" in message.lower(), message
    said = [r.getMessage() for r in caplog.records if r.name == "telephony.pool"]
    assert len([line for line in said if "restarting" in line]) == START_ATTEMPTS - 1, said
    tries = [line for line in said if "already in use" in line]
    assert tries == [f"{message} (attempt {n})" for n in range(1, START_ATTEMPTS + 1)], said


async def test_a_sip_port_taken_for_a_moment_is_ridden_out(
    make_front_door: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    """Taken at the first try only (an outgoing connection's ephemeral port, as in a CI
    run): the worker's next start binds it, and the node serves."""
    caplog.set_level(logging.INFO, logger="telephony.pool")
    squatter = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    squatter.bind(("127.0.0.1", 0))
    port = squatter.getsockname()[1]

    async def free_after_the_first_try() -> None:
        for _ in range(600):  # 30 s at most
            if any("(attempt 1)" in r.getMessage() for r in caplog.records):
                break
            await asyncio.sleep(0.05)
        squatter.close()

    freeing = asyncio.create_task(free_after_the_first_try())
    try:
        voice = await make_front_door(workers=1, front_door="none", port=port)
    finally:
        squatter.close()
        await freeing
    assert voice.pool is not None and voice.pool.workers[0].starts == 2


async def test_without_front_door_one_worker_answers_on_the_sip_port(
    make_front_door: Callable[..., Any], router: Router, parties: Callable[..., Any], tmp_path: Path
) -> None:
    voice = await make_front_door(workers=3, front_door="none")
    assert voice.front_door is None and voice.capacity == 2
    assert voice.pool is not None and [w.sip_port for w in voice.pool.workers] == [voice.sip.port]
    caller = await parties("--record", str(tmp_path / "c.wav"))
    caller.send(cmd="call", uri=node_uri(voice))
    await caller.wait_for("media", timeout=20)
    caller.send(cmd="dtmf", digits="1")
    contact_id = await until(lambda: next(iter(voice.pool.owner), None))
    assert (await router.get_contact(contact_id)).queue == "booking"


async def test_a_malformed_request_gets_400_at_the_front_door(
    make_front_door: Callable[..., Any],
) -> None:
    """A Content-Length longer than the datagram's body is refused (RFC 3261 section
    18.3) before any worker sees it; the front door keeps answering."""
    voice = await make_front_door(workers=1)
    call = "sanity-1"
    invite = (
        f"INVITE {node_uri(voice)} SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-sanity\r\n"
        f"From: <sip:fuzz@127.0.0.1>;tag=f1\r\nTo: <{node_uri(voice)}>\r\nCall-ID: {call}\r\n"
        "CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\n"
        "Content-Length: 99999\r\n\r\nv=0\r\n"
    )
    options = invite.replace("INVITE", "OPTIONS").replace("99999", "0").split("\r\n\r\n")[0]
    answers = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5)
        port = sock.getsockname()[1]
        for request in (invite, options + "\r\n\r\n"):
            sock.sendto(
                request.replace("{port}", str(port)).encode(), ("127.0.0.1", voice.sip.port)
            )
            answers.append(sock.recv(65536).decode(errors="replace").split("\r\n")[0])
    assert answers[0].startswith("SIP/2.0 400"), answers
    assert answers[1] == "SIP/2.0 200 OK"


def _invite_bytes(scenario: str) -> int:
    """The size of a scenario's INVITE, its SDP included (sipp's keywords as written)."""
    text = (Path(__file__).parent / "sipp" / scenario).read_text()
    start = text.index("<![CDATA[") + len("<![CDATA[")
    lines = [line.strip() for line in text[start : text.index("]]>", start)].strip().splitlines()]
    return len("\r\n".join(lines).encode())


async def test_a_tcp_caller_with_a_large_invite_reaches_an_agent_over_udp_workers(
    make_front_door: Callable[..., Any], router: Router, parties: Callable[..., Any], tmp_path: Path
) -> None:
    """RFC 3261 section 18.1.1: an INVITE over 1300 bytes comes over TCP. Kamailio takes
    it on TCP, hands it to a worker over UDP, and the agent's hang-up reaches the caller
    as a BYE over the caller's own connection (its Contact names a dead port)."""
    scenario = "ivr_agent_hangs_up.xml"
    assert _invite_bytes(scenario) > 1300
    voice = await make_front_door(workers=1)
    assert voice.pool is not None
    agent = await parties("--answer")
    await add_agent(router, "bob", agent.uri, {"booking": 2})
    caller = asyncio.get_running_loop().create_task(
        run_sipp(voice.sip.port, scenario, tmp_path, transport="t1")
    )
    await agent.wait_for("answered", timeout=30)
    contact_id = await connected_contact(voice, router)
    contact = await router.get_contact(contact_id)
    assert (contact.queue, contact.customer_id) == ("booking", "+15551230000")
    agent.send(cmd="hangup")
    assert await caller == 0, (tmp_path / "sipp-errors.log").read_text(errors="replace")
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.agent_id) == ("completed", "bob")


def _sip_over_tcp(port: int, request: str) -> str:
    """One request on a fresh TCP connection; the status line of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        local = sock.getsockname()[1]
        sock.sendall(request.replace("{port}", str(local)).encode())
        return sock.recv(65536).decode(errors="replace").split("\r\n")[0]


def _request(method: str, uri: str, body: str = "") -> str:
    return (
        f"{method} {uri} SIP/2.0\r\n"
        f"Via: SIP/2.0/TCP 127.0.0.1:{{port}};branch=z9hG4bK-{method.lower()}\r\n"
        f"From: <sip:fuzz@127.0.0.1>;tag=f1\r\nTo: <{uri}>\r\nCall-ID: tcp-{method}\r\n"
        f"CSeq: 1 {method}\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    )


async def test_a_request_too_large_for_the_workers_udp_gets_513_and_tcp_can_be_off(
    make_front_door: Callable[..., Any],
) -> None:
    """Over TCP a request may be larger than a worker takes over UDP: Kamailio answers
    513 rather than letting it time out at a worker. `tcp = false`: no TCP listener."""
    voice = await make_front_door(workers=1)
    port, uri = voice.sip.port, node_uri(voice)
    big = "v=0\r\n" + "a=x-padding:" + "z" * 5000 + "\r\n"
    assert await asyncio.to_thread(_sip_over_tcp, port, _request("INVITE", uri, big)) == (
        "SIP/2.0 513 Message Too Large"
    )
    assert await asyncio.to_thread(_sip_over_tcp, port, _request("OPTIONS", uri)) == (
        "SIP/2.0 200 OK"
    )

    udp_only = await make_front_door(workers=1, sip="tcp = false")
    assert udp_only.front_door is not None
    cfg = (udp_only.front_door.workdir / "kamailio.cfg").read_text()
    assert "disable_tcp=yes" in cfg and "listen=tcp:" not in cfg
    with pytest.raises(ConnectionRefusedError):
        _sip_over_tcp(udp_only.sip.port, _request("OPTIONS", node_uri(udp_only)))


async def test_without_front_door_the_worker_takes_a_tcp_caller_itself(
    make_front_door: Callable[..., Any], router: Router, tmp_path: Path
) -> None:
    voice = await make_front_door(workers=1, front_door="none")
    assert voice.pool is not None
    caller = asyncio.get_running_loop().create_task(
        run_sipp(voice.sip.port, "ivr_dtmf.xml", tmp_path, transport="t1")
    )
    contact_id = await until(lambda: next(iter(voice.pool.owner), None), timeout=20)
    assert await caller == 0, (tmp_path / "sipp-errors.log").read_text(errors="replace")
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.queue, contact.state.value) == ("booking", "abandoned")
