"""What people do with contacts: the customer in their chat, the agent, the supervisor.

Every use case here takes the actor first and asks `router.access` whether that actor's
relationship with the contact allows it; reads of content by staff who are not a
party to the contact are audited. The routing decisions themselves are `Router`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from router import access
from router.access import Act, Actor, Customer, Principal
from router.chat import MAX_MESSAGE_CHARS, ChatLog, Message, Posted
from router.desk import ChatSite, DeskConfig
from router.errors import (
    InvalidInput,
    RoutingError,
    Unauthenticated,
    UnknownContact,
    UnknownQueue,
)
from router.identity import ANONYMOUS_PREFIX, Identity, anonymous
from router.identity import verify as verify_identity
from router.model import (
    Channel,
    Contact,
    ContactState,
    LoopFailed,
    LoopLog,
    NewContact,
    uncounted,
)
from router.ports import EventPublisher
from router.reports.service import Reports
from router.service import Router
from router.store import WINDOW_LEFT, WINDOW_START
from switchboard.common.clock import now_ms
from switchboard.common.languages import canonical, primary
from switchboard.common.readable import readable

log = logging.getLogger(__name__)
# Chats whose customer windows one sweep judges at most, and how often each node sweeps.
WINDOW_SWEEP_BATCH = 200
WINDOW_SWEEP_S = 1.0
# A chat whose judgement failed is judged again this much later.
WINDOW_RETRY_MS = 5_000
# How long one report of a customer's open window keeps them there; a window reports
# every WINDOW_THROTTLE_S (an events socket on its tick, HTTP requests at most that often).
WINDOW_LIFE_S = 15.0
WINDOW_THROTTLE_S = 5.0
THROTTLE_MS = int(WINDOW_THROTTLE_S * 1000)
# The customer's HTTP requests on their chat, as one window (`Contacts._customer_requested`).
HTTP_WINDOW = "http"


class PlacementDecision(Protocol):
    """Where a new chat waits and why (`regions.placement.Placement`)."""

    @property
    def region(self) -> str: ...

    @property
    def reason(self) -> str: ...

    @property
    def open_regions(self) -> bool: ...


# Chooses the region of a new chat: (queue, language, requested home) -> placement.
Placer = Callable[[str, str, str | None], Awaitable[PlacementDecision]]
# Runs work beyond the request that started it (the HTTP app's background tasks).
Spawner = Callable[[Coroutine[Any, Any, Any]], None]


class RedisReach(Protocol):
    """This node's contact with Redis, as its round trips show it
    (`regions.contact.RedisContact`: the one the failover check judges by)."""

    def reached(self) -> None: ...

    def lost(self) -> None: ...

    def unbroken_s(self) -> float: ...

    def up_s(self) -> float: ...


class MessageObserver(Protocol):
    """Sees every chat message once it is stored (cases: SLA timers, emotion words)."""

    async def message_posted(self, contact: Contact, message: Message) -> None: ...


@dataclass(frozen=True)
class CustomerClaims:
    """Who the customer is, as the request says: believed only from staff who may vouch
    for customers (router/access.py), never from the browser."""

    customer_id: str | None = None
    tier: str | None = None
    region: str | None = None
    priority: int | None = None

    def identity(self) -> Identity:
        known = anonymous()
        return Identity(
            self.customer_id or known.customer_id,
            verified=True,
            tier=self.tier or "standard",
            region=self.region,
        )


@dataclass(frozen=True)
class ChatRequest:
    """A customer starting a chat. Who they are (and so tier, priority, home region)
    comes from a site's signed identity (router/identity.py), or from the claims of a
    supervisor or admin creating the chat for them, or not at all."""

    queue: str
    # The customer's tag (`es-MX`, `zh-TW`): kept as the contact's language_tag; the
    # contact's language, on which it is routed, is its language subtag.
    language: str
    identity_token: str = ""  # the embedding site's signed identity, if any
    site: str = ""  # the site by name, else the one serving `origin`
    origin: str = ""
    claims: CustomerClaims | None = None


@dataclass(frozen=True)
class PastContact:
    """One of a customer's contacts as the 360° panel shows it."""

    contact: Contact
    wrap_up: dict[str, Any]
    repeat: bool  # a new contact within the repeat window after this customer's last one


# Contacts of one queue read at most to answer its list (waiting, and served).
QUEUE_SCAN = 10_000


@dataclass(frozen=True)
class QueueContacts:
    """A queue's live contacts as a supervisor sees them; `truncated`: more of their scope
    are live in it than listed."""

    contacts: list[Contact]
    truncated: bool = False


@dataclass(frozen=True)
class Transcript:
    """A chat's messages, and the latest message each side has read: `read["customer"]`
    one of the agent's (or the center's), `read["agent"]` one of the customer's (None:
    nothing read yet)."""

    messages: list[Message]
    read: dict[str, str | None]


@dataclass(frozen=True)
class CustomerHistory:
    customer_id: str
    verified: bool
    tier: str
    language: str
    home_region: str
    contacts: list[PastContact]
    left_out: int = 0  # the customer's contacts outside the reader's scope, not listed


async def wrap_up_of(router: Router, actor: Actor, contact: Contact) -> access.WrapUp | None:
    """The actor's wrap-up of a contact that ended with them (an agent's: whether its
    wrap-up is still owed, the queue's wrap-up time), on which their relationship with it
    depends (`access.ended_with`); None, and nothing read, for anyone else."""
    if not access.ended_with(actor, contact):
        return None
    owed = contact.contact_id in await router.store.pending_wrap_ups(contact.agent_id)
    queue = router.queues.get(contact.queue)
    return access.WrapUp(owed, queue.wrap_up_s if queue else 0.0, now_ms())


class Contacts:
    def __init__(
        self,
        router: Router,
        chat: ChatLog,
        reports: Reports,
        events: EventPublisher,
        placer: Placer | None = None,
        desk: DeskConfig | None = None,
        reach: RedisReach | None = None,
    ) -> None:
        self.router = router
        self.chat = chat
        self.reports = reports
        self.events = events
        self.placer = placer
        self.desk = desk or DeskConfig()
        # None: windows are judged whatever happened to Redis (a node passes its own).
        self.reach = reach
        self._held_back = False  # windows not judged since an outage (`_may_judge`)
        self._held_since_start = False  # windows not judged since the start (`_may_judge`)
        self.observer: MessageObserver | None = None
        # Chat -> when (ms) this node last reported its customer's HTTP window; in that
        # order, none older than WINDOW_THROTTLE_S (`_customer_requested`).
        self._http_reports: dict[str, int] = {}

    # -- who is asking ----------------------------------------------------------------

    async def customer(self, contact_id: str, token: str) -> Customer:
        """The customer of `contact_id`, proven by the token the chat was given. A wrong
        token and an unknown contact are refused alike, so ids cannot be probed. The
        token opens its contact only until `[chat] customer_token_after_end_s` after the
        contact's end (`access.require_customer_token_open`): then it is refused (401)."""
        stored = await self.router.store.customer_token(contact_id) if token else ""
        if not (token and stored and secrets.compare_digest(token.encode(), stored.encode())):
            raise Unauthenticated("a bearer token or this contact's customer token is required")
        contact = await self.router.store.get_contact(contact_id)
        if contact is None:  # removed since the token was read: as an unknown one
            raise Unauthenticated("a bearer token or this contact's customer token is required")
        access.require_customer_token_open(contact, now_ms(), self.desk.customer_token_after_end_s)
        return Customer(contact_id)

    async def _customer_requested(self, actor: Actor) -> None:
        """The customer asked (posted, read the messages or the contact) with their
        chat's token: they are there, as while a window is open (`HTTP_WINDOW`), so a
        client that polls instead of holding the events socket keeps its chat; one that
        stops is gone WINDOW_LIFE_S after its last report, and the grace follows. Staff
        asking changes nothing. One Redis call per chat and node every WINDOW_THROTTLE_S
        at most; a chat staff started (no windows kept) is left alone. A failure is
        logged: the request goes on."""
        if not isinstance(actor, Customer):
            return
        cid, now = actor.contact_id, now_ms()
        if now - self._http_reports.get(cid, now - THROTTLE_MS) < THROTTLE_MS:
            return
        until = now + int(WINDOW_LIFE_S * 1000)
        try:
            await self.router.store.renew_customer_window(cid, HTTP_WINDOW, until)
        except Exception as failure:  # Redis away: the request itself answers for it
            log.warning("chat %s: customer's request not counted as there: %r", cid, failure)
            return
        self._reported(cid, now)

    def _reported(self, contact_id: str, at_ms: int) -> None:
        """Remember the report (in the order of the reports), forgetting those that no
        longer hold a request back: the memory is the chats of the last few seconds."""
        reports = self._http_reports
        reports.pop(contact_id, None)
        reports[contact_id] = at_ms
        while at_ms - reports[oldest := next(iter(reports))] >= THROTTLE_MS:
            del reports[oldest]

    async def read(self, actor: Actor, contact_id: str) -> Contact:
        """The contact, as a party reads it: its customer reading it is there."""
        contact = await self.get(actor, contact_id)
        await self._customer_requested(actor)
        return contact

    async def get(self, actor: Actor, contact_id: str, act: Act = Act.READ) -> Contact:
        """The contact, when the actor may `act` on it; audited for staff reading content
        that is not theirs."""
        contact = await self.router.get_contact(contact_id)
        access.require(actor, act, contact, await wrap_up_of(self.router, actor, contact))
        if act not in access.AUDITED_WRITES and access.audited(actor, act, contact):
            assert isinstance(actor, Principal)
            await self.reports.audit(actor.user_id, f"contact.{act.value}", contact_id=contact_id)
        return contact

    async def _audit_write(self, actor: Actor, act: Act, contact: Contact, **detail: Any) -> None:
        """An audited write (`access.AUDITED_WRITES`) is recorded once it took effect: a
        refused or failed one (403, 400, 409) leaves no entry, so an entry says it was done."""
        if access.audited(actor, act, contact):
            assert isinstance(actor, Principal)
            await self.reports.audit(
                actor.user_id, f"contact.{act.value}", contact_id=contact.contact_id, **detail
            )

    # -- the customer's chat ------------------------------------------------------------

    async def start_chat(
        self,
        request: ChatRequest,
        actor: Principal | None = None,
        spawn: Spawner | None = None,
    ) -> tuple[Contact, str]:
        """Create a chat contact (placed in a region, routed at once) and the token with
        which its customer reads, writes and rates it. A verified customer's tier gives
        the configured priority boost and their home region is where the chat starts;
        the request's claims count only from an `actor` who may vouch for customers. A
        queue or a region (claimed, even if not believed) that does not exist is 400
        naming its field. The customer's own chat (no `actor`) is watched from its start
        through `spawn`, if given: its window connects within the grace, or they have
        left (`await_window`; every node's sweep judges it too)."""
        self._require_queue(request.queue)
        if request.claims is not None and request.claims.region is not None:
            self.router.require_region("$.region", request.claims.region)
        site = self._site(request)
        identity = anonymous()
        vouching = actor if actor and access.may_vouch_for_customers(actor) else None
        claims = request.claims if vouching else None
        topics = self.desk.chat_topics(site, list(self.router.queues))
        if claims is None and request.queue not in topics:  # staff may start any queue's
            raise InvalidInput("$.queue", f"one of {', '.join(topics)}", request.queue)
        if request.identity_token:
            if site is None:
                raise InvalidInput("$.site", "the configured site that signed the identity", None)
            identity = verify_identity(request.identity_token, site)
        elif claims is not None:
            identity = claims.identity()
        home = identity.region if identity.verified else None
        region, placement, open_regions = home, "", False
        if self.placer is not None:
            decision = await self.placer(request.queue, primary(request.language), home)
            region, placement, open_regions = (
                decision.region,
                decision.reason,
                decision.open_regions,
            )
        if vouching is not None:  # staff start chats in their queues and regions only
            named_home = claims.region if claims is not None else None
            placed = region or self.router.region
            access.require_may_create_contact(vouching, request.queue, placed, named_home)
        new = NewContact(
            channel=Channel.CHAT,
            queue=request.queue,
            language=primary(request.language),
            language_tag=canonical(request.language),
            customer_id=identity.customer_id,
            customer_tier=identity.tier if identity.verified else "standard",
            priority=self._priority(identity, claims),
            region=region,
            placement=placement,
            open_regions=open_regions,
            verified=identity.verified,
            # The customer's own window connects, or they have left (not so for a chat
            # staff start for them): judged by every node's sweep from its creation on.
            window_grace_s=self.desk.abandon_grace_s if actor is None else None,
        )
        token = secrets.token_urlsafe(24)
        contact = await self.router.create_contact(new, customer_token=token)
        if actor is None and spawn is not None:
            spawn(self.await_window(Customer(contact.contact_id), self.desk.abandon_grace_s))
        return contact, token

    def _priority(self, identity: Identity, claims: CustomerClaims | None) -> int:
        """The priority staff gave, else the verified tier's boost, else none."""
        if claims is not None and claims.priority is not None:
            return claims.priority
        return self.desk.tier_priority.get(identity.tier, 0) if identity.verified else 0

    def _site(self, request: ChatRequest) -> ChatSite | None:
        if request.site:
            site = self.desk.site(request.site)
            if site is None:
                names = ", ".join(s.name for s in self.desk.sites) or "none configured"
                raise InvalidInput("$.site", f"one of {names}", request.site)
            return site
        return next((s for s in self.desk.sites if request.origin in s.origins), None)

    async def transcript(self, actor: Actor, contact_id: str) -> list[Message]:
        """The chat's messages; for the agent holding it, the customer's earlier ones
        translated into their language."""
        return (await self.transcript_and_reads(actor, contact_id)).messages

    async def transcript_and_reads(self, actor: Actor, contact_id: str) -> Transcript:
        """The chat's messages (as `transcript`) and how far each side has read them."""
        contact = await self.get(actor, contact_id, Act.TRANSCRIPT)
        await self._customer_requested(actor)
        holder = isinstance(actor, Principal) and actor.user_id == contact.agent_id
        if holder and contact.channel == Channel.CHAT and contact.state == ContactState.CONNECTED:
            agent = await self.router.get_agent(contact.agent_id)
            messages = await self.chat.messages_for(contact, agent)
        else:
            messages = await self.chat.messages(contact_id)
        return Transcript(messages, await self.chat.reads(contact_id))

    async def position_update(self, actor: Actor, contact_id: str) -> dict[str, Any] | None:
        """The waiting contact's place and expected wait, as its live stream sends it
        every tick; None once it waits no more, or when the actor may no longer watch it
        (the stream's own check then closes it). Not audited again (opening was)."""
        contact = await self.router.get_contact(contact_id)
        if contact.state != ContactState.QUEUED:
            return None
        if not access.allowed(
            actor, Act.WATCH, contact, await wrap_up_of(self.router, actor, contact)
        ):
            return None
        place = await self.router.position(contact_id)
        return {
            "type": "position",
            "contact_id": contact_id,
            "position": place.position,
            # null while nobody can serve the queue: no wait to promise (router.stats)
            "ewt_s": None if place.ewt_s is None else round(place.ewt_s),
        }

    async def watch(self, actor: Actor, contact_id: str) -> Contact:
        """May the actor follow the contact live (its WebSocket)? Asked again while they
        do: `still_watches`."""
        return await self.get(actor, contact_id, Act.WATCH)

    async def still_watches(
        self, actor: Actor, contact_id: str, event: dict[str, Any] | None = None
    ) -> bool:
        """Whether the actor following the contact live may still, before `event` is
        passed on to them (None: the stream's periodic check). The contact is read again
        only when the event may have changed their relationship with it
        (`access.watch_may_change`); not audited again (opening the stream was)."""
        if not access.watch_may_change(actor, contact_id, event):
            return True
        try:
            contact = await self.router.get_contact(contact_id)
        except UnknownContact:  # erased (privacy retention): nothing left to watch
            return False
        wrap_up = await wrap_up_of(self.router, actor, contact)
        return access.allowed(actor, Act.WATCH, contact, wrap_up)

    async def post(
        self, actor: Actor, contact_id: str, text: str, client_message_id: str | None = None
    ) -> Posted:
        """A chat message from the customer (while waiting or connected) or the connected
        agent, translated for the other side and sent to both. A `client_message_id`
        the sender already used in this chat (a retry after a lost answer) stores and
        sends nothing: the message it named is answered, also once the chat has ended."""
        contact = await self.router.get_contact(contact_id)
        if contact.channel != Channel.CHAT:
            raise RoutingError(f"contact {contact_id} is a {contact.channel.value} contact")
        await self._customer_requested(actor)
        sender = "customer" if isinstance(actor, Customer) else actor.user_id
        if client_message_id is not None:  # their own message again: who may read the chat
            wrap_up = await wrap_up_of(self.router, actor, contact)
            access.require(actor, Act.TRANSCRIPT, contact, wrap_up)
            known = await self.chat.repeat(contact_id, sender, client_message_id)
            if known is not None:
                return Posted(known, False)
        if contact.is_terminal:
            raise RoutingError(f"contact {contact_id} is {contact.state.value}")
        access.require(actor, Act.WRITE, contact)
        if not readable(text) or len(text) > MAX_MESSAGE_CHARS:
            raise InvalidInput(
                "$.text",
                f"1 to {MAX_MESSAGE_CHARS} characters, something to read and no control "
                "character but line breaks and tabs",
                len(text),
            )
        agent = (
            await self.router.get_agent(contact.agent_id)
            if contact.agent_id and contact.state == ContactState.CONNECTED
            else None
        )
        posted = await self.chat.post(contact, agent, sender, text, client_message_id)
        if posted.new:
            await self._deliver(contact, posted.message)
            if self.observer is not None:
                await self.observer.message_posted(contact, posted.message)
        return posted

    async def tell(self, contact: Contact, text: str, language: str) -> Message:
        """A message from the center into a live chat (an advisory), sent to both sides.
        No actor: the service calling it decided who is told. The observer is not told:
        it is nobody's answer, so it meets no case's response timer."""
        if contact.channel != Channel.CHAT or contact.is_terminal:
            raise RoutingError(f"contact {contact.contact_id} is no live chat")
        message = await self.chat.post_from_center(contact, text, language)
        await self._deliver(contact, message)
        return message

    async def _deliver(self, contact: Contact, message: Message) -> None:
        """A stored message to both sides of the chat (the customer's and the agent's
        sockets)."""
        await self.events.publish(
            {"type": "message", "agent_id": contact.agent_id, **asdict(message)}
        )

    async def signal(self, actor: Actor, contact_id: str, kind: str, message_id: str = "") -> None:
        """Typing and read receipts, passed to the other side of a chat. The receipts of
        its customer and of the agent holding it are kept too (`transcript_and_reads`),
        for a page that loads the chat again."""
        if kind not in ("typing", "read"):
            raise InvalidInput("$.type", "typing or read", kind)
        contact = await self.get(
            actor, contact_id, Act.WRITE if kind == "typing" else Act.TRANSCRIPT
        )
        by = "customer" if isinstance(actor, Customer) else actor.user_id
        event = {"type": kind, "contact_id": contact_id, "agent_id": contact.agent_id, "by": by}
        if message_id:
            event["message_id"] = message_id[:64]
        if kind == "read" and message_id and contact.channel == Channel.CHAT:
            reader = "customer" if isinstance(actor, Customer) else None
            if isinstance(actor, Principal) and actor.user_id == contact.agent_id:
                reader = "agent"
            if reader is not None:
                await self.chat.read(contact_id, reader, message_id[:64])
        await self.events.publish(event)

    # A chat's customer has left once no window of theirs has been open for the grace
    # (`[chat] abandon_grace_s`) since the last one closed, or since the chat began when
    # none opened. Each window (one live connection, on any node) and each of those two
    # moments is kept in Redis with the time until which it keeps the customer there
    # (`store.Keys.customer_windows`), so that every timer judges the latest of them. A
    # window whose node stopped refreshing it (stopped, crashed) closed when its time ran
    # out. The timers below, in the memory of the node that saw the chat begin or a
    # window close, end the chat on time; the sweep every node runs (`sweep_windows`,
    # over `store.Keys.customer_windows_due`) ends those whose timer was lost.
    # During a Redis outage no window can be renewed, so all of them run out at once:
    # neither judges a window that ran out until the node has reached Redis again for
    # long enough that a customer still there has renewed theirs (`_may_judge`). Nor
    # one that ran out before the node started, when no node may have run to renew it,
    # until the node has been up that long.

    async def customer_here(self, customer: Customer, window: str, for_s: float) -> None:
        """The customer's chat window `window` (one live connection, on some node) is
        open for the next `for_s` at least; it says so again before then."""
        until = now_ms() + int(for_s * 1000)
        await self.router.store.keep_customer_window(customer.contact_id, window, until)

    async def await_window(self, customer: Customer, grace_s: float) -> Contact | None:
        """A chat its customer has just started (`start_chat` recorded its start with the
        contact, in one step): a window that never opened within the grace (the page
        closed right after the chat began) has left, as one that closed and did not come
        back. The node's timer; a failure is logged: the sweep judges the chat again."""
        return await self._judged(customer, grace_s)

    async def customer_went(
        self, customer: Customer, window: str, grace_s: float
    ) -> Contact | None:
        """A chat window closed: the chat ends unless a window of it (this one reopened
        or another, on any node) is open before `grace_s` from now has passed. A failure
        is logged: the sweep judges the chat again (the window, unrefreshed, runs out)."""
        until = now_ms() + int(grace_s * 1000)
        noted = self.router.store.close_customer_window(customer.contact_id, window, until)
        return await self._judged(customer, grace_s, noted)

    async def _judged(
        self, customer: Customer, grace_s: float, noted: Awaitable[Any] | None = None
    ) -> Contact | None:
        """The window's change `noted` in Redis (if any), then `leave_if_gone`. A failure
        is logged, never raised: the sweep judges the chat again."""
        try:
            if noted is not None:
                await noted
            return await self.leave_if_gone(customer, grace_s)
        except Exception as failure:  # Redis away, the contact gone: the sweep retries
            log.warning("chat %s: customer window not judged: %r", customer.contact_id, failure)
            return None

    async def leave_if_gone(
        self, customer: Customer, grace_s: float | None = None, *, wait: bool = True
    ) -> Contact | None:
        """Waits out the grace since the latest close of a window (or since the chat
        began): a customer whose window has not come back (on any node) has left, and
        their chat ends as abandoned, or completed when connected. None at once while a
        window is open (its own close, or its running out, starts the count again), when
        the chat ended otherwise, without `wait` while the grace runs, and while this node
        may not judge since an outage or its start (`_may_judge`: the sweep judges the
        chat later)."""
        store, cid = self.router.store, customer.contact_id
        grace_ms = int((self.desk.abandon_grace_s if grace_s is None else grace_s) * 1000)
        while (latest := await store.settle_customer_windows(cid, grace_ms)) is not None:
            holder, until_ms = latest
            wait_ms = until_ms - now_ms()
            if wait_ms <= 0:
                break
            if not wait or holder not in (WINDOW_START, WINDOW_LEFT):
                return None
            await asyncio.sleep(wait_ms / 1000)
        ran_out_ms = -math.inf if latest is None else latest[1]  # None: long gone
        if not self._may_judge(ran_out_ms):  # the chat stays in the sweep's index
            return None
        ended: Contact | None = None
        try:
            contact = await self.router.get_contact(cid)
            if not contact.is_terminal:
                ended = await self.router.abandon(cid, "customer_left")
        except (RoutingError, UnknownContact):  # ended meanwhile (another judge, an agent)
            pass
        await store.forget_customer_windows(cid)  # ended: nothing to judge any more
        return ended

    def _may_judge(self, ran_out_ms: float | None = None) -> bool:
        """Whether a window that ran out (at `ran_out_ms`, grace included, when one is
        judged) now means a customer who left, not that nobody could renew it. While
        Redis is out of reach every customer request is refused (503), so no window is
        renewed and all run out; a customer still there renews theirs within a window's
        life and the grace of reaching a node again. So a node takes no customer for gone
        until it has itself reached Redis without a break for that long (the rule its
        failover check follows for heartbeats, `regions/contact.py`): the chats stay in
        the sweep's index and are judged then, those of customers who did leave ended
        later by as much. Said in the log once per outage. Likewise for the time before
        the node started, when perhaps no node ran (`_judged_since_start`)."""
        if (reach := self.reach) is None:
            return True
        hold_s = WINDOW_LIFE_S + self.desk.abandon_grace_s
        if not self._judged_since_outage(reach, hold_s):
            return False
        return ran_out_ms is None or self._judged_since_start(reach, ran_out_ms, hold_s)

    def _judged_since_outage(self, reach: RedisReach, hold_s: float) -> bool:
        """Whether this node has reached Redis without a break for `hold_s`."""
        unbroken_s = reach.unbroken_s()
        held = unbroken_s < hold_s
        if held and not self._held_back:
            log.warning(
                "Redis was out of reach, so no customer could keep their chat window open: "
                "no customer is taken for gone until this node has reached Redis without "
                "a break for %.0f s",
                hold_s,
            )
        elif self._held_back and not held:
            log.info("customer windows judged again (Redis reached for %.0f s)", unbroken_s)
        self._held_back = held
        return not held

    def _judged_since_start(self, reach: RedisReach, ran_out_ms: float, hold_s: float) -> bool:
        """Whether a window that ran out at `ran_out_ms` is judged now, by how long this
        node has been up. Before it started perhaps no node ran (a full restart, a host
        reboot, the only node's crash): no window was renewed, every request of the
        customers' clients failing, as in an outage. Whatever was written since the start
        runs out no sooner than a grace after it (a chat's start and a window's close
        keep the customer for the grace, a renewed window for its life and the grace):
        one that ran out sooner was written before, and is judged once the node has been
        up for `hold_s`, by when a customer still there has renewed it. Those that run
        out later are judged as ever. Said in the log once."""
        up_s = reach.up_s()
        if up_s >= hold_s:
            if self._held_since_start:
                log.info("customer windows that ran out before this node started judged now")
                self._held_since_start = False
            return True
        started_ms = now_ms() - up_s * 1000
        if ran_out_ms >= started_ms + self.desk.abandon_grace_s * 1000:
            return True
        if not self._held_since_start:
            log.warning(
                "customer chat windows ran out before this node started, perhaps while no "
                "node ran to renew them: none is taken for gone until this node has been "
                "up for %.0f s",
                hold_s,
            )
            self._held_since_start = True
        return False

    async def sweep_windows(self, limit: int = WINDOW_SWEEP_BATCH) -> list[Contact]:
        """Judge (at once, without waiting) up to `limit` chats whose customer windows
        are due: those whose customer has left end. Any node may, and several at once:
        the routing call ends a chat once, the others find it ended. One whose judgement
        fails is tried again later; none while this node may not judge (`_may_judge`).
        Its reading of the index tells the node's contact with Redis. The chats ended
        here."""
        store, ended = self.router.store, []
        try:
            due = await store.customer_windows_due(now_ms(), limit)
        except Exception:  # Redis away (the loop logs it)
            if self.reach is not None:
                self.reach.lost()
            raise
        if self.reach is not None:
            self.reach.reached()
        if not self._may_judge():
            return []
        for cid in due:
            try:
                contact = await self.leave_if_gone(Customer(cid), wait=False)
            except Exception as failure:  # this chat only: the others are judged still
                log.warning("chat %s: customer window not judged: %r", cid, failure)
                await store.defer_customer_windows(cid, now_ms() + WINDOW_RETRY_MS)
                continue
            if contact is not None:
                ended.append(contact)
        return ended

    async def run_window_sweep(
        self, interval_s: float, stop: asyncio.Event, failed: LoopFailed = uncounted
    ) -> None:
        """Sweep the due customer windows until stopped; a Redis error is logged
        (LoopLog: once a burst), told to `failed` and retried, never fatal."""
        loop = LoopLog(log, "windows", "customer window sweep", failed)
        while not stop.is_set():
            try:
                for contact in await self.sweep_windows():
                    state = contact.state.value
                    log.info("chat %s ended (%s): its customer left", contact.contact_id, state)
                loop.passed()
            except Exception as error:  # Redis down: keep the node alive, retry next time
                loop.failed(error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)

    async def abandon(self, actor: Actor, contact_id: str) -> Contact:
        """The customer leaves (a connected chat ends as completed, see routing.lua)."""
        await self.get(actor, contact_id, Act.ABANDON)
        return await self.router.abandon(contact_id, "customer_left")

    async def rate(self, actor: Actor, contact_id: str, score: int) -> None:
        """The customer's 1-5 rating of a finished conversation, once: a second is 409."""
        contact = await self.get(actor, contact_id, Act.RATE)
        if contact.state != ContactState.COMPLETED or "answered_at" not in contact.timestamps:
            raise RoutingError(f"contact {contact_id} is not a completed conversation")
        if not await self.reports.rate(contact_id, score, contact.channel.value):
            raise RoutingError(f"contact {contact_id} is already rated")

    # -- the agent ------------------------------------------------------------------------

    async def accept(self, actor: Actor, contact_id: str) -> Contact:
        contact = await self.get(actor, contact_id, Act.ACCEPT)
        try:
            return await self.router.accept(contact_id, contact.agent_id)
        except RoutingError:
            await self._left_meanwhile(actor, Act.ACCEPT, contact_id)
            raise

    async def decline(self, actor: Actor, contact_id: str) -> Contact:
        contact = await self.get(actor, contact_id, Act.DECLINE)
        try:
            return await self.router.decline(contact_id, contact.agent_id, "declined")
        except RoutingError:
            await self._left_meanwhile(actor, Act.DECLINE, contact_id)
            raise

    async def _left_meanwhile(self, actor: Actor, act: Act, contact_id: str) -> None:
        """Routing refused an answer the access check let through: when the customer left
        in between, the agent is told so in the words they get when it left before."""
        access.refuse_late_act(actor, act, await self.router.get_contact(contact_id))

    async def complete(self, actor: Actor, contact_id: str) -> Contact:
        """The holding agent ends the conversation; a supervisor may end one of theirs,
        and a chat of theirs still waiting that nobody will take (failed,
        `ended_by_supervisor`: a back-office chat, a test)."""
        contact = await self.get(actor, contact_id, Act.COMPLETE)
        by_supervisor = access.ends_as_overseer(actor)
        if access.ends_waiting(actor, contact):
            assert isinstance(actor, Principal)
            if contact.channel != Channel.CHAT:  # a caller on the line: they hang up
                raise RoutingError(f"cannot end contact {contact_id}: a waiting call")
            ended = await self.router.end_waiting(contact_id, actor.user_id)
        else:
            ended = await self.router.complete(
                contact_id, None if by_supervisor else contact.agent_id
            )
        await self._audit_write(actor, Act.COMPLETE, contact)
        return ended

    async def transfer(
        self, actor: Actor, contact_id: str, to_queue: str | None, to_agent: str | None
    ) -> Contact:
        """The holding agent hands the contact to a queue or a named colleague (who must
        exist, 404, and be signed in, 409: `Router.transfer`). A chat's transfer is noted
        on the contact as a call's is (telephony notes those), so its chain of agents is
        there for an integrator: `contact.ended` names only the last."""
        contact = await self.get(actor, contact_id, Act.TRANSFER)
        if to_queue is not None:
            self._require_queue(to_queue)
        at = now_ms()
        moved = await self.router.transfer(contact_id, contact.agent_id, to_queue, to_agent)
        if contact.channel == Channel.CHAT:
            to = f"agent:{to_agent}" if to_agent else f"queue:{to_queue or contact.queue}"
            entry = {
                "at_ms": at,
                "mode": "blind",
                "by": "desktop",
                "from_agent": contact.agent_id,
                "to": to,
            }
            await self.router.note_transfer(contact_id, entry)
            return await self.router.get_contact(contact_id)
        return moved

    def _require_queue(self, queue: str) -> None:
        """A queue a contact is sent to must exist: 400 naming `$.queue` otherwise."""
        if queue not in self.router.queues:
            raise InvalidInput("$.queue", f"one of {', '.join(self.router.queues)}", queue)

    async def wrap_up(self, actor: Actor, contact_id: str, code: str, note: str) -> dict[str, Any]:
        """The agent's wrap-up of a finished contact: a code from the queue's list (when
        it has one) and a free note, card numbers masked as in the chat (`redacted`);
        kept with the contact's record."""
        contact = await self.get(actor, contact_id, Act.WRAP_UP)
        if not contact.is_terminal:
            raise RoutingError(
                f"contact {contact_id} is {contact.state.value}: wrap up after it ends"
            )
        rules = self.desk.disposition(contact.queue)
        if code or rules.required:  # no code is a wrap-up too, where none is required
            rules.check(code, "$.code")
        kept = self.chat.redactor.redact(note)
        wrap_up: dict[str, Any] = {"code": code, "note": kept.text, "agent_id": contact.agent_id}
        if kept.found:  # what was taken out of the note, as a message says
            wrap_up["redacted"] = kept.kinds
        await self.reports.wrap_up(contact_id, wrap_up)
        await self.router.store.clear_pending_wrap_up(contact.agent_id, contact_id)
        return wrap_up

    async def history(self, actor: Actor, contact_id: str) -> CustomerHistory:
        """The customer of this contact, and their contacts on every channel, newest
        first, those the actor may see (`access.in_customer_history`: a supervisor's
        scope; the rest counted in `left_out`); a contact within the repeat window after
        the one before it is marked. Audited with how many were shown."""
        contact = await self.router.get_contact(contact_id)
        access.require(actor, Act.HISTORY, contact, await wrap_up_of(self.router, actor, contact))
        anonymous_chat = contact.customer_id.startswith(ANONYMOUS_PREFIX)
        past = (
            [contact]
            if anonymous_chat
            else await self.router.store.customer_contacts(contact.customer_id)
        )
        shown = {c.contact_id for c in past if access.in_customer_history(actor, c)}
        wrap_ups = await self.reports.wrap_ups(sorted(shown))
        window_ms = self.desk.repeat_window_s * 1000
        rows = []
        for index, item in enumerate(past):
            earlier = past[index + 1] if index + 1 < len(past) else None
            arrived = item.timestamps.get("arrived_at") or item.timestamps.get("queued_at", 0)
            ended = earlier.timestamps.get("ended_at") if earlier else None
            repeat = bool(ended) and 0 <= arrived - (ended or 0) <= window_ms
            if item.contact_id in shown:
                rows.append(PastContact(item, wrap_ups.get(item.contact_id, {}), repeat))
        if access.audited(actor, Act.HISTORY, contact):
            assert isinstance(actor, Principal)
            await self.reports.audit(
                actor.user_id, "contact.history", contact_id=contact_id, shown=len(rows)
            )
        return CustomerHistory(
            customer_id=contact.customer_id,
            verified=contact.verified,
            tier=contact.customer_tier,
            language=contact.language,
            home_region=contact.region,
            contacts=rows,
            left_out=len(past) - len(rows),
        )

    async def in_queue(self, actor: Principal, queue: str, limit: int = 200) -> QueueContacts:
        """A queue's live contacts for its supervisors: up to `limit` waiting ones in queue
        order, then up to `limit` offered or being served, those of the supervisor's scope
        only (their region); the queue is read past contacts of other regions until the
        limit is met, and the answer says when more are left out. Audited: it shows
        contacts the reader is no party to."""
        access.require_may_oversee_queue(actor, queue)
        if queue not in self.router.queues:
            raise UnknownQueue(queue)
        store = self.router.store

        def mine(found: list[Contact]) -> list[Contact]:
            return [contact for contact in found if access.allowed(actor, Act.READ, contact)]

        depth = (await store.queue_depths([queue])).get(queue, 0)
        read = min(limit + 1, QUEUE_SCAN)
        waiting = mine(await store.waiting_contacts(queue, read))
        while len(waiting) <= limit and read < min(depth, QUEUE_SCAN):
            read = min(read * 4, QUEUE_SCAN)  # further down the line, re-read from its head
            waiting = mine(await store.waiting_contacts(queue, read))
        served = mine(await store.served_contacts(queue, QUEUE_SCAN))
        truncated = len(waiting) > limit or len(served) > limit or read < depth
        shown = waiting[:limit] + served[:limit]
        await self.reports.audit(actor.user_id, "queue.contacts", queue=queue, count=len(shown))
        return QueueContacts(shown, truncated)

    async def move(self, actor: Actor, contact_id: str, queue: str) -> Contact:
        """A supervisor moves a waiting or ringing contact to another queue of theirs (it
        keeps its place in line and its region; a ringing offer is revoked and its agent
        told): an unknown queue is refused (400), one outside their scope too (403). A
        connected one is refused (409): only its agent may hand it over, with a transfer."""
        contact = await self.router.get_contact(contact_id)
        access.require(actor, Act.MOVE, contact)
        assert isinstance(actor, Principal)
        self._require_queue(queue)
        access.require_may_move_contact(actor, contact, queue)
        moved = await self.router.move(contact_id, queue, f"moved by {actor.user_id}")
        await self._audit_write(actor, Act.MOVE, contact, queue=queue, was=contact.queue)
        return moved
