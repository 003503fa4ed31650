"""The structural model: daily level × weekday factor × intraday shape, in numpy.

Arrays are `[queue, day, slot]` on the local grid. For a queue on day d, slot s:

    mean(d, s) = (level + drift × lead) × weekday_factor[weekday(d)] × shape[weekday(d), s]

- **Level**: simple exponential smoothing of the deseasonalised daily totals (Brown's
  SES, half-life `level_half_life_days`); with `theta` the Theta method's drift (half the
  least-squares slope of the same series, Hyndman & Billah 2003) is added per day ahead.
- **Weekday factor**: exponentially weighted mean total of each weekday (half-life
  `weekday_half_life_weeks`) over the mean of all weekdays, each weekday pooled with the
  weekdays that agree with it within noise. Days far off their weekday's median
  (holidays, outages) and days the caller leaves out (`use`) get no weight.
- **Intraday shape** (share of the day per slot) per weekday, pooled slot by slot with
  the queue's other weekdays and with the center's shape by inverse-variance weights,
  then smoothed across neighbouring slots (Gaussian, `smooth_min`). With `shape_trend`
  (where the backtest finds it helping) each slot's share is carried along the line
  through the recent shapes and older ones (`TREND_MEMORY` times the memory) to the week
  ahead: a peak that moves through the season.
- **Cycle factors** (`cycles`: the month's rhythm by calendar day or by business day,
  the fortnight's, and the year's from last year's same weeks, where history is long
  enough and the backtest finds them helping): pay, benefit, statement and billing days,
  the pay week, the season; the level is then smoothed over
  totals with them divided out, and the forecast day multiplied by them.
- **Freak intervals** far beyond Poisson noise are capped before fitting.
- **AHT** per slot: contact-weighted mean by slot of day, smoothed, shrunk to the
  queue's mean where contacts are few, scaled by a weekday ratio.

The pieces are computed in two steps (`prepare`, then `finish` per parameter setting) so
that `selection` can score many settings on many rolling origins for the cost of a few
fits. `selection.calibrate` chooses the parameters and combines this model with the
seasonal baselines.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from forecasting import counts, cycles, transients
from forecasting.lifetimes import in_service
from forecasting.model import BoolArray, FloatArray, IntArray


@dataclass(frozen=True)
class Params:
    """The smoothing constants of one queue (chosen per queue by `selection.calibrate`)."""

    level_half_life_days: float = 7.0
    smooth_min: float = 15.0
    weekday_half_life_weeks: float = 8.0
    theta: bool = False
    recent_weight: float = 1.0  # below 1: mixed with the long-run level (`LONG_LEVEL_DAYS`)
    cycles: tuple[str, ...] = ()  # the calendar cycles (`cycles.CYCLES` names) that apply
    shape_trend: bool = False  # shapes carried along their trend (a peak that moves)


AHT_PRIOR_CONTACTS = 30.0
CAP_SIGMAS = 4.0
CAP_ROUNDS = 2
POOL_BIAS_WINDOW_MIN = 120.0
CLIP_SIGMAS = 3.0  # a normal day's total within 3 robust deviations of the running level
CLIP_HALF_LIFE_DAYS = 5.0  # the running level a day is judged against
CLIP_MIN_DAYS = 10  # fewer normal days: no scale to judge by
SHIFT_DAYS = 2  # days in a row beyond the bound on one side: the level moved, not a freak
GOOD_DAY_RANGE = (0.4, 2.5)  # × the weekday's median total: outside it a day is abnormal
SMALL_DAY_TOTAL = 10.0  # a usual day below it is read from its mean: a median of few is 0
THETA_WINDOW_DAYS = 182  # the drift's regression looks back half a year at most
LONG_LEVEL_DAYS = 91.0  # half-life of the long-run level a recent level may revert to
TREND_MEMORY = 3.0  # the older shape of a shape's trend: this many times the half-life
TREND_AHEAD_DAYS = 4.0  # a trended shape is carried to the middle of the week ahead
BASELINE_WEEKS = 4
HOURS_GROUP_CONTACTS = 30.0  # a day's first and last contact span its hours


@dataclass
class Fit:
    """A fitted forecaster: the structural model, the baselines' recent days, the weights
    that combine them, and what calibration attached (dispersion, intraday gains, peaks)."""

    level: FloatArray  # [Q] deseasonalised daily total
    weekday_factor: FloatArray  # [Q, 7], mean 1
    shape: FloatArray  # [Q, 7, S], sums to 1 over the open slots of each weekday
    open: BoolArray  # [7, S]
    aht: FloatArray  # [Q, 7, S]
    params: list[Params]  # one per queue
    drift: FloatArray | None = None  # [Q] level change per day ahead (Theta), 0 without
    recent: FloatArray | None = None  # [Q, 7, 4, S] last normal days per weekday, newest first
    weights: FloatArray | None = None  # [Q, 3] model, four-week mean, seasonal naive
    phi: FloatArray | None = None  # [Q] dispersion of the prediction interval
    day_var: FloatArray | None = None  # [Q] relative variance of a day's total
    nominal: FloatArray | None = None  # [Q] level asked of the bounds (0.8 unless tiny)
    intraday_gain: FloatArray | None = None  # [Q, buckets] shrinkage of the intraday update
    alert_probability: float = 0.3  # peaks of later days (forecasts made days ahead)
    alert_probability_today: float = 0.3  # peaks of the rest of a partial day (intraday)
    choice: dict[str, object] = field(default_factory=dict)  # what selection found
    cycle_profiles: dict[str, cycles.Profile] = field(default_factory=dict)  # 0: not adopted
    queue_open: BoolArray | None = None  # [Q, 7, S] each queue's open intervals (`open` if None)
    open_days: cycles.OpenDays | None = None  # what places days among the month's open days

    def predict_model(
        self,
        weekdays: IntArray,
        leads: IntArray | None = None,
        where: cycles.Positions | None = None,
    ) -> FloatArray:
        """Mean contacts [Q, n, S] of the structural model alone, for days with these
        weekdays `leads` days after the end of the fitted history (0: the next day), at
        positions `where` in the calendar cycles (`cycles.positions`; None: no cycle)."""
        w = np.asarray(weekdays, dtype=int)
        ahead = np.zeros(w.size) if leads is None else np.asarray(leads, dtype=float)
        drift = np.zeros_like(self.level) if self.drift is None else self.drift
        level = np.maximum(self.level[:, None] + drift[:, None] * ahead[None, :], 0.0)
        daily = level * self.weekday_factor[:, w]
        if where is not None:
            if self.open_days is not None:
                where = cycles.with_business_days(where, self.open_days)
            for name, profile in self.cycle_profiles.items():
                daily = daily * profile.at(where[name])
        return daily[:, :, None] * self.shape[:, w, :]

    def predict(self, weekdays: IntArray, where: cycles.Positions | None = None) -> FloatArray:
        """Mean contacts [Q, n, S] for the n days right after the fitted history: the
        model and the baselines combined with the calibrated weights."""
        w = np.asarray(weekdays, dtype=int)
        model = self.predict_model(w, np.arange(w.size), where)
        if self.weights is None or self.recent is None:
            return model
        naive, four = baselines(self.recent, w)
        # a weekday without a past normal day (a queue opened on a Wednesday, forecast on
        # a Monday) has no baselines: the model stands in for them
        unseen = np.asarray(np.isnan(self.recent[:, w]).all(axis=(2, 3)))[:, :, None]
        naive, four = np.where(unseen, model, naive), np.where(unseen, model, four)
        mix = self.weights
        mean = mix[:, 0, None, None] * model + mix[:, 1, None, None] * four
        opened = self.open[w][None] if self.queue_open is None else self.queue_open[:, w]
        return (mean + mix[:, 2, None, None] * naive) * opened

    def predict_aht(self, weekdays: IntArray) -> FloatArray:
        return self.aht[:, np.asarray(weekdays, dtype=int), :]


def baselines(recent: FloatArray, weekdays: IntArray) -> tuple[FloatArray, FloatArray]:
    """(seasonal naive, four-week mean) [Q, n, S] from the last normal days per weekday."""
    last = recent[:, weekdays]  # [Q, n, 4, S]
    naive = np.nan_to_num(last[:, :, 0])
    seen = ~np.isnan(last)
    four = np.where(seen, last, 0.0).sum(axis=2) / np.maximum(seen.sum(axis=2), 1)
    return naive, four


def recent_days(contacts: FloatArray, good: BoolArray, weekdays: IntArray) -> FloatArray:
    """[Q, 7, 4, S]: the counts of the last `BASELINE_WEEKS` normal days of each weekday,
    newest first (NaN where there are fewer). Holidays, outages and event days are skipped,
    as a planner would skip them when copying last week."""
    q_count, _, slots = contacts.shape
    out = np.full((q_count, 7, BASELINE_WEEKS, slots), np.nan)
    for q in range(q_count):
        for w in range(7):
            days = np.flatnonzero((weekdays == w) & good[q])[::-1][:BASELINE_WEEKS]
            out[q, w, : days.size] = contacts[q, days]
    return out


def open_slots(
    present: BoolArray, day_totals: FloatArray, weekdays: IntArray, lookback: int = 8
) -> BoolArray:
    """[7, S]: a slot is open on a weekday if it had rows (`present`, [D, S]) on at least a
    quarter of the last `lookback` such days (at least one): closed intervals have no rows
    in history. A day of a few contacts has rows in a fraction of its hours (two, at 10:00
    and 14:00, of a day open 08-18), so such days are taken together with the same
    weekdays before them until they hold `HOURS_GROUP_CONTACTS` (`day_totals` [D], every
    queue's), and a group is open from its first row to its last: a center of 5 contacts
    a day is read on weeks of its days, one of hundreds on each day's own rows."""
    slots = present.shape[1]
    result = np.zeros((7, slots), dtype=bool)
    everyday = np.ones((1, day_totals.size), dtype=bool)
    stray = counts.stray_weekdays(day_totals[None, :], weekdays, everyday)[0]
    for w in range(7):
        days = np.flatnonzero(np.asarray(weekdays) == w)
        seen_by = _day_groups(present, day_totals, days, short_ok=not stray[w])
        if seen_by.size:
            seen = seen_by[-lookback:].sum(axis=0)
            result[w] = seen >= max(1.0, 0.25 * min(len(seen_by), lookback))
    return result


def _day_groups(
    present: BoolArray, day_totals: FloatArray, days: IntArray, short_ok: bool
) -> BoolArray:
    """[G, S] oldest first: `days` taken newest first into groups that hold
    `HOURS_GROUP_CONTACTS` contacts; a day that holds them alone is its own rows, a group
    of several is open from its first row to its last. The oldest days short of a group
    form one when no group was filled and `short_ok` (their weekday is not a closed one's
    stray calls, `counts.stray_weekdays`)."""
    groups: list[BoolArray] = []
    rows, held, size = np.zeros(present.shape[1], dtype=bool), 0.0, 0
    for day in days[::-1]:
        if day_totals[day] <= 0:
            continue  # a closed day has no rows to read
        rows, held, size = rows | present[day], held + float(day_totals[day]), size + 1
        if held >= HOURS_GROUP_CONTACTS:
            groups.append(rows if size == 1 else _span(rows))
            rows, held, size = np.zeros_like(rows), 0.0, 0
    if not groups and short_ok and rows.any():
        groups.append(_span(rows))
    return np.array(groups[::-1], dtype=bool).reshape(len(groups), present.shape[1])


def _span(rows: BoolArray) -> BoolArray:
    """From the first True of `rows` to its last."""
    found = np.flatnonzero(rows)
    span = np.zeros_like(rows)
    if found.size:
        span[found[0] : found[-1] + 1] = True
    return span


def good_days(totals: FloatArray, weekdays: IntArray, use: BoolArray) -> BoolArray:
    """[Q, D]: days in `use` whose total lies within `GOOD_DAY_RANGE` of the usual total of
    the last 8 such weekdays in use (their median; their mean where the median is under
    `SMALL_DAY_TOTAL`, as at 0.7 a day it is 0, but for a closed weekday's stray calls,
    `counts.stray_weekdays`): holidays and outages are not normal days.
    A day outside the range is still normal where a count that far off is chance at the
    usual total (`counts`): an empty day of a center of a few a day is."""
    q_count = totals.shape[0]
    usual = np.zeros((q_count, 7))
    stray = counts.stray_weekdays(totals, weekdays, use)
    for w in range(7):
        mask = (weekdays == w)[None, :] & use
        for i in range(q_count):
            values = totals[i, mask[i]][-8:]
            if values.size:
                middle = float(np.median(values))
                small = middle < SMALL_DAY_TOTAL and not stray[i, w]
                usual[i, w] = float(values.mean()) if small else middle
    day_usual = usual[:, weekdays]
    low, high = GOOD_DAY_RANGE
    outside = (totals < low * day_usual) | (totals > high * day_usual + 1.0)
    for q, d in zip(*np.nonzero(outside & use & (day_usual > 0)), strict=True):
        total, expected = float(totals[q, d]), float(day_usual[q, d])
        far = counts.too_low if total < expected else counts.too_high
        outside[q, d] = far(total, expected)
    return use & ~outside & (day_usual > 0)


@functools.lru_cache(maxsize=32)
def _kernel(slots: int, sd_slots: float) -> FloatArray:
    """[S, S] Gaussian weights between slots, cut at 4 standard deviations (sparse rows)."""
    offsets = np.arange(slots)
    distance = (offsets[:, None] - offsets[None, :]) / sd_slots
    return np.where(np.abs(distance) <= 4.0, np.exp(-0.5 * distance**2), 0.0)


def per_queue(open_mask: BoolArray, q_count: int) -> BoolArray:
    """[Q, 7, S] open intervals per queue: `open_mask` as given ([Q, 7, S], each queue's
    hours, `hours.queue_hours`) or the center's [7, S] for every queue."""
    if open_mask.ndim == 3:
        return open_mask
    return np.broadcast_to(open_mask, (q_count, *open_mask.shape))


def center_open(open_mask: BoolArray) -> BoolArray:
    """[7, S] the intervals some queue is open in (`open_mask` [7, S] or [Q, 7, S])."""
    return np.asarray(open_mask.any(axis=0), dtype=bool) if open_mask.ndim == 3 else open_mask


def _kernel_smooth(shape: FloatArray, open_mask: BoolArray, sd_slots: float) -> FloatArray:
    """Normalised Gaussian smoothing along the last axis over open slots, mass-preserving.
    `shape` is [..., 7, S] with `open_mask` [7, S] or [Q, 7, S]."""
    if sd_slots < 0.34:
        return shape
    kernel = _kernel(shape.shape[-1], float(sd_slots))
    mask = open_mask.astype(float)
    num = (shape * mask) @ kernel
    den = mask @ kernel
    with np.errstate(invalid="ignore", divide="ignore"):
        smooth = np.where(den > 0, num / np.maximum(den, 1e-12), 0.0) * mask
    total = smooth.sum(axis=-1, keepdims=True)
    return np.where(total > 0, smooth / np.maximum(total, 1e-12), shape)


def _pool_shapes(
    own: FloatArray,
    counts: FloatArray,
    center: FloatArray,
    center_counts: FloatArray,
    open_mask: BoolArray,
    width_min: int,
) -> FloatArray:
    """Combine each (queue, weekday) shape with the queue's other weekdays and with the
    center's shape for that weekday, slot by slot, weighting each candidate by
    1 / (noise + squared bias). The bias is measured locally (within about two hours),
    so Saturday evening may borrow from weekday evenings without weekday mornings
    leaking into a Saturday morning. `open_mask` [Q, 7, S]: each queue's shape lives on
    its own open intervals (a queue open 08-18 gets nothing at night from the center)."""
    q_count, _, slots = own.shape
    pooled = np.zeros_like(own)
    reach = max(1, round(POOL_BIAS_WINDOW_MIN / 2 / width_min))
    box = np.ones(2 * reach + 1)

    def local_sum(values: FloatArray) -> FloatArray:
        """Sums over the `reach` slots either side (as long as the day, however few)."""
        return np.convolve(values, box, mode="full")[reach : reach + slots]

    for w in range(7):
        for q in range(q_count):
            mask = open_mask[q, w]
            n_open = int(mask.sum())
            if n_open == 0:
                continue
            # local means of the squared differences, over open slots only
            norm = local_sum(mask.astype(float))
            candidates = [own[q, v] for v in range(7)]
            sizes = [counts[q, v] for v in range(7)]
            if q_count > 1:
                candidates.append(center[w])
                sizes.append(center_counts[w])
            shapes = np.array([c * mask for c in candidates])
            sums = shapes.sum(axis=1)
            usable = (sums > 0) & (np.array(sizes) > 0)
            if not usable[w]:
                usable_shapes = shapes[usable]
                pooled[q, w] = (
                    usable_shapes.sum(axis=0) / max(usable_shapes.sum(), 1e-12)
                    if usable.any()
                    else mask / n_open
                )
                continue
            shapes[usable] /= sums[usable, None]
            size = np.where(usable, np.array(sizes), 1.0)
            level = np.maximum((shapes + shapes[w]) / 2, 0.1 / n_open) * mask
            noise = level / size[:, None]  # Poisson variance of a share, per slot
            raw = (shapes - shapes[w]) ** 2 - noise - noise[w]
            local = np.array([local_sum(r * mask) for r in raw])
            bias = np.maximum(0.0, local / np.maximum(norm, 1.0))
            bias[w] = 0.0
            spread = np.maximum(noise + bias, 1e-300)
            weight = np.where(usable[:, None] & mask[None, :], 1.0 / spread, 0.0)
            pooled[q, w] = (weight * shapes).sum(axis=0) / np.maximum(weight.sum(axis=0), 1e-300)
            pooled[q, w] /= max(pooled[q, w].sum(), 1e-12)
    return pooled


def _pool_weekday_totals(
    mean_w: FloatArray, seen: BoolArray, totals: FloatArray, u: FloatArray, onehot: FloatArray
) -> FloatArray:
    """Shrink each weekday's mean total towards the weekdays that agree with it within
    sampling noise (inverse-variance weights with a squared-bias term, as for shapes)."""
    sum_u = u @ onehot
    n_eff = np.where(sum_u > 0, sum_u**2 / np.maximum((u * u) @ onehot, 1e-12), 0.0)
    m = np.where(seen, mean_w, 0.0)
    dev = (totals[:, :, None] - m[:, None, :]) ** 2 * onehot[None, :, :]  # [Q, D, 7]
    spread = np.einsum("qd,qdw->qw", u, dev) / np.maximum(sum_u, 1e-12)
    ok = seen & (n_eff >= 2) & (m > 0)
    pooled = m.copy()
    for q in range(m.shape[0]):
        if ok[q].sum() < 2:
            continue
        rel = float(np.mean(spread[q, ok[q]] / m[q, ok[q]] ** 2))
        var = np.where(ok[q], (rel * m[q] ** 2 + m[q]) / np.maximum(n_eff[q], 1.0), np.inf)
        for w in np.flatnonzero(ok[q]):
            bias = np.maximum(0.0, (m[q] - m[q, w]) ** 2 - var - var[w])
            bias[w] = 0.0
            weight = np.where(ok[q], 1.0 / (var + bias), 0.0)
            pooled[q, w] = float((weight * m[q]).sum() / weight.sum())
    return np.where(seen, pooled, np.nan)


def _weekdays_not_yet_had(
    mean_w: FloatArray, seen: BoolArray, contacts: FloatArray, weekdays: IntArray
) -> tuple[FloatArray, BoolArray]:
    """([Q, 7] mean totals, [Q, 7] seen) with the weekdays a queue has not had yet since its
    first contact (a queue opened on a Wednesday, its first Monday ahead; or whose only
    Tuesday followed a holiday) given the other queues' ratio of that weekday to the
    weekdays the queue has had, times the queue's own totals on those: pooled with the
    center's weekday pattern, not forecast 0. A weekday the queue has had, with contacts
    in other queues and none in it, is closed for it and stays 0."""
    q_count = mean_w.shape[0]
    if q_count < 2:
        return mean_w, seen
    totals = contacts.sum(axis=2)  # [Q, D]
    lived = in_service(contacts)
    center_days = totals.sum(axis=0) > 0
    mean_w, seen = mean_w.copy(), seen.copy()
    for q in range(q_count):
        had = seen[q].copy()
        if not had.any():
            continue
        for w in np.flatnonzero(~had):
            same = lived[q] & center_days & (weekdays == w)
            if same.any() and not (totals[q, same] > 0).any():
                continue  # closed on that weekday while the others were open
            others = [o for o in range(q_count) if o != q and seen[o, w] and seen[o, had].all()]
            base = sum(float(mean_w[o, had].sum()) for o in others)
            if base <= 0:
                continue
            ratio = sum(float(mean_w[o, w]) for o in others) / base
            mean_w[q, w] = ratio * float(mean_w[q, had].sum())
            seen[q, w] = True
    return mean_w, seen


@dataclass
class Prepared:
    """What every parameter setting of one weekday half-life shares: weekday factors,
    the deseasonalised daily totals and the pooled (unsmoothed) shapes."""

    factor: FloatArray  # [Q, 7]
    z: FloatArray  # [Q, D] deseasonalised daily totals
    usable: BoolArray  # [Q, D] normal days of an open weekday
    shape: FloatArray  # [Q, 7, S] pooled, not yet smoothed
    open: BoolArray  # [Q, 7, S] each queue's open intervals
    u: FloatArray  # [Q, D] weights of the weekday factors and shapes
    trended: FloatArray | None = None  # [Q, 7, S] the shapes carried along their trend
    cycle_profiles: dict[str, cycles.Profile] = field(default_factory=dict)  # those learned
    cycle_factor: dict[str, FloatArray] = field(default_factory=dict)  # [Q, D] per cycle

    def totals(self, names: tuple[str, ...] = ()) -> FloatArray:
        """[Q, D] the deseasonalised totals, with the factors of cycles `names` divided out."""
        z = self.z
        for name in names:
            if name in self.cycle_factor:
                z = z / self.cycle_factor[name]
        return z


def prepare(
    contacts: FloatArray,
    weekdays: IntArray,
    open_mask: BoolArray,
    good: BoolArray,
    width_min: int,
    weekday_half_life_weeks: float,
    where: cycles.Positions | None = None,
    shape_trend: bool = False,
) -> Prepared:
    """The half-life-independent part of a fit on days [0, D) of `contacts`; with the days'
    positions in the calendar cycles (`where`) the cycles' profiles too, with `shape_trend`
    the shapes carried forward along their trend."""
    q_count, days, _ = contacts.shape
    open_mask = per_queue(open_mask, q_count)
    totals = contacts.sum(axis=2)
    age_days = (days - 1 - np.arange(days)).astype(float)
    week_w = 0.5 ** (age_days / (7.0 * weekday_half_life_weeks))
    u = good * week_w[None, :]
    onehot = (weekdays[:, None] == np.arange(7)[None, :]).astype(float)  # [D, 7]
    sum_u = u @ onehot
    mean_w = np.where(sum_u > 0, ((u * totals) @ onehot) / np.maximum(sum_u, 1e-12), np.nan)
    seen = ~np.isnan(mean_w)
    mean_w = _pool_weekday_totals(mean_w, seen, totals, u, onehot)
    mean_w, seen = _weekdays_not_yet_had(mean_w, seen, contacts, weekdays)
    overall = np.array(
        [mean_w[i, seen[i]].mean() if seen[i].any() else 0.0 for i in range(len(mean_w))]
    )
    factor = np.where(seen, mean_w, 0.0) / np.maximum(overall, 1e-12)[:, None]
    factor = np.where(overall[:, None] > 0, factor, 1.0)
    f_day = factor[:, weekdays]
    usable = good & (f_day > 0.05)
    z = np.where(usable, totals / np.maximum(f_day, 1e-12), 0.0)
    shape = _weekday_shapes(contacts, totals, u, onehot, open_mask, width_min)
    trended = None
    if shape_trend:
        longer = good * (0.5 ** (age_days / (7.0 * TREND_MEMORY * weekday_half_life_weeks)))
        older = _weekday_shapes(contacts, totals, longer, onehot, open_mask, width_min)
        trended = _extrapolated(shape, older, _mean_age(u, age_days), _mean_age(longer, age_days))
    prepared = Prepared(factor, z, usable, shape, open_mask, u, trended)
    for cycle in cycles.CYCLES:
        if where is None or cycle.name not in where:
            continue  # no places (a business day's need the center's open days)
        turns = cycles.turns(where, cycle)
        profile = cycles.estimate(cycle, z, usable, where[cycle.name], turns)
        if profile is not None:
            prepared.cycle_profiles[cycle.name] = profile
            prepared.cycle_factor[cycle.name] = profile.at(where[cycle.name])
    return prepared


def _weekday_shapes(
    contacts: FloatArray,
    totals: FloatArray,
    u: FloatArray,
    onehot: FloatArray,
    open_mask: BoolArray,
    width_min: int,
) -> FloatArray:
    """[Q, 7, S] each weekday's share per slot, the days weighted by `u` [Q, D], pooled."""
    w3 = u[:, :, None] * contacts
    by_week = np.einsum("qds,dw->qws", w3, onehot)
    eff_num = (u * totals) @ onehot
    eff_den = (u * u * totals) @ onehot
    counts = np.where(eff_den > 0, eff_num**2 / np.maximum(eff_den, 1e-12), 0.0)
    own = by_week / np.maximum(by_week.sum(axis=2, keepdims=True), 1e-12)
    center_week = by_week.sum(axis=0)
    center = center_week / np.maximum(center_week.sum(axis=1, keepdims=True), 1e-12)
    return _pool_shapes(own, counts, center, counts.sum(axis=0), open_mask, width_min)


def _mean_age(weight: FloatArray, age_days: FloatArray) -> FloatArray:
    """[Q] the mean age in days of the days as weighted."""
    total = weight.sum(axis=1)
    return (weight @ age_days) / np.maximum(total, 1e-12)


def _extrapolated(
    recent: FloatArray, older: FloatArray, recent_age: FloatArray, older_age: FloatArray
) -> FloatArray:
    """[Q, 7, S] shapes carried from their mean age to the middle of the week ahead, along
    the line through a recent and an older estimate (Brown's double smoothing, per slot):
    a peak that moves a few minutes a week is where it will be, not where it was."""
    span = np.maximum(older_age - recent_age, 1.0)
    step = ((recent_age + TREND_AHEAD_DAYS) / span)[:, None, None]
    moved = np.maximum(recent + step * (recent - older), 0.0)
    return moved / np.maximum(moved.sum(axis=2, keepdims=True), 1e-12)


def smoothed_shape(
    prepared: Prepared, smooth_min: float, width_min: int, trend: bool = False
) -> FloatArray:
    """[Q, 7, S] the pooled shapes (carried along their trend with `trend`), smoothed."""
    raw = prepared.trended if trend and prepared.trended is not None else prepared.shape
    shape = _kernel_smooth(raw, prepared.open, smooth_min / width_min)
    shape = shape * prepared.open
    return shape / np.maximum(shape.sum(axis=2, keepdims=True), 1e-12)


def _ses(prepared: Prepared, z: FloatArray, half_life_days: float) -> tuple[FloatArray, FloatArray]:
    """([Q] exponentially weighted mean of the totals `z` [Q, D] of normal days, [Q] the
    mean age in days of what it weighs: the lag behind a trend, (1 - α)/α only when the
    history is many half-lives long; a month of history lags two weeks, not eleven)."""
    days = z.shape[1]
    age = (days - 1 - np.arange(days)).astype(float)
    weight = prepared.usable * 0.5 ** (age / half_life_days)[None, :]
    total = weight.sum(axis=1)
    level = np.where(total > 0, (weight * z).sum(axis=1) / np.maximum(total, 1e-12), 0.0)
    return level, _mean_age(weight, age)


def level_of(
    prepared: Prepared,
    half_life_days: float,
    theta: bool,
    recent_weight: float = 1.0,
    cycle_names: tuple[str, ...] = (),
) -> tuple[FloatArray, FloatArray]:
    """(level, drift per day ahead) [Q]: SES of the deseasonalised totals (mixed with the
    long-run level when `recent_weight` < 1: a level that wanders and comes back), and with
    `theta` half the least-squares slope of the last `THETA_WINDOW_DAYS`, lag-corrected.
    The totals have the factors of `cycle_names` divided out first."""
    z = prepared.totals(cycle_names)
    q_count, days = z.shape
    age = (days - 1 - np.arange(days)).astype(float)
    level, lag = _ses(prepared, z, half_life_days)
    if recent_weight < 1.0:
        long_run, long_lag = _ses(prepared, z, LONG_LEVEL_DAYS)
        level = recent_weight * level + (1.0 - recent_weight) * long_run
        lag = recent_weight * lag + (1.0 - recent_weight) * long_lag
    drift = np.zeros(q_count)
    if theta:
        keep = prepared.usable & (age <= THETA_WINDOW_DAYS)[None, :]
        slope = _least_squares_slope(-age, z, keep)
        # the level lags a linear trend by its mean age; Theta adds half the slope
        drift = slope / 2.0
        level = level + slope / 2.0 * lag
    return level, drift


def _least_squares_slope(x: FloatArray, y: FloatArray, keep: BoolArray) -> FloatArray:
    """[Q] the least-squares slope of y[q] on x over the days `keep[q]`, all queues at
    once; 0 with fewer than 14 days or no spread."""
    w = keep.astype(float)
    n = w.sum(axis=1)
    x_mean = (w * x[None, :]).sum(axis=1) / np.maximum(n, 1.0)
    y_mean = (w * y).sum(axis=1) / np.maximum(n, 1.0)
    dx = x[None, :] - x_mean[:, None]
    sxx = (w * dx * dx).sum(axis=1)
    sxy = (w * dx * (y - y_mean[:, None])).sum(axis=1)
    fits = (n >= 14) & (sxx > 0)
    return np.where(fits, sxy / np.where(fits, sxx, 1.0), 0.0)


def finish(
    prepared: Prepared, params: list[Params], width_min: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(level, drift, shape) for per-queue parameters sharing one `Prepared`."""
    q_count = prepared.z.shape[0]
    level, drift = np.zeros(q_count), np.zeros(q_count)
    shape = np.zeros_like(prepared.shape)
    smoothed = {
        (sm, trend): smoothed_shape(prepared, sm, width_min, trend)
        for sm, trend in {(p.smooth_min, p.shape_trend) for p in params}
    }
    for q, p in enumerate(params):
        lv, dr = level_of(prepared, p.level_half_life_days, p.theta, p.recent_weight, p.cycles)
        level[q], drift[q] = lv[q], dr[q]
        shape[q] = smoothed[p.smooth_min, p.shape_trend][q]
    return level, drift, shape


def cleaned(
    contacts: FloatArray,
    weekdays: IntArray,
    open_mask: BoolArray,
    good: BoolArray,
    width_min: int,
) -> FloatArray:
    """The contacts the model learns from: freak intervals capped, then freak days."""
    return clean(contacts, weekdays, open_mask, good, width_min)[0]


def clean(
    contacts: FloatArray,
    weekdays: IntArray,
    open_mask: BoolArray,
    good: BoolArray,
    width_min: int,
    where: cycles.Positions | None = None,
) -> tuple[FloatArray, BoolArray, list[transients.Run]]:
    """(the contacts the model learns from, the normal days, the runs): freak intervals
    capped, transients (`transients`: a run of days far off the level that came back)
    taken out of the normal days, then freak days clipped. With the days' places in the
    calendar cycles (`where`), runs that recur there (`transients.recurring`) are a pattern,
    not transients: they stay normal days, unclipped, for the cycles to learn."""
    data = cap_freaks(contacts, weekdays, open_mask, good, width_min)
    clipped, runs = clip_and_find(data, weekdays, open_mask, good, width_min)
    if not runs:
        return clipped, good, runs
    if where is not None:
        has_calls = contacts.sum(axis=2) > 0
        runs = transients.recurring(runs, transients.places(where, has_calls), has_calls)
    good = good.copy()
    for run in runs:
        if not run.recurs:
            good[run.queue, run.first : run.last + 1] = False
    # the weekday factors the other days are judged by, without the transients; the runs
    # that recur passed over as they were in the first pass (they stand, the level kept)
    over = [run for run in runs if run.recurs]
    clipped, _ = clip_and_find(data, weekdays, open_mask, good, width_min, find=False, over=over)
    return clipped, good, runs


def cap_freaks(
    contacts: FloatArray,
    weekdays: IntArray,
    open_mask: BoolArray,
    good: BoolArray,
    width_min: int,
) -> FloatArray:
    """Intervals far beyond Poisson noise (a burst of repeated calls, a data glitch) capped
    at `expected + 4 √expected + 3`, expected = the day's own total × the fitted shape;
    refitted and capped again (`CAP_ROUNDS`), so one freak interval does not bend a shape."""
    data = contacts
    for _ in range(CAP_ROUNDS):
        prepared = prepare(
            data, weekdays, open_mask, good, width_min, Params().weekday_half_life_weeks
        )
        shape = smoothed_shape(prepared, Params().smooth_min, width_min)
        expected = data.sum(axis=2, keepdims=True) * shape[:, weekdays, :]
        cap = expected + CAP_SIGMAS * np.sqrt(expected) + 3.0
        if not (data > cap).any():
            break
        data = np.minimum(data, cap)
    return data


def clip_days(
    contacts: FloatArray,
    weekdays: IntArray,
    open_mask: BoolArray,
    good: BoolArray,
    width_min: int,
) -> FloatArray:
    """Each normal day scaled back to within `CLIP_SIGMAS` robust standard deviations of
    the level known the day before: robust exponential smoothing (Gelper, Fried & Croux,
    "Robust forecasting with exponential and Holt-Winters smoothing", 2010), a Huber ψ on
    the log of the day's weekday-adjusted total over the running level, the scale the
    median absolute deviation of those logs. A day of an outage (half the calls) or of an
    incident (twice) inside the normal-day band otherwise moved the level a short memory
    learns by a tenth or more; at three deviations an ordinary day is left as it was."""
    return clip_and_find(contacts, weekdays, open_mask, good, width_min, find=False)[0]


def clip_and_find(
    contacts: FloatArray,
    weekdays: IntArray,
    open_mask: BoolArray,
    good: BoolArray,
    width_min: int,
    find: bool = True,
    over: list[transients.Run] | None = None,
) -> tuple[FloatArray, list[transients.Run]]:
    """As `clip_days`, and (with `find`) the transients met on the way: runs of days
    beyond the bound that came back (`transients.came_back`), each with its ratio to the
    level known before it. Their days are left as they were: the caller leaves them out.
    The runs `over` are passed over as such runs are: left as they were, the level kept."""
    prepared = prepare(
        contacts, weekdays, open_mask, good, width_min, Params().weekday_half_life_weeks
    )
    scale = np.ones(prepared.z.shape)
    alpha = 1.0 - 0.5 ** (1.0 / CLIP_HALF_LIFE_DAYS)
    runs: list[transients.Run] = []
    for q in range(len(scale)):
        days = np.flatnonzero(prepared.usable[q] & (prepared.z[q] > 0))
        if days.size < CLIP_MIN_DAYS:
            continue
        z = prepared.z[q, days]
        deviation = np.log(z / _level_before(z, alpha))
        sigma = robust_sd(deviation)
        if sigma > 0:
            skip = {
                int(np.searchsorted(days, run.first)): int(np.searchsorted(days, run.last)) + 1
                for run in over or []
                if run.queue == q
            }
            taken, found = _clipped(z, alpha, CLIP_SIGMAS * sigma, find, skip)
            scale[q, days] = taken / z
            runs += [transients.Run(q, int(days[a]), int(days[b - 1]), r) for a, b, r in found]
    return contacts * scale[:, :, None], runs


def robust_sd(values: FloatArray) -> float:
    """The spread of `values` by their median absolute deviation, scaled to a normal's
    standard deviation (one bad day does not widen it); 0 for fewer than 2."""
    if values.size < 2:
        return 0.0
    return 1.4826 * float(np.median(np.abs(values - np.median(values))))


def _level_before(z: FloatArray, alpha: float) -> FloatArray:
    """The exponentially smoothed level known before each day of `z` (started at the
    median of its first days)."""
    level = float(np.median(z[:5]))
    before = np.empty(z.size)
    for i, value in enumerate(z):
        before[i] = level
        level += alpha * (value - level)
    return before


def _clipped(
    z: FloatArray,
    alpha: float,
    bound: float,
    find: bool = False,
    skip: dict[int, int] | None = None,
) -> tuple[FloatArray, list[tuple[int, int, float]]]:
    """Each day of `z` as robust smoothing takes it: within ×e^(±bound) of the level known
    the day before, unless `SHIFT_DAYS` days in a row lie beyond the bound on the same
    side: that is the level moving (a product moved in, a channel out), and those days
    stand as they were, the level restarting from them. With `find`, a run that came
    back (`transients.came_back`) is not the level moving: its days are passed over, the
    level kept, and the run returned as (first, end exclusive, ratio to the level). The
    runs in `skip` (first: end exclusive) are passed over so too, not returned."""
    level = float(np.median(z[:5]))
    taken = z.copy()
    found: list[tuple[int, int, float]] = []
    beyond: list[int] = []  # the last days in a row beyond the bound on one side
    side_before = 0
    i = 0
    while i < z.size:
        value = float(z[i])
        deviation = float(np.log(value / level))
        side = int(np.sign(deviation)) if abs(deviation) > bound else 0
        if skip and i in skip:
            i = skip[i]
            continue
        if find and side and side != side_before:
            end = transients.came_back(z, i, level, bound, SHIFT_DAYS)
            if end > i:
                found.append((i, end, float(np.mean(z[i:end])) / level))
                i = end
                continue
        beyond = [*beyond, i] if side and side == side_before else ([i] if side else [])
        side_before = side
        i += 1
        if len(beyond) >= SHIFT_DAYS:
            taken[beyond] = z[beyond]  # they stand as they were
            level = float(np.mean(z[beyond]))
            beyond, side_before = [], 0
            continue
        taken[i - 1] = min(max(value, level * np.exp(-bound)), level * np.exp(bound))
        level += alpha * (taken[i - 1] - level)
    return taken, found


def fit(
    contacts: FloatArray,
    aht: FloatArray,
    weekdays: IntArray,
    open_mask: BoolArray,
    use: BoolArray,
    width_min: int,
    params: list[Params],
    with_aht: bool = True,
) -> Fit:
    """The structural model alone, fitted on days [0, D) of `contacts[Q, D, S]`; `use[Q, D]`
    leaves days out (events, holidays). Freak intervals are capped first."""
    weekdays = np.asarray(weekdays, dtype=int)
    totals = contacts.sum(axis=2)
    good = good_days(totals, weekdays, use)
    data, good, _ = clean(contacts, weekdays, open_mask, good, width_min)
    return fit_capped(data, contacts, aht, weekdays, open_mask, good, width_min, params, with_aht)


def fit_capped(
    data: FloatArray,
    contacts: FloatArray,
    aht: FloatArray,
    weekdays: IntArray,
    open_mask: BoolArray,
    good: BoolArray,
    width_min: int,
    params: list[Params],
    with_aht: bool = True,
    where: cycles.Positions | None = None,
) -> Fit:
    """As `fit`, on contacts already capped (`data`); baselines read the raw `contacts`.
    Queues may differ in their weekday half-life: each group is prepared once. `where`
    places the days in the calendar cycles, for the queues whose `Params.cycles` name any."""
    q_count, _, slots = data.shape
    level, drift = np.zeros(q_count), np.zeros(q_count)
    factor = np.ones((q_count, 7))
    shape = np.zeros((q_count, 7, slots))
    u = np.zeros(good.shape)
    adopted = {c.name: np.zeros((q_count, c.grid.size)) for c in cycles.CYCLES}
    use_cycles = where if any(p.cycles for p in params) else None
    for half_life in sorted({p.weekday_half_life_weeks for p in params}):
        trend = any(p.shape_trend for p in params if p.weekday_half_life_weeks == half_life)
        prepared = prepare(data, weekdays, open_mask, good, width_min, half_life, use_cycles, trend)
        lv, dr, sh = finish(prepared, params, width_min)
        for q, p in enumerate(params):
            if p.weekday_half_life_weeks == half_life:
                level[q], drift[q], shape[q] = lv[q], dr[q], sh[q]
                factor[q], u[q] = prepared.factor[q], prepared.u[q]
                for name in p.cycles:
                    if name in prepared.cycle_profiles:
                        adopted[name][q] = prepared.cycle_profiles[name].log_factor[q]
    aht_fit = (
        _fit_aht(data, aht, weekdays, u, width_min) if with_aht else np.zeros((q_count, 7, slots))
    )
    recent = recent_days(contacts, good, weekdays)
    fitted = Fit(level, factor, shape, center_open(open_mask), aht_fit, params, drift, recent)
    fitted.queue_open = open_mask if open_mask.ndim == 3 else None
    fitted.cycle_profiles = {
        c.name: cycles.Profile(c, adopted[c.name]) for c in cycles.CYCLES if adopted[c.name].any()
    }
    return fitted


def _fit_aht(
    contacts: FloatArray, aht: FloatArray, weekdays: IntArray, u: FloatArray, width_min: int
) -> FloatArray:
    has = ~np.isnan(aht) & (contacts > 0)
    weight = np.where(has, contacts, 0.0) * u[:, :, None]
    handled = np.where(has, aht * contacts, 0.0) * u[:, :, None]
    total_w = weight.sum(axis=(1, 2))
    mean = np.where(total_w > 0, handled.sum(axis=(1, 2)) / np.maximum(total_w, 1e-12), np.nan)
    mean = np.where(np.isnan(mean), 0.0, mean)
    by_slot_w = weight.sum(axis=1)
    by_slot_h = handled.sum(axis=1)
    sd = 30.0 / width_min
    if sd >= 0.34:
        half = int(np.ceil(3 * sd))
        k = np.exp(-0.5 * (np.arange(-half, half + 1) / sd) ** 2)
        by_slot_w = np.apply_along_axis(lambda r: np.convolve(r, k, mode="same"), 1, by_slot_w)
        by_slot_h = np.apply_along_axis(lambda r: np.convolve(r, k, mode="same"), 1, by_slot_h)
    slot_aht = (by_slot_h + AHT_PRIOR_CONTACTS * mean[:, None]) / (by_slot_w + AHT_PRIOR_CONTACTS)
    onehot = (np.asarray(weekdays)[:, None] == np.arange(7)[None, :]).astype(float)
    wd_w = weight.sum(axis=2) @ onehot
    wd_h = handled.sum(axis=2) @ onehot
    ratio = (wd_h + AHT_PRIOR_CONTACTS * mean[:, None]) / (wd_w + AHT_PRIOR_CONTACTS)
    ratio = ratio / np.maximum(mean[:, None], 1e-12)
    ratio = np.where(mean[:, None] > 0, ratio, 1.0)
    return slot_aht[:, None, :] * ratio[:, :, None]
