"""Routing use cases: create, offer, accept, decline, complete, abandon, statistics.

The `Router` is what the system calls (the IVR, the regional node, timers, the
people-facing services in `router.contacts` and `router.sessions`); it speaks in
model objects, leaves every decision to one atomic call of the routing function, and
checks no credentials: who may ask for what is decided before it is called.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from router.definitions import Definitions, Difference, differences
from router.errors import (
    InvalidInput,
    RoutingError,
    UnknownAgent,
    UnknownContact,
    UnknownQueue,
)
from router.model import (
    Agent,
    AgentState,
    Contact,
    LoopFailed,
    LoopLog,
    NewContact,
    Presence,
    QueueConfig,
    uncounted,
)
from router.reports.ivr import ivr_record
from router.stats import DEFAULT_AHT_S, QueueFigures, add_buckets, known_wait_s, occupancy
from router.store import RoutingStore, WaitHistory
from router.waits import Reach, WaitInputs, choose, encode, predict_all, scores
from switchboard.common.clock import iso_utc, now_ms
from switchboard.common.hours import OpeningHours

log = logging.getLogger(__name__)

HOUR_MS = 3_600_000
# Announced waits: the method a queue announces is chosen from the errors of the last
# day, looked at again every few minutes (router/waits.py).
SCORING_WINDOW_MS = 24 * HOUR_MS
CHOICE_FRESH_MS = 300_000
# Routing calls of one tick at most (each does a few dozen timers): the rest waits for
# the next tick.
MAX_TICK_CALLS = 64
# How far back the departures that measure how fast a queue moves are counted.
DEPARTURES_MS = 2 * HOUR_MS
# A queue's "last 30 min" (its status, the wallboard, the queue API).
RECENT_MS = 1_800_000
# The states of a serving agent that count as occupied: handling or offered a contact.
OCCUPIED = frozenset({AgentState.BUSY, AgentState.RESERVED})
# How a recording's pause ends (telephony's worker says which): an agent resumed it,
# `[recording] pause_max_s` ran out, or the recording itself ended.
PAUSE_ENDINGS = ("resumed", "pause_max_s", "recording_ended")


class ContactIntake(Protocol):
    """Sees every contact created through the router (chats, calls, callbacks): may adjust
    the request before routing (a case's owner first) and follow up after (link it), with
    what it found before (`prepared`) handed back to it."""

    async def before_create(self, new: NewContact, at_ms: int | None) -> tuple[NewContact, Any]: ...

    async def after_create(self, contact: Contact, at_ms: int | None, prepared: Any) -> None: ...


class IntakeChain:
    """Several intakes seeing every contact, in the order they were added: each adjusts
    the request as the one before left it, and each follows up with what it found itself
    (cases first, so that an advisory's boost adds to a case's priority)."""

    def __init__(self, *intakes: ContactIntake) -> None:
        self.intakes = list(intakes)

    async def before_create(self, new: NewContact, at_ms: int | None) -> tuple[NewContact, Any]:
        found = []
        for intake in self.intakes:
            new, prepared = await intake.before_create(new, at_ms)
            found.append(prepared)
        return new, found

    async def after_create(self, contact: Contact, at_ms: int | None, prepared: Any) -> None:
        """Every intake follows up, even after one fails (the contact exists either way);
        the first failure is raised once all have run."""
        failures = []
        for intake, found in zip(self.intakes, prepared, strict=True):
            try:
                await intake.after_create(contact, at_ms, found)
            except Exception as failure:  # each intake's own fault, raised below
                failures.append(failure)
        if failures:
            raise failures[0]


@dataclass(frozen=True)
class QueuePosition:
    """Where a waiting contact stands, the wait announced to it (`ewt_s`, by the queue's
    chosen `method`; None when no agent could take it, `known_wait_s`) and every
    method's estimate."""

    position: int
    ewt_s: float | None
    method: str = ""
    estimates: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Adopted:
    """What adopting a dead node's work did: contacts moved, voice calls lost, chats
    requeued, the agents whose sessions died with the node (signed out), and those of a
    node that stopped cleanly (kept, now the heir's)."""

    adopted: int
    failed: int
    requeued: int
    agents: list[str]
    handed_over: list[str] = field(default_factory=list)
    placed: int = 0  # waiting chats placed in another region (`PlacedElsewhere`)


@dataclass(frozen=True)
class PlacedElsewhere:
    """A waiting chat that its node's adoption places in another region, as a new chat is
    placed while its home region has no live node. It moves only if it still waits in
    `home` once the adoption has run; `line` goes into its explanation and `placement`."""

    home: str
    region: str
    line: str


@dataclass(frozen=True)
class QueueStatus:
    name: str
    waiting: int
    longest_wait_s: float
    ewt_s: float
    serving_agents: int
    occupancy: float | None
    today: QueueFigures
    last_30_min: QueueFigures
    service_level_target: float
    answer_within_s: float
    # Callbacks waiting for their next attempt: calls owed that its line does not show.
    callbacks_due: int = 0


class Router:
    def __init__(
        self,
        store: RoutingStore,
        queues: Sequence[QueueConfig],
        *,
        node_id: str = "",
        region: str = "default",
        hours: Mapping[str, OpeningHours] | None = None,
    ) -> None:
        self.store = store
        self.queues = {queue.name: queue for queue in queues}
        # The region names the deployment has published (`reload_queues`): what a new
        # contact may name, on every node alike.
        self.known_regions: tuple[str, ...] = ()
        # each region's opening hours: a callback's next attempt falls inside them
        self.hours = dict(hours or {})
        self.node_id = node_id
        self.region = region
        self._methods: dict[str, tuple[int, str]] = {}  # queue -> (chosen at ms, method)
        self.intake: ContactIntake | None = None

    @property
    def queue_skills(self) -> dict[str, str]:
        """Each queue's skill: who may serve it, and whom a supervisor of it oversees."""
        return {name: queue.skill for name, queue in self.queues.items()}

    def add_intake(self, intake: ContactIntake) -> None:
        """One more intake seeing every contact: alone it is the router's intake (as
        before), with others they see each contact in turn (`IntakeChain`)."""
        if self.intake is None:
            self.intake = intake
        elif isinstance(self.intake, IntakeChain):
            self.intake.intakes.append(intake)
        else:
            self.intake = IntakeChain(self.intake, intake)

    async def publish_configuration(self, regions: Sequence[str]) -> list[Difference]:
        """Write this node's configured queues and regions where every node and the
        routing function read them: the last node started publishes its file's (a queue
        an admin changed over HTTP keeps the admin's version, one an admin removed stays
        removed until an admin defines it again, and a queue or region only another
        node's file has stays). The running nodes are told to take them up, as after an
        admin's change, and this node takes up every queue the deployment has.

        Returns how this file differs from what the nodes' files had published (theirs
        vs mine), for the node to warn: nothing at the deployment's first start."""
        stored = await self.store.queue_definitions()
        removed = await self.store.removed_queues()
        self.queues = {name: q for name, q in self.queues.items() if name not in removed}
        mine = [q for q in self.queues.values() if stored.get(q.name, (q, "file"))[1] != "admin"]
        files = [config for config, source in stored.values() if source == "file"]
        published = Definitions.of(files, await self.store.regions())
        changes = differences(published, Definitions.of(mine, [*regions, self.region]))
        await self.store.save_queue_definitions(mine, "file")
        await self.store.publish_queues(mine)
        await self.store.publish_regions([*regions, self.region])
        for queue in mine:  # its waiting contacts judged by the new rules at the next tick
            if queue.name in stored and stored[queue.name][0] != queue:
                await self.store.judge_again(queue.name)
        await self.reload_queues()
        changes = changes if published.queues else []
        if any(change.mine != "absent" for change in changes):
            await self.store.publish_event(
                {
                    "type": "config_changed",
                    "what": "queues",
                    "by": self.node_id,
                    "changes": [str(change) for change in changes],
                }
            )
        return changes

    async def reload_queues(self) -> None:
        """The queues and region names as the deployment now defines them (after an
        admin's change, or another node's start)."""
        stored = await self.store.queue_definitions()
        if stored:
            self.queues = {name: config for name, (config, _) in sorted(stored.items())}
        self.known_regions = tuple(sorted(await self.store.regions()))

    def require_region(self, field: str, name: str) -> None:
        """`name` is one of the deployment's regions (`known_regions`, the same on every
        node, unlike a node's file), or InvalidInput naming `field` with the choices."""
        if name not in self.known_regions:
            raise InvalidInput(field, f"one of {', '.join(self.known_regions)}", name)

    async def publish_file(self, definitions: Definitions, at_ms: int) -> None:
        """Say which definitions this node's file has (the wallboard compares the live
        nodes'), and since when (`at_ms`, its start: the last started is followed)."""
        entry = {**definitions.as_json(), "fingerprint": definitions.fingerprint, "at": at_ms}
        await self.store.publish_node_file(self.node_id, entry)

    async def node_files(self) -> dict[str, tuple[Definitions, int]]:
        """Each node's file's definitions as it published them at its start, and when."""
        return {
            node_id: (Definitions.from_json(entry), int(entry.get("at", 0)))
            for node_id, entry in (await self.store.node_files()).items()
        }

    async def define_queue(self, queue: QueueConfig) -> None:
        """Create or change a queue for every node (an admin's change, kept as such); the
        contacts waiting in it are judged by the new rules at the next tick."""
        await self.store.save_queue_definitions([queue], "admin")
        await self.store.publish_queues([queue])
        await self.store.judge_again(queue.name)
        # a new dict, not a changed one: a reader iterating the queues across awaits (the
        # wallboard) keeps the one it started with (it failed 500 mid-change)
        self.queues = {**self.queues, queue.name: queue}

    async def remove_queue(self, name: str) -> None:
        """Remove a queue with no open contact: none waiting, ringing or being served
        (RoutingError otherwise, naming how many). The routing function checks and takes
        the queue's rules away in one call, so no contact can enter it meanwhile."""
        if name not in self.queues:
            raise UnknownQueue(name)
        if any(q.overflow_queue == name for q in self.queues.values() if q.name != name):
            raise RoutingError(f"queue {name} is another queue's overflow queue")
        reply = await self.store.run("close_queue", name)
        if reply.status == "open":
            count = reply.number("count")
            raise RoutingError(
                f"queue {name} has {count} open contact{'s' if count != 1 else ''} "
                "(waiting, ringing or being served); move or end them first"
            )
        await self.store.remove_queue(name)
        self.queues = {key: config for key, config in self.queues.items() if key != name}

    # -- contacts -----------------------------------------------------------------

    async def create_contact(
        self, new: NewContact, at_ms: int | None = None, *, customer_token: str = ""
    ) -> Contact:
        """Create a contact and route it at once (one call of the routing function)."""
        if new.queue not in self.queues:
            raise RoutingError(f"unknown queue {new.queue!r}")
        contact_id = uuid.uuid4().hex
        region = new.region or self.region
        prepared = None
        if self.intake is not None:
            new, prepared = await self.intake.before_create(new, at_ms)
        request = replace(new, node=new.node or self.node_id)
        try:
            contact = await self.store.create_contact(
                contact_id, request, region, customer_token=customer_token, at_ms=at_ms
            )
        except UnknownQueue:
            raise RoutingError(f"queue {new.queue!r} is not published on this Redis") from None
        if self.intake is not None:
            await self.intake.after_create(contact, at_ms, prepared)
        return contact

    async def get_contact(self, contact_id: str) -> Contact:
        contact = await self.store.get_contact(contact_id)
        if contact is None:
            raise UnknownContact(contact_id)
        return contact

    async def accept(self, contact_id: str, agent_id: str, at_ms: int | None = None) -> Contact:
        reply = await self.store.run("accept", contact_id, agent_id, at_ms=at_ms)
        return reply.check(contact_id, "accept").contact()

    async def decline(
        self, contact_id: str, agent_id: str, reason: str = "declined", at_ms: int | None = None
    ) -> Contact:
        reply = await self.store.run("decline", contact_id, agent_id, reason, at_ms=at_ms)
        return reply.check(contact_id, "decline").contact()

    async def complete(
        self, contact_id: str, agent_id: str | None = None, at_ms: int | None = None
    ) -> Contact:
        """End a connected contact; with `agent_id`, only if that agent holds it."""
        reply = await self.store.run("complete", contact_id, agent_id or "", "", at_ms=at_ms)
        return reply.check(contact_id, "complete").contact()

    async def abandon(
        self, contact_id: str, reason: str = "customer_left", at_ms: int | None = None
    ) -> Contact:
        reply = await self.store.run("abandon", contact_id, reason, at_ms=at_ms)
        return reply.check(contact_id, "abandon").contact()

    async def end_waiting(self, contact_id: str, by: str, at_ms: int | None = None) -> Contact:
        """A supervisor (`by`) ends a contact still waiting in its queue: failed,
        `ended_by_supervisor`; one that rings or is connected meanwhile is refused."""
        reply = await self.store.run("end_waiting", contact_id, by, at_ms=at_ms)
        return reply.check(contact_id, "end").contact()

    async def fail(self, contact_id: str, reason: str, at_ms: int | None = None) -> Contact:
        reply = await self.store.run("fail", contact_id, reason, at_ms=at_ms)
        return reply.check(contact_id, "fail").contact()

    async def callback_unanswered(self, contact_id: str, at_ms: int | None = None) -> Contact:
        """The called-back customer did not pick up: the contact waits for its next
        attempt (its queue's `callback_attempts`, `callback_retry_s`), state `queued`,
        or, with none left, ends `failed`/`callback_unanswered`."""
        now = now_ms() if at_ms is None else at_ms
        not_before = await self._next_attempt_not_before(contact_id, now)
        reply = await self.store.run("callback_unanswered", contact_id, not_before, at_ms=at_ms)
        return reply.check(contact_id, "call back").contact()

    async def _next_attempt_not_before(self, contact_id: str, now: int) -> int:
        """When a callback's next attempt may be made (ms; 0: at once): its region's next
        opening when the queue's `callback_retry_s` from `now` falls outside its hours (a
        customer was called again at 03:00). A contact taken while the region was closed
        (an emergency line, answered around the clock) is called at any hour."""
        contact = await self.store.get_contact(contact_id)
        hours = self.hours.get(contact.region) if contact is not None else None
        queue = self.queues.get(contact.queue) if contact is not None else None
        if contact is None or hours is None or queue is None or hours.around_the_clock:
            return 0
        arrived = contact.timestamps.get("arrived_at", now)
        if not hours.is_open(datetime.fromtimestamp(arrived / 1000, UTC)):
            return 0
        due = datetime.fromtimestamp(now / 1000 + queue.callback_retry_s, UTC)
        return int(hours.next_opening(due).timestamp() * 1000)

    async def callback_answered(self, contact_id: str, at_ms: int | None = None) -> Contact:
        """The called-back customer picked up: the contact's answer, counted now (the
        agent's pick-up before it had nobody on the line)."""
        reply = await self.store.run("callback_answered", contact_id, at_ms=at_ms)
        return reply.check(contact_id, "answer").contact()

    async def move(
        self,
        contact_id: str,
        queue: str,
        reason: str,
        *,
        held_by: str = "",
        first_to: str = "",
        only_from: str = "",
        at_ms: int | None = None,
    ) -> Contact:
        """Move a contact to another queue keeping its place by arrival time; with
        `held_by`, only if that agent holds it (a transfer); with `first_to`, offered to
        that agent alone for the target queue's ring time before anyone else; with
        `only_from`, only if it is still in that queue (RoutingError otherwise). A ringing
        offer is revoked (its agent hears `offer_revoked`, reason `moved`); a connected
        contact is moved only by its agent: without `held_by` it is refused
        (RoutingError), as nobody takes a conversation from under its agent."""
        if queue not in self.queues:
            raise RoutingError(f"unknown queue {queue!r}")
        until = 0
        if first_to:
            start = now_ms() if at_ms is None else at_ms
            until = start + int(self.queues[queue].ring_s * 1000)
        reply = await self.store.run(
            "move", contact_id, queue, reason, held_by, first_to, until, only_from, at_ms=at_ms
        )
        if reply.status == "moved_meanwhile":
            raise RoutingError(
                f"cannot move contact {contact_id}: it is in {reply.fields.get('queue', '')} now"
            )
        if reply.status == "in_conversation":
            raise RoutingError(
                f"cannot move contact {contact_id}: it is connected to "
                f"{reply.fields.get('agent_id', '')}; the agent may transfer it"
            )
        return reply.check(contact_id, "move").contact()

    async def set_priority(
        self, contact_id: str, priority: int, reason: str, at_ms: int | None = None
    ) -> Contact:
        """Change a contact's priority (0-9); a waiting contact moves up or down its queue
        by the credit the difference is worth, and the change is explained."""
        priority = max(0, min(9, priority))
        reply = await self.store.run("reprioritize", contact_id, priority, reason, at_ms=at_ms)
        return reply.check(contact_id, "reprioritize").contact()

    async def transfer(
        self,
        contact_id: str,
        agent_id: str,
        to_queue: str | None = None,
        to_agent: str | None = None,
        at_ms: int | None = None,
    ) -> Contact:
        """Blind transfer to a queue, or to a named agent first (then the queue, once the
        queue's ring time has passed), keeping the contact's place by arrival time. A
        named agent must exist (UnknownAgent), be signed in and be someone else
        (RoutingError); nothing changes otherwise. The transferring agent is offered it
        again only when nobody else takes it first (routing.lua, move_contact)."""
        if to_agent:
            colleague = await self.get_agent(to_agent)
            if colleague.presence == Presence.OFFLINE:
                raise RoutingError(f"agent {to_agent} is signed out: transfer to a queue")
            if to_agent == agent_id:
                raise RoutingError(f"contact {contact_id} is already with {agent_id}")
        target = to_queue or (await self.get_contact(contact_id)).queue
        return await self.move(
            contact_id,
            target,
            f"transfer by {agent_id}",
            held_by=agent_id,
            first_to=to_agent or "",
            at_ms=at_ms,
        )

    async def consult(
        self, contact_id: str, agent_id: str, step: str, at_ms: int | None = None
    ) -> None:
        """A warm transfer's colleague (telephony's worker; `consult` in routing.lua):
        `reserve` holds them for the consultation (RoutingError when signed out or busy),
        `answered`, `release` (idempotent; agent '' releases whoever is held), and
        `hand_over`, which connects the contact to them at once."""
        reply = await self.store.run("consult", contact_id, agent_id, step, at_ms=at_ms)
        if reply.status == "busy":
            raise RoutingError(f"agent {agent_id} cannot be consulted: {reply.fields['state']}")
        if reply.status == "unknown_agent":
            raise UnknownAgent(agent_id)
        reply.check(contact_id, f"{step} a consultation of")

    async def request_callback(self, contact_id: str, callback_uri: str) -> Contact:
        """The caller hangs up but keeps the place; the node calls back when an agent is free."""
        await self.store.set_contact_fields(contact_id, callback_uri=callback_uri)
        return await self.get_contact(contact_id)

    async def note_timestamps(
        self,
        contact_id: str,
        call_arrived_at: int | None = None,
        ivr_done_at: int | None = None,
    ) -> None:
        """Times only telephony sees (INVITE arrival, end of the IVR), in ms since the epoch."""
        fields = {
            name: int(value)
            for name, value in (("call_arrived_at", call_arrived_at), ("ivr_done_at", ivr_done_at))
            if value
        }
        if fields:
            await self.store.set_contact_fields(contact_id, **fields)

    async def note_ivr_outcome(self, outcome: Mapping[str, Any]) -> None:
        """One answered call's IVR outcome (telephony's worker: routed, hung up in a
        stage, closed, failed), kept for the IVR report; ValueError naming a bad field."""
        await self.store.append_ivr_outcome(ivr_record(outcome))

    async def note_transfer(self, contact_id: str, transfer: dict[str, object]) -> None:
        """One voice transfer on the contact's record (telephony's worker calls it). A
        blind transfer out of the center that nobody took (`requeued`: busy, declined...)
        is also told to the agent who made it (`transfer_failed`): their desk only saw
        the contact go, and the caller is waiting in the queue again."""
        contact = await self._note(contact_id, "transfers", transfer)
        if transfer.get("mode") == "blind" and transfer.get("outcome") == "requeued":
            await self.store.publish_event(
                {
                    "type": "transfer_failed",
                    "contact_id": contact_id,
                    "agent_id": transfer.get("from_agent") or contact.agent_id,
                    "to": transfer.get("to", ""),
                    "reason": transfer.get("reason", ""),
                    "queue": contact.queue,
                }
            )

    async def note_recording(self, contact_id: str, recording: dict[str, object]) -> None:
        """One call recording on the contact's record (telephony's worker calls it)."""
        await self._note(contact_id, "recordings", recording)

    async def note_hold_started(self, contact_id: str, at_ms: int) -> None:
        """The caller is on hold (the agent's phone or desktop; telephony's worker): the
        contact shows it until the hold ends, and the agent's desktop hears it."""
        contact = await self.get_contact(contact_id)
        await self.store.set_contact_fields(contact_id, on_hold_since=int(at_ms))
        await self._hold_changed(contact, int(at_ms))

    async def note_hold(self, contact_id: str, hold: dict[str, object]) -> None:
        """One hold that ended (resumed, or the call ended on hold) on the contact's
        record (telephony's worker)."""
        contact = await self._note(contact_id, "holds", hold, on_hold_since=0)
        await self._hold_changed(contact, 0)

    async def _hold_changed(self, contact: Contact, since_ms: int) -> None:
        await self.store.publish_event(
            {
                "type": "hold",
                "contact_id": contact.contact_id,
                "agent_id": contact.agent_id,
                "on_hold_since": iso_utc(since_ms) if since_ms else None,
            }
        )

    async def note_recording_paused(self, contact_id: str, at_ms: int, by: str) -> None:
        """`by` paused the call's recording at `at_ms` (card details, PCI DSS; telephony's
        worker): the contact shows it until it ends, and the agent's desktop hears it."""
        contact = await self.get_contact(contact_id)
        await self.store.set_recording_paused(contact_id, int(at_ms))
        await self._recording_changed(contact, int(at_ms), by=by)

    async def note_recording_resumed(self, contact_id: str, ended: str) -> None:
        """The call's recording pause ended (`ended`: resumed by an agent, `pause_max_s`
        ran out, or `recording_ended`): the desktop must stop showing it, at once (a
        desk still saying "paused" while audio is recorded again is the dangerous way
        round). ValueError for another `ended`."""
        if ended not in PAUSE_ENDINGS:
            raise ValueError(f"ended must be one of {', '.join(PAUSE_ENDINGS)}, not {ended!r}")
        contact = await self.get_contact(contact_id)
        await self.store.set_recording_paused(contact_id, 0)
        await self._recording_changed(contact, 0, ended=ended)

    async def _recording_changed(
        self, contact: Contact, since_ms: int, by: str = "", ended: str = ""
    ) -> None:
        await self.store.publish_event(
            {
                "type": "recording",
                "contact_id": contact.contact_id,
                "agent_id": contact.agent_id,
                "paused_since": iso_utc(since_ms) if since_ms else None,
                "paused_by": by or None,
                "ended": ended or None,
            }
        )

    async def _note(
        self,
        contact_id: str,
        field: Literal["transfers", "recordings", "holds"],
        entry: object,
        **also: Any,
    ) -> Contact:
        """`entry` appended to one of the lists telephony keeps on a voice contact (and
        the fields `also` set in the same write); the contact as read before."""
        contact = await self.get_contact(contact_id)
        entries = [*getattr(contact, field), entry]
        await self.store.set_contact_fields(contact_id, **{field: json.dumps(entries)}, **also)
        return contact

    async def position(self, contact_id: str, at_ms: int | None = None) -> QueuePosition:
        """Where a waiting contact stands and how long it should still wait, by the method
        its queue announces; the first estimates a contact is given are kept on it, to be
        scored when it is answered. The estimates count only the agents who could take the
        contact (`Reach`); while there are none no wait is told (every estimate would
        assume one agent) and none is kept."""
        now = now_ms() if at_ms is None else at_ms
        reach = await self.reach(contact_id, now)
        history = await self.store.wait_history(reach.queue, contact_id)
        if history.position is None:  # offered, connected or ended: nothing to wait for
            return QueuePosition(0, 0.0)
        inputs = await self.wait_inputs(reach.queue, history.position, history, now, reach=reach)
        estimates = predict_all(inputs)
        method = await self.ewt_method(reach.queue, now)
        announced = known_wait_s(estimates[method], inputs.serving_agents)
        if announced is not None:
            await self.store.note_announced(contact_id, encode(now, estimates))
        return QueuePosition(history.position, announced, method, estimates)

    async def reach(self, contact_id: str, at_ms: int | None = None) -> Reach:
        """Who could ever take the contact (the routing function's widest step for it);
        raises UnknownContact."""
        reply = await self.store.run("reach", contact_id, at_ms=at_ms)
        return Reach.decode(reply.check(contact_id, "reach").fields)

    # -- agents -------------------------------------------------------------------

    async def upsert_agent(self, agent: Agent) -> None:
        await self.store.upsert_agent(agent)

    async def remove_agent(self, agent_id: str) -> None:
        """Remove an agent who holds no contact (RoutingError otherwise)."""
        await self.store.set_presence(agent_id, Presence.OFFLINE, "removed")
        await self.store.remove_agent(agent_id)

    async def import_agents(self, agents: Sequence[Agent], regions: Sequence[str]) -> None:
        """The planners' roster: every agent created or updated, state kept."""
        await self.store.publish_regions(regions)
        for agent in agents:
            await self.store.upsert_agent(agent)

    async def get_agent(self, agent_id: str) -> Agent:
        agent = await self.store.get_agent(agent_id)
        if agent is None:
            raise UnknownAgent(agent_id)
        return agent

    async def login(
        self, agent_id: str, sip_uri: str = "", channels: dict[str, int] | None = None
    ) -> Agent:
        """A sign-in: `channels` names what the agent may hold in this session, channel by
        channel; the roster's capacity for the others (not a previous session's)."""
        agent = await self.get_agent(agent_id)
        await self.store.set_login(agent_id, sip_uri, self.node_id, channels)
        if agent.presence == Presence.OFFLINE:
            await self.store.set_presence(agent_id, Presence.NOT_READY, "logged in")
        return await self.get_agent(agent_id)

    async def attach_desk(self, agent_id: str) -> bool:
        """The agent's desk opened its events here: the agent is this node's (whose
        death, not that of the node they signed in through, signs them out). False for
        an agent signed out."""
        reply = await self.store.run("attach", agent_id, self.node_id)
        return reply.status == "attached"

    async def detach_desk(self, agent_id: str) -> None:
        """The agent's desk's events socket on this node closed: a sign-in through
        another node no longer stays this node's for it."""
        await self.store.run("detach", agent_id, self.node_id)

    async def set_presence(
        self, agent_id: str, presence: Presence, reason: str = "", at_ms: int | None = None
    ) -> Agent:
        await self.store.set_presence(agent_id, presence, reason, at_ms=at_ms)
        return await self.get_agent(agent_id)

    async def list_agents(self) -> list[Agent]:
        return await self.store.list_agents()

    async def ringing_at(self, agent_id: str) -> list[tuple[Contact, int]]:
        """What rings at the agent now, with each ring's deadline (ms)."""
        return await self.store.ringing_at(agent_id)

    async def ringing_at_node(self, node: str) -> list[tuple[Contact, int]]:
        """What rings now of the node's contacts, with each ring's deadline (ms)."""
        return await self.store.ringing_at_node(node)

    async def adopt(
        self,
        dead_node: str,
        heir: str,
        stopped: bool = False,
        elsewhere: Mapping[str, PlacedElsewhere] | None = None,
    ) -> Adopted:
        """Take over the contacts of a node that died, or (`stopped`) stopped cleanly,
        and its agents (see `adopt` in routing.lua); the chats of `elsewhere` (contact id
        -> where) that still wait in their home region are placed in another, and
        offered there at once."""
        moves = {cid: [to.home, to.region, to.line] for cid, to in (elsewhere or {}).items()}
        reply = await self.store.run(
            "adopt", dead_node, heir, "1" if stopped else "0", json.dumps(moves)
        )

        def agents(name: str) -> list[str]:
            return [str(agent) for agent in json.loads(reply.fields.get(name) or "[]")]

        return Adopted(
            adopted=reply.number("adopted"),
            failed=reply.number("failed"),
            requeued=reply.number("requeued"),
            agents=agents("agents"),
            handed_over=agents("handed_over"),
            placed=reply.number("placed"),
        )

    async def contacts_left_by(self, node: str) -> list[Contact]:
        """The open contacts a node's adoption takes over or gives back: its own and
        those its signed-in agents hold (see `RoutingStore.contacts_left_by`)."""
        return await self.store.contacts_left_by(node)

    # -- timers -------------------------------------------------------------------

    async def tick(self, at_ms: int | None = None) -> list[int]:
        """Ring timeouts, wrap-up ends, relaxation steps, maximum waits and callbacks'
        next attempts that are due, in short routing calls (a few dozen timers each) so
        that a backlog never holds Redis for long; returns how many of each."""
        counts = [0, 0, 0, 0, 0]
        for _ in range(MAX_TICK_CALLS):
            reply = await self.store.run("tick", at_ms=at_ms)
            for index, name in enumerate(("rona", "freed", "relaxed", "overflowed", "retried")):
                counts[index] += reply.number(name)
            if not reply.number("more"):
                break
        return counts

    async def run_timers(
        self, interval_s: float, stop: asyncio.Event, failed: LoopFailed = uncounted
    ) -> None:
        """Tick until stopped; a Redis error is logged (LoopLog: once a burst), told to
        `failed` and retried, never fatal."""
        loop = LoopLog(log, "routing", "routing tick", failed)
        while not stop.is_set():
            try:
                await self.tick()
                loop.passed()
            except Exception as error:  # Redis down: keep the node alive, retry next tick
                loop.failed(error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)

    # -- statistics ---------------------------------------------------------------

    async def serving_agents(self, queue: str, at_ms: int | None = None) -> int:
        """Agents logged in and ready (or busy) with the queue's skill."""
        return len(await self._serving(queue, at_ms=at_ms))

    async def _serving(
        self, queue: str, agents: list[Agent] | None = None, at_ms: int | None = None
    ) -> list[AgentState]:
        """Routing states of the agents serving the queue: with its skill, signed in and
        ready (`Agent.serving`)."""
        skill = self.queues[queue].skill
        now = now_ms() if at_ms is None else at_ms
        if agents is None:
            agents = await self.store.list_agents()
        return [agent.state(now) for agent in agents if skill in agent.skills and agent.serving]

    async def _serving_count(
        self, queue: str, agents: list[Agent] | None, now: int, reach: Reach | None
    ) -> int:
        """Agents signed in and ready who could take a contact within `reach`; without
        one, those with the queue's skill."""
        if reach is None:
            return len(await self._serving(queue, agents, now))
        return reach.serving(await self.store.list_agents() if agents is None else agents)

    async def aht_s(self, queue: str, at_ms: int | None = None) -> float:
        return _handle_s(await self.last_hour(queue, at_ms))

    async def last_hour(self, queue: str, at_ms: int | None = None) -> QueueFigures:
        now = now_ms() if at_ms is None else at_ms
        return add_buckets(await self.store.stat_buckets(queue, now - HOUR_MS, now))

    async def wait_inputs(
        self,
        queue: str,
        position: int,
        history: WaitHistory,
        now: int,
        agents: list[Agent] | None = None,
        reach: Reach | None = None,
    ) -> WaitInputs:
        """What the wait predictors need for a contact at `position` of `queue`: the
        agents counted are those who could take it (`reach`), else (a new caller) those
        with the queue's skill."""
        hour = await self.last_hour(queue, now)
        moves = add_buckets(await self.store.stat_buckets(queue, now - DEPARTURES_MS, now))
        head = history.head_queued_at_ms
        last = history.last_wait_ms
        return WaitInputs(
            position=position,
            serving_agents=await self._serving_count(queue, agents, now, reach),
            handle_s=_handle_s(hour),
            abandon_rate_per_s=hour.abandon_rate_per_s or 0.0,
            head_wait_s=None if head is None else max(0.0, (now - head) / 1000),
            last_wait_s=None if last is None else last / 1000,
            departures=moves.departures,
            departure_gap_s=moves.departure_gap_ms / 1000,
        )

    async def ewt_method(self, queue: str, at_ms: int | None = None) -> str:
        """The method the queue announces: the lowest error over the last day."""
        now = now_ms() if at_ms is None else at_ms
        chosen_at, method = self._methods.get(queue, (0, ""))
        if not method or not 0 <= now - chosen_at < CHOICE_FRESH_MS:
            buckets = await self.store.stat_buckets(queue, now - SCORING_WINDOW_MS, now)
            method = choose(scores(buckets))
            self._methods[queue] = (now, method)
        return method

    async def waiting_counts(
        self, queue: str, *fields: str, limit: int | None = None
    ) -> Counter[tuple[str, ...]]:
        """The queue's waiting contacts (the first `limit`) counted by the values of some
        of their fields."""
        return await self.store.waiting_counts(queue, *fields, limit=limit)

    async def callbacks_due(self, *fields: str) -> Counter[tuple[str, ...]]:
        """Callbacks waiting for their next attempt, counted by the values of some of
        their fields: calls owed that no queue's line shows."""
        return await self.store.callbacks_due(*fields)

    async def new_caller_wait_s(
        self, name: str, now: int, agents: list[Agent] | None = None, waiting: int | None = None
    ) -> float:
        """The wait the queue announces to a new caller now: its chosen method's
        estimate (`ewt_method`) behind the `waiting` contacts (read when not given), with
        the agents of its skill signed in and ready (of `agents`, else every agent). One
        computation for every reader of a queue's EWT, whatever their scope."""
        if waiting is None:
            waiting = (await self.store.queue_depths([name]))[name]
        history = await self.store.wait_history(name, "")
        inputs = await self.wait_inputs(name, waiting + 1, history, now, agents)
        return predict_all(inputs)[await self.ewt_method(name, now)]

    async def queue_statuses(self, day_start_ms: int) -> list[QueueStatus]:
        """Every queue's status, reading the agents once for all of them."""
        agents = await self.store.list_agents()
        owed = await self.store.callbacks_due("queue")
        statuses = []
        for name, config in self.queues.items():  # the queues as the read began
            try:
                statuses.append(
                    await self.queue_status(name, day_start_ms, agents, owed[(name,)], config)
                )
            except KeyError:  # an admin removed it meanwhile: gone
                if name in self.queues:
                    raise
        return statuses

    async def queue_status(
        self,
        name: str,
        day_start_ms: int,
        agents: list[Agent] | None = None,
        callbacks_due: int | None = None,
        config: QueueConfig | None = None,
    ) -> QueueStatus:
        """The queue as a supervisor sees it now; `agents` and `callbacks_due` (its
        callbacks waiting for their next attempt) when the caller read them for every
        queue at once, and its `config` when the caller is going through them (an admin
        may remove it meanwhile)."""
        queue = config or self.queues[name]
        if callbacks_due is None:
            callbacks_due = (await self.store.callbacks_due("queue"))[(name,)]
        now = now_ms()
        waiting = await self.store.waiting(name)
        # Priority reorders the queue, so the longest wait is looked for near the head.
        heads = await self.store.waiting_contacts(name, 50)
        longest = max(
            [(now - c.timestamps.get("queued_at", now)) / 1000 for c in heads], default=0.0
        )
        serving = await self._serving(name, agents)
        return QueueStatus(
            name=name,
            waiting=len(waiting),
            longest_wait_s=longest,
            ewt_s=await self.new_caller_wait_s(name, now, agents, len(waiting)),
            serving_agents=len(serving),
            occupancy=occupancy_of(serving),
            today=add_buckets(await self.store.stat_buckets(name, day_start_ms, now)),
            last_30_min=add_buckets(await self.store.stat_buckets(name, now - RECENT_MS, now)),
            service_level_target=queue.service_level_target,
            answer_within_s=queue.answer_within_s,
            callbacks_due=callbacks_due,
        )


def occupancy_of(serving: Sequence[AgentState]) -> float | None:
    """Share of the serving agents (their states) handling or offered a contact now."""
    return occupancy(sum(state in OCCUPIED for state in serving), len(serving))


def _handle_s(hour: QueueFigures) -> float:
    """Average handle time over the hour, or the default below 5 handled contacts."""
    if hour.handled >= 5 and hour.average_handle_time_s:
        return hour.average_handle_time_s
    return DEFAULT_AHT_S
