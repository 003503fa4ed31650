"""Model objects as the JSON the API answers: what each reader may see of them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from router import access
from router.chat import Message
from router.model import Agent, AgentState, Contact
from router.reports.privacy import mask_identifier, mask_phone_numbers
from router.service import QueueStatus
from router.stats import NO_AGENT_SERVING, QueueFigures, known_wait_s
from switchboard.common.clock import iso_utc, now_ms


def state_since_ms(agent: Agent, now: int) -> int | None:
    """When the state the agent shows at `now` began, the wallboard's and the agents
    API's "time in state" (a supervisor picks whom to act on by it): busy or ringing
    since its load last changed (the answer, the offer), wrap-up since its last contact
    left it, available or not ready since the latest of the presence change, the end of
    the wrap-up and the last contact leaving, offline since the sign-out. None when not
    known (an agent stored before these times were kept shows its presence change)."""
    state = agent.state(now)
    presence, load = agent.presence_since_ms, agent.load_since_ms
    if state == AgentState.OFFLINE:
        since = presence
    elif state in (AgentState.BUSY, AgentState.RESERVED, AgentState.WRAP_UP):
        since = load or presence
    else:  # idle_since is when the last wrap-up ended (or will: then it is not over)
        wrap_up_ended = agent.idle_since_ms if agent.idle_since_ms <= now else 0
        since = max(presence, load, wrap_up_ended)
    return since or None


def _iso_or_none(at_ms: int | None) -> str | None:
    return iso_utc(at_ms) if at_ms else None


def agent_json(agent: Agent) -> dict[str, Any]:
    now = now_ms()
    return {
        "agent_id": agent.agent_id,
        "region": agent.region,
        "state": agent.state(now).value,
        "presence": agent.presence.value,
        "reason": agent.reason,
        "skills": agent.skills,
        "languages": agent.languages,
        "capacity": agent.capacity,
        "load": agent.load,
        "sip_uri": agent.sip_uri,
        "node": agent.node,
        "ring_s": agent.ring_s or 0,
        "state_since": _iso_or_none(state_since_ms(agent, now)),
        # Until when the agent is in wrap-up (the desktop's countdown), while they are.
        "wrap_up_until": (
            iso_utc(agent.wrap_up_until_ms) if agent.wrap_up_until_ms > now_ms() else None
        ),
        # A required wrap-up code is owed: the wrap-up lasts until it is given.
        "wrap_up_code_owed": agent.owes_code(now_ms()),
    }


def agent_event_json(event: dict[str, Any], show_caller_number: bool) -> dict[str, Any]:
    """An event as an agent's desktop gets it: a caller's number masked unless the
    center shows them in clear (`[desk] show_caller_number`), in the customer's id and
    in the address a callback dials (`sip:+34911222333@trunk`)."""
    if event.get("channel") != "voice" or show_caller_number:
        return event
    masked = dict(event)
    if event.get("customer_id"):
        masked["customer_id"] = mask_identifier(str(event["customer_id"]))
    if event.get("callback_uri"):
        masked["callback_uri"] = mask_phone_numbers(str(event["callback_uri"]))
    return masked


def contact_json(
    contact: Contact, *, for_customer: bool = False, show_numbers: bool = False
) -> dict[str, Any]:
    """The contact; its customer does not see how it was routed nor who else was there
    (`access.contact_shown_to_customer`), and staff see a customer id that is a phone
    number (a caller's) masked unless the center shows numbers in clear
    (`[desk] show_caller_number`)."""
    customer_id = contact.customer_id
    if not for_customer and not show_numbers:
        customer_id = mask_phone_numbers(customer_id)
    body: dict[str, Any] = {
        "contact_id": contact.contact_id,
        "channel": contact.channel.value,
        "state": contact.state.value,
        "outcome": contact.outcome or None,
        "reason": contact.reason or None,
        "agent_id": contact.agent_id or None,
        "region": contact.region,
        "queue": contact.queue,
        "language": contact.language,
        # The customer's own tag (`zh-TW`, `pt-BR`): `language` is its language subtag.
        "language_tag": contact.language_tag or contact.language,
        "priority": contact.priority,
        "customer": {"id": customer_id, "tier": contact.customer_tier},
        "placement": contact.placement or None,
        "explanation": contact.explanation,
        "matched_languages": contact.matched_languages,
        "timestamps": {key: iso_utc(value) for key, value in contact.timestamps.items()},
        "recordings": [_recording_json(entry) for entry in contact.recordings],
        "holds": [_hold_json(entry) for entry in contact.holds],
        "transfers": [_transfer_json(entry, show_numbers) for entry in contact.transfers],
        "on_hold_since": iso_utc(contact.on_hold_since) if contact.on_hold_since else None,
        "recording_paused_since": (
            iso_utc(contact.recording_paused_since) if contact.recording_paused_since else None
        ),
    }
    return access.contact_shown_to_customer(body) if for_customer else body


def _hold_json(entry: dict[str, object]) -> dict[str, Any]:
    """A hold by the agent's phone: when it began, how long the caller heard music, who."""
    held_ms = entry.get("held_ms")
    return {
        "at": moment(entry.get("at_ms")),
        "held_s": held_ms / 1000 if isinstance(held_ms, int) else None,
        "agent_id": entry.get("agent"),
    }


def _transfer_json(entry: dict[str, object], show_numbers: bool) -> dict[str, Any]:
    """A voice transfer on the record: when, blind or warm, from the desktop or the phone,
    from whom to what (an outside number masked as the customer's is), and for a warm
    one how long the consultation ran and how it ended."""
    consulted_ms, to = entry.get("consulted_ms"), str(entry.get("to", ""))
    return {
        "at": moment(entry.get("at_ms")),
        "mode": entry.get("mode"),
        "by": entry.get("by"),
        "from_agent": entry.get("from_agent"),
        "to": to if show_numbers else mask_phone_numbers(to),
        "consulted_s": consulted_ms / 1000 if isinstance(consulted_ms, int) else None,
        "outcome": entry.get("outcome"),
    }


def _recording_json(entry: dict[str, object]) -> dict[str, Any]:
    """A call recording on the record: its file (played back through the contact's
    recording route), when it ran and why (the queue's rule or the agent's click), and
    its pauses (silence in the file while card details were given: where QA hears a gap)."""
    pauses = entry.get("pauses")
    return {
        "file": entry.get("file"),
        "started_at": moment(entry.get("started_ms")),
        "ended_at": moment(entry.get("ended_ms")),
        "reason": entry.get("reason"),
        "pauses": [
            pause_json(pause)
            for pause in (pauses if isinstance(pauses, list) else [])
            if isinstance(pause, dict)
        ],
    }


def pause_json(pause: Mapping[str, object]) -> dict[str, Any]:
    """A recording's pause that ended: when, who paused it, how it ended (resumed,
    pause_max_s or recording_ended) and who resumed it."""
    return {
        "started_at": moment(pause.get("started_ms")),
        "ended_at": moment(pause.get("ended_ms")),
        "by": pause.get("by"),
        "ended": pause.get("ended"),
        "resumed_by": pause.get("resumed_by") or None,
    }


def moment(value: object) -> str | None:
    """A time in ms since the epoch as ISO 8601 UTC; None when unset or not a time."""
    return iso_utc(value) if isinstance(value, int) and value > 0 else None


def message_json(message: Message) -> dict[str, Any]:
    return asdict(message)


def _figures(figures: QueueFigures) -> dict[str, Any]:
    return {
        "offered": figures.offered,
        "answered": figures.answered,
        "abandoned": figures.abandoned,
        # left before the queue's short_abandon_s: in no abandon figure nor rate
        "short_abandoned": figures.short_abandoned,
        "service_level": figures.service_level,
        "service_level_with_abandons": figures.service_level_with_abandons,
        "abandonment_rate": figures.abandonment_rate,
        "average_speed_of_answer_s": figures.average_speed_of_answer_s,
        "average_handle_time_s": figures.average_handle_time_s,
    }


def queue_json(status: QueueStatus) -> dict[str, Any]:
    return {
        "queue": status.name,
        "waiting": status.waiting,
        "longest_wait_s": round(status.longest_wait_s, 1),
        # null, with why, while nobody can serve it: no wait can be predicted then
        "ewt_s": None
        if (ewt := known_wait_s(status.ewt_s, status.serving_agents)) is None
        else round(ewt, 1),
        "ewt_unknown": None if status.serving_agents else NO_AGENT_SERVING,
        "serving_agents": status.serving_agents,
        "occupancy": status.occupancy,
        "service_level_target": status.service_level_target,
        "answer_within_s": status.answer_within_s,
        # DESIGN.md's "service level" of a queue: today's (null before any contact ended)
        "service_level": status.today.service_level,
        "today": _figures(status.today),
        "last_30_min": _figures(status.last_30_min),
        # callbacks whose customer did not pick up, waiting for their next attempt
        "callbacks_due": status.callbacks_due,
    }
