"""What happens to a case, decided without I/O: opened, linked, answered, waiting on
the customer, solved, closed, and its SLA alarms.

Each step changes a `Case` in place and writes into a `Decision` what else goes with
it: history, report records and webhook events (stored in the same commit as the case)
and what follows once it is stored (live events, priorities and queues of its waiting
contacts). `router.cases.service` reads, commits and carries out; this module decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from router.cases.model import (
    Case,
    CaseRequest,
    CaseSettings,
    CaseSource,
    CaseStatus,
    HistoryEntry,
    SlaPolicy,
)
from router.cases.sla import Alarm, BusinessClock, Timer, TimerKind, TimerState
from router.model import Channel, Contact, ContactState
from switchboard.common.clock import iso_utc

SYSTEM = "system"


@dataclass
class Write:
    """What one decision about a case writes besides the case itself."""

    history: list[HistoryEntry] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)  # webhook events
    records: list[dict[str, str]] = field(default_factory=list)  # report records
    due_ms: int | None = None  # the case's next timer alarm (None: none)
    breached: bool = False  # a target passed and nobody has answered yet (wallboard)
    linked: list[str] = field(default_factory=list)  # contacts newly linked


@dataclass
class Decision:
    """What a decision about a case writes (`store`) and does after the commit."""

    store: Write = field(default_factory=Write)
    notify: list[dict[str, Any]] = field(default_factory=list)  # live events (hub)
    reroute: list[tuple[str, int | None, str | None, str]] = field(default_factory=list)
    # ^ (case_id, new priority, queue to move to, reason) for the case's waiting contacts


@dataclass(frozen=True)
class TimerStatus:
    """A timer as the case and contact show it."""

    kind: str
    state: str
    target_s: float
    spent_s: float  # business seconds counted so far
    remaining_s: float
    due_ms: int | None  # when it breaches if nothing changes (None: paused or stopped)
    warned: bool
    breached_ms: int
    started_ms: int
    stopped_ms: int
    outcome: str | None = None  # a stopped timer's: met, breached or cancelled


class Lifecycle:
    """The case's rules, given the SLA policies and regions' business hours."""

    def __init__(self, settings: CaseSettings) -> None:
        self.settings = settings

    def policy(self, case: Case) -> SlaPolicy | None:
        return self.settings.policy(case.policy) if case.policy else None

    def clock(self, case: Case) -> BusinessClock:
        return self.settings.clock(case.region, self.policy(case))

    def next_due(self, case: Case) -> int | None:
        """The case's next alarm: a timer's warning or breach, or the follow-up's end."""
        policy = self.policy(case)
        candidates = []
        if policy is not None:
            clock = self.clock(case)
            for timer in case.timers.values():
                alarm = timer.next_alarm(clock, policy.warn_at)
                if alarm is not None:
                    candidates.append(alarm[1])
        if case.status == CaseStatus.SOLVED and case.close_due_ms:
            candidates.append(case.close_due_ms)
        return min(candidates) if candidates else None

    def timer_status(self, case: Case, at: int) -> list[TimerStatus]:
        clock = self.clock(case)
        found = []
        for kind, timer in sorted(case.timers.items()):
            spent = timer.spent_at(clock, at)
            found.append(
                TimerStatus(
                    kind=kind.value,
                    state=timer.state.value,
                    target_s=timer.target_s,
                    spent_s=round(spent, 3),
                    remaining_s=round(timer.target_s - spent, 3),
                    due_ms=None if timer.breached else timer.reaches_ms(clock, timer.target_s),
                    warned=timer.warned,
                    breached_ms=timer.breached_ms,
                    started_ms=timer.started_ms,
                    stopped_ms=timer.stopped_ms,
                    outcome=timer.outcome,
                )
            )
        return found

    def start(self, case: Case, kind: TimerKind, at_ms: int) -> None:
        policy = self.policy(case)
        target = policy.target_s(kind) if policy else None
        if target:
            case.timers[kind] = Timer.start(kind, target, at_ms)

    def stop(
        self, case: Case, kind: TimerKind, at_ms: int, decision: Decision, *, answered: bool = True
    ) -> None:
        """End a timer and record how it went for the reports: met, or breached. A
        response timer ended without a response (`answered` False: the case was solved or
        closed first) is no response: `cancelled` when its target had not passed
        (neither met nor missed), still `breached` when it had; either way with
        `responded` 0, so that its time is no response time."""
        timer = case.timers.get(kind)
        if timer is None or timer.state == TimerState.STOPPED:
            return
        timer.stop(self.clock(case), at_ms, answered=answered)
        record = {
            "kind": "timer",
            "case_id": case.case_id,
            "queue": case.queue,
            "region": case.region,
            "policy": case.policy,
            "tier": case.customer_tier,
            "timer": kind.value,
            "outcome": timer.outcome or "met",
            "business_s": f"{timer.spent_s:.3f}",
            "wall_s": f"{(at_ms - timer.started_ms) / 1000:.3f}",
            "target_s": f"{timer.target_s:g}",
            "at_ms": str(at_ms),
        }
        if not answered:
            record["responded"] = "0"
        if timer.breached:
            record["missed_at_breach"] = "1"  # counted missed by its breach record
        decision.store.records.append(record)

    def pause_all(self, case: Case, at_ms: int) -> None:
        clock = self.clock(case)
        for timer in case.timers.values():
            timer.pause(clock, at_ms)

    def resume_all(self, case: Case, at_ms: int) -> None:
        for timer in case.timers.values():
            timer.resume(at_ms)

    def alarms(self, case: Case, d: Decision, at: int, counts: dict[str, int]) -> bool:
        counts.update(warning=0, breach=0, closed=0)  # a retried commit decides again
        policy = self.policy(case)
        if policy is not None and case.is_live:
            clock = self.clock(case)
            for kind, timer in case.timers.items():
                for alarm in timer.due_alarms(clock, policy.warn_at, at):
                    if alarm == Alarm.WARNING:
                        counts["warning"] += 1
                        self.warn(case, kind, timer, d, at)
                    else:
                        counts["breach"] += 1
                        self.breach(case, kind, timer, policy, d, at)
        if case.status == CaseStatus.SOLVED and case.close_due_ms and case.close_due_ms <= at:
            counts["closed"] += 1
            self.set_status(case, CaseStatus.CLOSED, SYSTEM, d, at, "no reply to the follow-up")
        return True  # the next alarm is written in any case

    def warn(self, case: Case, kind: TimerKind, timer: Timer, d: Decision, at: int) -> None:
        detail = {"timer": kind.value, "policy": case.policy, "target_s": timer.target_s}
        d.store.history.append(HistoryEntry(at, SYSTEM, "sla_warning", detail))
        d.store.outbox.append(webhook_event("sla.warning", at, {**summary(case), **detail}))
        d.notify.append(
            {"type": "sla_warning", **routing_fields(case), **detail, "at": iso_utc(at)}
        )

    def breach(
        self,
        case: Case,
        kind: TimerKind,
        timer: Timer,
        policy: SlaPolicy,
        d: Decision,
        at: int,
    ) -> None:
        """A target passed: record it, escalate as the policy says, tell the supervisors."""
        escalation = policy.escalation
        detail: dict[str, Any] = {
            "timer": kind.value,
            "policy": policy.name,
            "target_s": timer.target_s,
            "breached_at": iso_utc(timer.breached_ms),
        }
        old_priority, old_queue = case.priority, case.queue
        if escalation.raise_priority:
            case.priority = min(9, case.priority + escalation.raise_priority)
        if escalation.move_to:
            case.queue = escalation.move_to
        moved_to = case.queue if case.queue != old_queue else None
        detail.update(priority=case.priority, queue=old_queue, moved_to=moved_to)
        d.store.history.append(HistoryEntry(at, SYSTEM, "sla_breached", detail))
        base = {"case_id": case.case_id, "queue": old_queue, "region": case.region}
        d.store.records.append(
            {
                **base,
                "kind": "breach",
                "policy": policy.name,
                "timer": kind.value,
                "at_ms": str(at),
                "missed": "1",  # the timer is missed from now on, answered or not
            }
        )
        d.store.records.append(
            {**base, "kind": "escalation", "cause": f"sla.{kind.value}", "at_ms": str(at)}
        )
        d.store.outbox.append(webhook_event("sla.breached", at, {**summary(case), **detail}))
        if escalation.notify:
            d.notify.append(
                {
                    "type": "sla_breached",
                    **routing_fields(case),
                    # `queue`: where it breached; `moved_to`: where it went. The case
                    # stream tells both queues' supervisors (access.sees_case_event).
                    **detail,
                    "at": iso_utc(at),
                    "message": f"case {case.case_id}: {kind.value.replace('_', ' ')} target of "
                    f"{policy.name} passed ({old_queue}, {case.region})"
                    + (f"; moved to {moved_to}" if moved_to else ""),
                }
            )
        if case.priority != old_priority or case.queue != old_queue:
            reason = f"SLA {kind.value.replace('_', ' ')} of case {case.case_id} breached"
            raised = case.priority if case.priority != old_priority else None
            moved = case.queue if case.queue != old_queue else None
            d.reroute.append((case.case_id, raised, moved, reason))

    def open(
        self,
        case_id: str,
        request: CaseRequest,
        region: str,
        source: CaseSource,
        created_by: str,
        at: int,
        *,
        answered: bool,
    ) -> tuple[Case, Decision]:
        policy = self.settings.policy_for(request.queue, request.customer_tier)
        case = Case(
            case_id=case_id,
            customer_id=request.customer_id,
            customer_tier=request.customer_tier,
            subject=request.subject,
            queue=request.queue,
            region=region,
            priority=request.priority,
            owner=request.owner,
            policy=policy.name if policy else "",
            source=source,
            created_by=created_by,
            created_ms=at,
            updated_ms=at,
            answered=answered,
        )
        if not answered:
            self.start(case, TimerKind.FIRST_RESPONSE, at)
        self.start(case, TimerKind.RESOLUTION, at)
        d = Decision()
        detail = {"source": source.value, "policy": case.policy, "queue": case.queue}
        d.store.history.append(HistoryEntry(at, created_by, "created", detail))
        d.store.records.append(
            {
                "kind": "case",
                "case_id": case.case_id,
                "queue": case.queue,
                "region": case.region,
                "policy": case.policy,
                "source": source.value,
                "at_ms": str(at),
            }
        )
        d.store.outbox.append(webhook_event("case.created", at, summary(case)))
        d.notify.append({"type": "case_created", **routing_fields(case), "at": iso_utc(at)})
        return case, d

    def link(
        self, case: Case, contact: Contact, actor: str, d: Decision, at: int, *, wrote: str = ""
    ) -> bool:
        """Link a contact to the case; the customer coming back reopens it (a case
        solved before anyone answered owes a first response again, from now). The agent
        holding it owns the case when nobody does. A response the customer has had on it
        (see `responded`: a call its agent answered, or a chat in which `wrote`, an
        agent, wrote; accepting a chat is none) meets the case's first response and any
        owed next response."""
        if contact.contact_id in case.contacts:
            return False
        case.contacts.append(contact.contact_id)
        d.store.linked.append(contact.contact_id)
        detail = {
            "contact_id": contact.contact_id,
            "channel": contact.channel.value,
            "region": contact.region,
        }
        d.store.history.append(HistoryEntry(at, actor, "linked", detail))
        d.store.outbox.append(webhook_event("case.contact_linked", at, {**summary(case), **detail}))
        if contact.state == ContactState.CONNECTED and contact.agent_id:
            self.connected(case, contact.agent_id, contact.channel == Channel.VOICE, d, at)
        if contact.channel == Channel.CHAT and wrote:
            self.answered(case, wrote, d, at)
        if case.status in (CaseStatus.PENDING_CUSTOMER, CaseStatus.SOLVED):
            # After the response it may bring: a reopened case owes a first response
            # only when the customer has had none.
            self.set_status(case, CaseStatus.OPEN, actor, d, at, "the customer came back")
        return True

    def connected(self, case: Case, agent: str, voice: bool, d: Decision, at: int) -> bool:
        changed = False
        if not case.owner:
            case.owner = agent
            d.store.history.append(HistoryEntry(at, SYSTEM, "owner", {"owner": agent}))
            changed = True
        if voice:
            changed = self.answered(case, agent, d, at) or changed
        return changed

    def answered(self, case: Case, agent: str, d: Decision, at: int) -> bool:
        """An agent responded: the first response and any owed next response are met."""
        if not case.is_live:
            return False
        changed = not case.answered or case.awaiting_reply
        case.answered = True
        case.awaiting_reply = False
        for kind in (TimerKind.FIRST_RESPONSE, TimerKind.NEXT_RESPONSE):
            timer = case.timers.get(kind)
            if timer is not None and timer.state != TimerState.STOPPED:
                self.stop(case, kind, at, d)
                changed = True
        if not case.owner:
            case.owner = agent
            d.store.history.append(HistoryEntry(at, SYSTEM, "owner", {"owner": agent}))
            changed = True
        return changed

    def customer_wrote(self, case: Case, d: Decision, at: int) -> bool:
        changed = False
        if case.status in (CaseStatus.PENDING_CUSTOMER, CaseStatus.SOLVED):
            self.set_status(case, CaseStatus.OPEN, "customer", d, at, "the customer replied")
            changed = True
        if case.is_live and case.answered and not case.awaiting_reply:
            case.awaiting_reply = True
            self.start(case, TimerKind.NEXT_RESPONSE, at)
            changed = True
        return changed

    def set_status(
        self, case: Case, status: CaseStatus, actor: str, d: Decision, at: int, why: str
    ) -> None:
        """Move the case to `status` with what each status means for its timers."""
        old = case.status
        if old == status:
            return
        case.status = status
        if status == CaseStatus.PENDING_CUSTOMER:
            self.pause_all(case, at)
        elif status == CaseStatus.OPEN:
            self.resume_all(case, at)
            case.close_due_ms = 0
            if old == CaseStatus.SOLVED and not case.answered:
                # Solving was no response (the timer was cancelled): the customer who
                # came back is owed a first response, timed from their return.
                self.start(case, TimerKind.FIRST_RESPONSE, at)
        elif status == CaseStatus.SOLVED:
            # A response still owed is not given by solving: no response, not met.
            self.stop(case, TimerKind.FIRST_RESPONSE, at, d, answered=False)
            self.stop(case, TimerKind.NEXT_RESPONSE, at, d, answered=False)
            case.awaiting_reply = False
            self.pause_all(case, at)  # resolution waits for the confirmation
            case.solved_ms = at
            case.close_due_ms = at + int(self.settings.close_after_s * 1000)
            for contact_id in case.contacts:
                followup = {"type": "case_followup", "contact_id": contact_id}
                d.notify.append({**followup, "case_id": case.case_id, "at": iso_utc(at)})
        elif status == CaseStatus.CLOSED:
            for kind in list(case.timers):
                self.stop(case, kind, at, d, answered=kind == TimerKind.RESOLUTION)
            case.closed_ms = at
            case.close_due_ms = 0
            d.store.records.append(
                {
                    "kind": "closed",
                    "case_id": case.case_id,
                    "queue": case.queue,
                    "region": case.region,
                    "policy": case.policy,
                    "at_ms": str(at),
                }
            )
        reopened = old in (CaseStatus.SOLVED, CaseStatus.CLOSED) and status == CaseStatus.OPEN
        detail = {"from": old.value, "to": status.value, **({"why": why} if why else {})}
        action = "reopened" if reopened else "status"
        d.store.history.append(HistoryEntry(at, actor, action, detail))
        d.store.outbox.append(webhook_event("case.status_changed", at, {**summary(case), **detail}))
        d.notify.append({"type": "case_updated", **routing_fields(case), "at": iso_utc(at)})


def responded(contact: Contact, wrote: str) -> bool:
    """Whether the contact's customer has had a response from an agent: a call (or
    callback) is answered when its agent is connected; a chat when an agent wrote in it
    (`wrote`: who; accepting a chat is no answer: the first message is)."""
    if contact.channel == Channel.CHAT:
        return bool(wrote)
    return contact.state == ContactState.CONNECTED and bool(contact.agent_id)


def alerting(case: Case) -> bool:
    return case.is_live and any(
        timer.breached and timer.state != TimerState.STOPPED for timer in case.timers.values()
    )


def summary(case: Case) -> dict[str, Any]:
    """A case as webhooks see it: no notes, no history."""
    return {
        "case_id": case.case_id,
        "customer_id": case.customer_id,
        "customer_tier": case.customer_tier,
        "subject": case.subject,
        "queue": case.queue,
        "region": case.region,
        "status": case.status.value,
        "priority": case.priority,
        "owner": case.owner or None,
        "policy": case.policy or None,
        "contacts": list(case.contacts),
    }


def contact_summary(contact: Contact) -> dict[str, Any]:
    return {
        "contact_id": contact.contact_id,
        "channel": contact.channel.value,
        "queue": contact.queue,
        "region": contact.region,
        "language": contact.language,
        "customer_id": contact.customer_id or None,
        "state": contact.state.value,
        "agent_id": contact.agent_id or None,
    }


def routing_fields(case: Case) -> dict[str, Any]:
    """How a live event finds its listeners: the owner's desktop (agent_id) and the
    supervisors of the queue and region (their case stream filters on these)."""
    return {
        "case_id": case.case_id,
        "queue": case.queue,
        "region": case.region,
        "status": case.status.value,
        "priority": case.priority,
        "agent_id": case.owner,
    }


def webhook_event(kind: str, at_ms: int, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "at": iso_utc(at_ms), "data": data}
