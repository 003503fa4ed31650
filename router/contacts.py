"""What people do with contacts: the customer in their chat, the agent, the supervisor.

Every use case here takes the actor first and asks `router.access` whether that actor's
relationship with the contact allows it; reads of content by staff who are not a
party to the contact are audited. The routing decisions themselves are `Router`'s.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from router import access
from router.access import Act, Actor, Customer, Principal
from router.chat import MAX_MESSAGE_CHARS, ChatLog, Message
from router.errors import InvalidInput, RoutingError, Unauthenticated
from router.model import Channel, Contact, ContactState, NewContact, Role
from router.reports.service import Reports
from router.service import Router


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


class EventPublisher(Protocol):
    async def publish(self, event: dict[str, Any]) -> None: ...


class MessageObserver(Protocol):
    """Sees every chat message once it is stored (cases: SLA timers, emotion words)."""

    async def message_posted(self, contact: Contact, message: Message) -> None: ...


@dataclass(frozen=True)
class ChatRequest:
    """A customer starting a chat. Tier, priority and region come only from a verified
    identity or the site's configuration, never from an anonymous body."""

    queue: str
    language: str
    customer_id: str
    customer_tier: str = "standard"
    priority: int = 0
    region: str | None = None


class Contacts:
    def __init__(
        self,
        router: Router,
        chat: ChatLog,
        reports: Reports,
        events: EventPublisher,
        placer: Placer | None = None,
    ) -> None:
        self.router = router
        self.chat = chat
        self.reports = reports
        self.events = events
        self.placer = placer
        self.observer: MessageObserver | None = None

    # -- who is asking ----------------------------------------------------------------

    async def customer(self, contact_id: str, token: str) -> Customer:
        """The customer of `contact_id`, proven by the token the chat was given. A wrong
        token and an unknown contact are refused alike, so ids cannot be probed."""
        stored = await self.router.store.customer_token(contact_id) if token else ""
        if not (token and stored and secrets.compare_digest(token, stored)):
            raise Unauthenticated("a bearer token or this contact's customer token is required")
        return Customer(contact_id)

    async def get(self, actor: Actor, contact_id: str, act: Act = Act.READ) -> Contact:
        """The contact, when the actor may `act` on it; audited for staff reading content
        that is not theirs."""
        contact = await self.router.get_contact(contact_id)
        access.require(actor, act, contact)
        if access.audited(actor, act, contact):
            assert isinstance(actor, Principal)
            await self.reports.audit(actor.user_id, f"contact.{act.value}", contact_id=contact_id)
        return contact

    # -- the customer's chat ------------------------------------------------------------

    async def start_chat(self, request: ChatRequest) -> tuple[Contact, str]:
        """Create a chat contact (placed in a region, routed at once) and the token with
        which its customer reads, writes and rates it."""
        region, placement, open_regions = request.region, "", False
        if self.placer is not None:
            decision = await self.placer(request.queue, request.language, request.region)
            region, placement, open_regions = (
                decision.region,
                decision.reason,
                decision.open_regions,
            )
        new = NewContact(
            channel=Channel.CHAT,
            queue=request.queue,
            language=request.language,
            customer_id=request.customer_id,
            customer_tier=request.customer_tier,
            priority=request.priority,
            region=region,
            placement=placement,
            open_regions=open_regions,
        )
        token = secrets.token_urlsafe(24)
        return await self.router.create_contact(new, customer_token=token), token

    async def transcript(self, actor: Actor, contact_id: str) -> list[Message]:
        await self.get(actor, contact_id, Act.TRANSCRIPT)
        return await self.chat.messages(contact_id)

    async def watch(self, actor: Actor, contact_id: str) -> Contact:
        """May the actor follow the contact live (its WebSocket)?"""
        return await self.get(actor, contact_id, Act.WATCH)

    async def post(self, actor: Actor, contact_id: str, text: str) -> Message:
        """A chat message from the customer (while waiting or connected) or the connected
        agent, translated for the other side and sent to both."""
        contact = await self.router.get_contact(contact_id)
        if contact.channel != Channel.CHAT:
            raise RoutingError(f"contact {contact_id} is a {contact.channel.value} contact")
        if contact.is_terminal:
            raise RoutingError(f"contact {contact_id} is {contact.state.value}")
        access.require(actor, Act.WRITE, contact)
        if not text.strip() or len(text) > MAX_MESSAGE_CHARS:
            raise InvalidInput("$.text", f"1 to {MAX_MESSAGE_CHARS} characters", len(text))
        agent = (
            await self.router.get_agent(contact.agent_id)
            if contact.agent_id and contact.state == ContactState.CONNECTED
            else None
        )
        sender = "customer" if isinstance(actor, Customer) else actor.user_id
        message = await self.chat.post(contact, agent, sender, text)
        await self.events.publish(
            {"type": "message", "agent_id": contact.agent_id, **asdict(message)}
        )
        if self.observer is not None:
            await self.observer.message_posted(contact, message)
        return message

    async def abandon(self, actor: Actor, contact_id: str) -> Contact:
        """The customer leaves (a connected chat ends as completed, see routing.lua)."""
        await self.get(actor, contact_id, Act.ABANDON)
        return await self.router.abandon(contact_id, "customer_left")

    async def rate(self, actor: Actor, contact_id: str, score: int) -> bool:
        """The customer's 1-5 rating of a finished conversation; False if already rated."""
        contact = await self.get(actor, contact_id, Act.RATE)
        if contact.state != ContactState.COMPLETED or "answered_at" not in contact.timestamps:
            raise RoutingError(f"contact {contact_id} is not a completed conversation")
        return await self.reports.rate(contact_id, score, contact.channel.value)

    # -- the agent ------------------------------------------------------------------------

    async def accept(self, actor: Actor, contact_id: str) -> Contact:
        contact = await self.get(actor, contact_id, Act.ACCEPT)
        return await self.router.accept(contact_id, contact.agent_id)

    async def decline(self, actor: Actor, contact_id: str) -> Contact:
        contact = await self.get(actor, contact_id, Act.DECLINE)
        return await self.router.decline(contact_id, contact.agent_id, "declined")

    async def complete(self, actor: Actor, contact_id: str) -> Contact:
        """The holding agent ends the conversation; a supervisor may end one of theirs."""
        contact = await self.get(actor, contact_id, Act.COMPLETE)
        by_supervisor = isinstance(actor, Principal) and actor.role != Role.AGENT
        return await self.router.complete(contact_id, None if by_supervisor else contact.agent_id)

    async def transfer(
        self, actor: Actor, contact_id: str, to_queue: str | None, to_agent: str | None
    ) -> Contact:
        """The holding agent hands the contact to a queue or a named agent."""
        contact = await self.get(actor, contact_id, Act.TRANSFER)
        return await self.router.transfer(contact_id, contact.agent_id, to_queue, to_agent)

    async def move(self, actor: Actor, contact_id: str, queue: str) -> Contact:
        """A supervisor moves a contact to another queue (it keeps its place in line)."""
        await self.get(actor, contact_id, Act.MOVE)
        assert isinstance(actor, Principal)
        return await self.router.move(contact_id, queue, f"moved by {actor.user_id}")
