"""What telephony needs from the routing core, as Protocols.

Worker code depends on these only: the node passes its `router.service.Router` (which
satisfies `RoutingPort` structurally), a worker process passes the pipe client in
`telephony.pipe`, and unit tests may pass a fake. Post-call survey ratings go through
`RatingPort` and supervisors' monitoring is audited through `AuditPort`: on the node both
are `router.reports.service.Reports`, in a worker process the pipe clients in `telephony.pipe`.
"""

from __future__ import annotations

from typing import Any, Protocol

from router.model import Agent, Contact, NewContact

# What a RoutingPort call raises when the router refuses (its RoutingError is a
# ValueError, an unknown contact, agent or queue a LookupError) or, in a worker process,
# when the node answers with an error (telephony.pipe.RemoteError, a RuntimeError).
ROUTING_REFUSALS: tuple[type[Exception], ...] = (ValueError, LookupError, RuntimeError)


class RoutingPort(Protocol):
    async def create_contact(self, new: NewContact) -> Contact:
        """`new.skill`, when set, is the skill the contact is routed by (an IVR reason's)."""
        ...

    async def get_contact(self, contact_id: str) -> Contact: ...

    async def get_agent(self, agent_id: str) -> Agent:
        """Raises LookupError for an unknown agent (a REFER target may be a number)."""
        ...

    async def accept(self, contact_id: str, agent_id: str) -> Contact: ...

    async def decline(self, contact_id: str, agent_id: str, reason: str = "no_answer") -> Any: ...

    async def complete(self, contact_id: str, agent_id: str | None = None) -> Any: ...

    async def abandon(self, contact_id: str, reason: str = "caller_hangup") -> Any: ...

    async def fail(self, contact_id: str, reason: str) -> Any: ...

    async def callback_answered(self, contact_id: str) -> Contact:
        """The called-back customer picked up: the contact's answer."""
        ...

    async def callback_unanswered(self, contact_id: str) -> Contact:
        """The called-back customer did not pick up: `queued` for another attempt, or
        `failed` with none left."""
        ...

    async def position(self, contact_id: str) -> Any:
        """An object with `position: int` and `ewt_s: float | None` (None: nobody can
        serve the queue, so no wait is announced)."""

    async def request_callback(self, contact_id: str, callback_uri: str) -> Any: ...

    async def transfer(
        self,
        contact_id: str,
        agent_id: str,
        to_queue: str | None = None,
        to_agent: str | None = None,
    ) -> Any:
        """Back to a queue; with `to_agent`, that agent is offered it first and the queue
        after the ring time (the router's rule)."""

    async def consult(self, contact_id: str, agent_id: str, step: str) -> Any:
        """A warm transfer's colleague: `reserve` holds them in the router for the
        consultation (refused when signed out or busy), `answered`, `release` (agent '':
        whoever is held) and `hand_over` (the contact connected to them at once)."""

    async def note_transfer(self, contact_id: str, transfer: dict[str, Any]) -> Any:
        """Add one transfer to the contact's record: `at_ms`, `mode` (blind or warm),
        `by` (refer or desktop), `from_agent`, `to` (`queue:…`, `agent:…` or a SIP URI),
        and for a warm one `consulted_ms`, `outcome` (completed, returned, requeued or
        abandoned) and, when it was not completed, `reason`."""

    async def note_recording(self, contact_id: str, recording: dict[str, Any]) -> Any:
        """Add one recording to the contact's record: `file` (a name in the node's
        recordings directory), `started_ms`, `ended_ms`, `reason` (queue or agent)."""

    async def note_hold_started(self, contact_id: str, at_ms: int) -> Any:
        """The caller is on hold (the agent's phone or desktop) since `at_ms`, until
        `note_hold`."""

    async def note_hold(self, contact_id: str, hold: dict[str, Any]) -> Any:
        """Add one hold by the agent's phone to the contact's record: `at_ms`, `held_ms`,
        `agent`."""

    async def note_recording_paused(self, contact_id: str, at_ms: int, by: str) -> Any:
        """`by` paused the call's recording at `at_ms`: the contact shows it, the agent's
        desktop hears it, until `note_recording_resumed`."""

    async def note_recording_resumed(self, contact_id: str, ended: str) -> Any:
        """The pause ended: `ended` is resumed, pause_max_s or recording_ended."""

    async def note_timestamps(
        self, contact_id: str, call_arrived_at: int | None = None, ivr_done_at: int | None = None
    ) -> Any:
        """Times only telephony sees (INVITE arrival, end of the IVR), ms since the epoch."""

    async def note_ivr_outcome(self, outcome: dict[str, Any]) -> Any:
        """An answered call's one IVR outcome (docs/telephony.md, "IVR outcomes"):
        `outcome` (routed, hung_up, closed or failed), `stage` (telephony.ivr.Stage),
        `contact_id` when routed, `reason` when failed, `queue`, `region`, `dialled`,
        `language`, `node`, `answered_at` and `ended_at` (ms), and `call` (the call's
        id: one outcome per call)."""


class NodeRoutingPort(RoutingPort, Protocol):
    """What the node's voice front door reads beyond its workers' calls."""

    async def ringing_at_node(self, node: str) -> list[tuple[Contact, int]]:
        """The node's contacts ringing at an agent now, with each ring's deadline (ms)."""
        ...


class RatingPort(Protocol):
    async def add(self, contact_id: str, score: int, channel: str) -> bool:
        """Record a contact's 1-5 rating once; False when it was already rated."""
        ...


class AuditPort(Protocol):
    async def audit(self, actor: str, action: str, **detail: Any) -> None:
        """One audit entry: who (a supervisor's id) did what, on which contact."""
        ...


class CallMetrics(Protocol):
    """Where the node counts its SIP calls (`router.metrics.Metrics`)."""

    def sip_call(self, outcome: str) -> None:
        """One call of this node ended with `outcome` (completed, abandoned, worker_lost...)."""
        ...

    def worker_restarted(self) -> None: ...

    def ivr_call(self, outcome: str, stage: str) -> None:
        """One answered call left the IVR: routed, hung_up, closed or failed, in `stage`."""
        ...
