"""Runs of consecutive True flags: a quiet stretch of hours, a silent interval, closed days."""

from __future__ import annotations

import numpy as np


def runs_of(flags: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True in `flags`, in order."""
    padded = np.concatenate(([False], np.asarray(flags, dtype=bool), [False]))
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]
