"""Fixtures for real SIP on loopback: free ports, scripted phones, a Router on real Redis."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import socket
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import redis.asyncio as aioredis

from router.model import Agent, Contact, Presence, QueueConfig
from router.service import Router
from router.store import RoutingStore
from switchboard.common.clock import now_ms
from telephony.calls import VoiceCalls
from telephony.capacity import built_max_calls
from telephony.endpoint import EndpointConfig, PjEngine
from telephony.model import Hours, IvrFlow, Reason
from telephony.prompts import PromptRenderer, make_music

if TYPE_CHECKING:
    from telephony.service import VoiceFrontDoor

HERE = Path(__file__).resolve().parent
PARTY = HERE / "sip_party.py"
_port_block = itertools.count(0)


def free_udp_port() -> int:
    """A UDP port nothing listens on now (bind to 0, read, release)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_free(kind: socket.SocketKind, port: int) -> bool:
    """Whether a socket of `kind` (SOCK_DGRAM, SOCK_STREAM) can bind 127.0.0.1:port now."""
    with socket.socket(socket.AF_INET, kind) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextlib.asynccontextmanager
async def running_voice(
    config: Path, router: Router, workdir: Path, **parts: Any
) -> AsyncIterator[VoiceFrontDoor]:
    """A node's voice front door from the `config` file on the test's Router, with its
    event hub (`parts`: the VoiceFrontDoor's ratings, audit, users, metrics...), started
    and connected; stopped, hub too, on the way out."""
    from router.events import EventHub
    from switchboard.settings import load_settings
    from telephony.service import VoiceFrontDoor

    hub = EventHub(router.store)
    await hub.start()
    voice = VoiceFrontDoor(load_settings(config), router, hub, workdir=workdir, **parts)
    try:
        await voice.start()
        await asyncio.wait_for(hub.connected.wait(), 5)
        yield voice
    finally:
        await voice.stop()
        await hub.stop()


def free_sip_port() -> int:
    """A port free for UDP and TCP both: Kamailio listens on the two at once."""
    for _ in range(50):
        port = free_udp_port()
        if port_free(socket.SOCK_STREAM, port):
            return port
    raise RuntimeError("no port free for both UDP and TCP")


async def run_sipp(
    port: int,
    scenario: str,
    tmp_path: Path,
    *,
    transport: str = "u1",
    timeout: float = 40,
    extra: tuple[str, ...] = (),
) -> int:
    """One call of a scenario from `sipp/` to 127.0.0.1:port over `transport` (sipp's
    `-t`: u1 UDP, t1 TCP); its exit code (0: the call went as scripted). Killed by its PID
    if it outlives `timeout`; its errors are in tmp_path/sipp-errors.log. `extra`: more
    of sipp's options (`-au`/`-ap` credentials, `-key NAME VALUE`), after the defaults."""
    process = await asyncio.create_subprocess_exec(
        "sipp",
        f"127.0.0.1:{port}",
        *("-sf", str(HERE / "sipp" / scenario), "-s", "2000", "-m", "1", "-t", transport),
        *("-i", "127.0.0.1", "-p", str(free_sip_port()), "-mp", str(rtp_block())),
        *("-timeout", f"{int(timeout) - 5}s", "-nostdin", "-trace_err"),
        *("-error_file", str(tmp_path / "sipp-errors.log")),
        *extra,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=tmp_path,
    )
    try:
        return await asyncio.wait_for(process.wait(), timeout)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def start_sipp(
    scenario: str, tmp_path: Path, *, log: str = "sipp", extra: tuple[str, ...] = ()
) -> tuple[int, asyncio.subprocess.Process]:
    """sipp waiting on a free 127.0.0.1 port for one call of a scenario from `sipp/` (an
    agent's phone, a carrier's trunk): its port and the running process, for the test to
    wait for and kill by its PID. Its errors and messages are in tmp_path/{log}-errors.log
    and tmp_path/{log}-messages.log; `extra`: more of sipp's options (`-mp`, `-key`)."""
    port = free_sip_port()
    process = await asyncio.create_subprocess_exec(
        "sipp",
        *("-sf", str(HERE / "sipp" / scenario), "-m", "1", "-t", "u1"),
        *("-i", "127.0.0.1", "-p", str(port)),
        *extra,
        *("-timeout", "40s", "-nostdin", "-trace_err", "-trace_msg"),
        *("-error_file", str(tmp_path / f"{log}-errors.log")),
        *("-message_file", str(tmp_path / f"{log}-messages.log")),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=tmp_path,
    )
    return port, process


def rtp_block() -> int:
    """A block of 40 RTP ports per phone/worker, spread by PID so parallel runs do not meet,
    below Linux's ephemeral range (32768 and up), where any client socket of the run (Redis,
    HTTP) may hold one (sipp then exits 254, its audio port "already in use"); a block
    whose first ports are taken all the same is passed over."""
    base = 10000 + (os.getpid() % 30) * 600
    for _ in range(15):
        block = base + (next(_port_block) % 15) * 40
        if all(port_free(socket.SOCK_DGRAM, port) for port in range(block, block + 4)):
            return block
    raise RuntimeError("no block of RTP ports free")


def worker_endpoint(**changes: Any) -> EndpointConfig:
    """A worker's endpoint for tests: free ports, RTP within its own block, a few calls."""
    base: dict[str, Any] = {
        "sip_port": free_udp_port(),
        "rtp_port": rtp_block(),
        "rtp_port_range": 40,
        "max_calls": min(16, built_max_calls()),
        "max_inbound": 2,
    }
    base.update(changes)
    return EndpointConfig(**base)


QUEUES = [
    QueueConfig(name="booking", skill="booking", ring_s=5, wrap_up_s=0),
    QueueConfig(name="baggage", skill="baggage", ring_s=5, wrap_up_s=0),
    QueueConfig(name="general", skill="general", ring_s=5, wrap_up_s=0),
    QueueConfig(name="emergency", skill="emergency", priority=9, ring_s=5, wrap_up_s=0),
]


@contextlib.asynccontextmanager
async def running_worker(
    router: Router,
    prompt_cache: Path,
    *,
    endpoint: EndpointConfig | None = None,
    flows: list[IvrFlow] | None = None,
    **options: Any,
) -> AsyncIterator[VoiceCalls]:
    """A worker's calls as the tests run them (in this process, routing straight to
    `router`): the test queues, prompts and hold music; `options` are VoiceCalls'."""
    config = endpoint or worker_endpoint()
    calls = VoiceCalls(
        engine_factory=lambda on_event: PjEngine(config, on_event),
        routing=router,
        flows=flows or [flow()],
        prompts=PromptRenderer(prompt_cache),
        node_id="node-t",
        clock=now_ms,
        music=make_music(prompt_cache / "music.wav"),
        queues={queue.name for queue in QUEUES},
        **options,
    )
    await calls.start()
    try:
        yield calls
    finally:
        await calls.stop()


def flow(**changes: Any) -> IvrFlow:
    base: dict[str, Any] = {
        "number": "*",
        "region": "default",
        "languages": ("en", "fr"),
        "reasons": (
            Reason("1", "booking", "booking"),
            Reason("2", "baggage", "baggage"),
            Reason("9", "emergency", "emergency", priority=9, emergency=True),
        ),
        "default_queue": "general",
        "digit_timeout_s": 2.0,
        "max_tries": 2,
        "hours": Hours(),
        "announce_every_s": 30.0,
    }
    base.update(changes)
    return IvrFlow(**base)


class Party:
    """A sip_party.py subprocess: send commands, await its JSON events."""

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.port = port
        self.events: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @property
    def uri(self) -> str:
        return f"sip:agent@127.0.0.1:{self.port}"

    @classmethod
    async def start(cls, *args: str) -> Party:
        port = free_sip_port()  # `--tcp` listens on TCP at the same port
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(PARTY),
            "--port",
            str(port),
            "--rtp-port",
            str(rtp_block()),
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        party = cls(process, port)
        await party.wait_for("ready", timeout=20)
        return party

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while True:
            line = await self.process.stdout.readline()
            if not line:
                break
            text = line.decode(errors="replace").strip()
            if text.startswith("{"):
                self.events.append(json.loads(text))
                self._changed.set()

    def send(self, **command: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(command) + "\n").encode())

    async def wait_for(
        self,
        kind: str,
        timeout: float = 15,
        where: Callable[[dict[str, Any]], bool] = lambda e: True,
    ) -> dict[str, Any]:
        async def find() -> dict[str, Any]:
            while True:
                for event in self.events:
                    if event["type"] == kind and where(event):
                        return event
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(find(), timeout)

    async def close(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(Exception):
                self.send(cmd="quit")
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        self._reader.cancel()


@pytest.fixture
async def parties() -> AsyncIterator[Callable[..., Any]]:
    started: list[Party] = []

    async def start(*args: str) -> Party:
        party = await Party.start(*args)
        started.append(party)
        return party

    yield start
    for party in started:
        await party.close()


@pytest.fixture
async def router(redis_url: str) -> AsyncIterator[Router]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    router = Router(RoutingStore(client), QUEUES, node_id="node-t", region="default")
    await router.publish_configuration(["default"])
    yield router
    await client.aclose()


async def add_agent(router: Router, agent_id: str, sip_uri: str, skills: dict[str, int]) -> None:
    await router.upsert_agent(
        Agent(agent_id=agent_id, region="default", skills=skills, languages=["en", "fr"])
    )
    await router.login(agent_id, sip_uri=sip_uri, channels={"voice": 1})
    await router.set_presence(agent_id, Presence.AVAILABLE)


@pytest.fixture(scope="session")
def prompt_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("prompts")


async def terminal(router: Router, contact_id: str) -> Contact | None:
    """The contact once it has its one recorded outcome, else None (a check for `until`)."""
    contact = await router.get_contact(contact_id)
    return contact if contact.is_terminal else None


async def until(check: Callable[[], Any], timeout: float = 15, step: float = 0.05) -> Any:
    """Poll an (async or plain) check until it returns something truthy; bounded."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(step)


@pytest.fixture
async def node_events(router: Router) -> AsyncIterator[Callable[[Any], None]]:
    """Feed the router's events for node-t to a handler (what the node does for telephony)."""
    from router.events import EventHub

    hub = EventHub(router.store)
    await hub.start()
    tasks: list[asyncio.Task[None]] = []

    def attach(handler: Any) -> None:
        async def pump() -> None:
            async with hub.listen(node="node-t") as queue:
                while True:
                    await handler(await queue.get())

        tasks.append(asyncio.get_running_loop().create_task(pump()))

    await asyncio.wait_for(hub.connected.wait(), 5)
    stop = asyncio.Event()
    # The node runs the router's timers (ring timeouts, wrap-up, re-matching); so do we.
    timers = asyncio.get_running_loop().create_task(router.run_timers(0.25, stop))
    yield attach
    stop.set()
    await timers
    for task in tasks:
        task.cancel()
    await hub.stop()


@pytest.fixture(scope="session")
def tone_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One second of 1 kHz at 8 kHz: the agent's 'voice' in the bridging test."""
    import subprocess

    path = tmp_path_factory.mktemp("tone") / "tone.wav"
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(path), "synth", "1", "sine", "1000"],
        check=True,
    )
    return path


def tone_share(path: Path, frequency: float, last_s: float = 1.0, first: bool = False) -> float:
    """Share of the signal's energy near `frequency` in the last (or first) seconds of a WAV."""
    samples, rate = _samples(path)
    count = int(rate * last_s)
    return _band_share(samples[:count] if first else samples[-count:], rate, frequency)


def tone_windows(path: Path, frequency: float, last_s: float, window_s: float = 0.5) -> list[float]:
    """`tone_share` of each `window_s` of the last `last_s` seconds of a WAV: a tone that
    comes and goes (a cadence) shows in some window even beside a louder one."""
    samples, rate = _samples(path)
    tail, size = samples[-int(rate * last_s) :], int(rate * window_s)
    return [_band_share(tail[at : at + size], rate, frequency) for at in range(0, tail.size, size)]


def _samples(path: Path) -> tuple[Any, int]:
    import wave

    import numpy as np

    with wave.open(str(path), "rb") as handle:
        rate = handle.getframerate()
        frames = handle.readframes(handle.getnframes())
    return np.frombuffer(frames, dtype="<i2").astype(np.float64), rate


def _band_share(samples: Any, rate: int, frequency: float) -> float:
    import numpy as np

    if samples.size == 0 or not np.any(samples):
        return 0.0
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size))) ** 2
    freqs = np.fft.rfftfreq(samples.size, 1 / rate)
    band = (freqs > frequency - 40) & (freqs < frequency + 40)
    return float(spectrum[band].sum() / spectrum.sum())


NODE_CONFIG = """
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
name = "baggage"
skill = "baggage"
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
front_door = "none"
workers = 1
rtp_port_base = {rtp_port_base}
rtp_ports_per_worker = 40
restart_delay_s = 0.2
prompt_cache_dir = "{cache}"
outside_uri = "{outside_uri}"

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

[[ivr.reasons]]
digit = "2"
name = "baggage"
queue = "baggage"
"""


@pytest.fixture
async def node(
    router: Router, tmp_path: Path, prompt_cache: Path
) -> AsyncIterator[Callable[..., Any]]:
    """Start a node's voice front door (one worker process on the node's SIP port) on the
    test's Router; `await node(extra=TOML, outside_uri=..., sip=LINES)` (`sip`: more
    lines for the [sip] section). Stopped after the test."""
    from router.reports.service import Reports
    from router.reports.store import RecordStore

    started = contextlib.AsyncExitStack()
    count = itertools.count()

    async def start(extra: str = "", outside_uri: str = "", sip: str = "") -> VoiceFrontDoor:
        config = tmp_path / f"node{next(count)}.toml"
        config.write_text(
            NODE_CONFIG.replace("[sip]\n", f"[sip]\n{sip}\n").format(
                port=free_sip_port(),
                rtp_port_base=rtp_block(),
                cache=prompt_cache,
                outside_uri=outside_uri,
            )
            + extra
        )
        reports = Reports(RecordStore(router.store))  # the node's ratings and audit log
        voice = running_voice(config, router, tmp_path / "voice", ratings=reports, audit=reports)
        return await started.enter_async_context(voice)

    async with started:
        yield start


def node_uri(voice: Any, number: str = "1000") -> str:
    return f"sip:{number}@127.0.0.1:{voice.sip.port}"


async def pick_reason(voice: Any, caller: Party, digits: str = "1") -> None:
    """The caller dials the node and, once it hears the menu, presses `digits`."""
    caller.send(cmd="call", uri=node_uri(voice))
    await caller.wait_for("media", timeout=20)
    caller.send(cmd="dtmf", digits=digits)


async def call_agent(
    voice: Any, router: Router, caller: Party, agent: Party, digits: str = "1"
) -> str:
    """The caller dials the node and picks a reason; the agent's phone answers; returns
    the contact id once the router has it connected."""
    await pick_reason(voice, caller, digits)
    await agent.wait_for("answered", timeout=20)
    return await connected_contact(voice, router)


async def agent_talking(
    voice: Any,
    router: Router,
    parties: Callable[..., Any],
    agent_tone: Path,
    agent_id: str,
    *caller_args: str,
    skills: dict[str, int] | None = None,
) -> tuple[Party, Party, str]:
    """(the agent's phone, the caller, the contact id) once the caller talks to the agent:
    a phone answering with `agent_tone`, signed in as `agent_id` (booking unless `skills`),
    and a caller started with `caller_args` who dials the node and picks booking."""
    agent = await parties("--answer", "--tone", str(agent_tone))
    await add_agent(router, agent_id, agent.uri, skills or {"booking": 2})
    caller = await parties(*caller_args)
    return agent, caller, await call_agent(voice, router, caller, agent)


async def refer_refused(
    voice: Any,
    router: Router,
    agent: Party,
    caller: Party,
    contact_id: str,
    name: str,
    heard_path: Path,
    *,
    agent_id: str,
) -> None:
    """The agent's phone transfers the caller to `name` (no queue, agent or number the
    node can dial): its last NOTIFY says 404 and the call goes on, the caller hearing the
    agent's 1 kHz (recorded to `heard_path`), the contact theirs with no transfer noted."""
    agent.send(cmd="transfer", target=node_uri(voice, name))
    done = await agent.wait_for("transfer_status", where=lambda e: e["final"], timeout=20)
    assert (done["code"], done["reason"]) == (404, "Not Found")
    heard = await recorded(caller, heard_path)
    assert tone_share(heard, 1000.0, last_s=1.5) > 0.5  # still the agent
    contact = await router.get_contact(contact_id)
    assert (contact.state.value, contact.agent_id, contact.transfers) == ("connected", agent_id, [])


async def connected_contact(voice: Any, router: Router, timeout: float = 15) -> str:
    """The id of the contact the node's pool holds, once the router has it connected
    (hanging up before the accept lands would be a decline)."""
    contact_id: str = await until(lambda: next(iter(voice.pool.owner), None))

    async def connected() -> bool:
        return (await router.get_contact(contact_id)).state.value == "connected"

    await until(connected, timeout=timeout)
    return contact_id


def tone(tmp_path_factory: pytest.TempPathFactory, frequency: int) -> Path:
    import subprocess

    path = tmp_path_factory.mktemp("tone") / f"tone{frequency}.wav"
    subprocess.run(
        [
            *("sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(path)),
            *("synth", "1", "sine", str(frequency)),
        ],
        check=True,
    )
    return path


@pytest.fixture(scope="session")
def caller_tone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The caller's 'voice': 600 Hz."""
    return tone(tmp_path_factory, 600)


@pytest.fixture(scope="session")
def colleague_tone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second agent's or an outside party's 'voice': 1500 Hz."""
    return tone(tmp_path_factory, 1500)


@pytest.fixture(scope="session")
def supervisor_tone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A supervisor's 'voice': 2200 Hz."""
    return tone(tmp_path_factory, 2200)


MUSIC = (440.0, 554.0)  # the generated hold music's two tones (prompts.make_music)


def music_share(path: Path) -> float:
    """Share of the last 1.5 s of a WAV that is the hold music."""
    return sum(tone_share(path, frequency, last_s=1.5) for frequency in MUSIC)


async def recorded(party: Party, path: Path, seconds: float = 2.0) -> Path:
    """What the party hears for a while on its last call, as a WAV."""
    party.send(cmd="record", path=str(path))
    await party.wait_for("recording", where=lambda e: e.get("path") == str(path))
    await asyncio.sleep(seconds)
    count = sum(1 for e in party.events if e["type"] == "recorded")
    party.send(cmd="stop_record")
    await until(lambda: sum(1 for e in party.events if e["type"] == "recorded") > count)
    return path
