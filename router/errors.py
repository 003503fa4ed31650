"""What the routing core refuses, as exceptions the HTTP layer maps to statuses once."""

from __future__ import annotations


class UnknownContact(LookupError):
    """No contact with this id (404)."""


class UnknownAgent(LookupError):
    """No agent with this id (404)."""


class UnknownUser(LookupError):
    """No user (staff account) with this id (404)."""


class UnknownCase(LookupError):
    """No case with this id (404)."""


class UnknownAdvisory(LookupError):
    """No advisory with this id, or it has expired (404)."""


class UnknownRecording(LookupError):
    """The contact has no recording kept on this node (404)."""


class UnknownQueue(LookupError):
    """The queue is not published on this Redis (no node configured it)."""


class RoutingError(ValueError):
    """A request the contact's current state does not allow (409 over HTTP)."""


class Forbidden(PermissionError):
    """The actor has no relationship with the contact, agent or queue that allows this (403)."""


class Unauthenticated(PermissionError):
    """No valid credentials for a request that needs them (401)."""


class BadCredentials(PermissionError):
    """Unknown user or wrong password, said alike (401)."""


class TooManyAttempts(PermissionError):
    """Login refused for a while after repeated failures (429 with Retry-After)."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"too many failed logins; retry in {retry_after_s:.0f} s")
        self.retry_after_s = retry_after_s


class InvalidInput(ValueError):
    """A request whose content is wrong in a way only the use case can tell (400)."""

    def __init__(self, field: str, expected: str, found: object = None) -> None:
        super().__init__(f"{field}: expected {expected}")
        self.field = field
        self.expected = expected
        self.found = found
