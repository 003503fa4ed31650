"""Escalations kept for want of anyone to take them, moved once someone could.

An escalation that would move a waiting contact to a queue where nobody could take it
keeps the contact in its own queue (`moves.unserved`: an upset customer is not parked
where nobody serves). That is not the end of it: the kept escalation is remembered
(`CaseStore.keep`, the store of escalations), and when an agent of the target queue
becomes ready (the routing event `state` with `available`: ready after signing in, a
break over, a wrap-up code given), the kept contacts that agent could take
(`moves.could_take`) are moved there, oldest first, as the escalation would have moved
them had that agent been there then: the same reason in the contact's explanation, the
same routing (a ringing offer revoked, the contact offered in the target queue), the
same report record and flag event for an emotion trigger.

Every node hears the event. The entry is taken off the list atomically before the move
(`CaseStore.take_kept`: one caller takes it), so each is moved once however many nodes
race; and the move is refused when the contact was answered, ended or moved elsewhere
meanwhile (`Router.move` with `only_from`): such a contact is left alone and forgotten.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from router.cases.moves import could_take, waiting_for_a_person
from router.cases.store import CaseStore
from router.errors import RoutingError
from router.model import Agent, Contact, QueueConfig
from router.ports import EventPublisher
from router.service import Router

log = logging.getLogger(__name__)

KEPT_BATCH = 200  # kept escalations of one target looked at per agent made ready


@dataclass(frozen=True)
class Kept:
    """An escalation that kept `contact_id` in `from_queue` instead of moving it to
    `target`. `kind`: `emotion` (its `trigger`, the index of the trigger kept on the
    contact, and `cause`; `counted`: whether the trigger counted an escalation in the
    reports already) or `sla` (the breach counted it)."""

    contact_id: str
    target: str
    from_queue: str
    reason: str
    kind: str
    at_ms: int
    cause: str = ""
    trigger: int = -1
    counted: bool = True

    @classmethod
    def read(cls, contact_id: str, entry: dict[str, Any]) -> Kept:
        fields = {k: entry[k] for k in cls.__dataclass_fields__ if k in entry}
        return cls(**{**fields, "contact_id": contact_id})


class KeptEscalations:
    def __init__(self, store: CaseStore, router: Router, events: EventPublisher) -> None:
        self.store = store
        self.router = router
        self.events = events

    async def remember(self, kept: Kept) -> None:
        """An escalation kept the contact where it is: moved once someone could take it.
        A contact kept already keeps its first (older) escalation."""
        entry = asdict(kept)
        del entry["contact_id"]
        await self.store.keep(kept.contact_id, entry, kept.at_ms)

    async def forget(self, contact_id: str) -> None:
        """The contact moved or ended: nothing is kept for it any more."""
        await self.store.take_kept(contact_id)

    async def agent_ready(self, agent_id: str, at_ms: int) -> int:
        """The agent became ready: move the kept contacts they could take to their target
        queues, oldest first; how many this node moved."""
        agent = await self.router.store.get_agent(agent_id)
        if agent is None or not agent.serving:
            return 0
        moved = 0
        for queue in self.router.queues.values():
            if agent.skills.get(queue.skill, 0) <= 0:
                continue
            for contact_id, entry in await self.store.kept_for(queue.name, KEPT_BATCH):
                kept = Kept.read(contact_id, entry)
                if await self._move(agent, queue, kept, at_ms):
                    moved += 1
        return moved

    async def _move(self, agent: Agent, queue: QueueConfig, kept: Kept, at_ms: int) -> bool:
        """Move one kept contact if `agent` could take it and this node takes the entry;
        one answered, ended or moved meanwhile is forgotten and left alone."""
        try:
            contact = await self.router.get_contact(kept.contact_id)
        except RoutingError:
            contact = None
        if contact is None or not waiting_for_a_person(contact) or contact.queue != kept.from_queue:
            await self.store.take_kept(kept.contact_id, kept.target)
            return False
        if not could_take(agent, queue, contact):
            return False  # kept for another agent of the target
        if not await self.store.take_kept(kept.contact_id, kept.target):
            return False  # another node took it
        reason = f"{kept.reason}; kept until {agent.agent_id} of {kept.target} was ready"
        try:
            moved = await self.router.move(
                kept.contact_id, kept.target, reason, only_from=kept.from_queue, at_ms=at_ms
            )
        except RoutingError as failure:  # answered, ended or moved meanwhile: left alone
            log.info("kept escalation of %s not moved: %s", kept.contact_id, failure)
            return False
        if kept.kind == "emotion":
            await self._tell_emotion(kept, contact, moved, at_ms)
        return True

    async def _tell_emotion(self, kept: Kept, before: Contact, moved: Contact, at_ms: int) -> None:
        """What an emotion trigger's move says when it is made at once: the trigger's
        actions (kept on the contact) gain the move, the flag event carries them, and the
        report counts the escalation if keeping it counted none."""
        action = f"moved from {kept.from_queue} to {kept.target}"
        triggers = await self.store.triggers(kept.contact_id)
        trigger: dict[str, Any] = {}
        if 0 <= kept.trigger < len(triggers):
            trigger = triggers[kept.trigger]
            trigger["actions"] = [*trigger.get("actions", []), action]
            await self.store.set_trigger(kept.contact_id, kept.trigger, trigger)
        if not kept.counted:
            await self.store.add_records(
                [
                    {
                        "kind": "escalation",
                        "cause": kept.cause,
                        "contact_id": kept.contact_id,
                        "queue": kept.from_queue,
                        "region": before.region,
                        "at_ms": str(at_ms),
                    }
                ]
            )
        await self.events.publish(
            {
                "type": "contact_flagged",
                "contact": kept.contact_id,
                "agent_id": moved.agent_id,
                "queue": moved.queue,
                "region": moved.region,
                "cause": trigger.get("cause", kept.cause),
                "words": trigger.get("words", []),
                "score": trigger.get("score"),
                "actions": trigger.get("actions", [action]),
                "at": trigger.get("at"),
            }
        )
