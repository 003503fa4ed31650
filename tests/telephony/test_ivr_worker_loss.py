"""A call still in the IVR when its worker process dies (SIGKILL) or its node stops ends
in exactly one IVR outcome, `failed` with `worker_lost` or `node_stopped` at the stage it
was in, recorded by the node's pool from what the worker told it: stored once (the
`ivr` stream that `switchboard report --ivr` and `GET /api/v1/reports/ivr` read) and
counted once (`switchboard_ivr_calls_total`). A worker that recorded its call's outcome
before it died is not counted again, and the other worker's callers go on.

Real Kamailio, worker processes and pjsua2 callers; the flow has one language (a caller
with audio is in the reason menu) and waits a minute for a key, so a caller stays in the
IVR until the test acts."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import datetime as dt
import io
import itertools
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from router.metrics import Metrics
from router.model import Role
from router.reports.service import Reports
from router.reports.store import RecordStore
from router.service import Router
from telephony.pool import WorkerHandle
from telephony.service import VoiceFrontDoor
from tests.nodes import http_session, login, running_node
from tests.router.report_cli import config_for, run_cli

from .conftest import Party, free_sip_port, node_uri, running_voice, until
from .test_pool import CONFIG, _free_block

IVR_CALLS = "switchboard_ivr_calls_total"
StartNode = Callable[..., Awaitable[VoiceFrontDoor]]


@pytest.fixture
async def start_node(
    router: Router, tmp_path: Path, prompt_cache: Path
) -> AsyncIterator[StartNode]:
    """`await start_node(workers, front_door="kamailio")`: a node's voice (Kamailio or
    none, worker processes, the node's metrics) whose IVR waits 60 s for a key; stopped
    after the test."""
    started = contextlib.AsyncExitStack()
    count = itertools.count()

    async def start(workers: int, front_door: str = "kamailio") -> VoiceFrontDoor:
        k = next(count)
        config = tmp_path / f"node{k}.toml"
        config.write_text(
            CONFIG.format(
                port=free_sip_port(),
                front_door=front_door,
                workers=workers,
                calls=4,
                worker_port_base=_free_block(workers),
                rtp_port_base=40000 + (os.getpid() % 100) * 200,
                cache=prompt_cache,
            ).replace("digit_timeout_s = 3", "digit_timeout_s = 60")
        )
        voice = running_voice(config, router, tmp_path / f"voice{k}", metrics=Metrics("node-t"))
        return await started.enter_async_context(voice)

    async with started:
        yield start


async def in_reason_menu(voice: VoiceFrontDoor, caller: Party) -> WorkerHandle:
    """The caller dials the node and hears the menu; the worker whose IVR holds the call,
    once the pool was told it is in the reason menu."""
    assert voice.pool is not None
    known = {key for worker in voice.pool.workers for key in worker.ivr}
    caller.send(cmd="call", uri=node_uri(voice))
    await caller.wait_for("media", timeout=20)

    def holder() -> WorkerHandle | None:
        for worker in voice.pool.workers if voice.pool is not None else []:
            for key, told in worker.ivr.items():
                if key not in known and told.get("stage") == "reason":
                    return worker
        return None

    found: WorkerHandle = await until(holder)
    return found


async def kill_and_restart(voice: VoiceFrontDoor, worker: WorkerHandle) -> None:
    """SIGKILL the worker; back once the pool has restarted it (its calls recorded
    before: the pool records a dead worker's calls, then starts another)."""
    old_pid, starts = worker.pid, worker.starts
    assert old_pid is not None
    os.kill(old_pid, signal.SIGKILL)
    await until(lambda: worker.starts > starts and worker.ready.is_set(), timeout=30)


async def stored(router: Router, count: int) -> list[dict[str, str]]:
    """The IVR outcomes stored, once there are `count` (never more)."""
    reports = Reports(RecordStore(router.store))

    async def found() -> list[dict[str, str]] | None:
        records = await reports.ivr_outcomes(0)
        assert len(records) <= count, records
        return records if len(records) == count else None

    return list(await until(found))


def ivr_calls(voice: VoiceFrontDoor, outcome: str, stage: str) -> float:
    assert isinstance(voice.metrics, Metrics)
    labels = {"outcome": outcome, "stage": stage}
    return voice.metrics.registry.get_sample_value(IVR_CALLS, labels) or 0.0


async def test_a_killed_workers_ivr_call_is_failed_once_and_the_other_workers_goes_on(
    start_node: StartNode,
    router: Router,
    parties: Callable[..., Any],
    redis_url: str,
    tmp_path: Path,
) -> None:
    voice = await start_node(2)
    assert voice.pool is not None
    lost_caller, other_caller = await parties(), await parties()
    lost = await in_reason_menu(voice, lost_caller)
    other = await in_reason_menu(voice, other_caller)  # the less loaded worker takes it
    assert other is not lost
    (key,) = lost.ivr

    await kill_and_restart(voice, lost)

    (record,) = await stored(router, 1)
    assert (record["outcome"], record["stage"], record["reason"]) == (
        "failed",
        "reason",
        "worker_lost",
    )
    assert (record["call"], record["dialled"], record["region"]) == (key, "1000", "default")
    assert (record["node"], record["language"], record["contact_id"]) == ("node-t", "en", "")
    assert int(record["answered_at"]) <= int(record["ended_at"])
    assert ivr_calls(voice, "failed", "reason") == 1
    assert not lost.ivr
    # The other worker's caller is still in its menu, and ends it as it likes: one outcome.
    assert len(other.ivr) == 1
    other_caller.send(cmd="hangup")
    await other_caller.wait_for("hangup", timeout=15)
    records = await stored(router, 2)
    assert [(r["outcome"], r["stage"], r["reason"]) for r in records] == [
        ("failed", "reason", "worker_lost"),
        ("hung_up", "reason", ""),
    ]
    await until(lambda: ivr_calls(voice, "hung_up", "reason") == 1)
    assert ivr_calls(voice, "failed", "reason") == 1
    lost_caller.send(cmd="hangup")  # its audio gone, the caller hangs up
    await lost_caller.wait_for("hangup", timeout=15)

    # Each is counted once in the report, on the command line and over HTTP.
    today = dt.datetime.now(dt.UTC).date()
    out = tmp_path / "ivr.csv"
    argv = ["report", "--config", str(config_for(redis_url, tmp_path)), "--ivr"]
    day = ["--from", today.isoformat(), "--to", today.isoformat(), "--out", str(out)]
    assert await run_cli([*argv, *day]) == 0
    (row,) = list(csv.DictReader(io.StringIO(out.read_text())))
    figures = {name: row[name] for name in ("answered", "routed", "hung_up", "closed", "failed")}
    assert figures == {"answered": "2", "routed": "0", "hung_up": "1", "closed": "0", "failed": "1"}
    password = "a-long-password"
    period = {
        "from": f"{today.isoformat()}T00:00:00Z",
        "to": f"{(today + dt.timedelta(days=1)).isoformat()}T00:00:00Z",
    }
    async with (
        running_node(redis_url, users=[("adm", Role.ADMIN, password)]) as node,
        http_session(node) as http,
    ):
        headers = await login(http, "adm", password)
        answer = await http.get("/api/v1/reports/ivr", params=period, headers=headers)
        assert answer.status == 200, await answer.text()
        body = await answer.json()
    assert (body["answered"], body["hung_up"], body["failed"]) == (2, 1, 1)
    assert body["failed_by_reason"] == {"worker_lost": 1}


class HeldNote:
    """The node's router, holding back the first IVR outcome it is asked to store until
    `release` is set (the pool serving a worker's outcome while the worker dies)."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.router, name)

    async def note_ivr_outcome(self, outcome: dict[str, Any]) -> None:
        if not self.entered.is_set():
            self.entered.set()
            await self.release.wait()
        await self.router.note_ivr_outcome(outcome)


async def test_an_outcome_the_worker_sent_before_it_died_is_the_only_one(
    start_node: StartNode, router: Router, parties: Callable[..., Any]
) -> None:
    """The caller hangs up in the menu; the worker's `hung_up` is on its way to Redis
    when the worker is killed: the pool, which read it, records nothing more."""
    voice = await start_node(1)
    assert voice.pool is not None
    held = HeldNote(router)
    voice.pool.routing = held
    caller = await parties()
    worker = await in_reason_menu(voice, caller)
    caller.send(cmd="hangup")
    await asyncio.wait_for(held.entered.wait(), 15)

    await kill_and_restart(voice, worker)
    held.release.set()

    (record,) = await stored(router, 1)
    assert (record["outcome"], record["stage"], record["reason"]) == ("hung_up", "reason", "")
    await until(lambda: ivr_calls(voice, "hung_up", "reason") == 1)
    assert ivr_calls(voice, "failed", "reason") == 0
    assert not worker.ivr


@pytest.mark.parametrize("front_door", ["none", "kamailio"])
async def test_a_node_that_stops_records_its_ivr_calls_failed_node_stopped_once(
    start_node: StartNode, router: Router, parties: Callable[..., Any], front_door: str
) -> None:
    """The caller is hung up on either way: behind Kamailio too, which stops after the
    workers so that their BYE reaches the caller through it."""
    voice = await start_node(1, front_door=front_door)
    caller = await parties()
    await in_reason_menu(voice, caller)

    await voice.stop()

    (record,) = await stored(router, 1)
    assert (record["outcome"], record["stage"], record["reason"]) == (
        "failed",
        "reason",
        "node_stopped",
    )
    assert ivr_calls(voice, "failed", "reason") == 1
    assert ivr_calls(voice, "hung_up", "reason") == 0
    await caller.wait_for("hangup", timeout=15)  # hung up on, not left in silence
    assert len(await Reports(RecordStore(router.store)).ivr_outcomes(0)) == 1
