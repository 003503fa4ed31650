"""Per-call records into interval history: the one aggregation every importer shares.

An importer reads its format into `Call`s (arrival, queue, handle time if handled);
`Intervals` counts them per interval of the centre's local wall clock and queue, and
averages the handle time of the handled ones. Keeping this in one place means a contact
counts the same way, and AHT means the same thing, whatever system the records came from.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from forecasting.model import HistoryRow


@dataclass(frozen=True, slots=True)
class Call:
    """One offered contact: when and where it arrived, and its handle time if handled."""

    arrived: datetime  # aware
    queue: str
    handle_s: float | None = None  # > 0 for a handled call; None or 0: not handled


@dataclass
class Imported:
    """What an importer made of a file: history rows and an account of every line."""

    rows: list[HistoryRow]
    calls: int
    handled: int
    # reason -> lines that carried no call and were left out (printed by the CLI)
    skipped: Counter[str] = field(default_factory=Counter)
    # further facts a planner should see (calls without an outcome, ...)
    notes: list[str] = field(default_factory=list)


class Intervals:
    """Contacts per (interval, queue) and the mean handle time of the handled ones.

    Intervals are `width_min` wide on the local wall clock of `zone` (each arrival's
    own UTC offset when `zone` is None), so a day always has the same slots; across a
    daylight-saving switch the repeated hour gives two intervals with different offsets.
    """

    def __init__(self, width_min: int, zone: tzinfo | None) -> None:
        self.width_min = width_min
        self.zone = zone
        self._starts: dict[int, datetime] = {}  # epoch second -> aware interval start
        self._counts: Counter[tuple[int, str]] = Counter()
        self._handle_sum: defaultdict[tuple[int, str], float] = defaultdict(float)
        self._handled: Counter[tuple[int, str]] = Counter()

    def add(self, call: Call) -> None:
        local = call.arrived.astimezone(self.zone) if self.zone else call.arrived
        minute = (local.hour * 60 + local.minute) // self.width_min * self.width_min
        start = local.replace(hour=minute // 60, minute=minute % 60, second=0, microsecond=0)
        epoch = int(start.timestamp())
        if epoch not in self._starts:
            # through the epoch, so that a wall time the zone skips reads as a real one
            self._starts[epoch] = datetime.fromtimestamp(epoch, start.tzinfo)
        key = (epoch, call.queue)
        self._counts[key] += 1
        if call.handle_s is not None and call.handle_s > 0:
            self._handle_sum[key] += call.handle_s
            self._handled[key] += 1

    def add_all(self, calls: Iterable[Call]) -> None:
        for call in calls:
            self.add(call)

    @property
    def calls(self) -> int:
        return sum(self._counts.values())

    @property
    def handled(self) -> int:
        return sum(self._handled.values())

    def rows(self) -> list[HistoryRow]:
        """History rows in time order, then queue order."""
        rows = []
        for key in sorted(self._counts):
            epoch, queue = key
            handled = self._handled.get(key, 0)
            aht = self._handle_sum[key] / handled if handled else None
            rows.append(HistoryRow(self._starts[epoch], queue, float(self._counts[key]), aht))
        return rows

    def result(
        self, skipped: Counter[str] | None = None, notes: list[str] | None = None
    ) -> Imported:
        return Imported(self.rows(), self.calls, self.handled, skipped or Counter(), notes or [])
