"""JSON lines between the node and its worker processes.

A worker does not open Redis: it asks the node, which owns the one `Router` and the
one subscription to routing events, and therefore knows which contacts each worker
holds (so a dead worker's calls can be recorded as `failed`/`worker_lost`).

worker -> node: `{"rpc": n, "op": "accept", "args": {...}}`, `{"report": {...}}`,
`{"answer": n, "result": ...}` or `{"answer": n, "error": "..."}`. Reports say what the
node keeps per worker: contacts opened, closed or released, and the calls in the IVR
(`{"type": "ivr_call", "call": id, "stage": ...}`) until their `note_ivr_outcome`.
node -> worker: `{"reply": n, "result": ...}` or `{"reply": n, "error": "..."}`,
`{"router_event": {...}}`, `{"command": n, "op": "transfer", "args": {...}}` (a desktop's
or supervisor's request about one call: COMMANDS), `{"stop": true}`
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import os
from typing import Any

from router.model import Agent, Channel, Contact, ContactState, NewContact, Presence

OPS = frozenset(
    {
        "create_contact",
        "get_contact",
        "get_agent",
        "accept",
        "decline",
        "complete",
        "abandon",
        "fail",
        "callback_unanswered",
        "callback_answered",
        "position",
        "request_callback",
        "transfer",
        "consult",
        "note_transfer",
        "note_recording",
        "note_hold_started",
        "note_hold",
        "note_recording_paused",
        "note_recording_resumed",
        "note_timestamps",
        "note_ivr_outcome",
        "rate",  # a post-call survey rating: kept by the node's Reports
    }
)


# What the node may ask the worker holding a call (VoiceCalls.handle_command).
COMMANDS = frozenset(
    {
        "hold",
        "transfer",
        "complete_transfer",
        "cancel_transfer",
        "record",
        "recording_pause",
        "recording_resume",
        "monitor",
        "monitor_mode",
        "monitor_stop",
    }
)


class RemoteError(RuntimeError):
    """The node's Router refused a request (the message is the node's error)."""


def to_plain(value: Any) -> Any:
    """Dataclasses (Contact, QueuePosition...) as JSON-ready dicts."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def contact_from(data: dict[str, Any]) -> Contact:
    known = {f.name for f in dataclasses.fields(Contact)}
    fields = {k: v for k, v in data.items() if k in known}
    fields["channel"] = Channel(fields["channel"])
    fields["state"] = ContactState(fields["state"])
    return Contact(**fields)


def agent_from(data: dict[str, Any]) -> Agent:
    known = {f.name for f in dataclasses.fields(Agent)}
    fields = {k: v for k, v in data.items() if k in known}
    fields["presence"] = Presence(fields["presence"])
    return Agent(**fields)


def new_contact_from(data: dict[str, Any]) -> NewContact:
    known = {f.name for f in dataclasses.fields(NewContact)}
    # JSON has lists where the frozen request holds tuples (`reasons`)
    fields: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known
    }
    fields["channel"] = Channel(fields["channel"])
    return NewContact(**fields)


@dataclasses.dataclass(frozen=True)
class Position:
    position: int
    ewt_s: float | None  # None: nobody can serve the queue, no wait to announce


class PipeRouting:
    """The worker's `RoutingPort`: every call is a request to the node over the pipe."""

    def __init__(self, out_fd: int) -> None:
        self._out_fd = out_fd
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}

    def send(self, message: dict[str, Any]) -> None:
        data = (json.dumps(message) + "\n").encode()
        while data:
            written = os.write(self._out_fd, data)
            data = data[written:]

    def report(self, event: dict[str, Any]) -> None:
        self.send({"report": event})

    def on_reply(self, message: dict[str, Any]) -> None:
        future = self._waiting.pop(int(message["reply"]), None)
        if future is None or future.done():
            return
        if "error" in message:
            future.set_exception(RemoteError(str(message["error"])))
        else:
            future.set_result(message.get("result"))

    def fail_all(self, why: str) -> None:
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(RemoteError(why))
        self._waiting.clear()

    async def _call(self, op: str, **args: Any) -> Any:
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        self.send({"rpc": request_id, "op": op, "args": args})
        return await future

    async def create_contact(self, new: NewContact) -> Contact:
        return contact_from(await self._call("create_contact", new=to_plain(new)))

    async def get_contact(self, contact_id: str) -> Contact:
        return contact_from(await self._call("get_contact", contact_id=contact_id))

    async def get_agent(self, agent_id: str) -> Agent:
        return agent_from(await self._call("get_agent", agent_id=agent_id))

    async def accept(self, contact_id: str, agent_id: str) -> Contact:
        return contact_from(await self._call("accept", contact_id=contact_id, agent_id=agent_id))

    async def decline(self, contact_id: str, agent_id: str, reason: str = "no_answer") -> Any:
        return await self._call("decline", contact_id=contact_id, agent_id=agent_id, reason=reason)

    async def complete(self, contact_id: str, agent_id: str | None = None) -> Any:
        return await self._call("complete", contact_id=contact_id, agent_id=agent_id)

    async def abandon(self, contact_id: str, reason: str = "caller_hangup") -> Any:
        return await self._call("abandon", contact_id=contact_id, reason=reason)

    async def fail(self, contact_id: str, reason: str) -> Any:
        return await self._call("fail", contact_id=contact_id, reason=reason)

    async def callback_unanswered(self, contact_id: str) -> Contact:
        return contact_from(await self._call("callback_unanswered", contact_id=contact_id))

    async def callback_answered(self, contact_id: str) -> Contact:
        return contact_from(await self._call("callback_answered", contact_id=contact_id))

    async def position(self, contact_id: str) -> Position:
        result = await self._call("position", contact_id=contact_id)
        ewt = result["ewt_s"]
        return Position(int(result["position"]), None if ewt is None else float(ewt))

    async def request_callback(self, contact_id: str, callback_uri: str) -> Any:
        return await self._call(
            "request_callback", contact_id=contact_id, callback_uri=callback_uri
        )

    async def transfer(
        self,
        contact_id: str,
        agent_id: str,
        to_queue: str | None = None,
        to_agent: str | None = None,
    ) -> Any:
        return await self._call(
            "transfer",
            contact_id=contact_id,
            agent_id=agent_id,
            to_queue=to_queue,
            to_agent=to_agent,
        )

    async def consult(self, contact_id: str, agent_id: str, step: str) -> Any:
        return await self._call("consult", contact_id=contact_id, agent_id=agent_id, step=step)

    async def note_transfer(self, contact_id: str, transfer: dict[str, Any]) -> Any:
        return await self._call("note_transfer", contact_id=contact_id, transfer=transfer)

    async def note_recording(self, contact_id: str, recording: dict[str, Any]) -> Any:
        return await self._call("note_recording", contact_id=contact_id, recording=recording)

    async def note_hold_started(self, contact_id: str, at_ms: int) -> Any:
        return await self._call("note_hold_started", contact_id=contact_id, at_ms=at_ms)

    async def note_hold(self, contact_id: str, hold: dict[str, Any]) -> Any:
        return await self._call("note_hold", contact_id=contact_id, hold=hold)

    async def note_recording_paused(self, contact_id: str, at_ms: int, by: str) -> Any:
        return await self._call("note_recording_paused", contact_id=contact_id, at_ms=at_ms, by=by)

    async def note_recording_resumed(self, contact_id: str, ended: str) -> Any:
        return await self._call("note_recording_resumed", contact_id=contact_id, ended=ended)

    async def note_timestamps(
        self, contact_id: str, call_arrived_at: int | None = None, ivr_done_at: int | None = None
    ) -> Any:
        return await self._call(
            "note_timestamps",
            contact_id=contact_id,
            call_arrived_at=call_arrived_at,
            ivr_done_at=ivr_done_at,
        )

    async def note_ivr_outcome(self, outcome: dict[str, Any]) -> Any:
        return await self._call("note_ivr_outcome", outcome=outcome)

    async def rate(self, contact_id: str, score: int, channel: str) -> bool:
        result = await self._call("rate", contact_id=contact_id, score=score, channel=channel)
        return bool(result)


class PipeRatings:
    """The worker's `RatingPort`: a survey rating is stored by the node (`rate`)."""

    def __init__(self, routing: PipeRouting) -> None:
        self.routing = routing

    async def add(self, contact_id: str, score: int, channel: str) -> bool:
        return bool(await self.routing.rate(contact_id, score, channel))


async def serve_request(
    routing: Any, message: dict[str, Any], ratings: Any = None
) -> dict[str, Any]:
    """Run one worker request against the node's router (a rating: against `ratings`,
    `Reports`); the reply to send back."""
    request_id = message.get("rpc")
    op = str(message.get("op", ""))
    if op not in OPS:
        return {"reply": request_id, "error": f"unknown operation {op!r}"}
    args = dict(message.get("args") or {})
    if op == "create_contact":
        args["new"] = new_contact_from(args["new"])
    target, method = routing, op
    if op == "rate":
        if ratings is None:
            return {"reply": request_id, "error": "this node stores no survey ratings"}
        target, method = ratings, "add"
    try:
        result = await getattr(target, method)(**args)
    except Exception as error:
        return {"reply": request_id, "error": f"{type(error).__name__}: {error}"}
    return {"reply": request_id, "result": to_plain(result)}


async def serve_command(calls: Any, message: dict[str, Any]) -> dict[str, Any]:
    """Run one node command against the worker's `VoiceCalls`; the answer to send back.
    A refusal (wrong state, unknown target or call) is an answer with its reason."""
    command_id = message.get("command")
    try:
        result = await calls.handle_command(str(message.get("op", "")), dict(message["args"]))
    except (ValueError, LookupError, RuntimeError) as error:
        return {"answer": command_id, "error": f"{type(error).__name__}: {error}"}
    return {"answer": command_id, "result": result}
