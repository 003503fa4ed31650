"""Case use cases: open, link, change, time against SLA policies, escalate, follow up.

`Cases` is called by people (through HTTP, with their actor: access is asked of
`router.access`), by the routing core (a contact created: `before_create`/
`after_create`; a chat message: `message_posted`; a routing event), and by the node's
timer task (`tick`). Every change of a case is one optimistic commit (`CaseStore`):
the case, its history, its report records, its webhook events and its next timer alarm
change together or not at all, so a breach escalates exactly once however many nodes
tick. What a change does to routing (priority, queue) and the live notifications follow
the commit. What each step does to the case is decided in `router.cases.lifecycle`.

Time is the injected `clock` (ms), or an explicit `at_ms`, so tests and the bench drive
days of SLA time in seconds, as the Router does.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from router import access
from router.access import Actor, CaseAct, CaseScope, Customer, Principal
from router.cases.kept import Kept, KeptEscalations
from router.cases.lifecycle import (
    SYSTEM,
    Decision,
    Lifecycle,
    TimerStatus,
    alerting,
    contact_summary,
    responded,
    routing_fields,
    summary,
    webhook_event,
)
from router.cases.model import (
    Case,
    CaseRequest,
    CaseRule,
    CaseSettings,
    CaseSource,
    CaseStatus,
    HistoryEntry,
    Note,
    RuleTrigger,
)
from router.cases.moves import move_waiting, unserved, waiting_for_a_person
from router.cases.store import CaseStore
from router.chat import FIRST_MESSAGES, from_an_agent
from router.contacts import wrap_up_of
from router.desk import Dispositions
from router.errors import InvalidInput, RoutingError, UnknownAgent, UnknownCase
from router.identity import ANONYMOUS_PREFIX
from router.model import (
    Agent,
    Channel,
    Contact,
    LoopFailed,
    LoopLog,
    NewContact,
    Presence,
    Role,
    uncounted,
)
from router.ports import Auditor, EventPublisher
from router.redaction import Redactor
from router.service import Router
from switchboard.common.clock import iso_utc, now_ms

if TYPE_CHECKING:
    from router.cases.reactions import EmotionReactions

log = logging.getLogger(__name__)

COMMIT_ATTEMPTS = 50
LEASE_MS = 30_000  # a claimed timer is retried by another node after this
LIST_SCAN = 5_000  # cases read at most to answer one page of a filtered list
LIST_BATCH = 200  # cases read at a time for a list
ALERT_PAGE = 200  # breached cases or flagged chats read at a time for the wallboard
FLAGGED_SCAN = 1_000  # flagged chats read at most for one wallboard (one read each)

T = TypeVar("T")


@dataclass(frozen=True)
class Shown(Generic[T]):
    """What one viewer is shown of a longer list; `truncated`: more of theirs are left out."""

    items: list[T]
    truncated: bool = False


@dataclass(frozen=True)
class UpsetChat:
    """A live chat flagged by its customer's words, with what triggered it."""

    contact: Contact
    triggers: list[dict[str, Any]]


@dataclass(frozen=True)
class CaseChange:
    subject: str | None = None
    priority: int | None = None
    owner: str | None = None
    queue: str | None = None
    status: CaseStatus | None = None


@dataclass(frozen=True)
class CaseFilter:
    status: CaseStatus | None = None
    queue: str | None = None
    region: str | None = None
    owner: str | None = None
    customer_id: str | None = None
    limit: int = 100
    # Go on after this place of the list (`CasePage.next` of the page before).
    before: ListPlace | None = None


# A place in the case list, newest first: (created ms, case id) is right after that case;
# (created ms, "") is before every case created at that millisecond.
ListPlace = tuple[int, str]


@dataclass(frozen=True)
class CasePage:
    """One page of the case list; `next`: where the next page starts (None: nothing is
    left). It names a case shown on this page, or only a time: never a case the viewer
    may not see."""

    items: list[Case]
    next: ListPlace | None = None


@dataclass(frozen=True)
class LiveCase:
    """The customer's live case as looked up before their contact was created: `None`
    when they had none (so that linking need not look again)."""

    case: Case | None


@dataclass(frozen=True)
class TickResult:
    warnings: int = 0
    breaches: int = 0
    closed: int = 0


class Cases:
    def __init__(
        self,
        store: CaseStore,
        router: Router,
        settings: CaseSettings,
        events: EventPublisher,
        *,
        audit: Auditor | None = None,
        clock: Callable[[], int] = now_ms,
        node_id: str = "",
        dispositions: Callable[[str], Dispositions] | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.store = store
        self.router = router
        self.settings = settings
        self.events = events
        self.auditor = audit
        self.clock = clock
        self.node_id = node_id
        # A queue's wrap-up codes (`[[dispositions]]`): a case's are checked against them.
        self.dispositions = dispositions
        # Card numbers out of subjects and notes, as out of chat messages (counted by the node's).
        self.redactor = redactor or Redactor()
        self.life = Lifecycle(settings)
        # Reads customers' chat messages for emotion words (when [emotion] is configured).
        self.reactions: EmotionReactions | None = None
        # Escalations kept for want of anyone to take them, moved once someone could.
        self.kept = KeptEscalations(store, router, events)

    def _now(self, at_ms: int | None) -> int:
        return self.clock() if at_ms is None else at_ms

    def timer_status(self, case: Case, at_ms: int | None = None) -> list[TimerStatus]:
        """The case's timers as they stand now (or at `at_ms`)."""
        return self.life.timer_status(case, self._now(at_ms))

    # -- committing a decision ------------------------------------------------------------

    async def _change(
        self,
        case_id: str,
        decide: Callable[[Case, Decision], bool],
        at_ms: int,
        known: Case | None = None,
    ) -> tuple[Case, bool]:
        """Read, decide, commit; again when another node committed first. `decide`
        changes the case in place and says whether it changed anything; `known` is the
        case as just read, tried first."""
        for _ in range(COMMIT_ATTEMPTS):
            before, known = known or await self.store.get(case_id), None
            if before is None:
                raise UnknownCase(case_id)
            case = copy.deepcopy(before)
            decision = Decision()
            if not decide(case, decision):
                return case, False
            case.updated_ms = at_ms
            decision.store.due_ms = self.life.next_due(case)
            decision.store.breached = alerting(case)
            self._keep_outbox(decision)
            if await self.store.commit(case, before, decision.store):
                await self._after(decision, at_ms)
                return case, True
        raise RoutingError(f"case {case_id} is changing too fast; try again")

    async def _create(
        self, case: Case, decision: Decision, at_ms: int, *, only_case: bool = False
    ) -> Case | None:
        """Store a new case; with `only_case`, not when its customer has a live case
        already (None then)."""
        decision.store.due_ms = self.life.next_due(case)
        self._keep_outbox(decision)
        if not await self.store.commit(case, None, decision.store, only_case_of_customer=only_case):
            if only_case:
                return None
            raise RoutingError(f"case {case.case_id} exists already")
        await self._after(decision, at_ms)
        return case

    def _keep_outbox(self, decision: Decision) -> None:
        """Webhook events are written only where webhooks are configured (a webhook
        starts with the events after it is first served)."""
        if not self.settings.webhooks:
            decision.store.outbox.clear()

    async def enqueue(self, events: Sequence[dict[str, Any]]) -> int:
        """Webhook events that change no case (contacts, emotion triggers, advisories);
        how many were written (none where no webhook is configured)."""
        if not self.settings.webhooks:
            return 0
        await self.store.enqueue(events)
        return len(events)

    async def _after(self, decision: Decision, at_ms: int) -> None:
        """Live events and routing changes, once the decision is stored."""
        for event in decision.notify:
            await self.events.publish(event)
        for case_id, priority, queue, reason in decision.reroute:
            await self._reroute(case_id, priority, queue, reason, at_ms)

    async def _reroute(
        self, case_id: str, priority: int | None, queue: str | None, reason: str, at_ms: int
    ) -> None:
        """Raise and move the case's contacts still waiting for a person (queued, or
        ringing: `move_waiting` revokes the offer); one its agent has taken stays, and so
        does one nobody of the target queue could take (`unserved`), raised, its priority's
        line saying why, until an agent who could take it becomes ready (`KeptEscalations`)."""
        case = await self.store.get(case_id)
        for contact_id in case.contacts if case else []:
            try:
                contact = await self.router.get_contact(contact_id)
                if not waiting_for_a_person(contact):
                    continue
                kept = await unserved(self.router, contact, queue) if queue else None
                if priority is not None and priority > contact.priority:
                    line = reason if kept is None else f"{reason}; {kept}"
                    await self.router.set_priority(contact_id, priority, line, at_ms=at_ms)
                if queue:
                    move = await move_waiting(self.router, contact, queue, reason, at_ms, kept)
                    if move.kept:
                        await self.kept.remember(
                            Kept(contact_id, queue, contact.queue, reason, "sla", at_ms)
                        )
            except RoutingError as failure:  # taken or ended meanwhile: it stays
                log.info("case %s: contact %s not rerouted: %s", case_id, contact_id, failure)

    # -- timers -------------------------------------------------------------------------------

    async def tick(self, at_ms: int | None = None) -> TickResult:
        """Raise every alarm due by now, once: warnings, breaches (escalated), and the
        closing of solved cases nobody confirmed."""
        at = self._now(at_ms)
        warnings = breaches = closed = 0
        for case_id in await self.store.claim_due(at, LEASE_MS):
            counts = {"warning": 0, "breach": 0, "closed": 0}

            def decide(case: Case, d: Decision, counts: dict[str, int] = counts) -> bool:
                return self.life.alarms(case, d, at, counts)

            try:
                await self._change(case_id, decide, at)
            except UnknownCase:
                await self.store.forget_due(case_id)  # gone: nothing left to time
                continue
            except RoutingError as failure:  # changing too fast: the lease brings it back
                log.warning("SLA timers of case %s: %s", case_id, failure)
                continue
            warnings += counts["warning"]
            breaches += counts["breach"]
            closed += counts["closed"]
        return TickResult(warnings, breaches, closed)

    async def run_timers(self, stop: asyncio.Event, failed: LoopFailed = uncounted) -> None:
        """Tick until stopped; a Redis error is logged (LoopLog: once a burst), told to
        `failed` and retried, never fatal."""
        loop = LoopLog(log, "cases", "case timers", failed)
        while not stop.is_set():
            try:
                await self.tick()
                loop.passed()
            except Exception as failure:  # Redis down: keep the node alive, retry next tick
                loop.failed(failure)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.tick_s)

    # -- opening a case ------------------------------------------------------------------------

    async def create(
        self, actor: Principal, request: CaseRequest, at_ms: int | None = None
    ) -> Case:
        """A case opened by staff or the API. From a contact (`contact_id`) it is linked to
        it, it is the contact's customer's (a customer id given must be that one), in the
        contact's queue and region unless others are given. Who may open which case is
        `access.allowed_to_open_case`: an agent only from a contact they hold or are
        wrapping up."""
        at = self._now(at_ms)
        if request.region is not None:
            self.router.require_region("$.region", request.region)
        if not request.contact_id and not request.customer_id:
            raise InvalidInput("$.customer.id", "the customer, or the contact_id the case is from")
        contact = None
        if request.contact_id:
            contact = await self.router.get_contact(request.contact_id)
        queue = request.queue or (contact.queue if contact else "")
        if not queue:
            raise InvalidInput("$.queue", "the queue of the case", None)
        if queue not in self.router.queues:
            raise InvalidInput("$.queue", f"one of {', '.join(self.router.queues)}", queue)
        owner = request.owner or (actor.user_id if actor.role == Role.AGENT else "")
        region = request.region or (contact.region if contact else self._home_of(actor))
        skilled = await self._skilled(actor, queue)
        wrap_up = await wrap_up_of(self.router, actor, contact) if contact else None
        access.require_may_open_case(
            actor, access.CaseOpening(queue, region, owner, contact, skilled, wrap_up)
        )
        if request.owner:
            await self._may_name_owner(actor, request.owner, queue, region)
        if contact is not None:
            request = self._customer_of(actor, contact, request)
            if await self.store.case_of_contact(contact.contact_id):
                raise RoutingError(f"contact {contact.contact_id} belongs to a case already")
        subject = self.redactor.redact(request.subject).text  # card numbers, as in a note
        request = replace(request, queue=queue, owner=owner, subject=subject)
        source = CaseSource.AGENT if actor.role == Role.AGENT else CaseSource.API
        wrote = await self._agent_wrote(contact) if contact is not None else ""
        answered = contact is not None and responded(contact, wrote)
        case, d = self.life.open(
            self.store.new_id(), request, region, source, actor.user_id, at, answered=answered
        )
        if contact is not None:
            self.life.link(case, contact, actor.user_id, d, at, wrote=wrote)
        created = await self._create(case, d, at)
        assert created is not None
        return created

    @staticmethod
    def _customer_of(actor: Principal, contact: Contact, request: CaseRequest) -> CaseRequest:
        """A case from a contact is its customer's, never another's: a customer id given
        must be the contact's. A contact without a known customer (a caller without a
        number) takes the one a supervisor or admin vouches for."""
        given = request.customer_id
        if contact.customer_id:
            if given and given != contact.customer_id:
                raise InvalidInput(
                    "$.customer.id", f"the customer of contact {contact.contact_id}, or none", given
                )
            return replace(
                request, customer_id=contact.customer_id, customer_tier=contact.customer_tier
            )
        if given and not access.may_vouch_for_customers(actor):
            raise InvalidInput("$.customer.id", "none: the contact's customer is unknown", given)
        if not given:
            raise InvalidInput("$.customer.id", "the customer the case is for", None)
        return request

    def _home_of(self, actor: Principal) -> str:
        """Where a case opened for a customer id alone goes: the node's region, unless the
        actor oversees regions without it (then the first of theirs, by name)."""
        if actor.regions and self.router.region not in actor.regions:
            return min(actor.regions)
        return self.router.region

    async def _may_name_owner(
        self, actor: Principal, owner_id: str, queue: str, region: str
    ) -> None:
        """The owner named is an agent the actor may give the case of `queue` in `region`
        to. One who is no agent is a bad field of the request (400 `$.owner`), not a
        missing resource: a 404 on changing a case would read as "the case is gone"."""
        try:
            owner = await self.router.get_agent(owner_id)
        except UnknownAgent:
            raise InvalidInput("$.owner", "the id of an agent", owner_id) from None
        access.require_may_name_owner(actor, owner, queue, region, self.router.queue_skills)

    async def _skilled(self, actor: Principal, queue: str) -> bool:
        """Whether the actor is an agent with the queue's skill."""
        config = self.router.queues.get(queue)
        if actor.role != Role.AGENT or config is None:
            return False
        agent = await self.router.store.get_agent(actor.user_id)
        return agent is not None and config.skill in agent.skills

    async def _open_by_rule(self, rule: CaseRule, contact: Contact, at: int) -> Case | None:
        """A rule opens a case for the contact's customer, unless one is live already;
        the commit checks that too, so two nodes never open two. If another case won,
        the contact is linked to it."""
        request = CaseRequest(
            customer_id=contact.customer_id,
            subject=rule.subject or f"{rule.name}: {contact.queue}",
            queue=contact.queue,
            region=contact.region,
            customer_tier=contact.customer_tier,
            priority=contact.priority,
        )
        actor = f"rule:{rule.name}"
        wrote = await self._agent_wrote(contact)
        case, d = self.life.open(
            self.store.new_id(),
            request,
            contact.region,
            CaseSource.RULE,
            actor,
            at,
            answered=responded(contact, wrote),
        )
        self.life.link(case, contact, actor, d, at, wrote=wrote)
        created = await self._create(case, d, at, only_case=True)
        if created is None:
            await self._link_to_live(contact, None, at)
        return created

    async def _agent_wrote(self, contact: Contact) -> str:
        """The agent whose message the chat's customer had first ('' when none yet, and
        for calls): a chat's first response is an agent's message, not its accepting.
        Only a chat an agent has accepted can hold one, so no other is read, and only
        its head (the first FIRST_MESSAGES, as the contact report reads it), not a long
        transcript each time a case meets the chat."""
        if contact.channel != Channel.CHAT or "answered_at" not in contact.timestamps:
            return ""
        head = await self.router.store.first_messages([contact.contact_id], FIRST_MESSAGES)
        for message in head.get(contact.contact_id, []):
            if from_an_agent(message.get("sender")):
                return str(message["sender"])
        return ""

    async def live_case(self, customer_id: str) -> Case | None:
        """The customer's live case (not closed), the one most recently opened or changed."""
        return await self.store.live_case(customer_id)

    async def _link_to_live(self, contact: Contact, found: LiveCase | None, at: int) -> bool:
        """Link the contact to its customer's live case (as `found` before the contact
        was created, or read now); False when there is none. A case opened by another
        node in between is found by the commit of the rule that would open one."""
        case = found.case if found is not None else await self.live_case(contact.customer_id)
        if case is None:
            return False

        wrote = await self._agent_wrote(contact)

        def link(c: Case, d: Decision) -> bool:
            return self.life.link(c, contact, SYSTEM, d, at, wrote=wrote)

        await self._change(case.case_id, link, at, known=case)
        return True

    # -- the routing core's hooks ------------------------------------------------------------

    async def before_create(
        self, new: NewContact, at_ms: int | None
    ) -> tuple[NewContact, LiveCase | None]:
        """A returning customer with a live case waits first for the case's owner (when
        signed in), and keeps the case's priority. What was found (a case or none) is
        handed to `after_create`, which links the contact to it without looking again."""
        if not new.customer_id:
            return new, None
        case = await self.live_case(new.customer_id)
        if case is None:
            return new, LiveCase(None)
        if case.priority > new.priority:
            new = replace(new, priority=case.priority)
        if case.owner and not new.preferred_agent and self.settings.prefer_owner_s > 0:
            owner = await self.router.store.get_agent(case.owner)
            if (
                owner is not None
                and owner.presence != Presence.OFFLINE
                and self._serves(owner, new)
            ):
                new = replace(
                    new, preferred_agent=case.owner, prefer_s=self.settings.prefer_owner_s
                )
        return new, LiveCase(case)

    def _serves(self, owner: Agent, new: NewContact) -> bool:
        """Whether the case's owner has the new contact's queue's skill: waiting for them
        first would bypass the queue's skills (an owner kept when the case moved to a
        queue they do not serve, an escalation's say)."""
        return self.router.queue_skills.get(new.queue, new.queue) in owner.skills

    async def after_create(
        self, contact: Contact, at_ms: int | None, prepared: LiveCase | None = None
    ) -> None:
        """Link the new contact to its customer's live case, or let the rules open one
        (not for an anonymous customer: see `followable`)."""
        at = self._now(at_ms)
        await self.enqueue([webhook_event("contact.created", at, contact_summary(contact))])
        if not contact.customer_id or await self._link_to_live(contact, prepared, at):
            return
        if not followable(contact.customer_id):
            return
        for rule in self.settings.rules:
            if not rule.applies(contact.queue, contact.channel.value, contact.customer_tier):
                continue
            if rule.on == RuleTrigger.CONTACT:
                await self._open_by_rule(rule, contact, at)
                return
            if rule.on == RuleTrigger.REPEAT_CONTACT:
                seen = await self.store.count_arrivals(
                    contact.customer_id, contact.contact_id, at, int(rule.within_s * 1000)
                )
                if seen >= rule.count:
                    await self._open_by_rule(rule, contact, at)
                    return

    async def emotion_triggered(self, contact: Contact, at_ms: int) -> None:
        """An emotion trigger on a contact without a case: the emotion rules may open one
        (not for an anonymous customer: the chat is flagged, raised and moved all the same)."""
        if not followable(contact.customer_id):
            return
        if await self.store.case_of_contact(contact.contact_id):
            return
        for rule in self.settings.rules:
            if rule.on == RuleTrigger.EMOTION and rule.applies(
                contact.queue, contact.channel.value, contact.customer_tier
            ):
                await self._open_by_rule(rule, contact, at_ms)
                return

    async def message_posted(self, contact: Contact, message: Any) -> None:
        """A chat message: the customer's may owe a next response (and reopens a case
        waiting on them); an agent's is a response."""
        at = self.clock()
        case = await self.store.case_for_contact(contact.contact_id)
        if case is not None:
            if message.sender == "customer":
                await self._change(
                    case.case_id, lambda c, d: self.life.customer_wrote(c, d, at), at, known=case
                )
            elif from_an_agent(message.sender):  # a notice from the center answers nobody
                sender = str(message.sender)
                await self._change(
                    case.case_id, lambda c, d: self.life.answered(c, sender, d, at), at, known=case
                )
        if message.sender == "customer" and self.reactions is not None:
            await self.reactions.read(contact, str(message.text), at)

    async def routing_event(self, event: dict[str, Any]) -> None:
        """Routing events of contacts this node created (each node handles its own, so
        each event is handled once): an answered call is a response, an accepted contact
        gives an unowned case its owner, an ended contact is told to the webhooks. And an
        agent made ready, whom every node hears: the escalations kept for want of anyone
        to take them that the agent could take are moved (`KeptEscalations`: once, by the
        node that takes each off the list)."""
        if event.get("type") == "state" and event.get("presence") == Presence.AVAILABLE.value:
            await self.kept.agent_ready(str(event.get("agent_id") or ""), self.clock())
            return
        if event.get("node") != self.node_id or not event.get("contact_id"):
            return
        kind, contact_id = event.get("type"), str(event["contact_id"])
        at = self.clock()
        if kind == "contact_connected":
            case_id = await self.store.case_of_contact(contact_id)
            agent = str(event.get("agent_id") or "")
            if case_id and agent:
                voice = event.get("channel") == Channel.VOICE.value
                await self._change(
                    case_id, lambda c, d: self.life.connected(c, agent, voice, d, at), at
                )
        elif kind == "contact_closed":
            await self.store.unflag([contact_id])
            await self.kept.forget(contact_id)
            if not self.settings.webhooks:
                return
            contact = await self._contact_or_none(contact_id)
            data = {
                "contact_id": contact_id,
                "customer_id": (contact.customer_id or None) if contact else None,
                "state": event.get("state"),
                "reason": event.get("reason"),
                "queue": event.get("queue"),
                "channel": event.get("channel"),
                "agent_id": event.get("agent_id") or None,
                "case_id": await self.store.case_of_contact(contact_id),
                **ended_times(contact),
            }
            await self.enqueue([webhook_event("contact.ended", at, data)])

    async def contact_wrapped_up(self, contact_id: str, wrap_up: dict[str, Any]) -> None:
        """The agent's wrap-up of a contact, for the webhooks (`contact.wrapped_up`)."""
        data = {
            "code": wrap_up.get("code", ""),
            "note": wrap_up.get("note", ""),
            "agent_id": wrap_up.get("agent_id") or None,
        }
        await self._tell_contact("contact.wrapped_up", contact_id, data)

    async def contact_rated(self, contact_id: str, score: int, channel: str) -> None:
        """The customer's rating of a contact (chat or voice survey), for the webhooks
        (`contact.rated`)."""
        await self._tell_contact("contact.rated", contact_id, {"score": score, "channel": channel})

    async def _tell_contact(self, kind: str, contact_id: str, data: dict[str, Any]) -> None:
        """A contact event with who the contact was with. It never fails the step that
        caused it: the wrap-up or the rating is stored already, and a retry would be
        refused (already rated), so a failure is logged instead."""
        if not self.settings.webhooks:
            return
        try:
            contact = await self._contact_or_none(contact_id)
            about = {
                "contact_id": contact_id,
                "customer_id": (contact.customer_id or None) if contact else None,
                "queue": contact.queue if contact else None,
                "agent_id": (contact.agent_id or None) if contact else None,
            }
            await self.enqueue([webhook_event(kind, self.clock(), {**about, **data})])
        except Exception as failure:  # Redis down: the outcome is kept, the event lost
            log.warning("webhook event %s of %s not written: %s", kind, contact_id, failure)

    async def _contact_or_none(self, contact_id: str) -> Contact | None:
        try:
            return await self.router.get_contact(contact_id)
        except RoutingError:
            return None

    # -- people's use cases ---------------------------------------------------------------------

    async def _scope(self, case: Case, actor: Actor) -> CaseScope:
        """The case's access scope; who holds its contacts is read only when it matters
        (an agent who does not own it)."""
        holders: frozenset[str] = frozenset()
        if (
            isinstance(actor, Principal)
            and actor.role == Role.AGENT
            and actor.user_id != case.owner
        ):
            found = set()
            for contact_id in case.contacts:
                contact = await self.router.store.get_contact(contact_id)
                if contact and contact.state in access.HOLDING:
                    found.add(contact.agent_id)
            holders = frozenset(found)
        return CaseScope(
            case.case_id, case.queue, case.region, case.owner, frozenset(case.contacts), holders
        )

    async def _allowed(self, actor: Actor, act: CaseAct, case: Case) -> bool:
        """403 unless the actor may `act` on the case; whether the act is audited (a case
        they neither own nor serve, as it is before any change of its owner). A read is
        recorded now; a change only once it took effect (`_audit_change`), so a refused
        or failed one (400, 409) leaves no entry."""
        scope = await self._scope(case, actor)
        access.require_for_case(actor, act, scope)
        audited = access.audited_case(actor, act, scope)
        if audited and act != CaseAct.CHANGE and self.auditor is not None:
            assert isinstance(actor, Principal)
            await self.auditor.audit(actor.user_id, f"case.{act.value}", case_id=case.case_id)
        return audited

    async def _changing(self, actor: Principal, case_id: str) -> tuple[Case, bool]:
        """The case the actor may change (403 otherwise), and whether their change is to
        be audited once it took effect."""
        case = await self.store.get(case_id)
        if case is None:
            raise UnknownCase(case_id)
        return case, await self._allowed(actor, CaseAct.CHANGE, case)

    async def _audit_change(
        self, actor: Principal, case_id: str, audited: bool, changed: Sequence[str], **detail: Any
    ) -> None:
        """A change that took effect (`changed`: the fields; none when it changed nothing)."""
        if audited and self.auditor is not None:
            await self.auditor.audit(
                actor.user_id, "case.change", case_id=case_id, changed=list(changed), **detail
            )

    async def get(self, actor: Actor, case_id: str) -> Case:
        case = await self.store.get(case_id)
        if case is None:
            raise UnknownCase(case_id)
        await self._allowed(actor, CaseAct.READ, case)
        return case

    async def history(self, actor: Actor, case_id: str) -> list[HistoryEntry]:
        return (await self.get_with_history(actor, case_id))[1]

    async def get_with_history(self, actor: Actor, case_id: str) -> tuple[Case, list[HistoryEntry]]:
        """The case the actor may read (`get`: audited when not theirs) and its history."""
        case = await self.get(actor, case_id)
        return case, await self.store.history(case_id)

    async def find(self, principal: Principal, wanted: CaseFilter) -> list[Case]:
        """The first page of `find_page`."""
        return (await self.find_page(principal, wanted)).items

    async def find_page(self, principal: Principal, wanted: CaseFilter) -> CasePage:
        """The cases the principal may see (supervisors: their queues and regions; agents:
        those they own or whose contact they hold), newest first, filtered, from
        `wanted.before` on: up to `limit`, reading at most LIST_SCAN cases (a filter few
        match may answer a short page, even an empty one, with a `next` to go on from).
        Listing cases one neither owns nor serves is audited (`case.list`, with those
        cases), as reading one is. A filter on a queue or region that does not exist is a
        mistake (400 naming it), as opening a case there is."""
        access.require_may_see_cases(principal)
        if wanted.queue is not None and wanted.queue not in self.router.queues:
            queues = ", ".join(self.router.queues)
            raise InvalidInput("query.queue", f"one of {queues}", wanted.queue)
        if wanted.region is not None:
            self.router.require_region("query.region", wanted.region)
        page = await self._page(principal, wanted)
        others = [
            case.case_id
            for case in page.items
            if access.audited_case(
                principal,
                CaseAct.READ,
                CaseScope(case.case_id, case.queue, case.region, case.owner),
            )
        ]
        if others and self.auditor is not None:
            await self.auditor.audit(
                principal.user_id, "case.list", case_ids=others, count=len(others)
            )
        return page

    async def _page(self, principal: Principal, wanted: CaseFilter) -> CasePage:
        index = self._list_index(wanted)
        served = await self._served_by(principal)
        found: list[Case] = []
        place = last_shown = wanted.before
        read, flushed = 0, False
        while not flushed:
            if read >= LIST_SCAN:  # past the budget, the rest of the last millisecond
                flushed = True  # only: the page then ends at a time, naming no case
            count = 0 if flushed else min(LIST_BATCH, LIST_SCAN - read)
            rows = await self.store.ids_by_time(index, place, count)
            if not rows and not flushed:
                return CasePage(found)  # the index is read to its end
            read += len(rows)
            cases = {case.case_id: case for case in await self.store.get_many(ids_of(rows))}
            for case_id, created_ms in rows:
                place = (created_ms, case_id)
                case = cases.get(case_id)
                if case is None or not self._listed(principal, case, wanted, served):
                    continue
                if len(found) == wanted.limit:  # one more of theirs: the page is full
                    return CasePage(found, last_shown)
                found.append(case)
                last_shown = place
        assert place is not None
        more = await self.store.ids_by_time(index, (place[0], ""), 1)
        return CasePage(found, (place[0], "") if more else None)

    def _list_index(self, wanted: CaseFilter) -> str:
        """The index a list reads (each scored by creation time): the customer's cases,
        those of one status, or all."""
        keys = self.store.keys
        if wanted.customer_id:
            return keys.customer(wanted.customer_id)
        return keys.status(wanted.status.value) if wanted.status else keys.cases

    async def _served_by(self, principal: Principal) -> frozenset[str]:
        """The cases of the contacts an agent holds now (offered or connected): theirs to
        read as their own, though another agent owns them (`access.allowed_for_case`)."""
        if principal.role != Role.AGENT:
            return frozenset()
        held, _ = await self.router.store.agent_contacts(principal.user_id)
        holding = [c.contact_id for c in held if c.state in access.HOLDING]
        return frozenset((await self.store.cases_of_contacts(holding)).values())

    @staticmethod
    def _listed(
        principal: Principal, case: Case, wanted: CaseFilter, served: frozenset[str]
    ) -> bool:
        holders = frozenset({principal.user_id}) if case.case_id in served else frozenset()
        scope = CaseScope(case.case_id, case.queue, case.region, case.owner, holders=holders)
        return _matches(case, wanted) and access.allowed_for_case(principal, CaseAct.READ, scope)

    async def change(
        self, actor: Principal, case_id: str, change: CaseChange, at_ms: int | None = None
    ) -> Case:
        """Change what the case says; a closed case changes no more (409; a change that
        changes nothing is no change). Moving it asks where the actor may put a case. A
        subject's card numbers are masked before it is compared, kept or sent."""
        at = self._now(at_ms)
        case, audited = await self._changing(actor, case_id)
        if change.subject is not None:  # card numbers masked, as in a note
            change = replace(change, subject=self.redactor.redact(change.subject).text)
        _refuse_if_closed(case, _changes(case, change))
        if change.queue is not None and change.queue != case.queue:
            if change.queue not in self.router.queues:
                queues = ", ".join(self.router.queues)
                raise InvalidInput("$.queue", f"one of {queues}", change.queue)
            skilled = await self._skilled(actor, change.queue)
            access.require_may_place_case(actor, change.queue, case.region, skilled=skilled)
        if change.owner:
            await self._may_name_owner(actor, change.owner, change.queue or case.queue, case.region)

        changed: list[str] = []  # what the decision committed changed

        def decide(c: Case, d: Decision) -> bool:
            _refuse_if_closed(c, _changes(c, change))  # closed by someone else meanwhile
            fields = []
            for name in ("subject", "priority", "owner", "queue"):
                value = getattr(change, name)
                if value is not None and value != getattr(c, name):
                    detail = {name: value, "was": getattr(c, name)}
                    setattr(c, name, value)
                    d.store.history.append(HistoryEntry(at, actor.user_id, name, detail))
                    fields.append(name)
            if "priority" in fields:
                reason = f"case priority set by {actor.user_id}"
                d.reroute.append((c.case_id, c.priority, None, reason))
            if fields:
                d.store.outbox.append(
                    webhook_event("case.updated", at, {**summary(c), "changed": fields})
                )
                d.notify.append({"type": "case_updated", **routing_fields(c), "at": iso_utc(at)})
            if change.status is not None and change.status != c.status:
                self.life.set_status(c, change.status, actor.user_id, d, at, "")
                fields.append("status")
            changed[:] = fields  # decided again when another node committed first
            return bool(fields)

        case, _ = await self._change(case_id, decide, at)
        await self._audit_change(actor, case_id, audited, changed)
        return case

    async def get_for(self, actor: Actor, case_id: str, act: CaseAct) -> Case:
        """The case, when the actor may `act` on it (a change: `_changing`, audited once
        done)."""
        case = await self.store.get(case_id)
        if case is None:
            raise UnknownCase(case_id)
        await self._allowed(actor, act, case)
        return case

    async def add_note(
        self, actor: Principal, case_id: str, text: str, at_ms: int | None = None
    ) -> Case:
        """A note on the case, card numbers masked (`redacted`) before it is kept or sent."""
        at = self._now(at_ms)
        found, audited = await self._changing(actor, case_id)
        _refuse_if_closed(found)
        kept = self.redactor.redact(text)
        text = kept.text

        def decide(c: Case, d: Decision) -> bool:
            _refuse_if_closed(c)
            c.notes.append(Note(at, actor.user_id, text, kept.kinds))
            d.store.history.append(HistoryEntry(at, actor.user_id, "note", {"chars": len(text)}))
            d.store.outbox.append(
                webhook_event(
                    "case.note_added", at, {**summary(c), "author": actor.user_id, "text": text}
                )
            )
            return True

        case, _ = await self._change(case_id, decide, at)
        await self._audit_change(actor, case_id, audited, ["notes"])
        return case

    async def add_wrap_up(
        self, actor: Principal, case_id: str, codes: Sequence[str], at_ms: int | None = None
    ) -> Case:
        """Wrap-up codes from the list of the case's queue (`[[dispositions]]`, as a
        contact's; any code where the queue has none)."""
        at = self._now(at_ms)
        case, audited = await self._changing(actor, case_id)
        _refuse_if_closed(case)
        self._check_codes(case.queue, codes)

        def decide(c: Case, d: Decision) -> bool:
            _refuse_if_closed(c)
            self._check_codes(c.queue, codes)  # moved to another queue meanwhile
            new = [code for code in codes if code not in c.wrap_up_codes]
            if not new:
                return False
            c.wrap_up_codes += new
            d.store.history.append(HistoryEntry(at, actor.user_id, "wrap_up", {"codes": new}))
            changed = {"changed": ["wrap_up_codes"], "wrap_up_codes": list(c.wrap_up_codes)}
            d.store.outbox.append(webhook_event("case.updated", at, {**summary(c), **changed}))
            return True

        case, added = await self._change(case_id, decide, at)
        await self._audit_change(actor, case_id, audited, ["wrap_up_codes"] if added else [])
        return case

    async def link(
        self, actor: Principal, case_id: str, contact_id: str, at_ms: int | None = None
    ) -> Case:
        """Staff link a contact to a case (both must be theirs to act on; the contact of
        the case's customer: `access.require_may_link`)."""
        at = self._now(at_ms)
        found, audited = await self._changing(actor, case_id)
        _refuse_if_closed(found)
        contact = await self.router.get_contact(contact_id)
        access.require(
            actor, access.Act.READ, contact, await wrap_up_of(self.router, actor, contact)
        )
        access.require_may_link(contact, found.customer_id)
        other = await self.store.case_of_contact(contact_id)
        if other and other != case_id:
            raise RoutingError(f"contact {contact_id} belongs to case {other}")
        wrote = await self._agent_wrote(contact)

        def decide(c: Case, d: Decision) -> bool:
            _refuse_if_closed(c)
            return self.life.link(c, contact, actor.user_id, d, at, wrote=wrote)

        case, linked = await self._change(case_id, decide, at)
        changed = ["contacts"] if linked else []
        await self._audit_change(actor, case_id, audited, changed, contact_id=contact_id)
        return case

    def _check_codes(self, queue: str, codes: Sequence[str]) -> None:
        if self.dispositions is None:
            return
        rules = self.dispositions(queue)
        for index, code in enumerate(codes):
            rules.check(code, f"$.codes[{index}]")

    async def of_contact(self, actor: Principal, contact_id: str) -> Case | None:
        """The case a contact belongs to (None: none), if the actor may read both."""
        access.require_may_see_cases(actor)
        contact = await self.router.get_contact(contact_id)
        access.require(
            actor, access.Act.READ, contact, await wrap_up_of(self.router, actor, contact)
        )
        case_id = await self.store.case_of_contact(contact_id)
        if case_id is None:
            return None
        case = await self.store.get(case_id)
        if case is None:
            return None
        await self._allowed(actor, CaseAct.READ, case)  # its agent: while holding it
        return case

    async def triggers(self, actor: Principal, contact_id: str) -> list[dict[str, Any]]:
        """The emotion triggers recorded on a contact (words of its customer: not for
        planners)."""
        access.require_may_see_cases(actor)
        contact = await self.router.get_contact(contact_id)
        access.require(
            actor, access.Act.READ, contact, await wrap_up_of(self.router, actor, contact)
        )
        if self.auditor is not None and access.audited(actor, access.Act.READ, contact):
            await self.auditor.audit(actor.user_id, "contact.triggers", contact_id=contact_id)
        return await self.store.triggers(contact_id)

    async def confirm(
        self, customer: Customer, contact_id: str, solved: bool, at_ms: int | None = None
    ) -> Case:
        """The customer answers the follow-up: solved closes the case, not solved reopens."""
        at = self._now(at_ms)
        case_id = await self.store.case_of_contact(contact_id)
        if case_id is None:
            raise RoutingError(f"contact {contact_id} belongs to no case")
        case = await self.get_for(customer, case_id, CaseAct.CONFIRM)
        access.require_may_confirm(
            customer, await self.router.get_contact(contact_id), case.customer_id
        )
        if case.status != CaseStatus.SOLVED:
            raise RoutingError(
                f"case {case_id} is {case.status.value}, not waiting to be confirmed"
            )

        def decide(c: Case, d: Decision) -> bool:
            if c.status != CaseStatus.SOLVED:
                return False
            target = CaseStatus.CLOSED if solved else CaseStatus.OPEN
            why = "confirmed solved by the customer" if solved else "the customer says not solved"
            self.life.set_status(c, target, "customer", d, at, why)
            return True

        case, _ = await self._change(case_id, decide, at)
        return case

    async def breached_live(self, limit: int = 200) -> list[Case]:
        """Live cases with a passed target nobody answered yet, whoever's (latest first)."""
        return await self.store.get_many(await self.store.breached_ids(limit))

    async def breached_for(self, principal: Principal, limit: int = 200) -> Shown[Case]:
        """The wallboard's alerts: live cases the principal may read (a supervisor's:
        their queues and regions) with a passed target nobody answered yet, latest first.
        Others' are passed over until `limit` are found (at most LIST_SCAN read);
        `truncated` says more are left out."""
        found: dict[str, Case] = {}
        for start in range(0, LIST_SCAN, ALERT_PAGE):  # the set may shift between pages
            ids = await self.store.breached_ids(ALERT_PAGE, start)
            for case in await self.store.get_many(ids):
                scope = CaseScope(case.case_id, case.queue, case.region, case.owner)
                if access.allowed_for_case(principal, CaseAct.READ, scope):
                    found.setdefault(case.case_id, case)
                    if len(found) > limit:
                        return Shown(list(found.values())[:limit], truncated=True)
            if len(ids) < ALERT_PAGE:
                return Shown(list(found.values()), truncated=False)
        return Shown(list(found.values()), truncated=True)

    async def upset_for(self, principal: Principal, limit: int = 100) -> Shown[UpsetChat]:
        """The wallboard's alerts: live chats the principal may read whose customer's
        words flagged them, latest first, with the triggers. Others' are passed over until
        `limit` are found (at most FLAGGED_SCAN read); `truncated` says more are left out.
        Chats that ended are unflagged on the way."""
        found: dict[str, UpsetChat] = {}
        ended: list[str] = []
        more = False  # one more of theirs than the limit, or the scan stopped short
        for start in range(0, FLAGGED_SCAN, ALERT_PAGE):  # the set may shift between pages
            flagged = await self.store.flagged(ALERT_PAGE, start)
            for contact_id, _ in flagged:
                contact = await self.router.store.get_contact(contact_id)
                if contact is None or contact.is_terminal:
                    ended.append(contact_id)
                elif contact_id in found or not access.allowed(principal, access.Act.READ, contact):
                    continue
                elif len(found) == limit:
                    more = True
                    break
                else:
                    found[contact_id] = UpsetChat(contact, await self.store.triggers(contact_id))
            if more or len(flagged) < ALERT_PAGE:
                break
        else:
            more = True
        await self.store.unflag(ended)
        return Shown(list(found.values()), more)

    async def records(self, start_ms: int) -> list[dict[str, str]]:
        """The report records (timers ended, breaches, escalations, cases) since a time."""
        return await self.store.records_since(start_ms)


def ended_times(contact: Contact | None) -> dict[str, Any]:
    """When an ended contact arrived, was answered and ended (ISO), how long it waited for
    a person and how long it was with one (seconds; None where it never got that far)."""
    stamps = contact.timestamps if contact else {}
    arrived = stamps.get("call_arrived_at") or stamps.get("arrived_at") or stamps.get("queued_at")
    queued, answered, ended = (stamps.get(k) for k in ("queued_at", "answered_at", "ended_at"))
    waited_until = answered or ended
    return {
        "arrived_at": iso_utc(arrived) if arrived else None,
        "answered_at": iso_utc(answered) if answered else None,
        "ended_at": iso_utc(ended) if ended else None,
        "wait_s": round((waited_until - queued) / 1000, 3) if queued and waited_until else None,
        "talk_s": round((ended - answered) / 1000, 3) if answered and ended else None,
    }


def followable(customer_id: str) -> bool:
    """Whether a rule may open a case for the customer: one known again later. An
    anonymous customer's id (`anon-…`: a chat without a signed identity, a caller who
    withheld their number) is their contact's own: nobody can follow such a case up, and
    it would stay open and breach for ever once the contact ends. Staff may still open one
    by hand from the contact (and close it)."""
    return bool(customer_id) and not customer_id.startswith(ANONYMOUS_PREFIX)


def _changes(case: Case, change: CaseChange) -> bool:
    """Whether the change would change the case at all."""
    return any(
        value is not None and value != getattr(case, name)
        for name, value in (
            ("subject", change.subject),
            ("priority", change.priority),
            ("owner", change.owner),
            ("queue", change.queue),
            ("status", change.status),
        )
    )


def _refuse_if_closed(case: Case, changing: bool = True) -> None:
    """A closed case is final: nothing of it changes (it is not reopened either: a new
    contact of its customer opens a new one)."""
    if changing and case.status == CaseStatus.CLOSED:
        raise RoutingError(f"case {case.case_id} is closed")


def ids_of(rows: Sequence[tuple[str, int]]) -> list[str]:
    return [case_id for case_id, _ in rows]


def _matches(case: Case, wanted: CaseFilter) -> bool:
    return (
        (wanted.status is None or case.status == wanted.status)
        and (wanted.queue is None or case.queue == wanted.queue)
        and (wanted.region is None or case.region == wanted.region)
        and (wanted.owner is None or case.owner == wanted.owner)
        and (wanted.customer_id is None or case.customer_id == wanted.customer_id)
    )
