"""Implicit break placement: count breaks per start time, place them on shifts afterwards.

A break rule's window follows its shift's start ("1.5 to 2.5 h in"), so for agents
who are interchangeable (a cell) it does not matter which shift takes which break,
only how many breaks start at each time. With the windows ordered (sorted by first
start, their last starts are sorted too: no window strictly inside another, which
holds whenever every window has the same width), breaks can be handed to shifts
first come first served, and that works exactly when, at every time t,

    closed by t  <=  started by t  <=  opened by t

(shifts whose window has closed, breaks started, shifts whose window has opened)

(Bechtold and Jacobs' implicit break placement, in the form for ordered windows).
Models then carry one count per start time and a running sum instead of one
variable per shift and start: their size no longer grows with the shifts times the
window, and `place` puts every break on a shift afterwards without loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from scheduler.model import Rules

Window = tuple[int, int]  # first and last allowed start interval (a contiguous range)


def ordered(windows: Sequence[Window]) -> bool:
    """Sorted by first start, the last starts never fall (no window inside another)."""
    last = -1
    for _first, end in sorted(windows):
        if end < last:
            return False
        last = end
    return True


def window(starts: Sequence[int]) -> Window | None:
    """A shift's allowed break starts as a window, None when they are not contiguous."""
    if not starts:
        return None
    first, last = min(starts), max(starts)
    return (first, last) if last - first + 1 == len(starts) else None


def runs(windows: Sequence[Window]) -> list[Window]:
    """The spans covered by overlapping windows, in order (one per day, mostly)."""
    found: list[Window] = []
    for first, last in sorted(windows):
        if found and first <= found[-1][1]:
            found[-1] = (found[-1][0], max(found[-1][1], last))
        else:
            found.append((first, last))
    return found


def independent(rules: Rules, interval: timedelta) -> bool:
    """No two break rules can clash inside one shift: their windows after the start, with
    the break's length (and one interval more between two of the same activity, whose
    segments would otherwise merge), never overlap. Then each rule is placed on its own."""
    spans = []
    for rule in rules.breaks:
        first = int(rule.earliest_after_start / interval)
        last = int(rule.latest_after_start / interval) + int(rule.length / interval)
        spans.append((first, last, rule.activity))
    for n, (first, last, activity) in enumerate(spans):
        for other_first, other_last, other_activity in spans[n + 1 :]:
            gap = 1 if activity == other_activity else 0
            if first < other_last + gap and other_first < last + gap:
                return False
    return True


def place(windows: Sequence[Window], starts: Sequence[int]) -> list[int] | None:
    """One break start per window, first come first served: the k-th earliest start to
    the k-th window in order; None when the counts do not allow it (see module doc)."""
    if len(windows) != len(starts):
        return None
    order = sorted(range(len(windows)), key=lambda n: windows[n])
    placed = [-1] * len(windows)
    for n, start in zip(order, sorted(starts), strict=True):
        first, last = windows[n]
        if not first <= start <= last:
            return None
        placed[n] = start
    return placed
