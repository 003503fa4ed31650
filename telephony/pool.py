"""The pool supervisor: starts worker processes, serves their routing requests, and
restarts a worker that dies after recording its calls as `failed`/`worker_lost`.

A call still in the IVR has no contact yet: the worker tells the pool of it (`ivr_call`
reports: the call's id, region, dialled number, answer time, then each new stage), so a
call whose worker dies or is stopped before its IVR outcome is recorded still gets one,
`failed` with `worker_lost` or `node_stopped`, at the last stage it was told. The
worker's own outcome (`note_ivr_outcome`, naming the same `call`) takes the call off the
pool's list as its line is read; one that comes after the pool recorded the call (a
stop) is answered and dropped, so each call is counted once.

Behind Kamailio a dead worker's calls are hung up as well: the front door (`call_ender`)
sends the BYEs its callers and the agents' softphones would never get from it.

Each worker gets its own SIP port and RTP port range (pjsua2 needs both per process).
The node's routing events reach the worker that owns the contact; a callback offer
(whose caller already hung up) goes to the least loaded worker.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from switchboard.common.clock import now_ms
from switchboard.common.tasks import cancel_and_wait
from telephony.model import SipConfig
from telephony.pipe import COMMANDS, serve_request
from telephony.routing import AuditPort, CallMetrics, RatingPort, RoutingPort

log = logging.getLogger(__name__)
START_WAIT_S = 30.0
# A worker that cannot start this many times in a row while the pool starts fails the
# start with its reason: a port taken for good (another program) is said in seconds, one
# taken for a moment (an outgoing connection's ephemeral port) is ridden out.
START_ATTEMPTS = 3
START_WAIT_PER_WORKER_S = 1.0
# A command waits at most this long for its worker (a consent prompt takes a few seconds).
COMMAND_WAIT_S = 20.0


class CallEnder(Protocol):
    """What hangs up a dead worker's calls on the far side: the front door
    (telephony.frontdoor.FrontDoor), through which every caller's call and every call a
    worker placed to a softphone passes. A pool without one (no front door) cannot."""

    async def end_calls(self, worker_port: int) -> int: ...


class WorkerStartError(OSError):
    """A worker could not start (its SIP port taken...) START_ATTEMPTS times in a row: the
    node says why and exits, rather than restarting it for the whole start wait."""


class CommandRefused(RuntimeError):
    """The worker holding the call refused a command, or no worker holds it."""


@dataclass
class WorkerHandle:
    index: int
    sip_port: int
    rtp_port: int
    process: asyncio.subprocess.Process | None = None
    contacts: set[str] = field(default_factory=set)
    # Calls in the worker's IVR (no outcome yet): id -> what the worker told of it.
    ivr: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Calls of this process whose IVR outcome the pool recorded (lost, stopped).
    ivr_ended: set[str] = field(default_factory=set)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    starts: int = 0
    start_failures: int = 0  # in a row, before it was ever ready
    lost_calls: int = 0
    commands: dict[int, asyncio.Future[Any]] = field(default_factory=dict)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def send(self, message: dict[str, Any]) -> None:
        process = self.process
        if process is None or process.stdin is None or process.returncode is not None:
            return
        try:
            process.stdin.write((json.dumps(message) + "\n").encode())
        except (OSError, RuntimeError) as error:  # the worker is going: its supervisor sees
            log.info("worker %d did not take a message: %s", self.index, error)


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
        log_format: str = "text",
        max_inflight: int = 32,
        ratings: RatingPort | None = None,
        audit: AuditPort | None = None,
        metrics: CallMetrics | None = None,
    ) -> None:
        self.config_path = config_path
        self.node_id = node_id
        self.region = region
        self.sip = sip
        self.routing = routing
        self.ratings = ratings  # where workers' post-call survey ratings are stored
        self.audit = audit  # where supervisors' monitoring is audited
        self.metrics = metrics  # the node's call outcomes and worker restarts
        # Hangs up a dead worker's callers and softphones; set once the front door is up.
        self.call_ender: CallEnder | None = None
        self._command_ids = itertools.count(1)
        self.python = python
        self.log_level = log_level
        self.log_format = log_format
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
        self._started = False
        # why a worker could not start while the pool starts (`start_failed` from it)
        self._start_failure: asyncio.Future[str] | None = None

    async def start(self, timeout_s: float | None = None) -> None:
        """Waits until every worker is ready. Each needs about half a second of CPU to
        start, so on a small, busy box a large pool starts nearly in series: the default
        wait grows with the pool."""
        loop = asyncio.get_running_loop()
        self._start_failure = loop.create_future()
        for worker in self.workers:
            self._tasks.append(loop.create_task(self._supervise(worker)))
        if timeout_s is None:
            timeout_s = START_WAIT_S + START_WAIT_PER_WORKER_S * len(self.workers)
        ready = loop.create_task(self._all_ready())
        failure = self._start_failure
        either: set[asyncio.Future[Any]] = {ready, failure}
        done, _ = await asyncio.wait(either, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if failure in done:
            raise WorkerStartError(failure.result())
        if ready not in done:
            raise WorkerStartError(f"telephony workers not ready within {timeout_s:.0f} s")
        self._started = True

    async def _all_ready(self) -> None:
        await asyncio.gather(*(worker.ready.wait() for worker in self.workers))

    async def stop(self) -> None:
        """Record every call failed/node_stopped first, then stop the workers: a worker
        that stops hangs its calls up, and a hang-up would otherwise complete them, so
        that reports showed a restart's cut-off calls as ordinary answered ones."""
        self._stopping = True
        for worker in self.workers:
            await self._lost(worker, "node_stopped")
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
        await cancel_and_wait(self._tasks)

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
            "--log-format",
            self.log_format,
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
            worker.ivr_ended.clear()  # a new process: calls of its own
            worker.process = await self._spawn(worker)
            worker.starts += 1
            await self._serve(worker)
            code = await worker.process.wait()
            await self._hang_up(worker)
            await self._lost(worker, "node_stopped" if self._stopping else "worker_lost")
            if self._stopping:
                return
            failure = self._start_failure
            if not self._started and failure is not None and failure.done():
                return  # the pool's start fails with the worker's reason: no restart
            log.warning(
                "telephony worker %d (pid %s) exited with %s; restarting",
                worker.index,
                worker.process.pid,
                code,
            )
            if self.metrics is not None:
                self.metrics.worker_restarted()
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
                if not self._leaves_ivr(worker, message):
                    worker.send({"reply": message["rpc"], "result": None})
                    continue
                task = asyncio.get_running_loop().create_task(self._answer(worker, message))
                self._notes.add(task)
                task.add_done_callback(self._notes.discard)
            elif "report" in message:
                self._on_report(worker, message["report"])
            elif "answer" in message:
                self._on_answer(worker, message)
            elif message.get("ready"):
                worker.ready.set()
                worker.start_failures = 0
            elif "start_failed" in message:
                self._start_failed(worker, str(message["start_failed"]))

    def _start_failed(self, worker: WorkerHandle, why: str) -> None:
        """A worker could not start: said once per attempt, without a traceback; the
        pool's start fails with the reason after START_ATTEMPTS in a row."""
        worker.start_failures += 1
        reason = f"telephony worker {worker.index}: {why}"
        log.error("%s (attempt %d)", reason, worker.start_failures)
        failure = self._start_failure
        if (
            worker.start_failures >= START_ATTEMPTS
            and not self._started
            and failure is not None
            and not failure.done()
        ):
            failure.set_result(reason)

    async def _answer(self, worker: WorkerHandle, message: dict[str, Any]) -> None:
        async with self._inflight:  # bound the node's concurrent Redis requests
            reply = await serve_request(self.routing, message, self.ratings)
        result = reply.get("result")
        if message.get("op") == "create_contact" and isinstance(result, dict):
            # Own the contact before the worker hears back, so an early offer finds it.
            self._own(worker, str(result["contact_id"]))
        elif message.get("op") == "note_ivr_outcome" and "error" not in reply:
            self._count_ivr_call(dict((message.get("args") or {}).get("outcome") or {}))
        worker.send(reply)

    @staticmethod
    def _leaves_ivr(worker: WorkerHandle, message: dict[str, Any]) -> bool:
        """A request to serve. A worker's IVR outcome takes its call off the worker's
        open IVR calls as its line is read (a worker that dies the next moment has it
        recorded once, its own); False for one the pool recorded already (at a stop,
        before the worker's came): answered, not stored or counted again."""
        if message.get("op") != "note_ivr_outcome":
            return True
        outcome = (message.get("args") or {}).get("outcome") or {}
        key = str(outcome.get("call") or "") if isinstance(outcome, dict) else ""
        if key and key in worker.ivr_ended:
            return False
        worker.ivr.pop(key, None)
        return True

    def _count_ivr_call(self, outcome: dict[str, Any]) -> None:
        """An IVR outcome once stored (the router checked it): one per answered call."""
        if self.metrics is not None:
            self.metrics.ivr_call(str(outcome["outcome"]), str(outcome["stage"]))

    def _own(self, worker: WorkerHandle, contact_id: str) -> None:
        worker.contacts.add(contact_id)
        self.owner[contact_id] = worker
        for event in self._early.pop(contact_id, []):
            worker.send({"router_event": event})

    def _on_report(self, worker: WorkerHandle, report: dict[str, Any]) -> None:
        contact_id = str(report.get("contact_id", ""))
        kind = report.get("type")
        if kind == "contact_open":
            self._own(worker, contact_id)
            times = report.get("timestamps") or {}
            if times:
                # INVITE arrival and end of IVR, which the router cannot see itself.
                self._note(
                    self.routing.note_timestamps(
                        contact_id,
                        call_arrived_at=times.get("arrived"),
                        ivr_done_at=times.get("ivr_done"),
                    )
                )
        elif kind in ("contact_closed", "contact_released"):
            # Closed: the call's one outcome, counted once. Released: the worker let the
            # contact go without one (a callback waits on; its call is counted then).
            if kind == "contact_closed" and self.metrics is not None:
                self.metrics.sip_call(str(report.get("outcome", "")))
            worker.contacts.discard(contact_id)
            if self.owner.get(contact_id) is worker:
                del self.owner[contact_id]
        elif kind == "ivr_call":
            self._in_ivr(worker, report)
        elif kind == "audit" and self.audit is not None:
            detail = {k: v for k, v in report.items() if k not in ("type", "actor", "action")}
            self._note(self.audit.audit(str(report["actor"]), str(report["action"]), **detail))
        elif kind == "recording_failed":
            log.warning("worker %d could not record %s", worker.index, contact_id)

    @staticmethod
    def _in_ivr(worker: WorkerHandle, report: dict[str, Any]) -> None:
        """A call entered the worker's IVR (its first report, at `answer`) or moved on
        to another stage. A report of a call the pool no longer lists (its outcome
        recorded meanwhile) changes nothing."""
        key = str(report.get("call") or "")
        if not key or key in worker.ivr_ended:
            return
        told = {name: report[name] for name in IVR_TOLD if report.get(name) is not None}
        if key in worker.ivr:
            worker.ivr[key].update(told)
        elif report.get("stage") == "answer":
            worker.ivr[key] = told

    def _note(self, coro: Any) -> None:
        """Run a bookkeeping request without holding up the worker's pipe."""
        task = asyncio.get_running_loop().create_task(coro)
        self._notes.add(task)
        task.add_done_callback(self._notes.discard)
        task.add_done_callback(_log_failure)

    async def command(self, contact_id: str, op: str, **args: Any) -> Any:
        """Ask the worker holding `contact_id`'s call to do something with it (a transfer,
        a recording, a supervisor joining); its answer, or CommandRefused with the reason."""
        if op not in COMMANDS:
            raise CommandRefused(f"unknown command {op!r}")
        worker = self.owner.get(contact_id)
        if worker is None:
            raise CommandRefused(f"no call of this node holds contact {contact_id}")
        command_id = next(self._command_ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        worker.commands[command_id] = future
        worker.send({"command": command_id, "op": op, "args": {"contact_id": contact_id, **args}})
        try:
            return await asyncio.wait_for(future, COMMAND_WAIT_S)
        except TimeoutError:
            raise CommandRefused(f"worker {worker.index} did not answer {op}") from None
        finally:
            worker.commands.pop(command_id, None)

    @staticmethod
    def _on_answer(worker: WorkerHandle, message: dict[str, Any]) -> None:
        future = worker.commands.get(int(message["answer"]))
        if future is None or future.done():
            return
        if "error" in message:
            future.set_exception(CommandRefused(str(message["error"])))
        else:
            future.set_result(message.get("result"))

    async def _lost(self, worker: WorkerHandle, reason: str) -> None:
        """Record every call the worker held as failed (worker_lost, or node_stopped):
        its contacts, and the calls still in its IVR (their IVR outcome)."""
        in_ivr, worker.ivr = worker.ivr, {}
        worker.ivr_ended.update(in_ivr)  # before any wait: the worker's come too late
        for future in worker.commands.values():
            if not future.done():
                future.set_exception(CommandRefused(f"worker {worker.index} is gone"))
        worker.commands.clear()
        lost, worker.contacts = worker.contacts, set()
        for contact_id in lost:
            self.owner.pop(contact_id, None)
            try:  # a colleague held for a consultation of the call is free again
                await self.routing.consult(contact_id, "", "release")
            except Exception as error:
                log.warning("could not release the consultation of %s: %s", contact_id, error)
            try:
                await self.routing.fail(contact_id, reason)
                worker.lost_calls += 1
                if self.metrics is not None:
                    self.metrics.sip_call(reason)
            except Exception as error:  # already ended, or Redis down: say so, go on
                log.warning("could not record %s as %s: %s", contact_id, reason, error)
        for key, told in in_ivr.items():
            await self._ivr_lost(key, told, reason)

    async def _hang_up(self, worker: WorkerHandle) -> None:
        """The worker's process has ended: the front door hangs up the calls it still had
        (a worker killed, crashed, or stopped without hanging up), the callers and the
        agents' phones first, before the bookkeeping. A worker that stopped as told hung
        its calls up itself, and the front door passes those over."""
        if self.call_ender is None:
            return
        try:
            ended = await self.call_ender.end_calls(worker.sip_port)
        except Exception as error:  # Kamailio not answering: said, the bookkeeping goes on
            log.warning("could not hang up worker %d's calls: %s", worker.index, error)
            return
        if ended:
            log.info("hung up %d call(s) of worker %d", ended, worker.index)

    async def _ivr_lost(self, key: str, told: dict[str, Any], reason: str) -> None:
        """The IVR outcome of a call its worker did not end: failed, at its last stage."""
        ended = now_ms()
        record = {
            "outcome": "failed",
            "stage": told.get("stage") or "answer",
            "reason": reason,
            "region": told.get("region", ""),
            "dialled": told.get("dialled", ""),
            "language": told.get("language", ""),
            "node": self.node_id,
            "answered_at": told.get("answered_at") or ended,
            "ended_at": ended,
            "call": key,
        }
        try:
            await self.routing.note_ivr_outcome(record)
        except Exception as error:  # Redis down: said, the other calls go on
            log.warning("could not record the IVR outcome of %s as %s: %s", key, reason, error)
            return
        self._count_ivr_call(record)

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


# What the pool keeps of a worker's `ivr_call` reports (router.reports.ivr.FIELDS).
IVR_TOLD = ("stage", "region", "dialled", "language", "answered_at")


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("bookkeeping request failed: %s", task.exception())
