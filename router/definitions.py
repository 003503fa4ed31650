"""Routing definitions: a queue or an agent made from the fields a definition gives (the
node's file, an admin's PUT, a roster), and what a node's configuration file says about
routing (its queues and region names), so that nodes started from different files can be
told apart and the difference named.

The fields are validated before they come here (`switchboard.http.schemas.QueueDefinition`,
for the file and the API alike); the defaults are `QueueConfig`'s, and the two that depend
on the node are filled in here, once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from router.model import QueueConfig


def queue_from(name: str, given: Mapping[str, Any], ring_s: float) -> QueueConfig:
    """The queue `name` from the fields its definition gives, validated: a field left out
    (or None) takes `QueueConfig`'s default, but for two that depend on where it is
    defined: `skill` is the queue's name, and `ring_s` the node's
    `[routing].offer_timeout_s` (`ring_s` here). Fallback languages are kept once each."""
    fields = dict(given)
    fields["skill"] = fields.get("skill") or name
    if fields.get("ring_s") is None:
        fields["ring_s"] = ring_s
    if "fallback_languages" in fields:
        fields["fallback_languages"] = tuple(dict.fromkeys(fields["fallback_languages"]))
    return QueueConfig(name=name, **fields)


def agent_capacity(max_chats: int, given: Mapping[str, int] | None = None) -> dict[str, int]:
    """An agent's capacity: what `given` says, per channel, and for a channel it does not
    name 1 voice call and the node's `[routing].max_chats` chats (`max_chats`)."""
    return {"voice": 1, "chat": max_chats, **(given or {})}


@dataclass(frozen=True)
class Definitions:
    """The routing definitions of a configuration file, as nodes must agree on them: each
    queue's fields (as JSON writes them) and the region names. Files that agree have the
    same `fingerprint`."""

    queues: Mapping[str, Mapping[str, Any]]
    regions: frozenset[str]

    @classmethod
    def of(cls, queues: Iterable[QueueConfig], regions: Iterable[str]) -> Definitions:
        return cls({queue.name: queue.as_json() for queue in queues}, frozenset(regions))

    @classmethod
    def from_json(cls, fields: Mapping[str, Any]) -> Definitions:
        return cls(dict(fields.get("queues") or {}), frozenset(fields.get("regions") or ()))

    def as_json(self) -> dict[str, Any]:
        return {"queues": dict(sorted(self.queues.items())), "regions": sorted(self.regions)}

    @property
    def fingerprint(self) -> str:
        text = json.dumps(self.as_json(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Difference:
    """One key on which two files' definitions differ: a queue's field
    (`booking.wrap_up_s`), a queue (`queue vip`) or a region (`region asia-east`) that
    one of them has, with each side's value."""

    key: str
    theirs: str
    mine: str

    def __str__(self) -> str:
        return f"{self.key}: {self.theirs} vs {self.mine}"


def differences(theirs: Definitions, mine: Definitions) -> list[Difference]:
    """Every key on which `mine` differs from `theirs`, queue by queue, then regions."""
    found = []
    for name in sorted(theirs.queues.keys() | mine.queues.keys()):
        their, my = theirs.queues.get(name), mine.queues.get(name)
        if their is None or my is None:
            found.append(Difference(f"queue {name}", _has(their), _has(my)))
            continue
        for key in [*their, *(key for key in my if key not in their)]:
            if their.get(key) != my.get(key):
                found.append(
                    Difference(f"{name}.{key}", _shown(their.get(key)), _shown(my.get(key)))
                )
    for region in sorted(theirs.regions ^ mine.regions):
        listed = ("listed", "absent") if region in theirs.regions else ("absent", "listed")
        found.append(Difference(f"region {region}", *listed))
    return found


def _has(queue: object) -> str:
    return "absent" if queue is None else "defined"


def _shown(value: object) -> str:
    return json.dumps(value)
