"""What telephony needs from the routing core, as a Protocol.

Worker code depends on `RoutingPort` only: the node passes its `router.service.Router`
(which satisfies it structurally), a worker process passes the pipe client in
`telephony.pipe`, and unit tests may pass a fake. Post-call survey ratings go through
`RatingPort`: `router.reports.survey.RatingStore` on the node, `telephony.pipe.PipeRatings` in a
worker process.
"""

from __future__ import annotations

from typing import Any, Protocol

from router.model import Contact, NewContact


class RoutingPort(Protocol):
    async def create_contact(self, new: NewContact) -> Contact: ...

    async def get_contact(self, contact_id: str) -> Contact: ...

    async def accept(self, contact_id: str, agent_id: str) -> Contact: ...

    async def decline(self, contact_id: str, agent_id: str, reason: str = "no_answer") -> Any: ...

    async def complete(self, contact_id: str, agent_id: str | None = None) -> Any: ...

    async def abandon(self, contact_id: str, reason: str = "caller_hangup") -> Any: ...

    async def fail(self, contact_id: str, reason: str) -> Any: ...

    async def position(self, contact_id: str) -> Any:
        """An object with `position: int` and `ewt_s: float`."""

    async def request_callback(self, contact_id: str, callback_uri: str) -> Any: ...

    async def transfer(
        self,
        contact_id: str,
        agent_id: str,
        to_queue: str | None = None,
        to_agent: str | None = None,
    ) -> Any: ...


class RatingPort(Protocol):
    async def add(self, contact_id: str, score: int, channel: str) -> bool:
        """Record a contact's 1-5 rating once; False when it was already rated."""
        ...
