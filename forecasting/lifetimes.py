"""Queues come and go: a queue opened last month, one closed or merged into another.

A new queue's empty months before its first contact are not its normal days (read as
such, they pulled its level to zero), and a closed queue's silence is not a run of
outliers (read as such, it was forecast at its old volume). A queue's life starts at its
first contact; it has ended when the open days since its last contact are too many to be
chance at the volume it had.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from forecasting.model import BoolArray, FloatArray, IntArray

# silence this unlikely under the queue's volume before (Poisson, P = 1/1000) means closed
CLOSED_SURPRISE = math.log(1000.0)
SAME_WEEKDAYS = 4  # a silent day is expected to bring the mean of its last 4 weekdays


@dataclass(frozen=True)
class ClosedQueue:
    """A queue without a contact on the center's last `open_days` open days, from `since`,
    too long to be chance: closed."""

    queue: int
    since: int  # the first open day without a contact (index into the history's days)
    open_days: int
    expected: float  # contacts those days would have brought at the queue's volume before


def in_service(contacts: FloatArray) -> BoolArray:
    """[Q, D] the days from each queue's first contact on."""
    had = contacts.sum(axis=2) > 0
    return np.asarray(np.logical_or.accumulate(had, axis=1), dtype=bool)


def closed_queues(contacts: FloatArray, weekdays: IntArray) -> list[ClosedQueue]:
    """The queues whose contacts stopped while the center stayed open, on evidence: no
    contact on the open days (any contact in any queue) after the queue's last one, where
    those days would have brought E contacts (each the mean of its weekday's last
    `SAME_WEEKDAYS` open days before), with E beyond `CLOSED_SURPRISE`: the chance of the
    silence, e^(-E), is under 1/1000. A weekend-only queue is not closed on a Friday, and
    a small queue needs a long silence. Give complete days only: a day under way has not
    had its evening."""
    totals = contacts.sum(axis=2)  # [Q, D]
    center_open = totals.sum(axis=0) > 0
    found: list[ClosedQueue] = []
    for q in range(totals.shape[0]):
        busy = np.flatnonzero(totals[q] > 0)
        if not busy.size:
            continue  # never had a contact: nothing to judge
        first, last = int(busy[0]), int(busy[-1])
        silent = np.flatnonzero(center_open[last + 1 :]) + last + 1
        if not silent.size:
            continue
        lived = np.arange(first, last + 1)
        lived = lived[center_open[lived]]
        expected = 0.0
        for day in silent:
            same = lived[weekdays[lived] == weekdays[day]][-SAME_WEEKDAYS:]
            expected += float(totals[q, same].mean()) if same.size else 0.0
        if expected > CLOSED_SURPRISE:
            found.append(ClosedQueue(q, int(silent[0]), int(silent.size), expected))
    return found
