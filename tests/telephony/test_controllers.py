"""The call controllers alone, like `IvrSession`: pure rules with a fake engine and router.

Real SIP runs in test_calls.py, test_transfer.py and the others; here each controller's
own decisions are pinned down without a call."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest

from router.model import Agent, Contact
from telephony.calls.call import AgentLeg, Call, CallState, CallTable, Monitor, Role
from telephony.calls.monitor import MonitorController
from telephony.calls.offers import OfferController
from telephony.calls.prompter import Prompter
from telephony.calls.recording import RecordingController
from telephony.calls.transfer import Destination, TransferController, TransferRefused, node_names
from telephony.calls.voice import Voice
from telephony.calls.waiting import WaitingController
from telephony.model import MonitorMode, RecordingConfig
from telephony.prompts import PromptRenderer
from telephony.recordings import UnknownRecording, purge, recording_path

from .conftest import until


class FakeEngine:
    """Records the commands it is given; every leg it dials gets the next number."""

    def __init__(self) -> None:
        self.commands: list[tuple[Any, ...]] = []
        self.next_leg = 100

    def __getattr__(self, name: str) -> Any:
        async def command(*args: Any) -> int:
            self.commands.append((name, *args))
            self.next_leg += 1
            return self.next_leg

        return command


class FakeRouting:
    def __init__(self, agents: tuple[str, ...] = ()) -> None:
        self.agents = agents
        self.requests: list[tuple[Any, ...]] = []

    async def get_agent(self, agent_id: str) -> Agent:
        if agent_id not in self.agents:
            raise LookupError(agent_id)
        return Agent(agent_id, "default", {}, [], sip_uri=f"sip:{agent_id}@phones")

    def __getattr__(self, name: str) -> Any:
        async def request(*args: Any, **kwargs: Any) -> None:
            self.requests.append((name, *args, *sorted(kwargs.items())))

        return request


def voice(routing: FakeRouting | None = None, tmp_path: Path | None = None) -> Voice:
    engine: Any = FakeEngine()
    made = Voice(
        engine=engine,
        routing=routing or FakeRouting(),  # type: ignore[arg-type]
        prompter=Prompter(engine, PromptRenderer(tmp_path or Path("."))),
        table=CallTable(),
        clock=lambda: 1_000,
        report=lambda event: None,
        node_id="n",
        queues=frozenset({"booking", "baggage"}),
    )
    made.waiting = WaitingController(made)
    made.recording = RecordingController(made, RecordingConfig())  # records nothing
    return made


def talking_call(contact_id: str = "c1") -> Call:
    call = Call(leg=1, caller="+331", contact_uri="sip:+331@h", dialled="1000", flow=None)
    call.contact_id, call.queue, call.state = contact_id, "booking", CallState.TALKING
    call.agent = AgentLeg("ana", leg=2, answered=True)
    return call


# -- transfers: where a target goes --------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("sip:baggage@10.0.0.1:5060", Destination(queue="baggage")),
        ("sip:baggage@10.0.0.1", Destination(queue="baggage")),  # port 5060 implied
        ("sip:erin@10.0.0.1", Destination(agent="erin")),
        ("sip:+4930123@10.0.0.1", Destination(uri="sip:+4930123@trunk")),
        ("sip:bob@partner.example", Destination(uri="sip:bob@partner.example")),
        ("sip:baggage@10.0.0.1:5999", Destination(uri="sip:baggage@10.0.0.1:5999")),
        ("queue:booking", Destination(queue="booking")),
        ("agent:erin", Destination(agent="erin")),
        ("tel:+4930123", Destination(uri="sip:+4930123@trunk")),
    ],
)
async def test_a_transfer_target_names_a_queue_an_agent_or_a_number(
    target: str, expected: Destination
) -> None:
    controller = TransferController(
        voice(FakeRouting(agents=("erin",))), frozenset({"10.0.0.1:5060"}), "sip:{number}@trunk"
    )
    assert await controller.destination(target) == expected


@pytest.mark.parametrize(
    ("uri", "ours"),
    [
        ("sip:booking@10.0.0.1:5080", True),
        ("sip:booking@cc.example.com", True),  # the accounts' domain, no port written
        ("sip:booking@CC.Example.com:5080", True),  # host names ignore case
        ("sip:booking@cc.example.com:5070", False),  # another port there: someone else's
        ("sip:booking@10.0.0.1", False),  # no port is 5060 (RFC 3261): not the node
        ("sip:booking@10.0.0.1:5060", False),
        ("sip:booking@elsewhere.example:5080", False),
        ("tel:+4930123", False),
    ],
)
def test_the_node_is_named_by_its_address_or_by_its_accounts_domain(uri: str, ours: bool) -> None:
    names = node_names("10.0.0.1", 5080, "cc.example.com")
    assert TransferController(voice(), names, "").names_node(uri) is ours


@pytest.mark.parametrize(
    ("uri", "ours"),
    [
        ("sip:booking@127.0.0.1", True),  # the domain is the host: its name without a port
        ("sip:booking@127.0.0.1:5080", True),
        ("sip:booking@127.0.0.1:5060", False),
    ],
)
def test_without_a_domain_the_host_alone_names_the_node(uri: str, ours: bool) -> None:
    names = node_names("127.0.0.1", 5080, "127.0.0.1")  # what a worker passes by default
    assert TransferController(voice(), names, "").names_node(uri) is ours


@pytest.mark.parametrize("target", ["queue:nowhere", "agent:nobody", "tel:+4930123"])
async def test_an_unknown_name_or_a_number_without_a_trunk_is_refused(target: str) -> None:
    controller = TransferController(voice(), frozenset({"10.0.0.1:5060"}), outside_uri="")
    with pytest.raises(TransferRefused):
        await controller.destination(target)


async def test_a_refused_router_transfer_leaves_the_caller_with_the_agent() -> None:
    class Refusing(FakeRouting):
        async def transfer(self, *args: Any, **kwargs: Any) -> None:
            raise ValueError("not connected")

    made = voice(Refusing())
    controller = TransferController(made, frozenset(), "")
    call = talking_call()
    made.table.add(2, call, Role.AGENT)
    assert not await controller._to_router(call, Destination(queue="baggage"), "desktop")
    assert call.state == CallState.TALKING and call.agent_id == "ana"
    assert made.table.get(2) == (call, Role.AGENT)


@pytest.mark.parametrize("loop_first", [True, False])
async def test_a_refers_loop_is_answered_with_the_refusal_whichever_comes_first(
    loop_first: bool,
) -> None:
    """A REFER to `carol` (no queue, agent or number): pjsua's call to it comes back
    (engine event `loop`) before or after the refusal is known; either way it is answered
    404, which the phone's NOTIFY reports, and the agent keeps the caller."""
    made = voice()
    controller = TransferController(made, node_names("10.0.0.1", 5080), "")
    call = talking_call()
    made.table.add(2, call, Role.AGENT)
    controller.referred(call, 2, "sip:carol@10.0.0.1:5080", 50)
    assert made.table.get(50) == (call, Role.LOOP)
    if loop_first:
        controller.loop_arrived(50, 60)
    else:
        await asyncio.sleep(0.05)  # the refusal is known, the loop not yet here
        assert ("hangup", 60, 404) not in made.engine.commands  # type: ignore[attr-defined]
        controller.loop_arrived(50, 60)
    await until(lambda: ("hangup", 60, 404) in made.engine.commands)  # type: ignore[attr-defined]
    assert call.state == CallState.TALKING and call.agent_leg == 2
    assert made.table.get(2) == (call, Role.AGENT)
    assert ("hangup", 2, 200) not in made.engine.commands  # type: ignore[attr-defined]


async def test_a_warm_transfer_needs_a_person_and_a_talking_call() -> None:
    made = voice(FakeRouting(agents=("erin",)))
    controller = TransferController(made, frozenset(), "")
    call = talking_call()
    with pytest.raises(TransferRefused, match="person"):
        await controller.consult(call, "queue:baggage")
    call.state = CallState.QUEUED
    with pytest.raises(TransferRefused, match="not talking"):
        await controller.consult(call, "agent:erin")


async def test_a_consult_holds_the_caller_and_dials_the_colleagues_phone() -> None:
    made = voice(FakeRouting(agents=("erin",)))
    controller = TransferController(made, frozenset(), "")
    call = talking_call()
    await controller.consult(call, "agent:erin")
    engine: Any = made.engine
    assert ("call", "sip:erin@phones") in engine.commands
    assert ("unbridge", 1, 2) in engine.commands and ("music", 1, True) in engine.commands
    assert call.state == CallState.HELD and call.consult is not None
    assert made.table.get(call.consult.leg or 0) == (call, Role.CONSULT)


# -- offers: how an agent's phone ended the offer ------------------------------------------


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (486, "phone_busy"),
        (600, "phone_busy"),
        (603, "declined"),
        # The phone could not be reached: nothing answered the INVITE (408), no
        # registration (480), no account signed in (404), a server or transport error,
        # Kamailio failing to send it on (477: a phone on TCP whose connection died).
        (408, "phone_unreachable"),
        (477, "phone_unreachable"),
        (478, "phone_unreachable"),
        (480, "phone_unreachable"),
        (404, "phone_unreachable"),
        (503, "phone_unreachable"),
        (500, "phone_unreachable"),
        # Anything else the phone answers is the agent not taking the call.
        (487, "no_answer"),
        (0, "no_answer"),
    ],
)
async def test_an_offer_the_phone_ends_is_declined_with_the_reason_and_the_caller_waits_again(
    code: int, reason: str
) -> None:
    routing = FakeRouting()
    made = voice(routing)
    offers = OfferController(made)
    resumed: list[Call] = []
    made.waiting = type("W", (), {"resume": lambda self, call: resumed.append(call)})()  # type: ignore[assignment]
    call = talking_call()
    call.state, call.agent = CallState.OFFERED, AgentLeg("ana", leg=2)
    await offers.agent_gone(call, 2, code)
    assert routing.requests == [("decline", "c1", "ana", ("reason", reason))]
    assert call.state == CallState.QUEUED and resumed == [call]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (200, ("abandon", "c1", ("reason", "caller_hangup"))),  # the caller's BYE
        (408, ("fail", "c1", ("reason", "session_expired"))),  # RFC 4028: no refresh
        (481, ("fail", "c1", ("reason", "call_lost"))),  # a refresh of ours refused
    ],
)
async def test_a_waiting_caller_abandons_only_by_hanging_up(
    code: int, expected: tuple[Any, ...]
) -> None:
    routing = FakeRouting()
    made = voice(routing)
    made.monitor = MonitorController(made)
    offers = OfferController(made)
    call = talking_call()
    call.state, call.agent = CallState.QUEUED, None
    await offers.caller_gone(call, code)
    assert routing.requests == [expected]
    assert call.state == CallState.ENDED


async def test_an_agent_phone_the_worker_cannot_dial_is_declined_as_unreachable() -> None:
    """A SIP URI pjsua refuses to call at all (no route, a bad host) is no ring-out."""
    from telephony.endpoint import EngineError

    routing = FakeRouting()
    made = voice(routing)
    engine: Any = made.engine

    async def refused(uri: str, headers: dict[str, str] | None = None) -> int:
        raise EngineError(f"cannot call {uri}")

    engine.call = refused
    offers = OfferController(made)
    call = talking_call()
    call.state, call.agent = CallState.QUEUED, None
    await offers.on_offer(call, {"agent_id": "ana", "sip_uri": "sip:ana@nowhere.invalid"})
    assert routing.requests == [("decline", "c1", "ana", ("reason", "phone_unreachable"))]
    assert call.state == CallState.QUEUED


async def test_a_revoked_offer_is_not_declined_again() -> None:
    routing = FakeRouting()
    made = voice(routing)
    offers = OfferController(made)
    made.waiting = type("W", (), {"resume": lambda self, call: None})()  # type: ignore[assignment]
    call = talking_call()
    call.state, call.agent = CallState.OFFERED, AgentLeg("ana", leg=2)
    await offers.revoke(call, "ana")
    await offers.agent_gone(call, 2, 487)
    assert routing.requests == []
    assert ("hangup", 2, 487) in made.engine.commands  # type: ignore[attr-defined]


# -- monitoring: who hears whom ------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (MonitorMode.LISTEN, {(1, 9), (2, 9)}),
        (MonitorMode.WHISPER, {(1, 9), (2, 9), (9, 2)}),
        (MonitorMode.BARGE, {(1, 9), (2, 9), (9, 2), (9, 1)}),
    ],
)
def test_a_supervisor_hears_both_sides_and_is_heard_by_the_mode(
    mode: MonitorMode, expected: set[tuple[int, int]]
) -> None:
    call = talking_call()
    monitor = Monitor(supervisor="sue", uri="sip:sue@phones", mode=mode, leg=9)
    assert MonitorController.links(call, monitor) == expected


# -- recording: files, disk, retention -----------------------------------------------------


async def test_a_second_recording_of_a_contact_gets_its_own_file(tmp_path: Path) -> None:
    made = voice(tmp_path=tmp_path)
    recording = RecordingController(
        made, RecordingConfig(directory=str(tmp_path), queues=("booking",))
    )
    call = talking_call()
    (tmp_path / "c1.wav").write_bytes(b"")
    await recording.follow(call)
    assert call.recording == "c1-2.wav"
    engine: Any = made.engine
    assert ("record", str(tmp_path / "c1-2.wav"), 1, 2) in engine.commands


async def test_no_recording_is_started_on_a_disk_without_room_and_the_call_goes_on(
    tmp_path: Path,
) -> None:
    made = voice(tmp_path=tmp_path)
    huge = RecordingConfig(directory=str(tmp_path / "rec"), queues=("booking",), min_free_mb=10**9)
    call = talking_call()
    await RecordingController(made, huge).follow(call)
    assert call.recorder is None and call.state == CallState.TALKING
    assert made.engine.commands == []  # type: ignore[attr-defined]


def test_retention_deletes_old_recordings_only(tmp_path: Path) -> None:
    old, new = tmp_path / "a.wav", tmp_path / "b.wav"
    for path in (old, new):
        path.write_bytes(b"RIFF")
    ten_days_ago = time.time() - 10 * 86_400
    os.utime(old, (ten_days_ago, ten_days_ago))
    assert purge(tmp_path, retention_days=7) == [old]
    assert not old.exists() and new.exists()
    assert purge(tmp_path, retention_days=0) == []  # 0 keeps everything


@pytest.mark.parametrize("name", ["../secret.wav", "a/b.wav", "x.txt", ".hidden.wav", "none.wav"])
def test_playback_serves_only_a_recording_of_the_directory(tmp_path: Path, name: str) -> None:
    (tmp_path / "c1.wav").write_bytes(b"RIFF")
    assert recording_path(tmp_path, "c1.wav") == tmp_path / "c1.wav"
    with pytest.raises(UnknownRecording):
        recording_path(tmp_path, name)


def test_the_chain_of_agents_follows_the_transfers() -> None:
    contact = Contact("c1", channel="voice", queue="baggage", language="en", region="r")  # type: ignore[arg-type]
    contact.agent_id = "carl"
    contact.transfers = [{"from_agent": "ana", "to": "queue:baggage"}, {"from_agent": "bob"}]
    assert contact.agent_chain == ["ana", "bob", "carl"]
