"""Queue statistics from counters: service level, abandonment, handle time. Pure functions.

The waits announced to callers are `router.waits`; `estimate_wait_s` is the plain
k * AHT / N that region placement compares between regions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

DEFAULT_AHT_S = 180.0


@dataclass(frozen=True)
class QueueFigures:
    """A queue's counters over some buckets. `abandoned` (with `abandoned_in_sl` and
    `abandon_wait_ms`) counts the customers who left before an answer and waited at least
    the queue's `short_abandon_s`; those who left sooner (a misdial, a chat opened by
    mistake) are `short_abandoned` alone, in no rate: they are no demand the queue
    failed to serve."""

    offered: int
    answered: int
    answered_in_sl: int
    abandoned: int
    abandoned_in_sl: int
    failed: int
    handled: int
    wait_ms: int
    handle_ms: int
    abandon_wait_ms: int = 0
    departures: int = 0  # answered after waiting in the queue
    departure_gap_ms: int = 0  # time the queue took to move for each of them
    short_abandoned: int = 0  # left before the queue's short_abandon_s (not in abandoned)

    @property
    def service_level(self) -> float | None:
        """Answered within the target time over answered."""
        return self.answered_in_sl / self.answered if self.answered else None

    @property
    def service_level_with_abandons(self) -> float | None:
        """Answered within T over answered plus callers who gave up after T (short
        abandons are in neither)."""
        denominator = self.answered + self.abandoned - self.abandoned_in_sl
        return self.answered_in_sl / denominator if denominator else None

    @property
    def abandonment_rate(self) -> float | None:
        """Abandoned over answered plus abandoned; short abandons are in neither."""
        ended = self.answered + self.abandoned
        return self.abandoned / ended if ended else None

    @property
    def average_speed_of_answer_s(self) -> float | None:
        return self.wait_ms / self.answered / 1000 if self.answered else None

    @property
    def average_handle_time_s(self) -> float | None:
        return self.handle_ms / self.handled / 1000 if self.handled else None

    @property
    def abandon_rate_per_s(self) -> float | None:
        """Abandonments per second spent waiting (θ of exponential patience, its maximum
        likelihood estimate: abandons over the total time callers waited). Short abandons
        are out, count and wait: a misdial says nothing of how long callers will wait."""
        waited_s = (self.wait_ms + self.abandon_wait_ms) / 1000
        return self.abandoned / waited_s if waited_s > 0 else None


def add_buckets(buckets: Iterable[Mapping[str, int]]) -> QueueFigures:
    total: dict[str, int] = {}
    for bucket in buckets:
        for key, value in bucket.items():
            total[key] = total.get(key, 0) + value
    return QueueFigures(
        offered=total.get("offered", 0),
        answered=total.get("answered", 0),
        answered_in_sl=total.get("answered_in_sl", 0),
        abandoned=total.get("abandoned", 0),
        abandoned_in_sl=total.get("abandoned_in_sl", 0),
        failed=total.get("failed", 0),
        handled=total.get("handled", 0),
        wait_ms=total.get("wait_ms", 0),
        handle_ms=total.get("handle_ms", 0),
        abandon_wait_ms=total.get("abandon_wait_ms", 0),
        departures=total.get("departures", 0),
        departure_gap_ms=total.get("departure_gap_ms", 0),
        short_abandoned=total.get("short_abandoned", 0),
    )


def estimate_wait_s(position: int, serving_agents: int, aht_s: float) -> float:
    """Expected wait of the caller at `position` (1 = next) in seconds, without abandonment.
    With nobody serving it counts one agent: a number, not a wait; callers showing it
    pass it through `known_wait_s` (placement takes such a region's as infinite)."""
    if position <= 0:
        return 0.0
    return position * aht_s / max(serving_agents, 1)


# Why a queue shows no estimated wait (`known_wait_s`).
NO_AGENT_SERVING = "no agent with the queue's skill is signed in and ready"


def known_wait_s(ewt_s: float, serving_agents: int) -> float | None:
    """A queue's estimated wait, or None when no agent can serve it (none with its skill
    signed in and ready, `serving_agents` 0). Every estimate then assumes one agent (the
    probe saw 66 s and 144 s for chats nobody could take): whoever comes next is not
    known, so there is no wait to predict (the gauge says NaN; see NO_AGENT_SERVING)."""
    return ewt_s if serving_agents > 0 else None


def occupancy(busy_agents: int, staffed_agents: int) -> float | None:
    """Share of staffed agents handling or offered a contact right now."""
    return busy_agents / staffed_agents if staffed_agents else None
