"""The forecast model: daily level × weekday factor × intraday shape, in numpy.

Arrays are `[queue, day, slot]` on the local grid. The model (docs/forecasting.md):

- **Daily total** of a queue on day d: `level × weekday_factor[weekday(d)]`. Weekday
  factors average many weeks (slow: half-life `weekday_half_life_weeks`), the level
  averages the deseasonalised totals of recent days (fast: `level_half_life_days`).
  Each weekday's mean total is pooled with the weekdays that agree with it within noise.
  Days far off their weekday's median (holidays, outages) get no weight.
- **Intraday shape** (share of the day per slot) per weekday, pooled with the other
  weekdays and with the center's total shape by inverse-variance weights: a weekday
  borrows from another as much as their shapes agree beyond Poisson noise. Then a
  Gaussian smoothing across neighbouring slots (`smooth_min`, chosen on held-out data).
- **Open slots** per weekday come from history (rows present), not from the model.
- **Freak intervals** far beyond Poisson noise are capped and the model refitted.
- **AHT** per slot: contact-weighted mean by slot of day, smoothed, shrunk to the
  queue's mean where contacts are few, scaled by a weekday ratio.

`calibrate` picks the two smoothing constants on the last held-out week(s) and, from
the same held-out forecasts, the dispersion φ of the prediction interval, the day-level
variance used by intraday updates, and the alert probabilities of peaks (one for forecasts
made days ahead, one for the rest of today after an intraday update).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from forecasting import intervals
from forecasting.model import MINUTES_PER_DAY, BoolArray, FloatArray

IntArray = np.ndarray


@dataclass(frozen=True)
class Params:
    """The smoothing constants of one queue (the first two are chosen by `calibrate`)."""

    level_half_life_days: float = 7.0
    smooth_min: float = 15.0
    weekday_half_life_weeks: float = 8.0


LEVEL_GRID = (3.0, 7.0, 14.0, 28.0)
SMOOTH_GRID = (0.0, 10.0, 20.0, 40.0, 80.0)
PHI_GRID = (0.0, *(0.0025 * 2 ** (k / 2) for k in range(17)))  # 0, 0.0025 … 0.64
NOMINAL_GRID = (0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.5)
AHT_PRIOR_CONTACTS = 30.0
CAP_SIGMAS = 4.0
CAP_ROUNDS = 2
POOL_BIAS_WINDOW_MIN = 120.0
MIN_PEAK_THRESHOLD = 5.0  # contacts per interval; below it a percentile threshold is noise
MIN_CALIBRATION_PEAKS = 5  # fewer held-out peaks: keep the default alert probability
DEFAULT_ALERT_PROBABILITY = 0.3
MIN_ALERT_PROBABILITY = 0.01


@dataclass
class Fit:
    """A fitted model: enough to predict any later day."""

    level: FloatArray  # [Q] deseasonalised daily total
    weekday_factor: FloatArray  # [Q, 7], mean 1
    shape: FloatArray  # [Q, 7, S], sums to 1 over the open slots of each weekday
    open: BoolArray  # [7, S]
    aht: FloatArray  # [Q, 7, S]
    params: list[Params]  # one per queue
    phi: FloatArray | None = None  # [Q] dispersion of the prediction interval
    day_var: FloatArray | None = None  # [Q] relative variance of a day's total
    nominal: FloatArray | None = None  # [Q] level asked of the bounds (0.8 unless tiny)
    alert_probability: float = 0.3  # peaks of later days (forecasts made days ahead)
    alert_probability_today: float = 0.3  # peaks of the rest of a partial day (intraday)

    def predict(self, weekdays: IntArray) -> FloatArray:
        """Mean contacts [Q, len(weekdays), S] for days with these weekdays."""
        w = np.asarray(weekdays, dtype=int)
        daily = self.level[:, None] * self.weekday_factor[:, w]
        return daily[:, :, None] * self.shape[:, w, :]

    def predict_aht(self, weekdays: IntArray) -> FloatArray:
        return self.aht[:, np.asarray(weekdays, dtype=int), :]


def open_slots(present: BoolArray, weekdays: IntArray, lookback: int = 8) -> BoolArray:
    """[7, S]: a slot is open on a weekday if it had rows on at least a quarter of the last
    `lookback` such days (at least one): closed intervals have no rows in history."""
    slots = present.shape[1]
    result = np.zeros((7, slots), dtype=bool)
    for w in range(7):
        days = np.flatnonzero(np.asarray(weekdays) == w)[-lookback:]
        if days.size:
            seen = present[days].sum(axis=0)
            result[w] = seen >= max(1.0, 0.25 * days.size)
    return result


def _weekday_medians(totals: FloatArray, weekdays: IntArray, use: BoolArray) -> FloatArray:
    q = totals.shape[0]
    med = np.zeros((q, 7))
    for w in range(7):
        mask = (weekdays == w)[None, :] & use
        for i in range(q):
            values = totals[i, mask[i]][-8:]
            med[i, w] = np.median(values) if values.size else 0.0
    return med


def _kernel_smooth(shape: FloatArray, open_mask: BoolArray, sd_slots: float) -> FloatArray:
    """Normalised Gaussian smoothing along slots, over open slots only, mass-preserving."""
    if sd_slots < 0.34:
        return shape
    half = int(np.ceil(3 * sd_slots))
    offsets = np.arange(-half, half + 1)
    kernel = np.exp(-0.5 * (offsets / sd_slots) ** 2)
    kernel /= kernel.sum()
    lead = shape.shape[:-1]
    flat = shape.reshape(-1, shape.shape[-1])
    mask = np.broadcast_to(open_mask, shape.shape).reshape(-1, shape.shape[-1]).astype(float)
    num = np.apply_along_axis(lambda r: np.convolve(r, kernel, mode="same"), 1, flat * mask)
    den = np.apply_along_axis(lambda r: np.convolve(r, kernel, mode="same"), 1, mask)
    with np.errstate(invalid="ignore", divide="ignore"):
        smooth = np.where(den > 0, num / np.maximum(den, 1e-12), 0.0) * mask
    total = smooth.sum(axis=1, keepdims=True)
    smooth = np.where(total > 0, smooth / np.maximum(total, 1e-12), flat)
    return smooth.reshape(*lead, shape.shape[-1])


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
    leaking into a Saturday morning."""
    q_count = own.shape[0]
    pooled = np.zeros_like(own)
    reach = max(1, round(POOL_BIAS_WINDOW_MIN / 2 / width_min))
    box = np.ones(2 * reach + 1)
    for w in range(7):
        mask = open_mask[w]
        n_open = int(mask.sum())
        if n_open == 0:
            continue
        # local means of the squared differences, over open slots only
        norm = np.convolve(mask.astype(float), box, mode="same")
        for q in range(q_count):
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
            local = np.array([np.convolve(r * mask, box, mode="same") for r in raw])
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
    """Fit on days [0, D) of `contacts[Q, D, S]`; `use[Q, D]` drops days (events, holidays).

    Two passes: the first fit's shapes, scaled to each day's own total, flag intervals
    far beyond Poisson noise (a burst of repeated calls, a data glitch); those are capped
    before the second pass, so one freak interval does not bend a weekday's shape.
    """
    weekdays = np.asarray(weekdays, dtype=int)
    data = contacts
    current = _fit_once(data, aht, weekdays, open_mask, use, width_min, params, False)
    capped = False
    for _ in range(CAP_ROUNDS):
        totals = data.sum(axis=2, keepdims=True)
        expected = totals * current.shape[:, weekdays, :]
        cap = expected + CAP_SIGMAS * np.sqrt(expected) + 3.0
        if not (data > cap).any():
            break
        capped = True
        data = np.minimum(data, cap)
        current = _fit_once(data, aht, weekdays, open_mask, use, width_min, params, False)
    if not with_aht:
        return current
    if not capped:
        data = contacts
    return _fit_once(data, aht, weekdays, open_mask, use, width_min, params, True)


def _fit_once(
    contacts: FloatArray,
    aht: FloatArray,
    weekdays: IntArray,
    open_mask: BoolArray,
    use: BoolArray,
    width_min: int,
    params: list[Params],
    with_aht: bool,
) -> Fit:
    q_count, days, slots = contacts.shape
    totals = contacts.sum(axis=2)
    med = _weekday_medians(totals, weekdays, use)
    day_med = med[:, weekdays]
    good = use & (totals >= 0.4 * day_med) & (totals <= 2.5 * day_med + 1.0)
    age_days = (days - 1 - np.arange(days)).astype(float)
    week_w = 0.5 ** (age_days / (7.0 * params[0].weekday_half_life_weeks))
    u = good * week_w[None, :]
    onehot = (weekdays[:, None] == np.arange(7)[None, :]).astype(float)  # [D, 7]
    sum_u = u @ onehot
    mean_w = np.where(sum_u > 0, ((u * totals) @ onehot) / np.maximum(sum_u, 1e-12), np.nan)
    seen = ~np.isnan(mean_w)
    mean_w = _pool_weekday_totals(mean_w, seen, totals, u, onehot)
    overall = np.array(
        [mean_w[i, seen[i]].mean() if seen[i].any() else 0.0 for i in range(q_count)]
    )
    factor = np.where(seen, mean_w, 0.0) / np.maximum(overall, 1e-12)[:, None]
    factor = np.where(overall[:, None] > 0, factor, 1.0)
    # Level: recent deseasonalised totals.
    f_day = factor[:, weekdays]
    half_lives = np.array([p.level_half_life_days for p in params])
    level_w = 0.5 ** (age_days[None, :] / half_lives[:, None])
    v = good * (f_day > 0.05) * level_w
    z = np.where(f_day > 0.05, totals / np.maximum(f_day, 1e-12), 0.0)
    level = np.where(v.sum(axis=1) > 0, (v * z).sum(axis=1) / np.maximum(v.sum(axis=1), 1e-12), 0.0)
    # Shapes.
    w3 = u[:, :, None] * contacts  # [Q, D, S]
    by_week = np.einsum("qds,dw->qws", w3, onehot)
    counts_eff_num = (u * totals) @ onehot
    counts_eff_den = (u * u * totals) @ onehot
    counts = np.where(
        counts_eff_den > 0, counts_eff_num**2 / np.maximum(counts_eff_den, 1e-12), 0.0
    )
    own = by_week / np.maximum(by_week.sum(axis=2, keepdims=True), 1e-12)
    center_week = by_week.sum(axis=0)
    center = center_week / np.maximum(center_week.sum(axis=1, keepdims=True), 1e-12)
    shape = _pool_shapes(own, counts, center, counts.sum(axis=0), open_mask, width_min)
    shape = np.stack(
        [
            _kernel_smooth(shape[q], open_mask, params[q].smooth_min / width_min)
            for q in range(q_count)
        ]
    )
    shape = shape * open_mask[None]
    shape /= np.maximum(shape.sum(axis=2, keepdims=True), 1e-12)
    aht_fit = (
        _fit_aht(contacts, aht, weekdays, u, width_min)
        if with_aht
        else np.zeros((q_count, 7, slots))
    )
    return Fit(level, factor, shape, open_mask, aht_fit, params)


def _fit_aht(
    contacts: FloatArray, aht: FloatArray, weekdays: IntArray, u: FloatArray, width_min: int
) -> FloatArray:
    _q_count, _, _slots = contacts.shape
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


@dataclass
class Holdout:
    """Week-ahead forecasts of held-out weeks: what calibration learns from."""

    actual: FloatArray  # [Q, n, S]
    mean: FloatArray  # [Q, n, S]
    open: BoolArray  # [n, S]


def _holdouts(
    contacts: FloatArray,
    aht: FloatArray,
    weekdays: IntArray,
    open_mask: BoolArray,
    use: BoolArray,
    width_min: int,
    params: list[Params],
) -> Holdout | None:
    days = contacts.shape[1]
    origins = [days - 7 * k for k in (1, 2) if days - 7 * k >= 7]
    if days < 28:
        origins = origins[:1]
    if not origins:
        return None
    actual, mean, opened = [], [], []
    for origin in origins:
        f = fit(
            contacts[:, :origin],
            aht[:, :origin],
            weekdays[:origin],
            open_mask,
            use[:, :origin],
            width_min,
            params,
            with_aht=False,
        )
        target = slice(origin, origin + 7)
        mean.append(f.predict(weekdays[target]))
        actual.append(contacts[:, target])
        every_queue = np.asarray(use[:, target].all(axis=0), dtype=bool)
        opened.append(open_mask[weekdays[target]] & every_queue[:, None])
    return Holdout(
        np.concatenate(actual, axis=1), np.concatenate(mean, axis=1), np.concatenate(opened, axis=0)
    )


def _score(h: Holdout) -> FloatArray:
    """Absolute error per queue over the held-out open intervals."""
    keep = np.broadcast_to(h.open[None], h.actual.shape)
    return np.where(keep, np.abs(h.actual - h.mean), 0.0).sum(axis=(1, 2))


def calibrate(
    contacts: FloatArray,
    aht: FloatArray,
    weekdays: IntArray,
    open_mask: BoolArray,
    use: BoolArray,
    width_min: int,
    peak_thresholds: FloatArray,
    target_recall: float = 0.9,
) -> Fit:
    """Choose the smoothing constants per queue on held-out weeks (one coordinate at a
    time), fit on all days, and attach the interval dispersion, the day-level variance
    and the peak alert probability."""
    weekdays = np.asarray(weekdays, dtype=int)
    q_count = contacts.shape[0]
    params = [Params() for _ in range(q_count)]
    args = (contacts, aht, weekdays, open_mask, use, width_min)
    best_holdout = _holdouts(*args, params)
    if best_holdout is not None:
        best = _score(best_holdout)
        for name, grid in (("level_half_life_days", LEVEL_GRID), ("smooth_min", SMOOTH_GRID)):
            for value in grid:
                trial = [replace(p, **{name: value}) for p in params]
                h = _holdouts(*args, trial)
                if h is None:
                    continue
                score = _score(h)
                better = score < best - 1e-9
                if better.any():
                    params = [trial[q] if better[q] else params[q] for q in range(q_count)]
                    best = np.where(better, score, best)
                    best_holdout.mean[better] = h.mean[better]
    final = fit(*args, params)
    q_count = contacts.shape[0]
    if best_holdout is None:
        final.phi = np.full(q_count, 0.05)
        final.nominal = np.full(q_count, 0.8)
        final.day_var = np.full(q_count, 0.02)
        return final
    final.phi, final.nominal = _calibrate_interval(best_holdout)
    final.day_var = _day_variance(best_holdout)
    final.alert_probability = _alert_probability(
        *_week_ahead_exceedance(best_holdout, final.phi, peak_thresholds), target_recall
    )
    final.alert_probability_today = _alert_probability(
        *_intraday_exceedance(best_holdout, final.phi, final.day_var, peak_thresholds),
        target_recall,
    )
    return final


def _calibrate_interval(h: Holdout, coverage: float = 0.8) -> tuple[FloatArray, FloatArray]:
    """Per queue, the dispersion φ (and, for queues so small that even Poisson bounds cover
    too much, a lower nominal level) whose bounds cover the held-out actuals nearest
    `coverage`. Coverage grows with φ, so the φ grid is bisected."""
    q_count = h.actual.shape[0]
    phi = np.zeros(q_count)
    nominal = np.full(q_count, coverage)
    for q in range(q_count):
        a = h.actual[q][h.open]
        m = h.mean[q][h.open]
        if a.size == 0:
            continue

        def covered(
            index: int, level: float = coverage, a: FloatArray = a, m: FloatArray = m
        ) -> float:
            low, high = intervals.bounds(m, np.full(m.size, PHI_GRID[index]), level)
            return float(np.mean((a >= low) & (a <= high)))

        lo, hi = 0, len(PHI_GRID) - 1
        seen = {lo: covered(lo)}
        if seen[lo] >= coverage:
            gaps = {level: abs(covered(0, level) - coverage) for level in NOMINAL_GRID}
            nominal[q] = min(gaps, key=lambda level: (gaps[level], -level))
            continue
        seen[hi] = covered(hi)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            seen[mid] = covered(mid)
            if seen[mid] < coverage:
                lo = mid
            else:
                hi = mid
        phi[q] = PHI_GRID[min(seen, key=lambda i: (abs(seen[i] - coverage), i))]
    return phi, nominal


def _day_variance(h: Holdout) -> FloatArray:
    """Relative variance of daily totals around their forecast beyond Poisson noise."""
    actual = np.where(h.open[None], h.actual, 0.0).sum(axis=2)
    mean = np.where(h.open[None], h.mean, 0.0).sum(axis=2)
    ok = mean > 1.0
    out = np.full(actual.shape[0], 0.02)
    for q in range(actual.shape[0]):
        if ok[q].sum() >= 3:
            ratio = actual[q, ok[q]] / mean[q, ok[q]]
            out[q] = float(np.var(ratio) - np.mean(1.0 / mean[q, ok[q]]))
    return np.clip(out, 0.001, 0.5)


def intraday_update(
    expected: FloatArray, actual: FloatArray, phi: FloatArray, day_var: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Today's factor and the dispersion of today's remaining intervals, per queue, from the
    contacts seen so far (`actual`) against their forecast (`expected`): the posterior mean
    of a Gamma(α, α) day factor, α = 1/σ²_day, under Poisson counts. The day-level part of φ
    is replaced by its posterior variance."""
    alpha = 1.0 / day_var
    factor = (alpha + actual) / (alpha + expected)
    within = np.maximum(phi - day_var, 0.3 * phi)
    return factor, within + day_var * alpha / (alpha + expected)


INTRADAY_STEP_MIN = 120
INTRADAY_LEAD_MIN = (240, 360)


def _week_ahead_exceedance(
    h: Holdout, phi: FloatArray, thresholds: FloatArray
) -> tuple[FloatArray, BoolArray]:
    """P(exceed) and whether it was exceeded, for the held-out weeks' open intervals of the
    queues with a usable threshold (as forecast a week ahead)."""
    probs, peaks = [np.zeros(0)], [np.zeros(0, dtype=bool)]
    for q in range(h.actual.shape[0]):
        if thresholds[q] < MIN_PEAK_THRESHOLD:
            continue
        a = h.actual[q][h.open]
        m = h.mean[q][h.open]
        probs.append(intervals.exceed_probability(m, np.full(m.size, phi[q]), thresholds[q]))
        peaks.append(a > thresholds[q])
    return np.concatenate(probs), np.concatenate(peaks)


def _intraday_exceedance(
    h: Holdout, phi: FloatArray, day_var: FloatArray, thresholds: FloatArray
) -> tuple[FloatArray, BoolArray]:
    """As `_week_ahead_exceedance`, but for intervals 4–6 h after origins every 2 h of each
    held-out day, with the day's forecast updated from its actuals before the origin
    (`intraday_update`): intraday forecasts are sharper, so the same probability cut would
    catch more peaks (and raise more alerts) than it did a week ahead."""
    _, days, slots = h.actual.shape
    width = MINUTES_PER_DAY // slots
    ok = thresholds >= MIN_PEAK_THRESHOLD
    probs, peaks = [np.zeros(0)], [np.zeros(0, dtype=bool)]
    if not ok.any():
        return probs[0], peaks[0]
    for d in range(days):
        opened = h.open[d]
        for origin in range(0, slots, max(1, INTRADAY_STEP_MIN // width)):
            t0 = origin + INTRADAY_LEAD_MIN[0] // width
            t1 = min(slots, origin + INTRADAY_LEAD_MIN[1] // width)
            target = np.flatnonzero(opened[t0:t1]) + t0
            if target.size == 0:
                continue
            expected = (h.mean[:, d, :origin] * opened[:origin]).sum(axis=1)
            seen = (h.actual[:, d, :origin] * opened[:origin]).sum(axis=1)
            factor, phi_rest = intraday_update(expected, seen, phi, day_var)
            mean = h.mean[:, d, target] * factor[:, None]
            for q in np.flatnonzero(ok):
                probs.append(
                    intervals.exceed_probability(
                        mean[q], np.full(target.size, phi_rest[q]), thresholds[q]
                    )
                )
                peaks.append(h.actual[q, d, target] > thresholds[q])
    return np.concatenate(probs), np.concatenate(peaks)


def _alert_probability(prob: FloatArray, is_peak: BoolArray, target_recall: float) -> float:
    """The highest exceedance probability at which alerts still catch `target_recall` of the
    held-out peaks (a planner's policy: rather a false alarm than a missed peak): the
    probability of the peak ranked ⌈target_recall × peaks⌉-th. Raising the cut above it
    trades recall for precision; the backtest shows where that curve lies."""
    caught = np.sort(prob[is_peak])[::-1]
    if caught.size < MIN_CALIBRATION_PEAKS:
        return DEFAULT_ALERT_PROBABILITY
    rank = int(np.ceil(target_recall * caught.size)) - 1
    return float(max(caught[rank], MIN_ALERT_PROBABILITY))


def peak_thresholds(contacts: FloatArray, present: BoolArray, percentile: float) -> FloatArray:
    """Per queue, the percentile of interval volumes over open intervals of the last 4 weeks."""
    recent = contacts[:, -28:]
    mask = present[-28:]
    out = np.zeros(contacts.shape[0])
    for q in range(contacts.shape[0]):
        values = recent[q][mask]
        out[q] = float(np.percentile(values, percentile)) if values.size else 0.0
    return out
