"""The pool supervisor: starts worker processes, serves their routing requests, and
restarts a worker that dies after recording its calls as `failed`/`worker_lost`.

Each worker gets its own SIP port and RTP port range (pjsua2 needs both per process).
The node's routing events reach the worker that owns the contact; a callback offer
(whose caller already hung up) goes to the least loaded worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telephony.model import SipConfig
from telephony.pipe import serve_request
from telephony.routing import RatingPort, RoutingPort

log = logging.getLogger(__name__)
START_WAIT_S = 30.0
START_WAIT_PER_WORKER_S = 1.0


@dataclass
class WorkerHandle:
    index: int
    sip_port: int
    rtp_port: int
    process: asyncio.subprocess.Process | None = None
    contacts: set[str] = field(default_factory=set)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    starts: int = 0
    lost_calls: int = 0

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def send(self, message: dict[str, Any]) -> None:
        process = self.process
        if process is None or process.stdin is None or process.returncode is not None:
            return
        with contextlib.suppress(Exception):
            process.stdin.write((json.dumps(message) + "\n").encode())


class WorkerPool:
    """`count` workers; worker i listens on `sip_ports[i]`."""

    def __init__(
        self,
        *,
        config_path: Path,
        node_id: str,
        region: str,
        sip: SipConfig,
        routing: RoutingPort,
        sip_ports: list[int],
        python: str = sys.executable,
        log_level: str = "WARNING",
        max_inflight: int = 32,
        ratings: RatingPort | None = None,
    ) -> None:
        self.config_path = config_path
        self.node_id = node_id
        self.region = region
        self.sip = sip
        self.routing = routing
        self.ratings = ratings  # where workers' post-call survey ratings are stored
        self.python = python
        self.log_level = log_level
        self.workers = [
            WorkerHandle(
                index=i,
                sip_port=port,
                rtp_port=sip.rtp_port_base + i * sip.rtp_ports_per_worker,
            )
            for i, port in enumerate(sip_ports)
        ]
        self.owner: dict[str, WorkerHandle] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._early: dict[str, list[dict[str, Any]]] = {}
        self._notes: set[asyncio.Task[Any]] = set()  # requests and notes in flight
        self._inflight = asyncio.Semaphore(max_inflight)
        self._stopping = False

    async def start(self, timeout_s: float | None = None) -> None:
        """Waits until every worker is ready. Each needs about half a second of CPU to
        start, so on a small, busy box a large pool starts nearly in series: the default
        wait grows with the pool."""
        for worker in self.workers:
            self._tasks.append(asyncio.get_running_loop().create_task(self._supervise(worker)))
        if timeout_s is None:
            timeout_s = START_WAIT_S + START_WAIT_PER_WORKER_S * len(self.workers)
        await asyncio.wait_for(
            asyncio.gather(*(worker.ready.wait() for worker in self.workers)), timeout_s
        )

    async def stop(self) -> None:
        self._stopping = True
        for worker in self.workers:
            worker.send({"stop": True})
        for worker in self.workers:
            process = worker.process
            if process is None:
                continue
            try:
                await asyncio.wait_for(process.wait(), 8)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._tasks:
            # Let each supervisor record its worker's last calls, then stop waiting.
            await asyncio.wait(self._tasks, timeout=5)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _spawn(self, worker: WorkerHandle) -> asyncio.subprocess.Process:
        command = [
            self.python,
            "-m",
            "telephony.worker",
            "--config",
            str(self.config_path),
            "--node",
            self.node_id,
            "--region",
            self.region,
            "--index",
            str(worker.index),
            "--sip-port",
            str(worker.sip_port),
            "--rtp-port",
            str(worker.rtp_port),
            "--calls",
            str(self.sip.calls_per_worker),
            "--rtp-ports",
            str(self.sip.rtp_ports_per_worker),
            "--log-level",
            self.log_level,
        ]
        return await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 20,
        )

    async def _supervise(self, worker: WorkerHandle) -> None:
        while not self._stopping:
            worker.ready.clear()
            worker.process = await self._spawn(worker)
            worker.starts += 1
            await self._serve(worker)
            code = await worker.process.wait()
            await self._lost(worker, "node_stopped" if self._stopping else "worker_lost")
            if self._stopping:
                return
            log.warning(
                "telephony worker %d (pid %s) exited with %s; restarting",
                worker.index,
                worker.process.pid,
                code,
            )
            await asyncio.sleep(self.sip.restart_delay_s)

    async def _serve(self, worker: WorkerHandle) -> None:
        process = worker.process
        assert process is not None and process.stdout is not None
        while True:
            line = await process.stdout.readline()
            if not line:
                return
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "rpc" in message:
                task = asyncio.get_running_loop().create_task(self._answer(worker, message))
                self._notes.add(task)
                task.add_done_callback(self._notes.discard)
            elif "report" in message:
                self._on_report(worker, message["report"])
            elif message.get("ready"):
                worker.ready.set()

    async def _answer(self, worker: WorkerHandle, message: dict[str, Any]) -> None:
        async with self._inflight:  # bound the node's concurrent Redis requests
            reply = await serve_request(self.routing, message, self.ratings)
        result = reply.get("result")
        if message.get("op") == "create_contact" and isinstance(result, dict):
            # Own the contact before the worker hears back, so an early offer finds it.
            self._own(worker, str(result["contact_id"]))
        worker.send(reply)

    def _own(self, worker: WorkerHandle, contact_id: str) -> None:
        worker.contacts.add(contact_id)
        self.owner[contact_id] = worker
        for event in self._early.pop(contact_id, []):
            worker.send({"router_event": event})

    def _on_report(self, worker: WorkerHandle, report: dict[str, Any]) -> None:
        contact_id = str(report.get("contact_id", ""))
        if report.get("type") == "contact_open":
            self._own(worker, contact_id)
            times = report.get("timestamps") or {}
            note = getattr(self.routing, "note_timestamps", None)
            if callable(note) and times:
                # INVITE arrival and end of IVR, which the router cannot see itself.
                task = asyncio.get_running_loop().create_task(
                    note(
                        contact_id,
                        call_arrived_at=times.get("arrived"),
                        ivr_done_at=times.get("ivr_done"),
                    )
                )
                self._notes.add(task)
                task.add_done_callback(self._notes.discard)
        elif report.get("type") == "contact_closed":
            worker.contacts.discard(contact_id)
            if self.owner.get(contact_id) is worker:
                del self.owner[contact_id]

    async def _lost(self, worker: WorkerHandle, reason: str) -> None:
        """Record every call the worker held as failed (worker_lost, or node_stopped)."""
        lost, worker.contacts = worker.contacts, set()
        for contact_id in lost:
            self.owner.pop(contact_id, None)
            try:
                await self.routing.fail(contact_id, reason)
                worker.lost_calls += 1
            except Exception as error:  # already ended, or Redis down: say so, go on
                log.warning("could not record %s as %s: %s", contact_id, reason, error)

    async def dispatch(self, event: dict[str, Any]) -> None:
        """Hand a routing event of this node to the worker that should act on it."""
        contact_id = str(event.get("contact_id", ""))
        worker = self.owner.get(contact_id)
        kind = event.get("type")
        if worker is None and kind == "offer" and event.get("callback_uri"):
            candidates = [w for w in self.workers if w.ready.is_set()]
            if not candidates:
                return
            worker = min(candidates, key=lambda w: len(w.contacts))
            self._own(worker, contact_id)
        if kind not in ("offer", "offer_revoked"):
            return
        if worker is not None:
            worker.send({"router_event": event})
        else:
            # The router can publish the offer before create_contact has returned here.
            self._early.setdefault(contact_id, []).append(event)
            while len(self._early) > 256:
                self._early.pop(next(iter(self._early)))

    @property
    def pids(self) -> list[int]:
        return [w.pid for w in self.workers if w.pid is not None]
