"""Outgoing webhooks: contact, case and SLA events to a CRM, signed, in order, retried.

Events are written to one outbox stream in the same atomic step as the change they
describe (`CaseStore.commit`), so none is lost with a node. Each webhook has a cursor in
that stream and a lease: one node at a time delivers it, event after event, so the
receiver sees them in the order they happened. A delivery is a POST of the event as JSON:

    X-Switchboard-Event: case.created
    X-Switchboard-Delivery: <the event's id: the same on every retry>
    X-Switchboard-Timestamp: <unix seconds>
    X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>

A 2xx answer delivers it. A 5xx, 408, 429 or a network failure is retried after
`backoff`, doubling up to `max_backoff`, `max_attempts` times in all; then, or at once for
any other 4xx (the receiver will never take it) or a 3xx, the event goes to the webhook's
dead-letter list (admins read it) and delivery moves on. A redirect is never followed:
it would turn the POST into a bodiless GET and carry the X-Switchboard-* headers to
whatever host Location names, and a moved endpoint is a url to fix, not a retry.

An admin may put a dead letter back (`redeliver`): it goes out again, with its delivery
id, before the webhook's next outbox event.

How each delivery ended (delivered, or dead-lettered) is told to the `observer`, when
there is one (advisories count their warnings' deliveries).
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from router.cases.model import WebhookSettings
from router.cases.store import CaseStore, OutboxEntry
from switchboard.common.clock import iso_utc

log = logging.getLogger(__name__)

LEASE_MS = 30_000
RENEW_S = 10.0  # a waiting delivery renews its lease this often
POLL_S = 0.5  # how often an idle delivery looks for new events
RETRY_STATUSES = frozenset({408, 429})
# Every event type a webhook can receive, in the order docs/cases.md's table lists them
# (a test holds the two together).
EVENT_TYPES = (
    "case.created",
    "case.contact_linked",
    "case.updated",
    "case.note_added",
    "case.status_changed",
    "sla.warning",
    "sla.breached",
    "contact.created",
    "contact.ended",
    "contact.emotion",
    "contact.wrapped_up",
    "contact.rated",
    "customer.advisory",
    "customer.advisory_ended",
)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for a body sent at `timestamp` (unix seconds)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now_s: float,
    tolerance_s: float = 300.0,
) -> bool:
    """What a receiver checks: the signature, and a timestamp close to its clock (replays)."""
    try:
        fresh = abs(now_s - float(timestamp)) <= tolerance_s
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)


def wanted(patterns: Sequence[str], event_type: str) -> bool:
    return any(fnmatch.fnmatchcase(event_type, pattern) for pattern in patterns)


class UnknownWebhook(LookupError):
    """No webhook of that name in the configuration, or no dead letter of that id in a
    webhook's list (404): the message says which, with the names given cut short."""


class DeliveryObserver(Protocol):
    """Told how each delivery ended: delivered, or dead-lettered (`delivered` False)."""

    async def delivery(
        self, webhook: str, event_id: str, event: dict[str, Any], delivered: bool
    ) -> None: ...


@dataclass(frozen=True)
class Attempt:
    status: int | None  # None: no answer (network, timeout)
    error: str = ""

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status >= 500 or self.status in RETRY_STATUSES


class WebhookDelivery:
    """Delivers each configured webhook from the outbox while the node runs."""

    def __init__(
        self,
        store: CaseStore,
        webhooks: Sequence[WebhookSettings],
        *,
        node_id: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.webhooks = list(webhooks)
        self.holder = f"{node_id or 'node'}:{uuid.uuid4().hex[:8]}"
        self.clock = clock
        self.observer: DeliveryObserver | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """One delivery loop per webhook, until stopped."""
        await asyncio.gather(*(self._serve(hook, stop) for hook in self.webhooks))

    async def _serve(self, hook: WebhookSettings, stop: asyncio.Event) -> None:
        timeout = aiohttp.ClientTimeout(total=hook.timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            try:
                while not stop.is_set():
                    busy = False
                    try:
                        if await self.store.hold_lease(hook.name, self.holder, LEASE_MS):
                            busy = await self._deliver_pending(hook, session, stop)
                    except Exception as failure:  # Redis down: retry later, never fatal
                        log.warning("webhook %s: %s", hook.name, failure)
                    if not busy:
                        await _wait(stop, POLL_S)
            finally:
                with contextlib.suppress(Exception):
                    await self.store.release_lease(hook.name, self.holder)

    async def _deliver_pending(
        self, hook: WebhookSettings, session: aiohttp.ClientSession, stop: asyncio.Event
    ) -> bool:
        """Deliver what is after the cursor, in order; False when there was nothing."""
        if await self._redeliver_one(hook, session, stop):
            return True
        cursor = await self.store.cursor(hook.name)
        if cursor is None:  # first served: from now on, not the outbox's past
            await self.store.start_cursor(hook.name, await self.store.outbox_head())
            cursor = await self.store.cursor(hook.name) or ""
        entries = await self.store.outbox_after(cursor, 100)
        for entry in entries:
            if stop.is_set():
                return True
            kind = str(entry.event.get("type", ""))
            if wanted(hook.events, kind) and not await self._deliver(hook, session, entry, stop):
                return True  # lease lost or stopping: another turn decides
            if not await self.store.set_cursor(hook.name, entry.entry_id, self.holder):
                return True
        return bool(entries)

    async def _deliver(
        self,
        hook: WebhookSettings,
        session: aiohttp.ClientSession,
        entry: OutboxEntry,
        stop: asyncio.Event,
    ) -> bool:
        """Post one event until it is delivered or dead-lettered; False if the lease was
        lost or the node stops before either."""
        body = json.dumps({"id": entry.entry_id, **entry.event}, separators=(",", ":")).encode()
        attempt = Attempt(None)
        for number in range(1, hook.max_attempts + 1):
            if not await self.store.hold_lease(hook.name, self.holder, LEASE_MS):
                return False
            attempt = await self._post(session, hook, entry, body)
            if attempt.delivered:
                await self._observed(hook, entry, True)
                return True
            log.warning(
                "webhook %s: event %s attempt %d failed: %s",
                hook.name,
                entry.entry_id,
                number,
                attempt.error or attempt.status,
            )
            if not attempt.retryable or number == hook.max_attempts:
                break
            delay = min(hook.backoff_s * 2 ** (number - 1), hook.max_backoff_s)
            if not await self._back_off(hook, delay, stop):
                return False
        await self.store.dead_letter(
            hook.name,
            {
                "id": entry.entry_id,
                "event": entry.event,
                "attempts": number,
                "status": attempt.status,
                "error": attempt.error,
                "at": iso_utc(int(self.clock() * 1000)),
            },
        )
        await self._observed(hook, entry, False)
        return True

    async def _observed(self, hook: WebhookSettings, entry: OutboxEntry, delivered: bool) -> None:
        """Tell the observer how a delivery ended; its failure never stops delivery."""
        if self.observer is None:
            return
        try:
            await self.observer.delivery(hook.name, entry.entry_id, entry.event, delivered)
        except Exception as failure:  # Redis down: the count misses one, delivery goes on
            log.warning("webhook %s: event %s not counted: %s", hook.name, entry.entry_id, failure)

    async def _redeliver_one(
        self, hook: WebhookSettings, session: aiohttp.ClientSession, stop: asyncio.Event
    ) -> bool:
        """Send the oldest dead letter an admin put back, with its delivery id; False when
        there is none. Delivered or dead again, it leaves the list."""
        row = await self.store.next_redelivery(hook.name)
        if row is None:
            return False
        letter = json.loads(row)
        entry = OutboxEntry(str(letter["id"]), dict(letter["event"]))
        if await self._deliver(hook, session, entry, stop) and await self.store.hold_lease(
            hook.name, self.holder, LEASE_MS
        ):
            await self.store.drop_redelivery(hook.name, row)
        return True

    async def redeliver(self, name: str, delivery_id: str) -> None:
        """Put a webhook's dead letter back for delivery (after the receiver is fixed);
        UnknownWebhook when there is no such webhook, or it has no dead letter of that id."""
        self._require_webhook(name)
        if not await self.store.redeliver(name, delivery_id):
            raise UnknownWebhook(f"no dead letter {delivery_id[:64]!r} in {name[:64]!r}")

    async def dead_letters(self, name: str, count: int) -> list[dict[str, Any]]:
        """A webhook's dead letters, newest first; `at` as ISO 8601 also for those kept
        before it was (seconds then). UnknownWebhook for a name not configured."""
        self._require_webhook(name)
        letters = await self.store.dead_letters(name, count)
        for letter in letters:
            if isinstance(letter.get("at"), int | float):
                letter["at"] = iso_utc(int(letter["at"] * 1000))
        return letters

    async def _post(
        self,
        session: aiohttp.ClientSession,
        hook: WebhookSettings,
        entry: OutboxEntry,
        body: bytes,
    ) -> Attempt:
        timestamp = str(int(self.clock()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "switchboard-webhooks",
            "X-Switchboard-Event": str(entry.event.get("type", "")),
            "X-Switchboard-Delivery": entry.entry_id,
            "X-Switchboard-Timestamp": timestamp,
            "X-Switchboard-Signature": sign(hook.secret, timestamp, body),
        }
        try:
            async with session.post(
                hook.url, data=body, headers=headers, allow_redirects=False
            ) as response:
                await response.read()
                return Attempt(response.status, _failure(response))
        except (aiohttp.ClientError, TimeoutError) as failure:
            return Attempt(None, f"{type(failure).__name__}: {failure}")

    async def _back_off(self, hook: WebhookSettings, delay_s: float, stop: asyncio.Event) -> bool:
        """Wait before a retry, keeping the lease; False if it was lost or we stop."""
        loop = asyncio.get_running_loop()
        until = loop.time() + delay_s
        while (left := until - loop.time()) > 0:
            if await _wait(stop, min(left, RENEW_S)):
                return False
            if not await self.store.hold_lease(hook.name, self.holder, LEASE_MS):
                return False
        return True

    async def status(self) -> list[dict[str, Any]]:
        """Each webhook's backlog and dead letters (for admins)."""
        found = []
        for hook in self.webhooks:
            cursor = await self.store.cursor(hook.name)
            pending = (
                [
                    entry
                    for entry in await self.store.outbox_after(cursor or "", 10_000)
                    if wanted(hook.events, str(entry.event.get("type", "")))
                ]
                if cursor is not None
                else []
            )
            redelivering = await self.store.redelivery_count(hook.name)
            found.append(
                {
                    "name": hook.name,
                    "url": hook.url,
                    "events": list(hook.events),
                    "cursor": cursor,
                    "pending": len(pending) + int(redelivering),
                    "dead_letters": await self.store.dead_count(hook.name),
                }
            )
        return found

    def names(self) -> list[str]:
        return [hook.name for hook in self.webhooks]

    def _require_webhook(self, name: str) -> None:
        if name not in self.names():
            raise UnknownWebhook(f"no such webhook {name[:64]!r}")


def _failure(response: aiohttp.ClientResponse) -> str:
    """Why an answer is not a delivery ('' for a 2xx); a redirect names where to."""
    if response.status < 300:
        return ""
    if response.status >= 400:
        return response.reason or ""
    location = response.headers.get("Location", "")[:500]
    moved = f"{response.status} {response.reason or ''}".strip()
    return f"{moved}: redirect to {location!r} not followed (fix the webhook's url)"


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep, or less if stopped; True when stopped."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()
