"""The choice rules of the calibrations: the least held-out error (the structural model's
settings, all equally complex), the simplest candidate the data cannot tell apart from
the best one (the mix with the baselines, the intraday gains: where "simple" is a safe
default the data must argue against), and whether an extra effect clearly pays."""

from __future__ import annotations

import numpy as np

from forecasting.model import BoolArray, FloatArray


def one_standard_error(
    error: FloatArray, order: list[int], allowed: BoolArray | None = None
) -> int:
    """The one-standard-error rule (Hastie, Tibshirani & Friedman, The Elements of
    Statistical Learning, 7.10): among candidates whose summed error is within one standard
    error of the best one's, the first in `order` (simplest first) that is `allowed`.

    `error` is [candidates, units], a unit being a held-out day; the standard error is that
    of the summed per-unit difference to the best candidate. With many held-out days this
    is the best candidate; with few it keeps the simple one unless the data insist."""
    total = error.sum(axis=1)
    best = int(np.argmin(total))
    units = error.shape[1]
    if units < 2:
        return best
    diff = error - error[best]
    se = diff.std(axis=1, ddof=1) * np.sqrt(units)
    within = total <= total[best] + se
    if allowed is not None:
        within &= allowed
    within[best] = True
    return next(k for k in order if within[k])


def least_error(error: FloatArray, order: list[int]) -> int:
    """The candidate with the least summed error over the units (held-out days) of
    `error` [candidates, units]; exact ties go to the first in `order`."""
    total = error.sum(axis=1)
    return min(order, key=lambda k: float(total[k]))


def clearly_better(candidate: FloatArray, incumbent: FloatArray, sigmas: float = 1.0) -> bool:
    """Whether `candidate`'s summed error over the units (held-out days) is below the
    `incumbent`'s by more than `sigmas` standard errors of the summed per-unit difference:
    the test an extra effect passes before it is added (at one σ, an effect that does not
    help passes about one time in six, and what it learned from noise is small)."""
    diff = np.asarray(candidate, dtype=float) - np.asarray(incumbent, dtype=float)
    if diff.size < 2:
        return False
    se = float(diff.std(ddof=1)) * np.sqrt(diff.size)
    return bool(diff.sum() < -sigmas * se)
