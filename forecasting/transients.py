"""Transients: a run of days far off the level that came back (a mailing, a campaign, an
incident that doubled or halved the calls for a few days).

Robust smoothing (`estimator.clip_days`) reads two days in a row beyond its bound on the
same side as the level moving: a channel moved out, a product moved in. A three-day
mailing at twice the calls is such a run too, and read so it became the level: the week
after was forecast 30 % high, and seasonal naive copied the doubled days into it. What
tells them apart is what follows. A run followed by a day back at the level from before
it, and clearly off the run's own level, did not move the level: it is left out of the
level, the weekday factors, the shapes and the baselines, as a freak day is, and named in
a note. A run still going at the end of history has shown no return yet: it moves the
level as before (a real step is followed at once).

"Far off" is the bound of robust smoothing: `CLIP_SIGMAS` robust standard deviations of
the day-to-day deviations of the queue's own totals from the level known the day before,
the day-level noise the model measures, not a fixed ratio.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np

from forecasting.model import FloatArray

MAX_DAYS = 10  # a longer run is a season or a step, not a transient: the level follows it


@dataclass(frozen=True)
class Run:
    """Days `first`..`last` (indices into the history) of queue `queue` that ran `ratio`
    times the level before them and came back."""

    queue: int
    first: int
    last: int
    ratio: float


def came_back(z: FloatArray, start: int, level: float, bound: float, min_days: int) -> int:
    """The end (exclusive) of the run beyond `bound` (in log) of `level` that starts at
    `start` of the totals `z`, if it is a transient: at least `min_days` and at most
    `MAX_DAYS` long, followed by a day within the bound of `level` and beyond it of the
    run's own mean (back where it was, not a smaller step). `start` itself when it is not
    (a single freak day, a step, or a run still going at the end of `z`)."""
    side = np.sign(np.log(z[start] / level))
    end = start
    while end < z.size and side * np.log(z[end] / level) > bound:
        end += 1
    length = end - start
    if end >= z.size or length < min_days or length > MAX_DAYS:
        return start
    run_level = float(np.mean(z[start:end]))
    back = abs(np.log(z[end] / level)) <= bound < abs(np.log(z[end] / run_level))
    return end if back else start


def notes(runs: list[Run], queues: list[str], date_of: Callable[[int], date]) -> list[str]:
    """One line per transient, naming its days and its ratio to the ordinary days."""
    lines = []
    for run in runs:
        first, last = date_of(run.first), date_of(run.last)
        days = first.isoformat() if first == last else f"{first.isoformat()}..{last:%m-%d}"
        lines.append(
            f"history {queues[run.queue]}: {days} ran ×{run.ratio:.1f} of ordinary days "
            "and came back: left out as a transient; give them as an event if they will recur"
        )
    return lines
