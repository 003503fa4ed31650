"""Advisory use cases: declare (warn, tell, staff), recognise affected contacts, end.

A supervisor (or the airline's ops system with a supervisor's token) declares that a
disruption will bring some customers to a queue. `Advisories` then warns each of them
through the webhook outbox (their SMS, e-mail or app gateway), tells those already in a
live chat in the chat itself, works out how many agents the queue will need, and, as
one of the router's intakes, boosts every new contact of theirs in that queue while the
advisory runs. Access is asked of `router.access` (the queue's oversight); time is the
injected `clock` or an explicit `at_ms`, as everywhere in the router.

An advisory reaches as far as its declarer's scope: one declared by a supervisor whose
scope names regions covers those regions only (`Advisory.regions`): it boosts contacts
waiting there and counts the agents there, the ones that supervisor can move. An
admin's, or a supervisor's whose scope names no region, covers every region.

Each passenger and each chat reads the message `Readers` picks for their language tag,
in their script. How the webhooks delivered the warnings (delivered, dead-lettered) is
counted on the advisory as the deliveries end (`delivery`), so its readers see whether
the passengers were reached. Ended early, it tells the passengers it warned and the chats
it told that it is withdrawn, once, whoever ends it and however often: in the texts given,
else in the `advisories` catalog's text of each reader's language (`TextCatalog`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from router import access
from router.access import Principal
from router.advisories.catalog import TextCatalog
from router.advisories.model import (
    ALL_CLEAR,
    ALL_CLEAR_TEXT,
    UNKNOWN_LANGUAGE,
    WARNING,
    Advisory,
    AdvisoryRequest,
    AllClear,
    Fallback,
    Readers,
    Reading,
    Staffing,
)
from router.advisories.store import AdvisoryStore
from router.errors import InvalidInput, RoutingError, UnknownAdvisory
from router.identity import ANONYMOUS_PREFIX
from router.model import (
    MAX_PRIORITY,
    Agent,
    Channel,
    Contact,
    ContactState,
    NewContact,
    Presence,
    Role,
)
from router.ports import Auditor, EventPublisher
from router.service import Router
from switchboard.common.clock import iso_utc, now_ms

MAX_AHEAD_MS = 7 * 86_400_000  # an advisory runs a week at most
HOUR_S = 3600.0
OUTBOX_BATCH = 1000  # webhook events written per transaction
RECENT_CONTACTS = 10  # a customer's latest contacts read for their language and live chats
LIVE = (ContactState.QUEUED, ContactState.OFFERED, ContactState.CONNECTED)

# Agents needed for a contact rate: (contacts, handle s, interval s, service level,
# answer within s) -> agents. The node passes the scheduler's Erlang C
# (`scheduler.staffing.agents_needed`).
StaffingModel = Callable[[float, float, float, float, float], int]


class Outbox(Protocol):
    """The webhook outbox (`Cases.enqueue`): how many events it wrote."""

    async def enqueue(self, events: Sequence[dict[str, Any]]) -> int: ...


class ChatTeller(Protocol):
    """Posts a message from the center into a live chat (`Contacts.tell`)."""

    async def tell(self, contact: Contact, text: str, language: str) -> Any: ...


@dataclass(frozen=True)
class Declared:
    advisory: Advisory
    warned: int
    in_chat: int


def language_of(contact: Contact) -> str:
    """The tag a contact's customer reads: their own (`zh-TW`), else its language."""
    return contact.language_tag or contact.language


@dataclass(frozen=True)
class StaffingAlert:
    advisory: Advisory
    staffing: Staffing
    agents_signed_in: int  # now, not when declared

    @property
    def agents_short(self) -> int:
        return max(0, self.staffing.agents_needed - self.agents_signed_in)


class Advisories:
    def __init__(
        self,
        store: AdvisoryStore,
        router: Router,
        chats: ChatTeller,
        outbox: Outbox,
        events: EventPublisher,
        readers: Readers,
        *,
        staffing: StaffingModel | None = None,
        audit: Auditor | None = None,
        clock: Callable[[], int] = now_ms,
        catalog: TextCatalog | None = None,
    ) -> None:
        self.store = store
        self.router = router
        self.chats = chats
        self.outbox = outbox
        self.events = events
        self.readers = readers
        self.staffing_model = staffing
        self.auditor = audit
        self.clock = clock
        self.catalog = catalog or TextCatalog()  # the all clear's default texts

    # -- declaring -------------------------------------------------------------------------

    async def declare(self, actor: Principal, request: AdvisoryRequest) -> Declared:
        """Store the advisory, warn its customers, tell those chatting, work out staffing."""
        self._known_queue(request.queue)  # a typo is named, not taken for a lack of scope
        access.require_may_oversee_queue(actor, request.queue)
        now = self.clock()
        advisory = self._checked(actor, request, now)
        # an anonymous chat's id is its own: no airline lists it
        customers = [
            c for c in dict.fromkeys(request.customers) if not c.startswith(ANONYMOUS_PREFIX)
        ]
        if not customers:  # one that can reach nobody is refused, not declared
            raise InvalidInput(
                "$.customers",
                f"at least one customer id that is not an anonymous chat's ({ANONYMOUS_PREFIX}…)",
                None,
            )
        advisory.customers = len(customers)
        if request.expected_contacts_per_hour is not None:
            advisory.staffing = await self._staffing(
                advisory, request.expected_contacts_per_hour, now
            )
        await self.store.save(advisory, customers)
        latest = await self.router.store.contacts_of_customers(customers, RECENT_CONTACTS)
        warned = await self._warn(advisory, customers, latest, now)
        in_chat = await self._tell_chats(actor, advisory, latest)
        advisory.warned, advisory.in_chat = warned, in_chat
        await self.store.reached(advisory)
        await self._audit(actor, "advisory.declare", advisory, customers=len(customers))
        await self.events.publish(
            {
                "type": "advisory_declared",
                "advisory_id": advisory.advisory_id,
                "queue": advisory.queue,
            }
        )
        return Declared(advisory, warned, in_chat)

    def _known_queue(self, queue: str) -> None:
        """A queue that is not configured is 400 naming `$.queue`, for every declarer:
        asked before the scope, so a scoped supervisor's typo does not read as a 403."""
        if queue not in self.router.queues:
            raise InvalidInput("$.queue", f"one of {', '.join(self.router.queues)}", queue)

    def _checked(self, actor: Principal, request: AdvisoryRequest, now: int) -> Advisory:
        """The advisory the request describes, or InvalidInput naming the field."""
        # Checked before anything is stored or sent; the refused time is echoed in ms when
        # it has no UTC date (year 0 or 10000 once moved to UTC).
        if not now < request.until_ms <= now + MAX_AHEAD_MS:
            raise InvalidInput(
                "$.until", "a time after now and at most 7 days ahead", _shown(request.until_ms)
            )
        starts = now if request.starts_ms is None else request.starts_ms
        if not now - MAX_AHEAD_MS <= starts < request.until_ms:
            raise InvalidInput(
                "$.starts_at", "a time before until, at most 7 days ago", _shown(starts)
            )
        if not request.messages:
            raise InvalidInput("$.messages", "at least one language: text", {})
        if not request.title.strip():
            raise InvalidInput("$.title", "1-200 characters, not only spaces", request.title)
        return Advisory(
            advisory_id=uuid.uuid4().hex,
            queue=request.queue,
            title=request.title,
            messages=dict(request.messages),
            starts_ms=starts,
            until_ms=request.until_ms,
            priority_boost=request.priority_boost,
            created_by=actor.user_id,
            created_ms=now,
            regions=access.regions_reached(actor),
        )

    async def _warn(
        self,
        advisory: Advisory,
        customers: Sequence[str],
        latest: dict[str, list[Contact]],
        now: int,
    ) -> int:
        """One `customer.advisory` webhook event per customer, in the language of their
        most recent contact as `Readers` picks it, with their own tag (`customer_language`)
        so a gateway can tell; how many were written. The passengers whose language it
        lacks are counted by tag (`Advisory.fallbacks`), and whom it warned is kept for its
        all clear."""
        tags = {c: language_of(latest[c][0]) if latest.get(c) else "" for c in customers}
        events: list[dict[str, Any]] = []
        fallbacks: dict[str, Fallback] = {}
        for customer_id, tag in tags.items():
            read = self.readers.reading(advisory.messages, tag)
            _count_fallback(fallbacks, tag, read)
            data = _passenger_data(advisory, customer_id, tag, read)
            data["until"] = iso_utc(advisory.until_ms)
            events.append({"type": WARNING, "at": iso_utc(now), "data": data})
        written = await self._write(events)
        if written:  # no webhook, no warning: nobody to give the all clear to either
            advisory.fallbacks = fallbacks
            await self.store.keep_warned(advisory.advisory_id, tags)
        return written

    async def _write(self, events: Sequence[dict[str, Any]]) -> int:
        written = 0
        for start in range(0, len(events), OUTBOX_BATCH):
            written += await self.outbox.enqueue(events[start : start + OUTBOX_BATCH])
        return written

    async def _tell_chats(
        self, actor: Principal, advisory: Advisory, latest: dict[str, list[Contact]]
    ) -> int:
        """The text posted, from the center, into every live chat of its customers in the
        advisory's queue that the declaring supervisor oversees (nobody else's chats), in
        the chat's language as `Readers` picks it (the warning's rule)."""
        told = []
        for contacts in latest.values():
            for contact in contacts:
                ours = contact.queue == advisory.queue and actor.covers(
                    contact.queue, contact.region
                )
                if ours and contact.channel == Channel.CHAT and contact.state in LIVE:
                    read = self.readers.reading(advisory.messages, language_of(contact))
                    await self.chats.tell(contact, read.text, read.language)
                    told.append(contact.contact_id)
        await self.store.keep_told(advisory.advisory_id, told)
        return len(told)

    async def _staffing(self, advisory: Advisory, per_hour: float, now: int) -> Staffing:
        """Agents the queue needs for its service-level target at `per_hour` contacts,
        with its recent average handle time (`Router.aht_s`: the last hour's, else the
        default), against the agents signed in now with its skill in the advisory's
        regions (those its declarer can move)."""
        queue = advisory.queue
        config = self.router.queues[queue]
        handle_s = await self.router.aht_s(queue, now)
        needed = 0
        if self.staffing_model is not None:
            needed = self.staffing_model(
                per_hour, handle_s, HOUR_S, config.service_level_target, config.answer_within_s
            )
        return Staffing(
            expected_contacts_per_hour=per_hour,
            handle_s=handle_s,
            agents_needed=needed,
            agents_signed_in=self.signed_in(advisory, await self.router.list_agents()),
            by_ms=advisory.starts_ms,
        )

    def signed_in(self, advisory: Advisory, agents: Sequence[Agent]) -> int:
        """Of `agents`, those signed in (any state but offline) with the skill of the
        advisory's queue, in the regions it covers."""
        skill = self.router.queues[advisory.queue].skill
        return sum(
            a.presence != Presence.OFFLINE
            and skill in a.skills
            and advisory.covers_region(a.region)
            for a in agents
        )

    # -- reading and ending ------------------------------------------------------------------

    async def running(self, actor: Principal) -> list[Advisory]:
        """The running advisories the actor may read (`access.may_act_on_advisory`: of
        the queues they oversee, covering only regions of their scope): live first, then
        upcoming, then those ended early; latest start first within each."""
        access.require_role(actor, Role.SUPERVISOR, Role.ADMIN)
        now = self.clock()
        found = await self.store.get_many(await self.store.running_ids(now))
        mine = [a for a in found if access.may_act_on_advisory(actor, a.queue, a.regions)]
        order = {"live": 0, "upcoming": 1, "ended": 2}
        return sorted(mine, key=lambda a: (order[a.state(now)], -a.starts_ms))

    async def get(self, actor: Principal, advisory_id: str) -> Advisory:
        """One advisory, for those with the scope declaring it takes (its queue, and
        every region it covers)."""
        advisory = await self.store.get(advisory_id)
        if advisory is None:
            raise UnknownAdvisory(advisory_id)
        access.require_may_act_on_advisory(actor, advisory.queue, advisory.regions)
        return advisory

    async def end(
        self, actor: Principal, advisory_id: str, messages: Mapping[str, str] | None = None
    ) -> Advisory:
        """End it now: later contacts are no longer boosted, and the passengers it warned
        (one `customer.advisory_ended` event each) and the chats it told that are still
        live hear it is withdrawn: in `messages` (language tag -> text) as `Readers`
        picks for each; a language `messages` lacks (all of them without it) reads
        `ALL_CLEAR_TEXT` from its `advisories` catalog, English where there is none
        (counted in `cleared_fallbacks`, as the warning's `fallbacks`). Once: of several
        calls, even at the same time, the one that ends it tells; the others answer it as
        it is. It stays readable (with its figures) until its `until`, when it expires.
        Ending takes the scope declaring it takes (`get`): a region's supervisor does
        not end another region's advisory, nor one of every region."""
        advisory = await self.get(actor, advisory_id)
        if advisory.ended_ms:
            return advisory
        at = self.clock()
        ended = await self.store.end(advisory_id, at)
        if ended is None:
            raise UnknownAdvisory(advisory_id)
        if not ended:  # another call ended it meanwhile, and tells
            return await self.get(actor, advisory_id)
        advisory.ended_ms = at
        clear = AllClear.of(messages, self.catalog.texts(ALL_CLEAR_TEXT), advisory.title)
        advisory.cleared_messages = clear.texts
        advisory.cleared = await self._clear_passengers(advisory, clear, at)
        advisory.cleared_in_chat = await self._clear_chats(advisory, clear)
        await self.store.cleared(advisory)
        await self._audit(actor, "advisory.end", advisory, cleared=advisory.cleared)
        await self.events.publish(
            {"type": "advisory_ended", "advisory_id": advisory_id, "queue": advisory.queue}
        )
        return advisory

    async def _clear_passengers(self, advisory: Advisory, clear: AllClear, at: int) -> int:
        """One `customer.advisory_ended` event per passenger warned, for the language
        tag they were warned for; how many were written. Those it has no text of their
        language for are counted by tag (`Advisory.cleared_fallbacks`)."""
        events = []
        fallbacks: dict[str, Fallback] = {}
        for customer_id, tag in (await self.store.warned(advisory.advisory_id)).items():
            read = clear.reading(self.readers, tag)
            _count_fallback(fallbacks, tag, read)
            data = _passenger_data(advisory, customer_id, tag, read)
            data["ended_at"] = iso_utc(at)
            events.append({"type": ALL_CLEAR, "at": iso_utc(at), "data": data})
        advisory.cleared_fallbacks = fallbacks
        return await self._write(events)

    async def _clear_chats(self, advisory: Advisory, clear: AllClear) -> int:
        """The all clear posted, from the center, into each chat told that is still live."""
        told = 0
        for contact_id in await self.store.told(advisory.advisory_id):
            contact = await self.router.store.get_contact(contact_id)
            if contact is None or contact.channel != Channel.CHAT or contact.state not in LIVE:
                continue
            read = clear.reading(self.readers, language_of(contact))
            try:
                await self.chats.tell(contact, read.text, read.language)
            except RoutingError:  # it ended meanwhile
                continue
            told += 1
        return told

    async def delivery(
        self, webhook: str, event_id: str, event: Mapping[str, Any], delivered: bool
    ) -> None:
        """A webhook's delivery of an event ended: delivered, or dead-lettered. Counted
        on the advisory when it is one of its warnings or all clears (the supervisors who
        read it see whether its passengers were reached; the dead letters stay admins')."""
        kind = str(event.get("type", ""))
        data = event.get("data")
        if kind not in (WARNING, ALL_CLEAR) or not isinstance(data, Mapping):
            return
        advisory_id = str(data.get("advisory_id", ""))
        if advisory_id:
            await self.store.delivery(advisory_id, kind, webhook, event_id, delivered)

    async def staffing_alerts(self, actor: Principal) -> list[StaffingAlert]:
        """Advisories of the actor's queues covering one of the actor's regions, not over,
        whose queue still has fewer agents signed in (in the advisory's regions) than it
        needs (the wallboard's alerts)."""
        now = self.clock()
        found = await self.store.get_many(await self.store.running_ids(now))
        agents = await self.router.list_agents() if found else []
        alerts = []
        for advisory in found:
            staffing = advisory.staffing
            if staffing is None or advisory.ended_ms or advisory.queue not in self.router.queues:
                continue
            if actor.queues and advisory.queue not in actor.queues:
                continue
            theirs = access.regions_reached(actor)
            if theirs and advisory.regions and not set(theirs) & set(advisory.regions):
                continue  # another region's agents to move: not theirs to act on
            alert = StaffingAlert(advisory, staffing, self.signed_in(advisory, agents))
            if alert.agents_short:
                alerts.append(alert)
        return alerts

    async def _audit(
        self, actor: Principal, action: str, advisory: Advisory, **detail: Any
    ) -> None:
        if self.auditor is not None:
            await self.auditor.audit(
                actor.user_id,
                action,
                advisory_id=advisory.advisory_id,
                queue=advisory.queue,
                **detail,
            )

    # -- the router's intake -----------------------------------------------------------------

    async def before_create(
        self, new: NewContact, at_ms: int | None
    ) -> tuple[NewContact, Advisory | None]:
        """A contact of a customer an advisory in effect names, in the advisory's queue and
        one of its regions, gets its boost (the largest, when several apply) and says why.
        One whose boost is 0 boosts nobody: it neither explains nor counts the contact."""
        if not new.customer_id or new.customer_id.startswith(ANONYMOUS_PREFIX):
            return new, None
        at = self.clock() if at_ms is None else at_ms
        running = await self.store.of_customer(new.customer_id, at)
        region = new.region or self.router.region  # where the router will put it
        applying = [
            a
            for a in running
            if a.priority_boost > 0
            and a.queue == new.queue
            and a.in_effect(at)
            and a.covers_region(region)
        ]
        if not applying:
            return new, None
        advisory = max(applying, key=lambda a: (a.priority_boost, a.starts_ms))
        boosted = replace(
            new,
            priority=min(MAX_PRIORITY, new.priority + advisory.priority_boost),
            reasons=(*new.reasons, advisory.reason()),
        )
        return boosted, advisory

    async def after_create(
        self, contact: Contact, at_ms: int | None, prepared: Advisory | None = None
    ) -> None:
        """Count the contact against the advisory that boosted it."""
        if prepared is not None:
            await self.store.add_contact(prepared, contact.contact_id)


def _shown(at_ms: int) -> str:
    """A refused time as the answer echoes it: ISO 8601 in UTC, or ms where it has none."""
    try:
        return iso_utc(at_ms)
    except (ValueError, OverflowError, OSError):
        return f"{at_ms} ms"


def _count_fallback(fallbacks: dict[str, Fallback], tag: str, read: Reading) -> None:
    """Count a passenger of `tag` (`""`: not known) who reads another language's text."""
    if read.fallback:
        known = fallbacks.get(tag or UNKNOWN_LANGUAGE)
        fallbacks[tag or UNKNOWN_LANGUAGE] = Fallback(
            read.given, (known.passengers if known else 0) + 1
        )


def _passenger_data(
    advisory: Advisory, customer_id: str, tag: str, read: Reading
) -> dict[str, Any]:
    """What a passenger's event says, a warning or its all clear: the advisory, whom it is
    for, the text they read and its language beside their own (a gateway converts nothing)."""
    return {
        "advisory_id": advisory.advisory_id,
        "customer": customer_id,
        "language": read.language,
        "customer_language": tag or None,
        "text": read.text,
        "title": advisory.title,
        "queue": advisory.queue,
    }
