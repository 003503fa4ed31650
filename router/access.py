"""Who may see and do what: decided by the actor's relationship with the contact or agent.

This module is the one place where access is decided. The people-facing services
(`router.contacts`, `router.sessions`) ask it before every use case; HTTP handlers
never decide access themselves. The rules, as a table (docs/security.md prints it):

- a **customer** (holding the token their chat was given) reads, watches and writes in
  their own contact, may leave it while waiting, and rates it once it is done; the token
  opens it until a while after its end (`require_customer_token_open`);
- an **agent** acts on the contacts offered to or held by them (and the customer
  history of those contacts; transferring and recording the call they hold), on their
  own state and events, nothing else; a contact that ended with them stays theirs while
  their wrap-up of it goes on (`WrapUp`: until they save it, or for the queue's wrap-up
  time after it ended if that is later), then it is history they no longer read; a late
  answer to an offer whose customer left while it rang at them is told so (409), not
  refused as another agent's would be, nor a late transfer or end of a contact that
  ended with them (`refuse_late_act`);
- agents, supervisors and admins read their own SIP account (their softphone's
  password) and nobody else's; planners have none;
- a **supervisor** reads, watches and steers the contacts and agents of their queues and
  regions (all of them when their scope is empty), listens to, whispers on or barges into
  their live calls and plays their recordings back; reading content is audited; they put
  a contact only where they may see it (`may_place_contact`): they move one only into
  their queues, and create one for a customer only in their queues and regions;
- a **planner** reads figures and contact metadata, never a transcript, and acts on
  nothing;
- an **admin** may do everything a supervisor may, everywhere, and reads the audit log.

Cases (`router.cases`) follow the same relationships: an agent acts on the cases they own
or whose contact they hold, a supervisor on the cases of their queues and regions, an
admin on all; a planner reads nothing personal (case figures only); a customer only
confirms the follow-up of a case their contact belongs to. Opening one is decided by
the same relationships (`allowed_to_open_case`): an agent opens a case only from a
contact they hold or are wrapping up (`WrapUp`), for its customer, owned by themselves,
in the contact's queue or one whose skill they have; a supervisor in their queues and
regions (from a contact of their scope); an admin anywhere. Moving a case to another
queue asks where the actor may put one (`may_place_case`); naming its owner asks whom
the actor may name (`may_name_owner`): an agent with its queue's skill and, when an
agent hands it on, a colleague of the case's region, as a supervisor of the case could.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from router.errors import Forbidden, InvalidInput, RoutingError, Unauthenticated
from router.model import Agent, Contact, ContactState, Role


class Act(StrEnum):
    """What an actor does with a contact."""

    READ = "read"  # the contact's metadata (state, queue, times)
    TRANSCRIPT = "transcript"  # the chat's messages
    WATCH = "watch"  # live events of the contact (WebSocket)
    WRITE = "write"  # post a chat message
    ACCEPT = "accept"
    DECLINE = "decline"
    COMPLETE = "complete"
    ABANDON = "abandon"
    TRANSFER = "transfer"  # the holding agent hands it to a queue or an agent
    MOVE = "move"  # a supervisor moves it to another queue
    WRAP_UP = "wrap_up"
    RATE = "rate"
    HISTORY = "history"  # the customer's earlier contacts (360° panel)
    RECORD = "record"  # the agent on a voice call starts recording it
    HOLD = "hold"  # the agent on a voice call holds the caller (music) or resumes
    MONITOR = "monitor"  # a supervisor listens to, whispers on or barges into a live call
    PLAYBACK = "playback"  # a supervisor plays a call's recording back


class AgentAct(StrEnum):
    """What an actor does with an agent."""

    READ = "read"
    SET_STATE = "set_state"
    EVENTS = "events"
    LOG_OUT = "log_out"
    # What the agent holds and whose wrap-up they owe: the agent, their supervisors
    # (contacts of their queues only: `contacts_shown`) and admins; not planners.
    CONTACTS = "contacts"


@dataclass(frozen=True)
class Principal:
    """A signed-in member of staff; a supervisor's scope lists queues and regions (empty:
    every queue, every region)."""

    user_id: str
    role: Role
    queues: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()

    def covers(self, queue: str, region: str) -> bool:
        """Within this principal's scope (supervisors; everyone else: everything)."""
        return (not self.queues or queue in self.queues) and (
            not self.regions or region in self.regions
        )

    def covers_agent(self, agent: Agent, queue_skills: dict[str, str]) -> bool:
        """An agent is in a supervisor's scope when in one of the regions and skilled for
        one of the queues."""
        if self.regions and agent.region not in self.regions:
            return False
        if not self.queues:
            return True
        return any(queue_skills.get(queue, queue) in agent.skills for queue in self.queues)


@dataclass(frozen=True)
class Customer:
    """The customer of one contact, known by the token that contact was given."""

    contact_id: str


def require_customer_token_open(contact: Contact, now_ms: int, after_end_s: float) -> None:
    """A chat's customer token (already matched) opens its contact while the contact is
    live and for `after_end_s` after its end (`[chat] customer_token_after_end_s`: time
    to rate it and answer a case's follow-up), then no more (Unauthenticated, 401), so
    a token left in a shared browser's storage or a leaked `?customer_token=` URL does
    not read the transcript until retention deletes it. A contact that ended with no end
    time is taken as long over."""
    if not contact.is_terminal:
        return
    ended_ms = contact.timestamps.get("ended_at", 0)
    if not ended_ms or now_ms >= ended_ms + after_end_s * 1000:
        raise Unauthenticated(
            f"this chat ended more than {_span(after_end_s)} ago: its customer token no "
            "longer opens it"
        )


def _span(seconds: float) -> str:
    """`86400` -> '24 h', `5400` -> '90 min', `45` -> '45 s'."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:.0f} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:g} s"


Actor = Principal | Customer

# What each role may do with a contact it is related to. Agents: contacts offered to or
# held by them; supervisors: contacts of their scope; customers: their own.
_CUSTOMER = {Act.READ, Act.TRANSCRIPT, Act.WATCH, Act.WRITE, Act.ABANDON, Act.RATE}
_AGENT = {
    Act.READ,
    Act.TRANSCRIPT,
    Act.WATCH,
    Act.WRITE,
    Act.ACCEPT,
    Act.DECLINE,
    Act.COMPLETE,
    Act.TRANSFER,
    Act.WRAP_UP,
    Act.HISTORY,
    Act.RECORD,
    Act.HOLD,
}
_SUPERVISOR = {
    Act.READ,
    Act.TRANSCRIPT,
    Act.WATCH,
    Act.COMPLETE,
    Act.MOVE,
    Act.HISTORY,
    Act.MONITOR,
    Act.PLAYBACK,
}
_PLANNER = {Act.READ}
_BY_ROLE = {
    Role.AGENT: _AGENT,
    Role.SUPERVISOR: _SUPERVISOR,
    Role.ADMIN: _SUPERVISOR,
    Role.PLANNER: _PLANNER,
}
# Reading content as someone other than its parties leaves a trace. (A monitor's start,
# change and end are audited by the worker that carries them out, with the mode.)
AUDITED = frozenset(
    {Act.READ, Act.TRANSCRIPT, Act.WATCH, Act.HISTORY, Act.MOVE, Act.COMPLETE, Act.PLAYBACK}
)
# Of those, the writes: recorded once they took effect, never when refused or failed (a
# move to a connected contact's queue, 409), so that every entry of a write says it was
# done. Reads are recorded as they are granted.
AUDITED_WRITES = frozenset({Act.MOVE, Act.COMPLETE})


# A contact is held by its agent while offered to or served by them.
HOLDING = frozenset({ContactState.OFFERED, ContactState.CONNECTED})


@dataclass(frozen=True)
class WrapUp:
    """An agent's wrap-up of a contact that ended with them, as the service reads it
    (`ended_with`): whether it is still owed (not saved yet: the contact is among the
    agent's pending wrap-ups, which routing forgets a day after the agent's latest
    finished contact), the wrap-up time of the contact's queue, and the time now."""

    owed: bool
    wrap_up_s: float
    now_ms: int

    def goes_on(self, contact: Contact) -> bool:
        """Still owed, or within the queue's wrap-up time since the contact ended (so that
        a saved wrap-up may be corrected, and a follow-up opened, until that time is up)."""
        if self.owed:
            return True
        ended = contact.timestamps.get("ended_at", 0)
        return bool(ended) and self.now_ms < ended + self.wrap_up_s * 1000


def ended_with(actor: Actor, contact: Contact) -> bool:
    """Whether the actor's relationship with the contact depends on their wrap-up of it
    (an agent, a contact that ended with them): then, and only then, the service reads
    their `WrapUp` and hands it to `related`, `allowed`, `require` or `CaseOpening`."""
    return (
        isinstance(actor, Principal)
        and actor.role == Role.AGENT
        and contact.is_terminal
        and bool(contact.agent_id)
        and contact.agent_id == actor.user_id
    )


def related(actor: Actor, contact: Contact, wrap_up: WrapUp | None = None) -> bool:
    """Whether the actor has any relationship with the contact at all. An agent's is the
    contact's being offered to or held by them; once it ended with them, their wrap-up of
    it going on (`wrap_up`; none given: it is over). A contact handed on (declined,
    transferred, moved, back in its queue) is no longer theirs at all."""
    if isinstance(actor, Customer):
        return actor.contact_id == contact.contact_id
    if actor.role == Role.AGENT:
        if not contact.agent_id or contact.agent_id != actor.user_id:
            return False
        if contact.state in HOLDING:
            return True
        return contact.is_terminal and wrap_up is not None and wrap_up.goes_on(contact)
    return actor.covers(contact.queue, contact.region)


def allowed(actor: Actor, act: Act, contact: Contact, wrap_up: WrapUp | None = None) -> bool:
    if not related(actor, contact, wrap_up):
        return False
    if isinstance(actor, Customer):
        return act in _CUSTOMER and not (act == Act.WRITE and contact.is_terminal)
    if act == Act.WRITE and contact.state != ContactState.CONNECTED:
        return False
    return act in _BY_ROLE[actor.role]


def in_customer_history(actor: Actor, contact: Contact) -> bool:
    """Whether the 360° view (`Act.HISTORY`, allowed on the contact it is opened from)
    lists this other contact of the customer: to the agent serving the customer, every
    one (the desk's panel tells them the customer's story, other agents' notes
    included); to anyone else only those they may read directly (`Act.READ`: a
    supervisor's queues and regions), so a contact of their scope opens no other."""
    if isinstance(actor, Customer):
        return False
    if actor.role == Role.AGENT:
        return True
    return allowed(actor, Act.READ, contact)


# An agent's answers to an offer.
ANSWERS = frozenset({Act.ACCEPT, Act.DECLINE})


def left_while_ringing_at(actor: Actor, contact: Contact) -> bool:
    """Whether the contact was abandoned while it rang at this agent. It is not theirs
    any more (they act on nothing of it), but their late answer to the offer is told that
    the customer left (409), as it is when the abandon comes a moment later; nobody else
    learns anything of it."""
    return (
        isinstance(actor, Principal)
        and actor.role == Role.AGENT
        and contact.state == ContactState.ABANDONED
        and contact.left_ringing_at == actor.user_id
    )


def offer_ended_for(actor: Actor, contact: Contact) -> bool:
    """Whether the contact's last offer to this agent ended (rang out, declined, moved
    to another queue by an escalation or a supervisor) and it is not theirs again: their
    late answer is told why (409), as a customer's leaving is."""
    return (
        isinstance(actor, Principal)
        and actor.role == Role.AGENT
        and contact.offer_ended_for == actor.user_id
        and contact.agent_id != actor.user_id
    )


# What an agent does to a contact they hold: late, on one that has ended since, told so.
HOLDER_ACTS = frozenset({Act.TRANSFER, Act.COMPLETE, Act.HOLD, Act.RECORD})


def refuse_late_act(actor: Actor, act: Act, contact: Contact) -> None:
    """An agent's late act on a contact that was theirs is 409 saying why, not 403: an
    accept or decline of an offer that ended (`offer_ended_for`) or whose customer left
    while it rang at them, whether that came before the access check (`require`) or after
    it, before routing took the answer (`Contacts.accept`, `Contacts.decline`); a
    transfer, end, hold or recording of a contact that ended with them. Anyone else
    learns nothing of the contact."""
    if act in ANSWERS and left_while_ringing_at(actor, contact):
        raise RoutingError(
            f"cannot {act.value} contact {contact.contact_id}: it is abandoned "
            "(the customer left while it rang at you)"
        )
    if act in ANSWERS and offer_ended_for(actor, contact):
        raise RoutingError(
            f"cannot {act.value} contact {contact.contact_id}: the offer to you ended "
            f"({contact.offer_ended_why})"
        )
    if act in HOLDER_ACTS and ended_with(actor, contact):
        raise RoutingError(
            f"cannot {act.value} contact {contact.contact_id}: it is {contact.state.value}"
        )


def require(actor: Actor, act: Act, contact: Contact, wrap_up: WrapUp | None = None) -> None:
    if allowed(actor, act, contact, wrap_up):
        return
    refuse_late_act(actor, act, contact)
    raise Forbidden(f"{describe(actor)} may not {act.value} contact {contact.contact_id}")


def ends_as_overseer(actor: Actor) -> bool:
    """Whether an end the actor may make (`Act.COMPLETE`) is the queue's overseer's (a
    supervisor's, an admin's: whoever holds the contact), not the holding agent's."""
    return isinstance(actor, Principal) and actor.role in OVERSEERS


def ends_waiting(actor: Actor, contact: Contact) -> bool:
    """A supervisor ending a contact still waiting, that nobody will take (failed,
    `ended_by_supervisor`): no agent holds it to end it."""
    return ends_as_overseer(actor) and contact.state == ContactState.QUEUED


# Events that change whom a contact is with: offered, taken, back in a queue (declined,
# not answered, its agent gone), ended.
CHANGES_HANDS = frozenset(
    {"offer", "offer_revoked", "contact_connected", "contact_requeued", "contact_closed"}
)
# Events of a live contact only (a message is refused once it ended, typing needs the
# chat connected, a hold a call going on) that name the agent it is with as they are sent.
LIVE_WITH_AGENT = frozenset({"message", "typing", "hold"})


def watch_may_change(actor: Actor, contact_id: str, event: Mapping[str, Any] | None) -> bool:
    """Whether a live stream of the contact must ask again whether its reader may still
    watch it (`allowed(..., Act.WATCH, ...)`) before it passes `event` on; None is the
    stream's periodic check, which ends what lapses with time (an agent's wrap-up).

    A customer's relationship never changes, and an event of the reader's own (their
    session) is no contact's. Events that change whom the contact is with are always
    asked about. A live chat's messages, typing and holds name the agent the contact is
    with as they are sent: an agent reader is not asked again for those naming them (the
    contact was theirs and live then), and is for anything else. A supervisor's
    relationship is the contact's queue and region, and a transfer or move to another
    queue tells no stream when nobody takes the contact at once: with a scope of queues
    every event of the contact is asked about (the region never changes)."""
    if isinstance(actor, Customer):
        return False
    if event is None:
        return True
    if event.get("contact_id") != contact_id:
        return False
    if event.get("type") in CHANGES_HANDS:
        return True
    if actor.role == Role.AGENT:
        mine = event.get("agent_id") == actor.user_id
        return not (mine and event.get("type") in LIVE_WITH_AGENT)
    return bool(actor.queues)


# What a customer's chat window hears of its contact: never the routing (an offer names
# the agent chosen, the candidates and the explanation) nor the agent's other contacts.
# Each kind they hear, with the fields kept (None: the whole event).
_CUSTOMER_EVENTS: dict[str, tuple[str, ...] | None] = {
    "message": None,  # the message as stored, both sides see it
    "typing": ("type", "contact_id", "by"),
    "read": ("type", "contact_id", "by", "message_id"),
    "position": None,
    "contact_connected": ("type", "contact_id", "agent_id"),
    "contact_requeued": ("type", "contact_id"),  # its agent left: waiting for another
    "contact_closed": ("type", "contact_id", "state"),
    "case_followup": ("type", "contact_id", "case_id", "at"),  # "is it solved for you?"
}


def shown_to_customer(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """The event as the contact's customer may see it, or None when it is not for them."""
    kind = str(event.get("type", ""))
    if kind not in _CUSTOMER_EVENTS:
        return None
    keep = _CUSTOMER_EVENTS[kind]
    return dict(event) if keep is None else {k: event[k] for k in keep if k in event}


# What of a contact its customer does not see: how it was routed and what the agent did.
STAFF_ONLY = frozenset(
    {
        "explanation",
        "matched_languages",
        "placement",
        "priority",
        "reason",
        "recordings",
        "holds",
        "transfers",
        "on_hold_since",
        "recording_paused_since",
    }
)


def contact_shown_to_customer(body: Mapping[str, Any]) -> dict[str, Any]:
    """A contact's fields (as formatted for staff) that its customer may see."""
    return {name: value for name, value in body.items() if name not in STAFF_ONLY}


def audited(actor: Actor, act: Act, contact: Contact) -> bool:
    """Staff reading or steering a contact that is not theirs is written to the audit log."""
    if isinstance(actor, Customer) or act not in AUDITED:
        return False
    return actor.role != Role.AGENT or act == Act.HISTORY


def allowed_for_agent(
    principal: Principal, act: AgentAct, agent: Agent, queue_skills: dict[str, str]
) -> bool:
    if principal.user_id == agent.agent_id:
        return True
    if act == AgentAct.EVENTS:  # offers and messages of their customers: theirs alone
        return False
    if principal.role == Role.ADMIN:
        return True
    if principal.role == Role.SUPERVISOR:
        return principal.covers_agent(agent, queue_skills)
    if principal.role == Role.PLANNER:
        return act == AgentAct.READ
    return False


def contacts_shown(
    principal: Principal, agent_id: str, contacts: Iterable[Contact]
) -> list[Contact]:
    """An agent's contacts (`AgentAct.CONTACTS`) as the reader may see them: the agent
    all of theirs, anyone else only those they may read themselves (a supervisor's
    queues and regions)."""
    if principal.user_id == agent_id:
        return list(contacts)
    return [contact for contact in contacts if allowed(principal, Act.READ, contact)]


def require_may_seek_agent(principal: Principal, agent_id: str) -> None:
    """An agent may look up no agent but themselves (colleagues' ids, regions and states
    are in the transfer directory; their skills, sessions and figures are not)."""
    if principal.role == Role.AGENT and principal.user_id != agent_id:
        raise Forbidden(f"{describe(principal)} may act only on themselves")


def require_for_agent(
    principal: Principal, act: AgentAct, agent: Agent, queue_skills: dict[str, str]
) -> None:
    if not allowed_for_agent(principal, act, agent, queue_skills):
        doing = _AGENT_ACTS_SAID[act]
        raise Forbidden(f"{describe(principal)} may not {doing} agent {agent.agent_id}")


# How a refusal says each act ("supervisor sam may not set the state of agent li").
_AGENT_ACTS_SAID = {
    AgentAct.READ: "read",
    AgentAct.SET_STATE: "set the state of",
    AgentAct.EVENTS: "follow the events of",
    AgentAct.LOG_OUT: "log out",
    AgentAct.CONTACTS: "read the contacts of",
}


def visible_agents(
    principal: Principal, agents: Iterable[Agent], queue_skills: dict[str, str]
) -> list[Agent]:
    return [
        agent
        for agent in agents
        if allowed_for_agent(principal, AgentAct.READ, agent, queue_skills)
    ]


def may_vouch_for_customers(principal: Principal) -> bool:
    """Supervisors and admins (a back office creating a chat for a customer) may say who
    the customer is, their tier, home region and priority; nobody else's word is taken.
    Where they may create it: `require_may_create_contact`."""
    return principal.role in (Role.SUPERVISOR, Role.ADMIN)


def may_place_contact(principal: Principal, queue: str, region: str) -> bool:
    """Where staff may put a contact, moving one there or creating one for a customer:
    a supervisor into their queues and regions, an admin anywhere (as `may_place_case`).
    Agents hand over only what they hold (`Act.TRANSFER`); planners put none."""
    return principal.role in (Role.SUPERVISOR, Role.ADMIN) and principal.covers(queue, region)


def require_may_move_contact(principal: Principal, contact: Contact, queue: str) -> None:
    """Moving a contact asks of the contact (`Act.MOVE`) and of where it goes: a contact
    keeps its region, so `queue` in that region must be the mover's too."""
    require(principal, Act.MOVE, contact)
    if not may_place_contact(principal, queue, contact.region):
        raise Forbidden(
            f"{describe(principal)} may not move contact {contact.contact_id} to queue "
            f"{queue} ({contact.region}): {_outside(principal)}"
        )


def require_may_create_contact(
    principal: Principal, queue: str, region: str, home: str | None = None
) -> None:
    """Staff who vouch for customers (a back office starting a chat for one) create a
    contact only where they may put one (`may_place_contact`): its queue, the region it
    waits in and the customer's home region they name must all be theirs."""
    for where in dict.fromkeys(name for name in (home, region) if name):
        if not may_place_contact(principal, queue, where):
            placed = "" if where == home else " (where it would wait)"
            raise Forbidden(
                f"{describe(principal)} may not create a contact in queue {queue}, region "
                f"{where}{placed}: {_outside(principal)}"
            )


def _outside(principal: Principal) -> str:
    """A refusal's reason: the principal's scope, named."""
    if principal.role not in (Role.SUPERVISOR, Role.ADMIN):
        return f"a {principal.role.value} puts no contact anywhere"
    queues = ", ".join(sorted(principal.queues)) or "all"
    regions = ", ".join(sorted(principal.regions)) or "all"
    return f"outside their scope (queues: {queues}; regions: {regions})"


def regions_reached(principal: Principal) -> tuple[str, ...]:
    """The regions what `principal` declares reaches (an advisory's boosts and the agents
    it counts): a supervisor's scope's regions; empty, every region, for an admin or a
    supervisor whose scope names none."""
    if principal.role == Role.ADMIN:
        return ()
    return tuple(sorted(principal.regions))


def may_act_on_advisory(principal: Principal, queue: str, regions: Iterable[str]) -> bool:
    """Reading an advisory's details and ending it take the scope declaring it takes:
    a supervisor who oversees its queue and whose scope reaches every region it covers
    (`regions`; none: every region, so only a supervisor whose scope names no region),
    or an admin. A supervisor of one region does not switch off, nor read, what another
    region's (or every region's) supervisor declared."""
    if principal.role not in (Role.SUPERVISOR, Role.ADMIN):
        return False
    if principal.queues and queue not in principal.queues:
        return False
    theirs = set(regions_reached(principal))
    covered = set(regions)
    return not theirs or (bool(covered) and covered <= theirs)


def require_may_act_on_advisory(principal: Principal, queue: str, regions: Iterable[str]) -> None:
    require_may_oversee_queue(principal, queue)
    if not may_act_on_advisory(principal, queue, regions):
        where = ", ".join(sorted(regions)) or "every region"
        theirs = ", ".join(regions_reached(principal))
        raise Forbidden(
            f"{describe(principal)} may not act on an advisory covering {where}: "
            f"their scope reaches {theirs} only"
        )


def require_customer(actor: Actor) -> Customer:
    """Only a chat's customer (its token) answers what is asked of the customer."""
    if not isinstance(actor, Customer):
        raise Forbidden(f"{describe(actor)} is not the customer (customer token)")
    return actor


def has_sip_account(principal: Principal) -> bool:
    """Those who take or join calls have a softphone account: agents, supervisors, admins."""
    return principal.role in (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)


def require_own_sip_account(principal: Principal, user_id: str) -> None:
    """A SIP account (its password) is read by its owner only: no role reads another's."""
    if principal.user_id != user_id:
        raise Forbidden(f"{describe(principal)} may read only their own SIP account")
    if not has_sip_account(principal):
        raise Forbidden(f"{describe(principal)} takes no calls: no SIP account")


def require_may_oversee_queue(principal: Principal, queue: str) -> None:
    """A queue's contacts are listed for its supervisors (and admins) only."""
    if principal.role not in OVERSEERS or (principal.queues and queue not in principal.queues):
        raise Forbidden(f"{describe(principal)} does not oversee queue {queue}")


def require_may_scrape(principal: Principal) -> None:
    """`/metrics` with a session (not the scraper's host nor its token): a supervisor's
    or an admin's, who oversee the queues it shows."""
    if principal.role not in OVERSEERS:
        raise Forbidden("metrics are for the scraper, supervisors and admins")


def may_see_queue(principal: Principal, queue: str) -> bool:
    """A queue's live figures: every staff member's, but a supervisor's of their queues
    only (a region's supervisor sees them over their regions: `router.queue_view`)."""
    return not principal.queues or queue in principal.queues


def require_may_see_queue(principal: Principal, queue: str) -> None:
    """`may_see_queue`, or Forbidden."""
    if not may_see_queue(principal, queue):
        raise Forbidden(f"{describe(principal)} does not oversee queue {queue}")


def agents_counted(
    principal: Principal, agents: Iterable[Agent], queue_skills: dict[str, str]
) -> list[Agent]:
    """The agents a reader's queue figures count (serving, occupancy, agents by state):
    a supervisor's scope (their regions, skilled for their queues), everyone else's
    every agent. Unlike `visible_agents` an agent reading the queues counts their
    colleagues: the figures name nobody."""
    return [agent for agent in agents if principal.covers_agent(agent, queue_skills)]


def audited_offers(principal: Principal, agent_id: str) -> bool:
    """What rings at an agent names customers: anyone but the agent reading it leaves a
    trace, as a queue's list of live contacts does."""
    return principal.user_id != agent_id


def node_load_shown(principal: Principal, load: Mapping[str, Any]) -> dict[str, Any]:
    """A node's load as the reader may see it. Its queue depths count every region and
    its agents by state every queue: a supervisor whose scope names queues sees their
    queues' depths and no agent count, one whose scope names regions no queue depth (a
    region's figures are the wallboard's, `queue_rows`); everyone else all of it."""
    shown = dict(load)
    if principal.regions:
        shown.pop("queue_depth", None)
    if principal.queues:
        shown.pop("agents_by_state", None)
        if "queue_depth" in shown:
            depth = shown["queue_depth"]
            shown["queue_depth"] = {q: n for q, n in depth.items() if q in principal.queues}
    return shown


def regions_shown(principal: Principal, overview: Iterable[Mapping[str, Any]]) -> list[Any]:
    """The regions' overview (`GET /api/v1/regions`, the wallboard) as the reader may see
    it: a supervisor whose scope names regions, those regions' nodes only."""
    return [
        {
            **region,
            "nodes": [
                {**node, "load": node_load_shown(principal, node.get("load") or {})}
                for node in region["nodes"]
            ],
        }
        for region in overview
        if not principal.regions or region["region"] in principal.regions
    ]


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        wanted = " or ".join(role.value for role in roles)
        raise Forbidden(f"{describe(principal)} is not {wanted}")


# The staff roles a route is for, whatever it is called on: a route declares them (the
# HTTP layer's `API.route(roles=...)`), and a caller of another role is refused (403)
# before the route reads its path names, query or body, so nobody learns a schema field
# by field (400s) from a route that is not theirs. The relationship (this contact, that
# queue) is asked after, by the service, as ever.
ADMINS = (Role.ADMIN,)
# Who oversees queues (`require_may_oversee_queue`): advisories, monitoring.
OVERSEERS = (Role.SUPERVISOR, Role.ADMIN)
# Who acts on cases and agents' state: everyone but planners, who act on nothing.
ACTING_STAFF = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
# No staff: the chat's customer's own routes (rating, answering a follow-up).
CUSTOMERS_ONLY: tuple[Role, ...] = ()
# Who reads the SLA and IVR reports (`records_shown`: a supervisor, of their scope).
REPORT_READERS = (Role.SUPERVISOR, Role.PLANNER, Role.ADMIN)
# A report's record: its `queue` and `region` say whose scope it is in.
Record = TypeVar("Record", bound=Mapping[str, Any])


def records_shown(principal: Principal, records: Iterable[Record]) -> list[Record]:
    """The report records `principal` may read: those whose queue and region their
    scope covers (a supervisor's queues and regions; everyone's for an unscoped one)."""
    return [
        record
        for record in records
        if principal.covers(str(record.get("queue", "")), str(record.get("region", "")))
    ]


def roles_that_may(act: Act) -> tuple[Role, ...]:
    """The staff roles that may ever `act` on a contact (`_BY_ROLE`): a contact route's
    roles."""
    return tuple(role for role, acts in _BY_ROLE.items() if act in acts)


def require_route_role(actor: Actor, roles: tuple[Role, ...]) -> None:
    """A route's roles, asked before anything of the request is read: staff of another
    role are 403 whatever they send; `CUSTOMERS_ONLY` refuses all staff. A customer (a
    customer token on a route that takes one) is the service's to decide."""
    if isinstance(actor, Customer):
        return
    if not roles:
        require_customer(actor)
    require_role(actor, *roles)


class CaseAct(StrEnum):
    """What an actor does with a case (opening one: `allowed_to_open_case`)."""

    READ = "read"  # the case, its contacts, notes, timers and history
    CHANGE = "change"  # subject, priority, status, owner, queue, notes, wrap-up, links
    CONFIRM = "confirm"  # the customer answers the follow-up


@dataclass(frozen=True)
class CaseScope:
    """What access to a case depends on: where it is, who owns it, its contacts and the
    agents holding one of them now."""

    case_id: str
    queue: str
    region: str
    owner: str = ""
    contacts: frozenset[str] = frozenset()
    holders: frozenset[str] = frozenset()


def allowed_for_case(actor: Actor, act: CaseAct, case: CaseScope) -> bool:
    if isinstance(actor, Customer):
        return act == CaseAct.CONFIRM and actor.contact_id in case.contacts
    if act == CaseAct.CONFIRM or actor.role == Role.PLANNER:
        return False
    if actor.role == Role.AGENT:
        return actor.user_id == case.owner or actor.user_id in case.holders
    return actor.covers(case.queue, case.region)


def sees_case_event(actor: Actor, event: Mapping[str, Any]) -> bool:
    """Whether a live case or emotion event (`case_id` or `contact`, `queue`, `region`,
    `agent_id` the owner) reaches the actor: as reading the case would, where it was and,
    for an SLA breach whose escalation moved it (`moved_to`), where it is now. The
    supervisors it left are told it is no longer theirs; those of the queue now holding
    it must act on it (and may open it)."""
    subject = str(event.get("case_id") or event.get("contact") or "")
    region, owner = str(event.get("region") or ""), str(event.get("agent_id") or "")
    places = [str(event.get("queue") or "")]
    if event.get("moved_to"):
        places.append(str(event["moved_to"]))
    return any(
        allowed_for_case(actor, CaseAct.READ, CaseScope(subject, queue, region, owner=owner))
        for queue in places
    )


@dataclass(frozen=True)
class CaseOpening:
    """A case about to be opened: where, owned by whom, from which contact (if any),
    whether the actor (an agent) has the skill of its queue, and the agent's wrap-up of
    the contact when it ended with them (`ended_with`)."""

    queue: str
    region: str
    owner: str = ""
    contact: Contact | None = None
    skilled: bool = False
    wrap_up: WrapUp | None = None


def may_place_case(principal: Principal, queue: str, region: str, *, skilled: bool) -> bool:
    """Where an actor may open a case or move one to: an agent into a queue whose skill
    they have, a supervisor into their queues and regions, an admin anywhere."""
    if principal.role == Role.AGENT:
        return skilled
    if principal.role == Role.PLANNER:
        return False
    return principal.covers(queue, region)


def require_may_place_case(principal: Principal, queue: str, region: str, *, skilled: bool) -> None:
    if not may_place_case(principal, queue, region, skilled=skilled):
        raise Forbidden(f"{describe(principal)} may not put a case in queue {queue} ({region})")


def may_name_owner(
    principal: Principal, owner: Agent, queue: str, region: str, queue_skills: dict[str, str]
) -> bool:
    """Whom an actor may make a case's owner (opening it or handing it over), other than
    themselves: an agent with the case queue's skill, since the owner is offered that
    customer's next contacts in it before anyone (a preference no skill or region rule
    stops). A supervisor names only an agent of their queues and regions; an agent (who
    owns the case or holds its contact: `allowed_for_case`) only a colleague within the
    case's own scope, its queue's skill and its region (`region`), as the narrowest
    supervisor of the case could: never past regional routing, and never further than
    the case's supervisors may; an admin anyone skilled."""
    if queue_skills.get(queue, queue) not in owner.skills:
        return False
    if principal.role == Role.SUPERVISOR:
        return principal.covers_agent(owner, queue_skills)
    if principal.role == Role.AGENT:
        return owner.region == region
    return principal.role == Role.ADMIN


def require_may_name_owner(
    principal: Principal, owner: Agent, queue: str, region: str, queue_skills: dict[str, str]
) -> None:
    """400 `$.owner` for an agent who cannot serve the queue (the body is wrong whoever
    sends it), 403 naming why for one outside the actor's scope."""
    if principal.user_id == owner.agent_id or may_name_owner(
        principal, owner, queue, region, queue_skills
    ):
        return
    if queue_skills.get(queue, queue) not in owner.skills:
        raise InvalidInput("$.owner", f"an agent with the skill of queue {queue}", owner.agent_id)
    if principal.role == Role.AGENT:
        why = (
            f"{owner.agent_id} is of region {owner.region}, the case of {region} (an agent "
            "hands a case only to a colleague of its region)"
        )
    else:
        why = _outside(principal)  # a supervisor's scope (nobody else is refused here)
    raise Forbidden(
        f"{describe(principal)} may not make agent {owner.agent_id} a case's owner: {why}"
    )


def allowed_to_open_case(actor: Actor, opening: CaseOpening) -> bool:
    """An agent opens a case only from a contact they hold or are wrapping up (a
    follow-up opened in wrap-up: `related` with the opening's `wrap_up`), for its
    customer, owned by themselves, in the contact's queue or one whose skill they have:
    never for a customer they do not serve (any more), so as not to be offered that
    customer's next contact. A supervisor opens cases in their queues and regions (from a
    contact: one of their scope); an admin anywhere; planners and customers none."""
    if isinstance(actor, Customer) or actor.role == Role.PLANNER:
        return False
    contact = opening.contact
    if actor.role == Role.AGENT:
        return (
            contact is not None
            and related(actor, contact, opening.wrap_up)  # held, or in its wrap-up
            and opening.owner in ("", actor.user_id)
            and (opening.queue == contact.queue or opening.skilled)
        )
    if contact is not None and not allowed(actor, Act.READ, contact):
        return False
    return may_place_case(actor, opening.queue, opening.region, skilled=opening.skilled)


def require_may_open_case(actor: Actor, opening: CaseOpening) -> None:
    if allowed_to_open_case(actor, opening):
        return
    if isinstance(actor, Principal) and actor.role == Role.AGENT:
        raise Forbidden(
            f"{describe(actor)} may open a case only from a contact they hold or are wrapping "
            "up, owned by themselves, in its queue or one whose skill they have"
        )
    where = f"queue {opening.queue} ({opening.region})"
    raise Forbidden(f"{describe(actor)} may not open a case in {where}")


def require_for_case(actor: Actor, act: CaseAct, case: CaseScope) -> None:
    if not allowed_for_case(actor, act, case):
        raise Forbidden(f"{describe(actor)} may not {act.value} case {case.case_id}")


def of_case_customer(contact: Contact, case_customer: str) -> bool:
    """Whether the contact is of the case's customer (a case without one yet takes any):
    a case is one customer's, whose contacts alone are linked to it and whose chats alone
    answer its follow-up."""
    return not case_customer or contact.customer_id == case_customer


def require_may_link(contact: Contact, case_customer: str) -> None:
    """Staff link a contact to a case of its own customer only (InvalidInput, 400, naming
    `$.contact_id`), since its customer may then answer the case's follow-up; a contact
    whose customer nobody knows (a caller without a number) holds no customer token and
    may be linked."""
    if contact.customer_id and not of_case_customer(contact, case_customer):
        raise InvalidInput(
            "$.contact_id", f"a contact of the case's customer {case_customer}", contact.contact_id
        )


def require_may_confirm(customer: Customer, contact: Contact, case_customer: str) -> None:
    """A customer answers the follow-up of their own customer's case only: a chat of
    another customer linked to it (before links were checked) gives its holder nothing."""
    if contact.contact_id != customer.contact_id or not of_case_customer(contact, case_customer):
        raise Forbidden(f"contact {contact.contact_id} is not of the case's customer")


def audited_case(actor: Actor, act: CaseAct, case: CaseScope) -> bool:
    """Staff reading or changing a case they neither own nor serve leave a trace."""
    if isinstance(actor, Customer) or act == CaseAct.CONFIRM:
        return False
    return actor.user_id != case.owner and actor.user_id not in case.holders


def require_may_see_cases(principal: Principal) -> None:
    """Case lists and events carry customers' data: planners see none of them."""
    if principal.role == Role.PLANNER:
        raise Forbidden(f"{describe(principal)} may not read cases")


def describe(actor: Actor) -> str:
    if isinstance(actor, Customer):
        return "the customer"
    return f"{actor.role.value} {actor.user_id}"
