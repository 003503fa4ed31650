"""Moving a contact that still waits for a person to an escalation queue: one way for
every escalation that moves (an SLA breach's `move_to`, an emotion trigger's).

Waiting includes ringing: a contact offered to an agent who has not taken it yet has its
offer revoked (the agent's card goes, as when a supervisor moves it) and is moved, keeping
its place by arrival time in the target queue, rather than left to ring at an agent of the
first queue and, declined or unanswered, to wait there with the escalation spent. A
contact its agent has taken stays with them: the routing function refuses to move a
connected contact from under its agent (RoutingError, as for one that ended meanwhile).

An escalation brings the customer to a person sooner, never later: a contact is moved only
when someone in the target queue could take it, an agent signed in and ready (busy or not:
one who will be free soon) whom the target's rules reach. Were nobody there (the queue's
`ewt_unknown`), the move would leave the customer waiting for whoever signs in next, or
for the target's overflow, while the agents of their own queue sit free: the contact
stays where it is (with the priority the escalation gave it) and the move says why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from router.model import Agent, Contact, ContactState, QueueConfig
from router.service import Router

WAITING = (ContactState.QUEUED, ContactState.OFFERED)


def waiting_for_a_person(contact: Contact) -> bool:
    """Queued, or ringing at an agent who has not taken it."""
    return contact.state in WAITING


def could_take(agent: Agent, queue: QueueConfig, contact: Contact) -> bool:
    """Whether `agent` serves `queue` now (signed in and ready) and its rules would offer
    them `contact` there, at once or once they widen: its skill (at the queue's
    proficiency, unless it relaxes), the contact's channel in the agent's session, the
    contact's region (unless the queue opens the others), its language or the queue's
    fallbacks (once it relaxes languages). A translation pair is not counted (it is not
    known here): that errs on keeping the contact, never on stranding it."""
    level = 1 if queue.relax_proficiency_after_s is not None else queue.min_proficiency
    languages = {contact.language}
    if queue.relax_language_after_s is not None:
        languages.update(queue.fallback_languages)
    return (
        agent.serving
        and agent.capacity.get(contact.channel.value, 0) > 0
        and agent.skills.get(queue.skill, 0) >= max(level, 1)
        and (agent.region == contact.region or queue.relax_region_after_s is not None)
        and not languages.isdisjoint(agent.languages)
    )


def nobody_there(agents: Iterable[Agent], queue: QueueConfig, contact: Contact) -> str | None:
    """Why no agent of `queue` could take `contact` (None: one could)."""
    if any(could_take(agent, queue, contact) for agent in agents):
        return None
    return (
        f"kept in {contact.queue}, not moved to {queue.name}: no agent of {queue.name} "
        f"who could take this {contact.channel.value} is signed in and ready"
    )


async def unserved(router: Router, contact: Contact, queue: str) -> str | None:
    """Why `contact` (waiting, elsewhere) is not moved to `queue` now: nobody there could
    take it. None when it would be moved (or there is no move to make)."""
    target = router.queues.get(queue)
    if target is None or not waiting_for_a_person(contact) or contact.queue == queue:
        return None  # an unknown queue: the move itself says so (RoutingError)
    return nobody_there(await router.list_agents(), target, contact)


@dataclass(frozen=True)
class Move:
    """What `move_waiting` did: `moved`, or `kept` with why (both empty: nothing to do,
    the contact is with a person or in the queue already)."""

    moved: bool = False
    kept: str = ""


async def move_waiting(
    router: Router, contact: Contact, queue: str, reason: str, at_ms: int, kept: str | None
) -> Move:
    """Move `contact` (as just read) to `queue` if it still waits for a person, is
    elsewhere, and someone in `queue` could take it (`kept`: what `unserved` said, asked
    once by the caller, whose priority line says it too); what was done. Raises
    RoutingError when it was taken or ended between the read and the move."""
    if not waiting_for_a_person(contact) or contact.queue == queue:
        return Move()
    if kept is not None:
        return Move(kept=kept)
    await router.move(contact.contact_id, queue, reason, at_ms=at_ms)
    return Move(moved=True)
