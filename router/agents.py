"""What people do with agents: sign in and out, change state, see who is there.

An agent acts on themselves; a supervisor on the agents of their queues and regions
(audited); a planner only reads. `router.access` decides, this module only asks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Protocol

from router import access
from router.access import Act, AgentAct, Principal
from router.desk import DeskConfig
from router.errors import InvalidInput, RoutingError, UnknownAgent
from router.model import Agent, Contact, Presence, Role
from router.reports.service import Reports
from router.service import Router
from router.sessions import Admit, Sessions

log = logging.getLogger(__name__)

# Reasons the system itself gives (login; an offer's ring-out, busy or unreachable phone:
# routing.lua's NOT_READY_AFTER); an agent may set them back too. The desk shows them in
# its language: each is marked N_ in desk-main.js or desk-offers.js, translated in every
# desk language's pages.po (tests/web/test_system_reasons_translated.py).
SYSTEM_REASONS = ("logged in", "no answer", "phone busy", "phone unreachable")


@dataclass(frozen=True)
class SignIn:
    """A login: credentials, and for agents the softphone and chat capacity."""

    user_id: str
    password: str
    client: str = ""
    sip_uri: str = ""
    channels: dict[str, int] | None = None


class SoftphonePort(Protocol):
    """The node's softphone accounts (telephony.softphones.Softphones): LookupError for a
    user who can have none; the registrar's failures are RuntimeErrors."""

    async def allow(self, user_id: str) -> SipAccountView: ...

    async def signed_out(self, user_id: str) -> None: ...


class SipAccountView(Protocol):
    @property
    def uri(self) -> str: ...

    def as_json(self) -> dict[str, str]: ...


@dataclass(frozen=True)
class OwedWrapUp:
    """A finished contact whose wrap-up the agent has not given, with its queue's codes."""

    contact: Contact
    codes: tuple[str, ...]
    code_required: bool


@dataclass(frozen=True)
class AgentContacts:
    """What a desk shows an agent however it was opened: the contacts they hold now
    (offered to them, connected, on hold) and the wrap-ups they still owe."""

    held: list[Contact]
    wrap_ups: list[OwedWrapUp]


@dataclass(frozen=True)
class Session:
    token: str
    principal: Principal
    agent: Agent | None


class Agents:
    def __init__(
        self,
        router: Router,
        sessions: Sessions,
        reports: Reports,
        desk: DeskConfig | None = None,
    ) -> None:
        self.router = router
        self.sessions = sessions
        self.reports = reports
        self.desk = desk or DeskConfig()
        # Set by the node once its front door runs a registrar (front_door = "kamailio").
        self.softphones: SoftphonePort | None = None

    async def sign_in(self, request: SignIn) -> Session:
        """A token; an agent's login also records its softphone and capacity and, when
        it was offline, makes it not-ready ("logged in")."""
        token, principal = await self.sessions.login(
            request.user_id, request.password, request.client, admit=self._admit(request)
        )
        agent = None
        sip_uri = request.sip_uri
        registered = None
        if access.has_sip_account(principal):
            registered = await self._allow_softphone(principal.user_id)
        if not sip_uri and principal.role == Role.AGENT and registered is not None:
            sip_uri = registered  # called at the contact their softphone registers
        if principal.role == Role.AGENT or sip_uri or request.channels:
            agent = await self.router.login(principal.user_id, sip_uri, request.channels)
        return Session(token, principal, agent)

    def _admit(self, request: SignIn) -> Admit:
        """What is checked once the password is right and before the session exists, so
        that a refused sign-in leaves none: a user who signs in to routing (an agent, or
        anyone giving channels or a SIP URI) is on the roster; one who is no agent and
        not on it gives neither (400 naming the field), an agent not on it is unknown
        (404)."""

        async def admit(principal: Principal) -> None:
            if principal.role != Role.AGENT and not (request.sip_uri or request.channels):
                return
            if await self.router.store.get_agent(principal.user_id) is not None:
                return
            if principal.role == Role.AGENT:
                raise UnknownAgent(principal.user_id)
            field, found = (
                ("$.channels", request.channels)
                if request.channels
                else ("$.sip_uri", request.sip_uri)
            )
            raise InvalidInput(field, f"none: {principal.user_id} is no agent on the roster", found)

        return admit

    async def _allow_softphone(self, user_id: str) -> str | None:
        """Let the user's softphone register here; its account's URI, or None (no
        registrar on this node, or it failed: signing in goes on without)."""
        if self.softphones is None:
            return None
        try:
            return (await self.softphones.allow(user_id)).uri
        except (LookupError, RuntimeError, OSError) as failure:
            log.warning("no SIP account for %s: %s", user_id, failure)
            return None

    async def _forget_softphone(self, user_id: str) -> None:
        if self.softphones is None:
            return
        try:
            await self.softphones.signed_out(user_id)
        except (RuntimeError, OSError) as failure:
            log.warning("could not drop the SIP account of %s: %s", user_id, failure)

    async def sip_account(self, actor: Principal, user_id: str) -> dict[str, str]:
        """The actor's own SIP account (server, user, domain, password) for their
        softphone; 409 when this node has no registrar."""
        access.require_own_sip_account(actor, user_id)
        if self.softphones is None:
            # The node sets `softphones` only when its voice front door runs Kamailio
            # (telephony.service): voice on, [sip] front_door = "kamailio" and the binary
            # found. Without the binary the node logs "Kamailio (...) not found" at start.
            raise RoutingError(
                "this node runs no SIP registrar (Kamailio not installed, "
                '[sip] front_door = "none", or voice off): sign in with your '
                "softphone's SIP URI instead"
            )
        try:
            account = await self.softphones.allow(user_id)
        except LookupError as failure:
            raise RoutingError(str(failure)) from None
        except (RuntimeError, OSError) as failure:
            raise RoutingError(f"the SIP registrar did not answer: {failure}") from None
        return account.as_json()

    async def sign_out(self, token: str) -> Principal | None:
        """End this session. A user with no other session open is signed out of routing:
        an agent goes offline, their ringing offers go back to their queues and their
        connected chats to the head of theirs for another agent (`presence` in
        routing.lua; a call in progress goes on until it ends)."""
        principal = await self.sessions.logout(token)
        if principal is not None and not await self.sessions.users.token_count(principal.user_id):
            await self.sessions.signed_out(principal.user_id, "logged out")
            await self._forget_softphone(principal.user_id)
        return principal

    async def sign_out_lapsed(self) -> list[str]:
        """Sign out of routing the agents signed in at this node whose every session has
        run out (its lifetime or idle time: the desk was closed without logging out), as
        a logout would; returns who. Only their own node does it, so it happens once."""
        lapsed = []
        for agent in await self.router.list_agents():
            if agent.presence == Presence.OFFLINE or agent.node != self.router.node_id:
                continue
            if await self.sessions.users.token_count(agent.agent_id):
                continue
            await self.sessions.signed_out(agent.agent_id, "session expired")
            await self._forget_softphone(agent.agent_id)
            lapsed.append(agent.agent_id)
        return lapsed

    async def watch_lapsed_sessions(self, interval_s: float, stop: asyncio.Event) -> None:
        """`sign_out_lapsed` every `interval_s` until stopped; a Redis error is logged and
        tried again next time, never fatal."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)
            if stop.is_set():
                return
            try:
                for agent_id in await self.sign_out_lapsed():
                    log.info("agent %s signed out: every session ran out", agent_id)
            except Exception as error:  # Redis down: keep the node alive
                log.warning("checking for lapsed sessions failed: %s", error)

    async def get(self, actor: Principal, agent_id: str, act: AgentAct = AgentAct.READ) -> Agent:
        access.require_may_seek_agent(actor, agent_id)
        agent = await self.router.get_agent(agent_id)
        access.require_for_agent(actor, act, agent, self.router.queue_skills)
        return agent

    async def ringing(self, actor: Principal, agent_id: str) -> list[tuple[Contact, int]]:
        """What rings at the agent now, for a desktop opened or reconnected while it rang
        (the offer events went to a page that is gone): the agent sees all of theirs;
        anyone else who may read the agent (their supervisor, a planner) only the contacts
        they may read themselves (`Act.READ`: a supervisor of another queue sees none of
        that queue's customers), and their read is audited with the contacts shown."""
        agent = await self.get(actor, agent_id)
        ringing = await self.router.ringing_at(agent.agent_id)
        if actor.user_id == agent.agent_id:
            return ringing
        shown = [(c, until) for c, until in ringing if access.allowed(actor, Act.READ, c)]
        if access.audited_offers(actor, agent.agent_id):
            await self.reports.audit(
                actor.user_id,
                "agent.offers",
                agent_id=agent.agent_id,
                contact_ids=[contact.contact_id for contact, _ in shown],
                count=len(shown),
            )
        return shown

    async def contacts(self, actor: Principal, agent_id: str) -> AgentContacts:
        """What the agent holds and whose wrap-up they owe, for a desk signed in again (a
        new tab, another browser, after a crash: the closed page's memory is gone, their
        customers and owed codes are not). Anyone but the agent sees only the contacts
        they may read, and their read is audited."""
        access.require_may_seek_agent(actor, agent_id)
        agent = await self.router.get_agent(agent_id)
        access.require_for_agent(actor, AgentAct.CONTACTS, agent, self.router.queue_skills)
        held, ended = await self.router.store.agent_contacts(agent_id)
        held = access.contacts_shown(actor, agent_id, held)
        ended = access.contacts_shown(actor, agent_id, ended)
        if actor.user_id != agent_id:
            await self.reports.audit(
                actor.user_id,
                "agent.contacts",
                agent_id=agent_id,
                contact_ids=[contact.contact_id for contact in (*held, *ended)],
            )
        owed = []
        for contact in ended:
            rules = self.desk.disposition(contact.queue)
            owed.append(OwedWrapUp(contact, rules.codes, rules.required))
        return AgentContacts(held, owed)

    async def visible(self, actor: Principal) -> list[Agent]:
        agents = await self.router.list_agents()
        return access.visible_agents(actor, agents, self.router.queue_skills)

    async def set_state(
        self, actor: Principal, agent_id: str, presence: Presence, reason: str = ""
    ) -> Agent:
        """Presence is the agent's at the desk: an agent nobody is signed in as may only
        be set offline (RoutingError, 409, otherwise)."""
        agent = await self.get(actor, agent_id, AgentAct.SET_STATE)
        allowed = (*self.desk.not_ready_reasons, *SYSTEM_REASONS)
        if presence == Presence.NOT_READY and reason and reason not in allowed:
            choices = ", ".join(self.desk.not_ready_reasons)
            raise InvalidInput("$.reason", f"one of {choices}", reason)
        if presence != Presence.OFFLINE and not await self.sessions.users.token_count(agent_id):
            raise RoutingError(
                f"agent {agent_id} is signed out: only offline may be set until they sign in"
            )
        if presence == Presence.AVAILABLE and actor.user_id == agent_id:
            await self._check_wrapped_up(agent.agent_id)
        changed = await self.router.set_presence(agent_id, presence, reason)
        if actor.user_id != agent_id:  # recorded once done, as every audited write
            await self.reports.audit(
                actor.user_id, "agent.set_state", agent_id=agent_id, state=presence.value
            )
        return changed

    async def _check_wrapped_up(self, agent_id: str) -> None:
        """An agent owes a wrap-up code for a contact of a queue that requires one."""
        for contact_id in sorted(await self.router.store.pending_wrap_ups(agent_id)):
            contact = await self.router.store.get_contact(contact_id)
            if contact is not None and self.desk.disposition(contact.queue).required:
                raise RoutingError(
                    f"wrap up contact {contact_id} ({contact.queue}) with a code first"
                )

    async def log_out(self, actor: Principal, agent_id: str) -> Agent:
        """A supervisor signs an agent out: every session ends, the agent goes offline
        (what they held goes back to the queues, as at their own logout)."""
        await self.get(actor, agent_id, AgentAct.LOG_OUT)
        await self.sessions.revoke_all(
            agent_id, f"logged out by {actor.user_id}", offline_reason="logged out"
        )
        await self._forget_softphone(agent_id)  # no more registering until signed in again
        agent = await self.router.get_agent(agent_id)
        if agent.presence != Presence.OFFLINE:  # sessions without routing (a bare Sessions)
            agent = await self.router.set_presence(agent_id, Presence.OFFLINE, "logged out")
        await self.reports.audit(actor.user_id, "agent.log_out", agent_id=agent_id)  # once done
        return agent

    async def publish_wrap_up_rules(self) -> None:
        """Tell the routing function which queues require a wrap-up code: an agent who
        finishes one of their contacts takes no other before giving it."""
        required = [queue for queue, rules in self.desk.dispositions.items() if rules.required]
        await self.router.store.publish_required_wrap_ups(required)

    async def events(self, actor: Principal, agent_id: str) -> Agent:
        """May the actor follow this agent's events (offers, messages)? Only the agent,
        whose desk is then this node's (`Router.attach_desk`), until `desk_closed`."""
        agent = await self.get(actor, agent_id, AgentAct.EVENTS)
        await self.router.attach_desk(agent_id)
        return agent

    async def desk_closed(self, agent_id: str) -> None:
        """The desk's events socket here closed (`Router.detach_desk`); Redis out of
        reach meanwhile only leaves the agent this node's, as before the socket."""
        try:
            await self.router.detach_desk(agent_id)
        except Exception as failure:
            log.warning("desk of %s closed here, not noted: %s", agent_id, failure)
