"""SLA timers in business time: pure arithmetic on opening hours and a holiday calendar.

A timer counts the seconds a case is *owed* an answer: only while the region is open
(its `OpeningHours`, holidays of its `HolidayCalendar` closed), or around the clock for
emergency queues. It can pause (the case waits on the customer) and resume, and knows
the wall time at which it reaches a share of its target (the warning) and the target
itself (the breach), so that the node sleeps until then instead of polling each case.

Times are milliseconds since the epoch, as everywhere in the routing state; the window
of a day is taken in the region's own time zone, so a daylight-saving change moves it
with the local clock. A window that opens on a holiday (by local date) is closed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from switchboard.common.calendar import HolidayCalendar
from switchboard.common.hours import OpeningHours, parse_clock

# How far ahead an addition may look for open time before giving up (hours that never
# open, or a calendar closing every day, would otherwise search forever).
HORIZON_DAYS = 800


@dataclass(frozen=True)
class BusinessClock:
    """Counts time inside opening hours, skipping holidays; `around_the_clock` counts
    every second (emergency queues)."""

    hours: OpeningHours = field(default_factory=OpeningHours)
    calendar: HolidayCalendar = field(default_factory=HolidayCalendar)
    around_the_clock: bool = False

    def windows(self, start_ms: int) -> Iterator[tuple[int, int]]:
        """Open windows (start, end) in ms, in time order, from the one holding or
        following `start_ms`; finite: at most HORIZON_DAYS days are looked at."""
        zone = self.hours.zone
        opens, closes = parse_clock(self.hours.open), parse_clock(self.hours.close)
        if opens == closes:
            return  # never open
        overnight = closes < opens
        first = dt.datetime.fromtimestamp(start_ms / 1000, zone).date() - dt.timedelta(days=1)
        for offset in range(HORIZON_DAYS + 1):
            day = first + dt.timedelta(days=offset)
            if self.calendar.is_holiday(day):
                continue
            begin = _at(day, opens, zone)
            end = _at(day + dt.timedelta(days=1) if overnight else day, closes, zone)
            if end > start_ms:
                yield max(begin, start_ms), end

    def elapsed_s(self, start_ms: int, end_ms: int) -> float:
        """Business seconds between two times (0 when `end_ms` is not after `start_ms`)."""
        if end_ms <= start_ms:
            return 0.0
        if self.around_the_clock:
            return (end_ms - start_ms) / 1000
        total = 0
        for begin, end in self.windows(start_ms):
            if begin >= end_ms:
                break
            total += min(end, end_ms) - begin
        return total / 1000

    def add(self, start_ms: int, seconds: float) -> int | None:
        """The wall time at which `seconds` of business time have passed since
        `start_ms`; None when the hours do not open within the horizon."""
        if seconds <= 0:
            return start_ms
        if self.around_the_clock:
            return start_ms + round(seconds * 1000)
        left = round(seconds * 1000)
        for begin, end in self.windows(start_ms):
            if end - begin >= left:
                return begin + left
            left -= end - begin
        return None


def _at(day: dt.date, clock: dt.time, zone: dt.tzinfo) -> int:
    """Local `clock` on `day` in ms since the epoch (24:00 is the next midnight)."""
    if clock == dt.time.max:
        day, clock = day + dt.timedelta(days=1), dt.time(0)
    return int(dt.datetime.combine(day, clock, tzinfo=zone).timestamp() * 1000)


class TimerKind(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


class TimerState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


class Alarm(StrEnum):
    WARNING = "warning"
    BREACH = "breach"


@dataclass
class Timer:
    """One SLA target being counted for a case.

    `spent` business seconds were counted before `since_ms`; while running, the time
    since `since_ms` counts too. A breach is remembered (`breached_ms`) and the timer
    keeps counting until the response comes, so reports see the real response time. A
    response timer stopped without any response (the case solved or closed first) is
    `unanswered`: no response time, and not met."""

    kind: TimerKind
    target_s: float
    started_ms: int
    spent_s: float = 0.0
    since_ms: int = 0
    stopped_ms: int = 0
    warned: bool = False
    breached_ms: int = 0
    unanswered: bool = False

    @classmethod
    def start(cls, kind: TimerKind, target_s: float, at_ms: int) -> Timer:
        return cls(kind, target_s, started_ms=at_ms, since_ms=at_ms)

    @property
    def state(self) -> TimerState:
        if self.stopped_ms:
            return TimerState.STOPPED
        return TimerState.RUNNING if self.since_ms else TimerState.PAUSED

    @property
    def breached(self) -> bool:
        return bool(self.breached_ms)

    @property
    def outcome(self) -> str | None:
        """How a stopped timer ended (None: not stopped): `breached` (its target passed,
        answered late or never), `cancelled` (a response timer stopped without a response
        before its target: neither met nor missed), else `met`."""
        if self.state != TimerState.STOPPED:
            return None
        if self.breached or self.spent_s > self.target_s:  # late before a tick saw it
            return "breached"
        return "cancelled" if self.unanswered else "met"

    def spent_at(self, clock: BusinessClock, at_ms: int) -> float:
        """Business seconds counted by `at_ms`."""
        if self.state != TimerState.RUNNING:
            return self.spent_s
        return self.spent_s + clock.elapsed_s(self.since_ms, at_ms)

    def pause(self, clock: BusinessClock, at_ms: int) -> None:
        if self.state == TimerState.RUNNING:
            self.spent_s = self.spent_at(clock, at_ms)
            self.since_ms = 0

    def resume(self, at_ms: int) -> None:
        if self.state == TimerState.PAUSED:
            self.since_ms = at_ms

    def stop(self, clock: BusinessClock, at_ms: int, *, answered: bool = True) -> None:
        """Stop counting; `answered` False: a response timer ended without a response."""
        if self.state != TimerState.STOPPED:
            self.spent_s = self.spent_at(clock, at_ms)
            self.since_ms = 0
            self.stopped_ms = at_ms
            self.unanswered = not answered

    def reaches_ms(self, clock: BusinessClock, seconds: float) -> int | None:
        """When a running timer will have counted `seconds` (None: paused, stopped, or
        never within the horizon)."""
        if self.state != TimerState.RUNNING:
            return None
        return clock.add(self.since_ms, seconds - self.spent_s)

    def next_alarm(self, clock: BusinessClock, warn_share: float) -> tuple[Alarm, int] | None:
        """The next alarm this timer has still to raise, and when."""
        if self.state != TimerState.RUNNING or self.breached:
            return None
        if not self.warned and 0 < warn_share < 1:
            at = self.reaches_ms(clock, self.target_s * warn_share)
            return (Alarm.WARNING, at) if at is not None else None
        at = self.reaches_ms(clock, self.target_s)
        return (Alarm.BREACH, at) if at is not None else None

    def due_alarms(self, clock: BusinessClock, warn_share: float, at_ms: int) -> list[Alarm]:
        """The alarms due by `at_ms` that have not been raised yet, in order; marks them
        raised (a timer warns once and breaches once)."""
        raised = []
        while (alarm := self.next_alarm(clock, warn_share)) is not None and alarm[1] <= at_ms:
            if alarm[0] == Alarm.WARNING:
                self.warned = True
            else:
                self.warned = True
                self.breached_ms = alarm[1]
            raised.append(alarm[0])
        return raised

    def remaining_s(self, clock: BusinessClock, at_ms: int) -> float:
        return self.target_s - self.spent_at(clock, at_ms)

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "target_s": self.target_s,
            "started_ms": self.started_ms,
            "spent_s": self.spent_s,
            "since_ms": self.since_ms,
            "stopped_ms": self.stopped_ms,
            "warned": self.warned,
            "breached_ms": self.breached_ms,
            "unanswered": self.unanswered,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Timer:
        return cls(
            kind=TimerKind(str(data["kind"])),
            target_s=float(str(data["target_s"])),
            started_ms=int(str(data["started_ms"])),
            spent_s=float(str(data.get("spent_s", 0))),
            since_ms=int(str(data.get("since_ms", 0))),
            stopped_ms=int(str(data.get("stopped_ms", 0))),
            warned=bool(data.get("warned", False)),
            breached_ms=int(str(data.get("breached_ms", 0))),
            unanswered=bool(data.get("unanswered", False)),
        )
