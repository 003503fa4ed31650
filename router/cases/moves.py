"""Moving a contact that still waits for a person to an escalation queue: one way for
every escalation that moves (an SLA breach's `move_to`, an emotion trigger's).

Waiting includes ringing: a contact offered to an agent who has not taken it yet has its
offer revoked (the agent's card goes, as when a supervisor moves it) and is moved, keeping
its place by arrival time in the target queue, rather than left to ring at an agent of the
first queue and, declined or unanswered, to wait there with the escalation spent. A
contact its agent has taken stays with them: the routing function refuses to move a
connected contact from under its agent (RoutingError, as for one that ended meanwhile).
"""

from __future__ import annotations

from router.model import Contact, ContactState
from router.service import Router

WAITING = (ContactState.QUEUED, ContactState.OFFERED)


def waiting_for_a_person(contact: Contact) -> bool:
    """Queued, or ringing at an agent who has not taken it."""
    return contact.state in WAITING


async def move_waiting(
    router: Router, contact: Contact, queue: str, reason: str, at_ms: int
) -> bool:
    """Move `contact` (as just read) to `queue` if it still waits for a person and is
    elsewhere; whether it was moved. Raises RoutingError when it was taken or ended
    between the read and the move."""
    if not waiting_for_a_person(contact) or contact.queue == queue:
        return False
    await router.move(contact.contact_id, queue, reason, at_ms=at_ms)
    return True
