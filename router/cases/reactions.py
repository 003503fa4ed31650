"""What an emotion trigger does to a chat, at once.

A customer message whose words match an escalation phrase of its language, or whose
sentiment score is at or below the threshold, triggers the configured action: flag the
chat (desktop and wallboard), raise its priority once, and when the customer is not yet
with a person (the chat waits in a queue, or rings at an agent who has not taken it)
move it to the human queue with a senior skill: a ringing offer is revoked, as a
supervisor's move revokes it, rather than left to ring at an agent of the first queue
(were it declined or left to ring out, the customer would wait there, the trigger spent).
Only when someone there could take it (`moves.unserved`): a senior queue nobody serves
would keep the customer waiting longer for being upset, so the chat then stays, raised,
for the agents of its own queue, and the trigger's actions say why; it is moved as soon
as a senior agent who could take it becomes ready (`kept.KeptEscalations`).
Every trigger is recorded on the contact with the words that fired it; what was
done is written in the contact's explanation (the routing function's reason line).

A message is read with the customer's message just before it, when that came within
`JOINED_WITHIN_MS` with nothing between them and triggered nothing itself: a customer
who sends "我要" then "投诉", or "estoy" then "harto", is read as one sentence (only what
joins the two counts: `Emotions.read`'s `before`). One that triggered was acted on, so
its words are not read a second time.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from router.cases.emotion import Emotions, Reading
from router.cases.kept import Kept
from router.cases.model import EmotionSettings
from router.cases.moves import move_waiting, unserved
from router.cases.store import CaseStore
from router.errors import RoutingError
from router.model import Contact
from router.service import Router
from switchboard.common.clock import iso_utc

if TYPE_CHECKING:
    from router.cases.service import Cases
    from router.ports import EventPublisher

log = logging.getLogger(__name__)

JOINED_WITHIN_MS = 60_000  # a message this soon after the one before continues it
JOINED_AT_MOST = 20  # messages of one burst looked back at (each within the above)


@dataclass
class Acted:
    """What a trigger did: its actions in words, whether it escalated (raised or moved),
    and, when nobody of the target could take the chat, the queue it was kept in."""

    done: list[str] = field(default_factory=list)
    escalated: bool = False
    moved: bool = False
    kept_in: str = ""


def fired_by(reading: Reading, threshold: float) -> tuple[str, list[Any]] | None:
    """(cause, hits) when the reading triggers: escalation phrases first, else a score at
    or below the threshold with the words that lowered it."""
    if reading.escalations:
        return "emotion.keyword", list(reading.escalations)
    if reading.score <= threshold:
        lowering = [hit for hit in reading.hits if (hit.kind == "positive") == hit.negated]
        return "emotion.sentiment", lowering
    return None


def unread_before(texts: Sequence[str], emotions: Emotions, language: str, threshold: float) -> str:
    """What to read before the last of `texts` (a burst of one customer's messages, oldest
    first, each soon after the one before): the one before it, unless that triggered
    (itself read with the one before it, by the same rule), "" then or for the first."""
    before = ""
    for text in texts[:-1]:
        fired = fired_by(emotions.read(text, language, before), threshold)
        before = "" if fired else text
    return before


def burst(messages: Sequence[dict[str, Any]], text: str) -> list[str]:
    """The texts of the customer's messages that end with this one (`text`, their latest
    message with it): each came within JOINED_WITHIN_MS of the one before, nothing
    between them, at most JOINED_AT_MOST; oldest first. Empty: not found."""
    mine = [
        i
        for i, message in enumerate(messages)
        if message.get("sender") == "customer" and message.get("text") == text
    ]
    if not mine:
        return []
    run = [messages[mine[-1]]]
    for message in reversed(messages[: mine[-1]]):
        later = int(run[-1].get("at_ms", 0))
        if len(run) >= JOINED_AT_MOST or message.get("sender") != "customer":
            break
        if later - int(message.get("at_ms", 0)) > JOINED_WITHIN_MS:
            break
        run.append(message)
    return [str(message.get("text", "")) for message in reversed(run)]


class EmotionReactions:
    def __init__(
        self,
        emotions: Emotions,
        settings: EmotionSettings,
        router: Router,
        store: CaseStore,
        events: EventPublisher,
        cases: Cases,
    ) -> None:
        self.emotions = emotions
        self.settings = settings
        self.router = router
        self.store = store
        self.events = events
        self.cases = cases

    async def read(self, contact: Contact, text: str, at_ms: int) -> dict[str, Any] | None:
        """Read a customer's message; act and record when it triggers. Returns the
        trigger as recorded (None: nothing fired)."""
        before = await self._before(contact, text)
        reading = self.emotions.read(text, contact.language, before)
        fired = fired_by(reading, self.settings.threshold)
        if fired is None:
            return None
        cause, hits = fired
        words = [hit.words for hit in hits]
        languages = sorted({hit.language for hit in hits}) or [contact.language]
        kind = cause.split(".", 1)[1]
        quoted = ", ".join(f"'{word}'" for word in words) or "no single word"
        reason = f"emotion {kind} {quoted} ({'/'.join(languages)}; score {reading.score:.2f})"
        earlier = await self.store.triggers(contact.contact_id)
        acted = await self._act(contact.contact_id, reason, already=bool(earlier), at_ms=at_ms)
        actions, escalated = acted.done, acted.escalated
        current = await self._current(contact)
        trigger = {
            "at": iso_utc(at_ms),
            "cause": cause,
            "words": words,
            "phrases": [hit.phrase for hit in hits],
            "languages": languages,
            "score": round(reading.score, 3),
            "actions": actions,
        }
        count = await self.store.add_trigger(
            contact.contact_id, trigger, at_ms if self.settings.flag else None
        )
        await self._remember(contact, acted, reason, cause, count - 1, at_ms)
        if escalated:
            await self.store.add_records(
                [
                    {
                        "kind": "escalation",
                        "cause": cause,
                        "contact_id": contact.contact_id,
                        "queue": contact.queue,
                        "region": contact.region,
                        "at_ms": str(at_ms),
                    }
                ]
            )
        await self.events.publish(
            {
                "type": "contact_flagged",
                "contact": contact.contact_id,
                "agent_id": current.agent_id,
                "queue": current.queue,
                "region": current.region,
                **{k: trigger[k] for k in ("cause", "words", "score", "actions", "at")},
            }
        )
        await self.cases.enqueue(
            [
                {
                    "type": "contact.emotion",
                    "at": trigger["at"],
                    "data": {
                        "contact_id": contact.contact_id,
                        "customer_id": contact.customer_id or None,
                        "queue": current.queue,
                        **trigger,
                    },
                }
            ]
        )
        await self.cases.emotion_triggered(current, at_ms)
        return trigger

    async def _before(self, contact: Contact, text: str) -> str:
        """The customer's message to read before this one (`unread_before`), from the
        chat's transcript (every node's messages)."""
        messages = await self.router.store.messages(contact.contact_id)
        texts = burst(messages, text)
        return unread_before(texts, self.emotions, contact.language, self.settings.threshold)

    async def _remember(
        self, contact: Contact, acted: Acted, reason: str, cause: str, index: int, at_ms: int
    ) -> None:
        """A chat kept for want of a senior agent is moved when one becomes ready
        (`KeptEscalations`), as this trigger (its `index`th) would have moved it; one
        moved now has nothing kept any more."""
        kept = self.cases.kept
        if acted.moved:
            await kept.forget(contact.contact_id)
        elif acted.kept_in and self.settings.move_to:
            await kept.remember(
                Kept(
                    contact.contact_id,
                    self.settings.move_to,
                    acted.kept_in,
                    reason,
                    "emotion",
                    at_ms,
                    cause=cause,
                    trigger=index,
                    counted=acted.escalated,
                )
            )

    async def _current(self, contact: Contact) -> Contact:
        try:
            return await self.router.get_contact(contact.contact_id)
        except RoutingError:
            return contact

    async def _act(self, contact_id: str, reason: str, *, already: bool, at_ms: int) -> Acted:
        """Raise the priority (the first time) and move a chat still waiting for a person
        to the senior queue (`move_waiting`: a ringing offer is revoked); what was done
        (`Acted`). A chat taken meanwhile is not moved (the move is refused: it is with a
        person now). Nor is one that nobody of the senior queue could take (`unserved`):
        it stays for the agents of its own queue, raised, and the priority's line and the
        actions say why; it is moved when a senior agent who could take it becomes ready
        (`KeptEscalations`), or by a later trigger if someone could take it by then."""
        acted = Acted()
        done = acted.done
        settings = self.settings
        try:
            contact = await self.router.get_contact(contact_id)
            if contact.is_terminal:
                return acted
            target = settings.move_to
            kept = await unserved(self.router, contact, target) if target else None
            if settings.raise_priority and not already:
                priority = min(9, contact.priority + settings.raise_priority)
                if priority != contact.priority:
                    line = reason if kept is None else f"{reason}; {kept}"
                    await self.router.set_priority(contact_id, priority, line, at_ms=at_ms)
                    done.append(f"priority {contact.priority} -> {priority}")
                    acted.escalated = True
            if target:
                move = await move_waiting(self.router, contact, target, reason, at_ms, kept)
                if move.moved:
                    done.append(f"moved from {contact.queue} to {target}")
                    acted.escalated = acted.moved = True
                elif move.kept:
                    done.append(move.kept)
                    acted.kept_in = contact.queue
        except RoutingError as failure:  # it ended or was taken meanwhile
            log.info("emotion trigger on %s: %s", contact_id, failure)
        return acted
