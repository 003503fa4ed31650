"""The intraday update: today's rest re-forecast from today's actuals so far, shrunk by
what the backtest says those actuals are worth.

The signal is the posterior mean of today's level factor under a Gamma(α, α) prior,
α = 1/σ²_day, and Poisson counts: `r = (α + actual so far) / (α + forecast so far)`. How
much of it carries to a later interval is learned, not assumed: on the held-out days of
`selection.calibrate`, for origins every hour, each queue's gain κ for each lead bucket
(0–2 h, 2–4 h, 4–6 h, 6 h and more after the origin) is the value on a 0.1 grid from 0 to
1 with the least absolute error of the update `forecast × (1 + κ (r − 1))`, kept only if
it beats κ = 0 by more than one standard error of the per-day differences. κ = 0 is the
forecast made before the day: where the morning tells nothing about the afternoon, the
update falls back to it.

The update multiplies the forecast made at the day's midnight, whose level has seen every
day before; the held-out forecasts were made up to a week earlier. Their later days are
first brought to what a fit at each day's own midnight would have said (`as_of_midnight`):
else the gain learns the level the refit already knows, and the morning's own noise is
carried into the afternoon (a probe's bank, 15:00–17:00 from 11:00: the update 0.127,
the midnight forecast it multiplied 0.115).
"""

from __future__ import annotations

import numpy as np

from forecasting.estimator import LONG_LEVEL_DAYS
from forecasting.model import BoolArray, FloatArray

STEP_MIN = 120  # origins of the peak calibration (every 2 h, as the backtest)
GAIN_STEP_MIN = 60  # origins of the gain calibration
SCORED_LEAD_MIN = (240, 360)  # what the backtest scores: intervals 4-6 h after the origin
LEAD_BUCKETS_MIN = (0, 120, 240, 360)  # bucket starts; the last runs to the end of the day
GAIN_GRID = np.round(np.linspace(0.0, 1.0, 11), 2)


def _bucket(lead_min: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.array(LEAD_BUCKETS_MIN), lead_min, side="right") - 1


def signal(expected: FloatArray, actual: FloatArray, day_var: FloatArray) -> FloatArray:
    """Posterior mean of today's factor from contacts so far against their forecast."""
    alpha = 1.0 / day_var
    return (alpha + actual) / (alpha + expected)


def update(
    mean: FloatArray,
    actual: FloatArray,
    opened: BoolArray,
    origin: int,
    phi: FloatArray,
    day_var: FloatArray,
    gain: FloatArray,
    width_min: int,
) -> tuple[FloatArray, FloatArray]:
    """(mean, dispersion) [Q, S] of one day after seeing its actuals before slot `origin`.

    `mean` [Q, S] is the day's forecast made before the day, `actual` its contacts; slots
    from `origin` on are rescaled by `1 + κ(r − 1)` with the gain κ of their lead bucket.
    The day-level part of φ shrinks with the information used, the rest stays."""
    slots = mean.shape[1]
    expected = (mean[:, :origin] * opened[:origin]).sum(axis=1)
    seen = (actual[:, :origin] * opened[:origin]).sum(axis=1)
    r = signal(expected, seen, day_var)
    lead = (np.arange(slots) - origin) * width_min
    bucket = np.clip(_bucket(np.maximum(lead, 0)), 0, len(LEAD_BUCKETS_MIN) - 1)
    kappa = np.where(lead[None, :] >= 0, gain[:, bucket], 0.0)  # [Q, S]
    out = mean * (1.0 + kappa * (r[:, None] - 1.0))
    alpha = 1.0 / day_var
    learned = expected / (alpha + expected)  # share of the day-level variance explained
    within = np.maximum(phi - day_var, 0.3 * phi)
    rest = within[:, None] + day_var[:, None] * (1.0 - kappa * learned[:, None])
    return out, np.where(lead[None, :] >= 0, rest, phi[:, None])


def _smoothed_level(ratios: FloatArray, usable: BoolArray, half_life_days: float) -> FloatArray:
    """[n] the level, in units of the origin's, that the SES of `estimator.level_of` holds at
    the start of each day of a block after seeing its earlier days' ratios (actual over
    forecast): history's weight (its usable share of days, summed geometrically) decays,
    each usable day enters with weight 1 and decays alike."""
    decay = 0.5 ** (1.0 / half_life_days)
    share = usable.mean() if usable.size else 0.0
    if share == 0.0:
        return np.ones(ratios.size)  # no day to learn from: the level stays
    weight, weighted = share / (1.0 - decay), share / (1.0 - decay)
    out = np.ones(ratios.size)
    for day in range(ratios.size):
        out[day] = weighted / weight
        weight, weighted = weight * decay, weighted * decay
        if usable[day]:
            weight += 1.0
            weighted += ratios[day]
    return out


def as_of_midnight(
    actual: FloatArray,
    mix: FloatArray,
    model: FloatArray,
    model_weight: FloatArray,
    opened: BoolArray,
    normal: BoolArray,
    half_life_days: FloatArray,
    recent_weight: FloatArray,
    block: int = 7,
) -> FloatArray:
    """[Q, n, S] the held-out forecasts `mix` as fits at each day's own midnight would have
    made them: the model's part rescaled by the level its smoothing (half-life and long-run
    share per queue) would have reached over the block's earlier normal days. The
    baselines' parts stay: a week ahead they copy days before the origin either way."""
    q_count, days, _ = actual.shape
    seen = np.where(opened[None], actual, 0.0).sum(axis=2)
    expected = np.where(opened[None], model, 0.0).sum(axis=2)
    usable = normal & (expected > 0)
    ratios = np.where(usable, seen / np.maximum(expected, 1e-12), 1.0)
    factor = np.ones((q_count, days))
    for q in range(q_count):
        for start in range(0, days, block):
            part = slice(start, min(start + block, days))
            recent = _smoothed_level(ratios[q, part], usable[q, part], half_life_days[q])
            long_run = _smoothed_level(ratios[q, part], usable[q, part], LONG_LEVEL_DAYS)
            factor[q, part] = recent_weight[q] * recent + (1.0 - recent_weight[q]) * long_run
    return mix + model_weight[:, None, None] * model * (factor[:, :, None] - 1.0)


def choose_gains(
    actual: FloatArray,
    mean: FloatArray,
    opened: BoolArray,
    normal: BoolArray,
    day_var: FloatArray,
    width_min: int,
) -> FloatArray:
    """[Q, buckets] gains κ on held-out days, origins every `GAIN_STEP_MIN` minutes, by the
    one-standard-error rule with the smallest gain first: the update moves away from the
    forecast only as far as the held-out days insist (κ = 0 is no update)."""
    q_count, days, slots = actual.shape
    buckets = len(LEAD_BUCKETS_MIN)
    error = np.zeros((q_count, buckets, GAIN_GRID.size, days))
    a = np.where(opened[None], actual, 0.0)
    m = np.where(opened[None], mean, 0.0)
    cum_a = np.cumsum(a, axis=2)
    cum_m = np.cumsum(m, axis=2)
    weight = normal.astype(float)[:, :, None]  # [Q, n, 1]
    step = max(1, GAIN_STEP_MIN // width_min)
    for origin in range(step, slots, step):
        r = signal(cum_m[:, :, origin - 1], cum_a[:, :, origin - 1], day_var[:, None])
        lead = (np.arange(origin, slots) - origin) * width_min
        which = _bucket(lead)
        for b in range(buckets):
            cols = np.flatnonzero(which == b) + origin
            if cols.size == 0:
                continue
            at, mt = a[:, :, cols], m[:, :, cols]  # [Q, n, T]
            change = (r - 1.0)[:, :, None] * mt  # [Q, n, T]
            for g, kappa in enumerate(GAIN_GRID):
                error[:, b, g] += (np.abs(at - mt - kappa * change) * weight).sum(axis=2)
    best = error.sum(axis=3).argmin(axis=2)  # [Q, buckets]
    gains = GAIN_GRID[best]
    for q in range(q_count):
        for b in range(buckets):
            # the update must earn its place: better than none by a standard error
            saved = error[q, b, 0] - error[q, b, best[q, b]]  # per held-out day
            spread = saved.std(ddof=1) * np.sqrt(saved.size) if saved.size > 1 else np.inf
            if saved.sum() <= spread:
                gains[q, b] = 0.0
    return gains
