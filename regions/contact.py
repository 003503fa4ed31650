"""This node's contact with Redis, as its own round trips show it, so that a Redis outage
is not taken for the death of every node.

During an outage no node can beat, so every heartbeat may lapse at once, the live
nodes' too; they beat again within moments of Redis coming back. A node that lost Redis
therefore judges no other node dead until it has reached Redis again without a break
for a whole heartbeat TTL: by then every live node has beaten again. Customers' chat
windows run out in an outage too: the node judges them by the same contact, for longer
(`router.contacts.Contacts._may_judge`), and those that ran out before it started (while
no node may have run) by how long it has been up (`up_s`)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class RedisContact:
    def __init__(
        self, settle_s: float, max_gap_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """`settle_s`: how long the contact must have lasted before this node judges;
        `max_gap_s`: two successful round trips further apart than this may hide an
        outage (Redis paused or restarted meanwhile), so the contact starts again."""
        self.settle_s = settle_s
        self.max_gap_s = max_gap_s
        self.clock = clock
        # The process starts in contact (it read Redis to start): it may judge at once.
        self._since = -math.inf
        self._started = clock()
        self._last_reached: float | None = None
        self._lost_at: float | None = None

    def reached(self) -> None:
        """A round trip to Redis succeeded."""
        now, last = self.clock(), self._last_reached
        if self._lost_at is not None:
            out_s = now - (last if last is not None else self._lost_at)
            self._start_again(now, f"Redis reached again after {out_s:.1f} s out of reach")
        elif last is not None and now - last > self.max_gap_s:
            self._start_again(now, f"Redis did not answer for {now - last:.1f} s")
        self._lost_at, self._last_reached = None, now

    def lost(self) -> None:
        """A round trip to Redis failed."""
        if self._lost_at is None:
            self._lost_at = self.clock()

    def doubt(self, why: str) -> None:
        """Redis answers, but lost something this node wrote (its own heartbeat): it was
        out of reach or lost data, and the others' heartbeats may have lapsed too."""
        now = self.clock()
        if self._settled(now):  # said once, not at every check until it is back
            self._start_again(now, why)
        self._since = now

    def settled(self) -> bool:
        """Whether an expired heartbeat now means a dead node, not an outage."""
        return self._settled(self.clock())

    def unbroken_s(self) -> float:
        """How long this node has reached Redis without a break (0 while it does not;
        infinite since the start when it never lost it): what else lapses in an outage
        (a customer's chat window, `router.contacts`) is judged by it too."""
        return self._unbroken_s(self.clock())

    def up_s(self) -> float:
        """How long since this node started (made this at its start): a customer's
        window that ran out before then may have had no node to renew it
        (`router.contacts`)."""
        return self.clock() - self._started

    def _settled(self, now: float) -> bool:
        return self._unbroken_s(now) >= self.settle_s

    def _unbroken_s(self, now: float) -> float:
        return 0.0 if self._lost_at is not None else now - self._since

    def _start_again(self, now: float, why: str) -> None:
        log.warning(
            "%s: no node is taken for dead for %.1f s, while the live ones beat again",
            why,
            self.settle_s,
        )
        self._since = now
