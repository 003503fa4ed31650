"""What the router's services need from the node around them, as protocols: live events
out (the `EventHub`) and the audit log (`Reports.audit`). One home, for every service."""

from __future__ import annotations

from typing import Any, Protocol


class EventPublisher(Protocol):
    async def publish(self, event: dict[str, Any]) -> None: ...


class Auditor(Protocol):
    async def audit(self, actor: str, action: str, **detail: Any) -> None: ...
