"""What a node's configuration file says about routing (its queues and region names), so
that nodes started from different files can be told apart and the difference named."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from router.model import QueueConfig


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
