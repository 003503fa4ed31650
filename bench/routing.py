"""Routing decisions per second and decision latency on a real (embedded) Redis.

2,000 agents in 3 regions, 20 queues, 8 languages; each agent has 2-3 skills
(proficiency 1-5) and 1-3 languages. Contacts are offered at stepped rates
(open loop: a pacer starts each decision at its scheduled time and latency counts
from that time, so a client falling behind shows up as latency), then flat out
(closed loop, --workers concurrent asyncio workers, best of --flat-rounds rounds,
since the box may be shared). Load comes from --processes
processes, each with its own Redis client. A decision is one
`Router.create_contact` that comes back offered (the Lua decision plus reading the
contact back, as the HTTP API does); right after it the agent is released (accept +
complete, wrap-up 0) so that agents stay available. Releases stand in for agents
clicking on other nodes: they go out in batches, one pipeline per batch, whatever
piled up while the last batch was on the wire, and a decision does not wait for them.

The ceiling is measured in the same run: a bare sequential EVALSHA of a trivial
`return 1` script from the same kind of client to the same server, before and after
the steps (the higher of the two counts). Server time per decision comes from
INFO commandstats, client CPU from the worker processes' CPU clocks.

    .venv/bin/python bench/routing.py
    .venv/bin/python bench/routing.py --rates 250,500,1000 --step-s 5 --processes 1
    .venv/bin/python bench/routing.py --script my-routing.lua   # measure a candidate script
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import multiprocessing
import os
import random
import sys
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from _common import percentile, print_json_line, redis_url

from router.model import Agent, Channel, ContactState, NewContact, Presence, QueueConfig, Strategy
from router.service import Router
from router.store import SOURCE, RoutingStore
from switchboard.redisconn import connect

REGIONS = ("emea", "amer", "apac")
LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "ja", "zh")
STRATEGIES = tuple(Strategy)
PREFIX = "bench"
# INFO commandstats lines that are not commands a routing call makes inside.
NOT_INNER = frozenset({"fcall", "evalsha", "function|load", "info", "cpu:main", "cpu:all"})


@dataclass(frozen=True)
class Profile:
    """What a contact asks for; drawn from a real agent so that someone can take it."""

    queue: str
    language: str
    region: str


@dataclass
class Step:
    """What one load step produced, summed over processes."""

    name: str
    offered_per_s: float | None
    decisions: int = 0
    unmatched: int = 0
    elapsed_s: float = 0.0
    cpu_s: float = 0.0  # flat out: the releasing process's CPU included
    release_cpu_s: float = 0.0  # flat out: the releasing process's share of cpu_s
    latencies_ms: list[float] = field(default_factory=list)
    # What can stop a load process: its garbage collector and its event loop, and the
    # biggest batch of releases it sent at once (the server runs a pipeline in one go).
    gc_max_ms: float = 0.0
    gc_full: int = 0
    loop_lag_max_ms: float = 0.0
    release_batch_max: int = 0
    # The server's own latency events (LATENCY LATEST: event -> worst ms) in the step.
    server_events: dict[str, int] = field(default_factory=dict)
    # Cores the box's other processes kept busy during the step (the box is shared).
    neighbours_cores: float | None = None

    @property
    def decisions_per_s(self) -> float:
        return self.decisions / self.elapsed_s if self.elapsed_s else 0.0

    def merge(self, other: Step) -> None:
        self.decisions += other.decisions
        self.unmatched += other.unmatched
        self.elapsed_s = max(self.elapsed_s, other.elapsed_s)
        self.cpu_s += other.cpu_s
        self.latencies_ms.extend(other.latencies_ms)
        self.gc_max_ms = max(self.gc_max_ms, other.gc_max_ms)
        self.gc_full += other.gc_full
        self.loop_lag_max_ms = max(self.loop_lag_max_ms, other.loop_lag_max_ms)
        self.release_batch_max = max(self.release_batch_max, other.release_batch_max)

    def line(self) -> str:
        offered = "flat out" if self.offered_per_s is None else f"{self.offered_per_s:>6.0f}/s"
        return (
            f"{offered:>9}  {self.decisions_per_s:8.0f}/s  "
            f"p50 {percentile(self.latencies_ms, 50):7.2f} ms  "
            f"p99 {percentile(self.latencies_ms, 99):7.2f} ms  "
            f"max {max(self.latencies_ms, default=0):8.2f} ms  unmatched {self.unmatched}"
        )

    def stalls(self) -> str:
        """Where the worst decisions may have waited."""
        slow = sum(1 for latency in self.latencies_ms if latency > 10)
        events = ", ".join(f"{k} {v} ms" for k, v in sorted(self.server_events.items())) or "none"
        return (
            f"           {slow} decisions over 10 ms; load process: gc worst "
            f"{self.gc_max_ms:.1f} ms ({self.gc_full} full), event loop late by up to "
            f"{self.loop_lag_max_ms:.1f} ms, release batches up to {self.release_batch_max}; "
            f"server latency events: {events}; "
            + (
                f"other processes used {self.neighbours_cores:.1f} of {os.cpu_count()} cores"
                if self.neighbours_cores is not None
                else ""
            )
        )


class StallWatch:
    """Garbage collection pauses and event-loop lateness of this process during a step."""

    PERIOD_S = 0.005

    def __init__(self) -> None:
        self.gc_max_ms = 0.0
        self.gc_full = 0
        self.loop_lag_max_ms = 0.0
        self._gc_started = 0.0
        self._task: asyncio.Task[None] | None = None

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        self.gc_max_ms = max(self.gc_max_ms, (time.perf_counter() - self._gc_started) * 1000)
        self.gc_full += info["generation"] == 2

    async def _watch(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(self.PERIOD_S)
            late = (time.perf_counter() - asked - self.PERIOD_S) * 1000
            self.loop_lag_max_ms = max(self.loop_lag_max_ms, late)

    def __enter__(self) -> StallWatch:
        gc.callbacks.append(self._gc)
        self._task = asyncio.create_task(self._watch())
        return self

    def __exit__(self, *exc_info: object) -> None:
        gc.callbacks.remove(self._gc)
        if self._task is not None:
            self._task.cancel()

    def into(self, step: Step) -> None:
        step.gc_max_ms, step.gc_full = self.gc_max_ms, self.gc_full
        step.loop_lag_max_ms = self.loop_lag_max_ms


def make_world(
    agents: int, queues: int, seed: int
) -> tuple[list[QueueConfig], list[Agent], list[Profile]]:
    """The same world for the same seed, so every process can rebuild it."""
    rng = random.Random(seed)
    configs = [
        QueueConfig(
            name=f"q{i:02d}",
            skill=f"s{i:02d}",
            strategy=STRATEGIES[i % len(STRATEGIES)],
            wrap_up_s=0.0,
            ring_s=60.0,
            min_proficiency=1,
        )
        for i in range(queues)
    ]
    people: list[Agent] = []
    for i in range(agents):
        skills = rng.sample([c.skill for c in configs], rng.randint(2, 3))
        people.append(
            Agent(
                agent_id=f"a{i:04d}",
                region=REGIONS[i % len(REGIONS)],
                skills={skill: rng.randint(1, 5) for skill in skills},
                languages=rng.sample(LANGUAGES, rng.randint(1, 3)),
                capacity={"voice": 1, "chat": 3},
            )
        )
    queue_of = {config.skill: config.name for config in configs}
    profiles = []
    for _ in range(10_000):
        agent = rng.choice(people)
        profiles.append(
            Profile(
                queue_of[rng.choice(sorted(agent.skills))],
                rng.choice(agent.languages),
                agent.region,
            )
        )
    return configs, people, profiles


def make_router(client: aioredis.Redis, configs: list[QueueConfig], script: str) -> Router:
    store = RoutingStore(client, prefix=PREFIX, source=script)
    return Router(store, configs, node_id="bench", region=REGIONS[0])


class Releaser:
    """The agents, on other nodes: each accepts and completes the contact offered to it as
    the offer event comes (wrap-up 0, so the agent is free again at once).

    It runs in a process of its own, as other nodes would, so that a decision never
    waits behind release work in the same event loop, and it sends at most `BATCH`
    releases per pipeline: the server runs a pipeline's commands back to back, and a
    long one holds up every decision that arrives meanwhile.
    """

    BATCH = 8
    IN_FLIGHT = 4  # pipelines on the wire at once, so releases keep up with decisions

    def __init__(self, store: RoutingStore, control: Connection) -> None:
        self.store = store
        self.control = control
        self.batch_max = 0
        self.released = 0
        self.cpu_mark = time.process_time()
        self.sending: set[asyncio.Task[None]] = set()
        self.failure: BaseException | None = None

    async def run(self) -> None:
        events = await self.store.subscribe()  # as a node follows them
        gc.collect()
        gc.freeze()  # as in the load processes: full collections walk only what comes next
        self.control.send("ready")
        offers: list[tuple[str, str]] = []
        try:
            while True:
                event = await events.next(timeout_s=0.02)
                while event is not None:  # then whatever else came in the same read
                    if event["type"] == "offer" and event.get("node") == "bench":
                        offers.append((event["contact_id"], event["agent_id"]))
                    event = await events.next(timeout_s=0)
                while offers:
                    while len(self.sending) >= self.IN_FLIGHT:
                        await asyncio.wait(self.sending, return_when=asyncio.FIRST_COMPLETED)
                    task = asyncio.create_task(self.release(offers[: self.BATCH]))
                    self.sending.add(task)
                    task.add_done_callback(self.sending.discard)
                    del offers[: self.BATCH]
                if self.failure is not None:
                    raise self.failure
                if self.control.poll() and not self.answer(self.control.recv()):
                    return
        finally:
            if self.sending:
                await asyncio.wait(self.sending)
            await events.close()

    async def release(self, offers: list[tuple[str, str]]) -> None:
        try:
            await self._release(offers)
        except Exception as error:  # raised in the main loop, never swallowed
            self.failure = error

    async def _release(self, offers: list[tuple[str, str]]) -> None:
        self.batch_max = max(self.batch_max, len(offers))
        pipe = self.store.client.pipeline(transaction=False)
        for contact_id, agent_id in offers:
            self.store.queue(pipe, "accept", contact_id, agent_id)
            self.store.queue(pipe, "complete", contact_id, "")
        replies = await pipe.execute()
        for (contact_id, _), accepted, completed in zip(
            offers, replies[::2], replies[1::2], strict=True
        ):
            # A contact the bench found queued and abandoned may have been offered by a
            # freed agent in between: that offer ended with it, there is nothing to free.
            if accepted[0] == "not_offered" and completed[0] in ("not_connected", "already"):
                continue
            if (accepted[0], completed[0]) != ("connected", "completed"):
                raise RuntimeError(f"release of {contact_id} failed: {accepted}, {completed}")
            self.released += 1

    def answer(self, order: str) -> bool:
        """'mark' starts a step, 'report' ends it (batch max, CPU s, releases); 'stop'."""
        if order == "mark":
            self.batch_max, self.released, self.cpu_mark = 0, 0, time.process_time()
        elif order == "report":
            self.control.send((self.batch_max, time.process_time() - self.cpu_mark, self.released))
        return order != "stop"


class Releasing:
    """The releasing process, seen from the bench: started before any event loop runs."""

    def __init__(self, url: str, script: str) -> None:
        self.control, child = multiprocessing.Pipe()
        self.process = multiprocessing.get_context("fork").Process(
            target=run_releaser, args=(url, script, child), daemon=True
        )
        self.process.start()
        if not self.control.poll(30) or self.control.recv() != "ready":
            self.stop()
            raise RuntimeError("the releasing process did not start")

    def mark(self) -> None:
        self.control.send("mark")

    def report(self) -> tuple[int, float, int]:
        """Since the mark: the biggest batch, the CPU seconds used, the releases made."""
        self.control.send("report")
        if not self.control.poll(30):
            raise RuntimeError("the releasing process stopped answering")
        batch_max, cpu_s, released = self.control.recv()
        return int(batch_max), float(cpu_s), int(released)

    def stop(self) -> None:
        if self.process.is_alive():
            self.control.send("stop")
            self.process.join(10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join()


def run_releaser(url: str, script: str, control: Connection) -> None:
    """Entry point of the releasing process."""

    async def main() -> None:
        client = connect(url)
        try:
            await Releaser(RoutingStore(client, prefix=PREFIX, source=script), control).run()
        finally:
            await client.aclose()

    asyncio.run(main())


class Load:
    """One process's share of the load, on its own client."""

    def __init__(
        self,
        client: aioredis.Redis,
        configs: list[QueueConfig],
        script: str,
        profiles: list[Profile],
        read_back: bool,
    ) -> None:
        self.read_back = read_back
        self.router = make_router(client, configs, script)
        self.profiles = profiles
        self.next_profile = 0

    def profile(self) -> Profile:
        self.next_profile = (self.next_profile + 1) % len(self.profiles)
        return self.profiles[self.next_profile]

    async def decide(self, step: Step, scheduled: float) -> None:
        """One decision; the releasing process frees the agent as soon as it is offered."""
        profile = self.profile()
        new = NewContact(
            channel=Channel.VOICE,
            queue=profile.queue,
            language=profile.language,
            region=profile.region,
            node="bench",  # the releasing process frees the agents of this node's contacts
        )
        if self.read_back:  # what the HTTP API does: decide, then read the contact back
            contact = await self.router.create_contact(new)
            contact_id, offered = contact.contact_id, contact.state == ContactState.OFFERED
        else:  # the bare decision: one routing call
            contact_id = uuid.uuid4().hex
            made = await self.router.store.create_contact(contact_id, new, profile.region)
            offered = made.state == ContactState.OFFERED
        done = time.perf_counter()
        if offered:
            step.decisions += 1
            step.latencies_ms.append((done - scheduled) * 1000)
        else:  # nobody free with that skill, language and region right now
            step.unmatched += 1
            await self.router.store.run("abandon", contact_id, "bench")

    async def paced(self, rate: float, duration_s: float, start_at: float, limit: int) -> Step:
        """Open loop: decision i starts at start + i / rate; latency counts from that time."""
        step = Step(f"{rate:g}/s", rate)
        total = int(rate * duration_s)
        gate = asyncio.Semaphore(limit)
        tasks: set[asyncio.Task[None]] = set()
        failures: list[BaseException] = []

        async def one(scheduled: float) -> None:
            try:
                await self.decide(step, scheduled)
            except Exception as error:  # reported after the step, never swallowed
                failures.append(error)
            finally:
                gate.release()

        started = time.perf_counter() + max(0.0, start_at - time.time())
        await asyncio.sleep(max(0.0, started - time.perf_counter()))
        cpu = time.process_time()
        with StallWatch() as watch:
            for i in range(total):
                scheduled = started + i / rate
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                await gate.acquire()
                task = asyncio.create_task(one(scheduled))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            while tasks:
                await asyncio.gather(*list(tasks))
        watch.into(step)
        step.elapsed_s = time.perf_counter() - started
        step.cpu_s = time.process_time() - cpu
        if failures:
            raise RuntimeError(f"{len(failures)} decisions failed, first: {failures[0]!r}")
        return step

    async def flat_out(self, workers: int, duration_s: float, start_at: float) -> Step:
        """Closed loop: `workers` tasks each decide again as soon as the last one is done."""
        step = Step("flat out", None)
        await asyncio.sleep(max(0.0, start_at - time.time()))
        started = time.perf_counter()
        deadline = started + duration_s
        cpu = time.process_time()

        async def worker() -> None:
            while time.perf_counter() < deadline:
                await self.decide(step, time.perf_counter())

        await asyncio.gather(*(worker() for _ in range(workers)))
        step.elapsed_s = time.perf_counter() - started
        step.cpu_s = time.process_time() - cpu
        return step


def run_share(job: dict[str, Any]) -> Step:
    """Entry point of a load process: rebuild the world, offer this process's share."""
    return asyncio.run(_run_share(job))


async def _run_share(job: dict[str, Any]) -> Step:
    configs, _, profiles = make_world(job["agents"], job["queues"], job["seed"])
    shift = job["index"] * len(profiles) // max(job["processes"], 1)
    profiles = profiles[shift:] + profiles[:shift]
    client = connect(job["url"], max_connections=job["connections"])
    try:
        load = Load(client, configs, job["script"], profiles, job["decision"] == "router")
        # A node's connections are open long before its decisions: this step's client
        # opens its own now, as many as it may use at once, so that the first decisions
        # do not pay for connecting (at 1,000/s they started 100-160 ms late, decaying
        # over half a second: most of the p99 of the step).
        warm = job["limit"] if job["kind"] == "paced" else job["workers"]
        await asyncio.gather(*(client.ping() for _ in range(warm)))
        # What is built so far lives as long as the process: out of the collector's
        # sight, a full collection no longer walks it (one took 40-80 ms mid-step).
        gc.collect()
        gc.freeze()
        if job["kind"] == "paced":
            return await load.paced(job["rate"], job["duration_s"], job["start_at"], job["limit"])
        return await load.flat_out(job["workers"], job["duration_s"], job["start_at"])
    finally:
        await client.aclose()


async def setup(client: aioredis.Redis, args: argparse.Namespace) -> None:
    configs, people, _ = make_world(args.agents, args.queues, args.seed)
    router = make_router(client, configs, args.script_text)
    store = router.store
    await router.publish_configuration(list(REGIONS))
    for batch in range(0, len(people), 100):
        chunk = people[batch : batch + 100]
        await asyncio.gather(*(store.upsert_agent(agent) for agent in chunk))
        await asyncio.gather(*(store.set_presence(a.agent_id, Presence.AVAILABLE) for a in chunk))


async def evalsha_rate(url: str, duration_s: float) -> float:
    """The ceiling: sequential round trips of a trivial script from one client."""
    client = connect(url)
    try:
        trivial = client.register_script("return 1")
        await trivial()
        count = 0
        started = time.perf_counter()
        while time.perf_counter() < started + duration_s:
            for _ in range(100):
                await trivial()
            count += 100
        return count / (time.perf_counter() - started)
    finally:
        await client.aclose()


async def command_costs(url: str, args: argparse.Namespace, count: int = 300) -> dict[str, float]:
    """Server time and Redis calls per script command, one decision at a time (no contention)."""
    configs, _, profiles = make_world(args.agents, args.queues, args.seed + 1)
    client = connect(url)
    router = make_router(client, configs, args.script_text)
    store = router.store

    async def snapshot() -> tuple[int, int, int, int]:
        stats = await server_usec(url)
        fcall = stats.get("fcall", (0, 0))
        inner = sum(calls for name, (calls, _) in stats.items() if name not in NOT_INNER)
        return fcall[1], fcall[0], inner, stats["cpu:main"][1]

    costs: dict[str, float] = {}
    try:
        made: list[tuple[str, str]] = []
        marks = [await snapshot()]
        for i in range(count):
            p = profiles[i]
            new = NewContact(Channel.VOICE, p.queue, p.language, region=p.region)
            contact = await store.create_contact(f"probe-{i}", new, p.region)
            made.append((f"probe-{i}", contact.agent_id))
        marks.append(await snapshot())
        for contact_id, agent_id in made:
            if agent_id:
                await store.run("accept", contact_id, agent_id)
        marks.append(await snapshot())
        for contact_id, agent_id in made:
            await store.run("complete" if agent_id else "abandon", contact_id, "")
        marks.append(await snapshot())
    finally:
        await client.aclose()
    for name, (a, b) in zip(
        ("create", "accept", "complete"), itertools.pairwise(marks), strict=True
    ):
        calls = max(b[1] - a[1], 1)
        costs[f"{name}_us"] = round((b[0] - a[0]) / calls, 1)
        costs[f"{name}_redis_calls"] = round((b[2] - a[2]) / calls, 1)
        costs[f"{name}_cpu_us"] = round((b[3] - a[3]) / calls, 1)
    return costs


def busy_cpu_s() -> float | None:
    """CPU seconds every process of the box has used (Linux /proc/stat), or None."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


async def server_latency(url: str, reset: bool = False) -> dict[str, int]:
    """The server's latency monitor (events over 1 ms): the worst ms of each kind of
    event since the last reset (`reset`: start afresh)."""
    client = aioredis.Redis.from_url(url, decode_responses=True)
    try:
        if reset:
            await client.config_set("latency-monitor-threshold", 1)
            await client.execute_command("LATENCY", "RESET")
            return {}
        latest = await client.execute_command("LATENCY", "LATEST")
    finally:
        await client.aclose()
    return {str(event[0]): int(event[3]) for event in latest}


async def server_usec(url: str) -> dict[str, tuple[int, int]]:
    """Calls and microseconds per command from INFO commandstats, and under `cpu:main`
    the CPU microseconds of the server's main thread, which a busy neighbour does not
    inflate the way it inflates wall-clock timings."""
    client = aioredis.Redis.from_url(url, decode_responses=True)
    try:
        stats = await client.info("commandstats")
        cpu = await client.info("cpu")
    finally:
        await client.aclose()
    figures = {
        name.removeprefix("cmdstat_"): (int(v["calls"]), int(v["usec"]))
        for name, v in stats.items()
        if isinstance(v, dict)
    }
    main = ("used_cpu_user_main_thread", "used_cpu_sys_main_thread")
    if not all(key in cpu for key in main):
        main = ("used_cpu_user", "used_cpu_sys")
    figures["cpu:main"] = (0, int(sum(float(cpu[key]) for key in main) * 1e6))
    every = ("used_cpu_user", "used_cpu_sys")  # every thread: AOF fsync, lazy free too
    figures["cpu:all"] = (0, int(sum(float(cpu[key]) for key in every) * 1e6))
    return figures


def offer_load(
    pool: ProcessPoolExecutor, args: argparse.Namespace, url: str, kind: str, amount: float
) -> Step:
    """Split one step over the processes; they start together one second from now."""
    start_at = time.time() + 1.0
    jobs = [
        {
            "url": url,
            "agents": args.agents,
            "queues": args.queues,
            "seed": args.seed,
            "script": args.script_text,
            "decision": args.decision,
            "index": index,
            "processes": args.processes,
            "kind": kind,
            "rate": amount / args.processes,
            "workers": max(1, int(amount) // args.processes),
            "duration_s": args.step_s if kind == "paced" else args.flat_s,
            "start_at": start_at,
            "limit": args.max_in_flight,
            "connections": (args.max_in_flight if kind == "paced" else int(amount)) + 8,
        }
        for index in range(args.processes)
    ]
    total = Step(
        f"{amount:g}/s" if kind == "paced" else "flat out", amount if kind == "paced" else None
    )
    for share in pool.map(run_share, jobs):
        total.merge(share)
    return total


async def measure(
    args: argparse.Namespace, url: str, pool: ProcessPoolExecutor, releasing: Releasing
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    print(
        f"{args.agents} agents in {len(REGIONS)} regions, {args.queues} queues, "
        f"{len(LANGUAGES)} languages; load from {args.processes} process(es), "
        f"{args.workers} workers flat out; decision = {args.decision}; "
        f"script {args.script or 'router/routing.lua'}"
    )
    args.flat_s, flat_s = 1.0, args.flat_s  # warm-up: processes, connections, script cache
    await loop.run_in_executor(None, offer_load, pool, args, url, "flat", args.workers)
    args.flat_s = flat_s
    evalsha_before = await evalsha_rate(url, args.evalsha_s)
    print(f"bare EVALSHA 'return 1', sequential, one client: {evalsha_before:8.0f}/s")
    steps: list[Step] = []
    for rate in args.rates:
        await server_latency(url, reset=True)
        releasing.mark()
        box, server = busy_cpu_s(), (await server_usec(url))["cpu:all"][1] / 1e6
        started = time.perf_counter()
        step = await loop.run_in_executor(None, offer_load, pool, args, url, "paced", rate)
        step.release_batch_max, release_cpu_s, _ = releasing.report()
        step.server_events = await server_latency(url)
        if box is not None:
            server = (await server_usec(url))["cpu:all"][1] / 1e6 - server
            others = busy_cpu_s() - box - server - step.cpu_s - release_cpu_s  # type: ignore[operator]
            step.neighbours_cores = max(0.0, others / (time.perf_counter() - started))
        steps.append(step)
        print(step.line(), flush=True)
        print(step.stalls(), flush=True)
    # Flat out: the best of a few rounds, since this box is shared and a neighbour's
    # burst can halve one round; each round keeps its own server-time profile.
    rounds: list[tuple[Step, dict[str, tuple[int, int]], dict[str, tuple[int, int]]]] = []
    for _ in range(args.flat_rounds):
        before = await server_usec(url)
        releasing.mark()
        flat = await loop.run_in_executor(None, offer_load, pool, args, url, "flat", args.workers)
        flat.release_batch_max, release_cpu_s, _ = releasing.report()
        flat.cpu_s += release_cpu_s  # the agents' side of each decision is client work too
        flat.release_cpu_s = release_cpu_s
        rounds.append((flat, before, await server_usec(url)))
        print(flat.line(), flush=True)
    flat, before, after = max(rounds, key=lambda r: r[0].decisions_per_s)
    steps.append(flat)
    evalsha_after = await evalsha_rate(url, args.evalsha_s)
    print(f"bare EVALSHA 'return 1', sequential, one client: {evalsha_after:8.0f}/s (after)")

    evalsha = max(evalsha_before, evalsha_after)
    releasing.stop()  # the probe below releases its own contacts, one at a time
    costs = await command_costs(url, args)
    trips = await round_trips(url)
    print(
        "Redis round trips per use case (service layer): chat created "
        f"{trips['create_round_trips']:.2f} (3 regions with placement "
        f"{trips['create_round_trips_3_regions']:.2f}), "
        f"completed {trips['complete_round_trips']:.2f}"
    )
    print(
        "one decision at a time, per routing call: server time / server CPU (Redis calls "
        "inside): "
        + ", ".join(
            f"{name} {costs[name + '_us']:.0f} / {costs[name + '_cpu_us']:.0f} us "
            f"({costs[name + '_redis_calls']:.0f})"
            for name in ("create", "accept", "complete")
        )
    )
    profile = where_time_goes(flat, before, after, args.processes)
    for line in profile["lines"]:
        print(line)
    at_1000 = next((s for s in steps if s.offered_per_s == 1000), steps[0])
    ratio = flat.decisions_per_s / evalsha if evalsha else 0.0
    p99 = percentile(at_1000.latencies_ms, 99)
    print(
        f"flat out / EVALSHA ceiling = {ratio:.2f} (target >= 0.6: "
        f"{'met' if ratio >= 0.6 else 'MISSED'}); p99 at {at_1000.name} = {p99:.2f} ms "
        f"(target <= 10 ms: {'met' if p99 <= 10 else 'MISSED'})"
    )
    return {
        "decisions_per_s": round(flat.decisions_per_s, 1),
        "evalsha_per_s": round(evalsha, 1),
        "p50_ms": round(percentile(at_1000.latencies_ms, 50), 3),
        "p99_ms": round(p99, 3),
        "ratio": round(ratio, 3),
        "steps": {
            s.name: {
                "decisions_per_s": round(s.decisions_per_s, 1),
                "p50_ms": round(percentile(s.latencies_ms, 50), 3),
                "p99_ms": round(percentile(s.latencies_ms, 99), 3),
                "max_ms": round(max(s.latencies_ms, default=0.0), 3),
                "unmatched": s.unmatched,
                **(
                    {
                        "gc_max_ms": round(s.gc_max_ms, 1),
                        "loop_lag_max_ms": round(s.loop_lag_max_ms, 1),
                        "release_batch_max": s.release_batch_max,
                        "server_events_ms": s.server_events,
                        "neighbours_cores": None
                        if s.neighbours_cores is None
                        else round(s.neighbours_cores, 2),
                    }
                    if s.offered_per_s is not None
                    else {}
                ),
            }
            for s in steps
        },
        "server_us_per_decision": profile["server_us"],
        "lua_us_per_decision": profile["lua_us"],
        "client_cpu_us_per_decision": profile["client_us"],
        "release_cpu_us_per_decision": profile["release_us"],
        "server_cpu_us_per_decision": profile["server_cpu_us"],
        **costs,
        **trips,
        "processes": args.processes,
        "decision": args.decision,
        "script": str(args.script or "router/routing.lua"),
    }


def where_time_goes(
    flat: Step,
    before: dict[str, tuple[int, int]],
    after: dict[str, tuple[int, int]],
    processes: int,
) -> dict[str, Any]:
    """Split the flat-out time per decision into server time (routing calls) and client CPU."""
    decisions = max(flat.decisions, 1)

    def spent(name: str) -> tuple[int, int]:
        now, then = after.get(name, (0, 0)), before.get(name, (0, 0))
        return now[0] - then[0], now[1] - then[1]

    # Valkey counts a function's inner commands both on their own lines and inside FCALL.
    fcall_calls, fcall_us = spent("fcall")
    inner_us = sum(spent(name)[1] for name in after if name not in NOT_INNER)
    hgetall_calls, hgetall_us = spent("hgetall")
    lines = [
        "where the time goes, per flat-out decision (create + read back + release):",
        f"  server: {fcall_calls / decisions:.2f} routing calls, {fcall_us / decisions:7.1f} us "
        f"in them, of which {inner_us / decisions:6.1f} us in the Redis commands they make "
        f"(HGETALL alone: {hgetall_calls / decisions:.1f} calls, {hgetall_us / decisions:.1f} us), "
        "the rest in Lua itself",
    ]
    server_us = fcall_us / decisions
    wall_us = flat.elapsed_s * 1e6 / decisions
    client_us = flat.cpu_s * 1e6 / decisions
    release_us = flat.release_cpu_s * 1e6 / decisions
    lines.append(
        f"  server routing {server_us:7.1f} us, client (Python) CPU {client_us:7.1f} us, "
        f"wall {wall_us:7.1f} us per decision; server busy {server_us / wall_us:.0%} of wall, "
        f"client CPU {client_us / wall_us / processes:.0%} of {processes} process(es)"
    )
    lua_us = max(0.0, server_us - inner_us / decisions)
    cpu_us = spent("cpu:main")[1] / decisions
    lines.append(
        f"  CPU per decision: server main thread {cpu_us:7.1f} us, client {client_us:7.1f} us "
        f"(releasing {release_us:.1f} us); "
        f"with a core each, the server would bound this at {1e6 / max(cpu_us, 1):,.0f}/s and "
        f"{processes} client process(es) at {processes * 1e6 / max(client_us, 1):,.0f}/s"
    )
    return {
        "server_cpu_us": round(cpu_us, 1),
        "lines": lines,
        "server_us": round(server_us, 1),
        "lua_us": round(lua_us, 1),
        "client_us": round(client_us, 1),
        "release_us": round(release_us, 1),
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--queues", type=int, default=20)
    parser.add_argument("--rates", default="250,500,1000,2000", help="offered decisions/s steps")
    parser.add_argument("--step-s", type=float, default=4.0, help="seconds per paced step")
    parser.add_argument("--flat-s", type=float, default=4.0, help="seconds per flat-out round")
    parser.add_argument("--flat-rounds", type=int, default=3, help="flat-out rounds; best counts")
    parser.add_argument("--workers", type=int, default=32, help="concurrent workers flat out")
    parser.add_argument("--processes", type=int, default=1, help="load processes")
    parser.add_argument("--max-in-flight", type=int, default=64, help="per process, paced steps")
    parser.add_argument("--evalsha-s", type=float, default=2.0, help="seconds of bare EVALSHA")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--decision",
        choices=("router", "store"),
        default="router",
        help="router: Router.create_contact (FCALL + read back); store: the FCALL alone",
    )
    parser.add_argument("--script", type=Path, help="a candidate routing script to measure")
    parser.add_argument("--redis-url", help="a Redis to use instead (it is flushed!)")
    args = parser.parse_args(argv)
    try:
        args.rates = [float(rate) for rate in args.rates.split(",") if rate.strip()]
    except ValueError:
        parser.error(f"--rates: expected numbers separated by commas, found {args.rates!r}")
    if min(args.agents, args.workers, args.processes, args.flat_rounds) < 1 or args.queues < 3:
        parser.error(
            "--agents, --workers, --processes and --flat-rounds must be at least 1, "
            "--queues at least 3"
        )
    if args.script is not None and not args.script.is_file():
        parser.error(f"--script: no such file {args.script}")
    args.script_text = args.script.read_text() if args.script else SOURCE
    return args


class CountingRedis(aioredis.Redis):
    """A client that counts round trips: each command, or each pipeline, is one."""

    round_trips = 0

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        self.round_trips += 1
        return await super().execute_command(*args, **options)

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Any:
        pipe: Any = super().pipeline(transaction, shard_hint)  # Any: its execute is replaced
        send = pipe.execute

        async def execute(raise_on_error: bool = True) -> Any:
            self.round_trips += 1
            return await send(raise_on_error)

        pipe.execute = execute
        return pipe


async def round_trips(url: str, contacts: int = 50) -> dict[str, float]:
    """Redis round trips of the people-facing use cases, through the service layer as the
    HTTP API calls them: a customer starting a chat (one region, and three regions with
    placement), and the agent completing it."""
    from regions.model import RegionConfig
    from regions.service import Regions
    from regions.store import MembershipStore
    from router.access import Principal
    from router.chat import ChatLog
    from router.contacts import ChatRequest, Contacts
    from router.events import EventHub
    from router.model import Role
    from router.reports.service import Reports
    from router.reports.store import RecordStore
    from router.sessions import Sessions
    from router.users_store import UserStore

    client = CountingRedis.from_url(url, decode_responses=True)
    assert isinstance(client, CountingRedis)  # from_url makes a `cls`; its type says Redis
    figures: dict[str, float] = {}
    try:
        for label, names in (("", ["r1"]), ("_3_regions", ["r1", "r2", "r3"])):
            await client.flushdb()
            store = RoutingStore(client, prefix="rt")
            queue = QueueConfig("q", "q", wrap_up_s=0)
            router = Router(store, [queue], node_id="n1", region="r1")
            await router.publish_configuration(names)
            regions = [RegionConfig(name, "UTC") for name in names]
            placement = Regions(
                router,
                MembershipStore(client, "rt", 5.0),
                Sessions(UserStore(client, "rt"), store),
                regions,
                "n1",
            )
            reports = Reports(RecordStore(store))
            service = Contacts(
                router, ChatLog(store, None), reports, EventHub(store), placement.place
            )
            await router.upsert_agent(Agent("a", "r1", {"q": 3}, ["en"], {"voice": 1, "chat": 1}))
            await router.set_presence("a", Presence.AVAILABLE)
            agent = Principal("a", Role.AGENT)
            created = completed = 0
            for _ in range(contacts):
                before = client.round_trips
                contact, _ = await service.start_chat(ChatRequest("q", "en"))
                created += client.round_trips - before
                await router.accept(contact.contact_id, "a")
                before = client.round_trips
                await service.complete(agent, contact.contact_id)
                completed += client.round_trips - before
            figures[f"create_round_trips{label}"] = created / contacts
            figures[f"complete_round_trips{label}"] = completed / contacts
    finally:
        await client.aclose()
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with redis_url(args.redis_url) as url, ProcessPoolExecutor(args.processes) as pool:
        pool.submit(int).result()  # fork the load processes now, before any event loop runs
        asyncio.run(prepare(args, url))
        releasing = Releasing(url, args.script_text)
        try:
            figures = asyncio.run(measure(args, url, pool, releasing))
        finally:
            releasing.stop()
    print_json_line(figures)
    return 0


async def prepare(args: argparse.Namespace, url: str) -> None:
    """A flushed server with the world on it and the routing library loaded."""
    client = aioredis.Redis.from_url(url, decode_responses=True)
    try:
        if args.redis_url:
            await client.flushdb()
        await setup(client, args)
    finally:
        await client.aclose()


if __name__ == "__main__":
    sys.exit(main())
