"""Model choice by rolling-origin backtest, per queue, and what the same backtest calibrates.

`calibrate` forecasts the history's own past: origins every 7 days back from its end
(`origins_of`: half a year of weeks where history has it), each forecasting the 7 days
after it from the days before it only. On those forecasts, per queue:

1. **The structural model's settings** (`estimator`): every combination of level
   half-life, weekday/shape half-life, smoothing and Theta drift is scored (absolute
   error over the open intervals of normal days) and the least error is kept. Then the
   setting with each calendar cycle in turn (`cycles`: the month's rhythm, the
   fortnight's, then the month's business days in the month's stead, then the year's),
   where history is long enough, and with the shapes carried along their
   trend (a peak that moves through the season): each is kept only if it beats the
   setting without it by a standard error of the per-day differences (an extra effect
   must earn its place).
2. **The combination.** The model, the four-week mean and seasonal naive (both taken over
   the last normal days of the weekday, so a holiday is not copied forward) are mixed with
   weights on a 0.1 grid of the simplex; among mixes no worse than the better baseline
   alone, the one-standard-error rule picks the one with most weight on the model. The
   baselines alone are on the grid, so what ships is never worse on this backtest than
   the better baseline.
3. **Prediction interval** (φ), **day-level variance**, **intraday gains** (`intraday`) and
   **peak alert probabilities** from the same held-out forecasts of the chosen mix.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from forecasting import cycles, estimator, hours, intervals, intraday, rules
from forecasting.estimator import Fit, Params
from forecasting.model import MINUTES_PER_DAY, BoolArray, FloatArray, IntArray

MAX_ORIGINS = 26  # half a year of weeks
RECENT_ORIGINS = 12  # scored however short the history before them
MIN_TRAIN_DAYS = 7
LONG_TRAIN_DAYS = 91  # what an origin older than the recent ones needs before it
WEEKDAY_GRID = (4.0, 12.0)
SMOOTH_GRID = (0.0, 10.0, 20.0, 40.0, 80.0)
# (level half-life in days, Theta drift, weight of that recent level against the long-run)
LEVEL_RULES = (
    *(
        (half_life, theta, 1.0)
        for half_life in (3.0, 7.0, 14.0, 28.0, 56.0)
        for theta in (False, True)
    ),
    *((half_life, False, w) for half_life in (3.0, 7.0, 14.0) for w in (0.25, 0.5, 0.75)),
)
WEIGHT_STEP = 0.1
PHI_GRID = (0.0, *(0.0025 * 2 ** (k / 2) for k in range(17)))  # 0, 0.0025 … 0.64
NOMINAL_GRID = (0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.5)
COVERAGE_SAMPLE = 8_000  # held-out intervals per queue that calibrate the bounds (±0.5 %)
PEAK_CALIBRATION_DAYS = 28  # the latest held-out days calibrate the intraday alert cut
MIN_PEAK_THRESHOLD = 5.0  # contacts per interval; below it a percentile threshold is noise
MIN_CALIBRATION_PEAKS = 5  # fewer held-out peaks: keep the default alert probability
DEFAULT_ALERT_PROBABILITY = 0.3
MIN_ALERT_PROBABILITY = 0.01
DEFAULT_PHI, DEFAULT_DAY_VAR = 0.05, 0.02
CANDIDATES = ("model", "four_week_mean", "seasonal_naive")


@dataclass
class Holdout:
    """Week-ahead forecasts of the held-out weeks: what calibration learns from."""

    actual: FloatArray  # [Q, n, S]
    mean: FloatArray  # [Q, n, S] the chosen mix
    open: BoolArray  # [n, S]
    normal: BoolArray  # [Q, n] normal days (scored)
    candidates: FloatArray  # [3, Q, n, S] model, four-week mean, seasonal naive
    # [Q, n, S] the mix as fits at each day's own midnight would have made it (what an
    # intraday update multiplies: `intraday.as_of_midnight`)
    midnight: FloatArray | None = None


def origins_of(days: int) -> list[int]:
    """Inner origins: every 7 days back from the end, oldest first: the latest
    `RECENT_ORIGINS` with `MIN_TRAIN_DAYS` of history before them, older ones (up to
    `MAX_ORIGINS` in all) only with `LONG_TRAIN_DAYS`."""
    found = [
        origin
        for k in range(1, MAX_ORIGINS + 1)
        if (origin := days - 7 * k) >= (MIN_TRAIN_DAYS if k <= RECENT_ORIGINS else LONG_TRAIN_DAYS)
    ]
    return found[::-1]


Setting = tuple[float, tuple[float, bool, float], float]  # weekday half-life, level rule, smoothing


def _settings() -> list[Setting]:
    return list(itertools.product(WEEKDAY_GRID, LEVEL_RULES, SMOOTH_GRID))


def _weights() -> FloatArray:
    """The mixes (model, four-week mean, seasonal naive) on a `WEIGHT_STEP` grid of the
    simplex, most weight on the model first."""
    steps = round(1 / WEIGHT_STEP)
    grid = [
        (a / steps, b / steps, (steps - a - b) / steps)
        for a in range(steps, -1, -1)
        for b in range(steps - a, -1, -1)
    ]
    return np.array(grid)


BASELINE_ROWS = tuple(
    int(np.flatnonzero((_weights() == row).all(axis=1))[0]) for row in ((0, 1, 0), (0, 0, 1))
)


def calibrate(
    contacts: FloatArray,
    aht: FloatArray,
    weekdays: IntArray,
    open_mask: BoolArray,
    use: BoolArray,
    width_min: int,
    peak_thresholds: FloatArray,
    target_recall: float = 0.9,
    where: cycles.Positions | None = None,
) -> Fit:
    """Choose, combine and calibrate on rolling origins; fit the chosen model on all days.
    `where` places the days in the calendar cycles (`cycles.positions`): without it no
    cycle is tried."""
    weekdays = np.asarray(weekdays, dtype=int)
    q_count, days, _ = contacts.shape
    good = estimator.good_days(contacts.sum(axis=2), weekdays, use)
    open_days = None
    if where is not None and cycles.DAY in where:  # business days: open weekdays, less closures
        has_calls = contacts.sum(axis=(0, 2)) > 0
        open_weekdays = np.asarray(open_mask.any(axis=1), dtype=bool)
        open_days = cycles.open_days_of(where, has_calls, open_weekdays)
        where = cycles.with_business_days(where, open_days)
    # each queue's own hours (an office in a center open round the clock): its shapes
    # live on them and it is forecast 0 outside them
    queue_open = hours.queue_hours(contacts, weekdays, open_mask)
    # transients (a mailing's days that came back) leave the normal days: the model, the
    # baselines and the held-out scores pass over them as over a freak day
    data, good, runs = estimator.clean(contacts, weekdays, queue_open, good, width_min, where)
    origins = origins_of(days)
    params = [Params() for _ in range(q_count)]
    holdout: Holdout | None = None
    weights = np.tile(np.array([1.0, 0.0, 0.0]), (q_count, 1))
    choice: dict[str, object] = {"origins": len(origins), "transients": runs}
    if origins:
        params, model = _choose_model(
            data, contacts, weekdays, open_mask, good, width_min, origins, where, queue_open
        )
        holdout = _holdout(contacts, weekdays, open_mask, good, origins, model)
        weights, scores = _choose_weights(holdout)
        choice["cycles"] = [list(p.cycles) for p in params]
        choice["shape_trend"] = [p.shape_trend for p in params]
        holdout.mean = np.einsum("qc,cqns->qns", weights, holdout.candidates)
        choice.update(scores)
    final = estimator.fit_capped(
        data, contacts, aht, weekdays, queue_open, good, width_min, params, True, where
    )
    final.weights = weights
    final.choice = choice
    if any(cycles.BUSINESS_DAY.name in p.cycles for p in params):
        final.open_days = open_days
    if holdout is None:
        final.phi = np.full(q_count, DEFAULT_PHI)
        final.nominal = np.full(q_count, 0.8)
        final.day_var = np.full(q_count, DEFAULT_DAY_VAR)
        final.intraday_gain = np.zeros((q_count, len(intraday.LEAD_BUCKETS_MIN)))
        return final
    final.phi, final.nominal = _calibrate_interval(holdout)
    final.day_var = _day_variance(holdout)
    holdout.midnight = intraday.as_of_midnight(
        holdout.actual,
        holdout.mean,
        holdout.candidates[0],
        weights[:, 0],
        holdout.open,
        holdout.normal,
        np.array([p.level_half_life_days for p in params]),
        np.array([p.recent_weight for p in params]),
    )
    final.intraday_gain = intraday.choose_gains(
        holdout.actual, holdout.midnight, holdout.open, holdout.normal, final.day_var, width_min
    )
    final.alert_probability = _alert_probability(
        *_week_ahead_exceedance(holdout, final.phi, peak_thresholds), target_recall
    )
    final.alert_probability_today = _alert_probability(
        *_intraday_exceedance(holdout, final, peak_thresholds), target_recall
    )
    return final


def _scored(open_mask: BoolArray, weekdays: IntArray, normal: BoolArray) -> FloatArray:
    """[Q, n, S] 1 where an interval is scored: open, on a normal day of the queue."""
    return (open_mask[weekdays][None] & normal[:, :, None]).astype(float)


def _choose_model(
    data: FloatArray,
    contacts: FloatArray,
    weekdays: IntArray,
    open_mask: BoolArray,
    good: BoolArray,
    width_min: int,
    origins: list[int],
    where: cycles.Positions | None = None,
    queue_open: BoolArray | None = None,
) -> tuple[list[Params], FloatArray]:
    """Per queue, the settings with the least absolute error on the held-out days (ties to
    the simplest), and that model's held-out forecasts [Q, n, S]. Not the
    one-standard-error rule: its "simplest" here would be the longest memory, a stale level
    where the level wanders (experiment log, issue 22). Each (origin, weekday half-life) is
    prepared once; level, Theta and smoothing settings only rescale what it holds.
    `queue_open` [Q, 7, S]: each queue's hours (default the center's, `open_mask`)."""
    q_count = data.shape[0]
    settings = _settings()
    index = {setting: k for k, setting in enumerate(settings)}
    levels: dict[tuple[int, float], dict[tuple[float, bool, float], FloatArray]] = {}
    prepared: dict[tuple[int, float], estimator.Prepared] = {}
    error: list[FloatArray] = []  # per origin: [settings, days, Q]
    shapes_of: dict[tuple[int, float, float, bool], FloatArray] = {}

    def shape_of(origin: int, hw: float, sm: float, trend: bool) -> FloatArray:
        """[Q, days after `origin`, S] the shapes of one setting, smoothed once."""
        if (origin, hw, sm, trend) not in shapes_of:
            wd = weekdays[origin : min(origin + 7, data.shape[1])]
            smoothed = estimator.smoothed_shape(prepared[origin, hw], sm, width_min, trend)
            shapes_of[origin, hw, sm, trend] = smoothed[:, wd]
        return shapes_of[origin, hw, sm, trend]

    for origin in origins:
        target = np.arange(origin, min(origin + 7, data.shape[1]))
        wd = weekdays[target]
        actual = contacts[:, target]
        scored = _scored(open_mask, wd, good[:, target])
        part = np.zeros((len(settings), target.size, q_count))
        for hw in WEEKDAY_GRID:
            prep = estimator.prepare(
                data[:, :origin],
                weekdays[:origin],
                open_mask if queue_open is None else queue_open,
                good[:, :origin],
                width_min,
                hw,
                None if where is None else {name: at[:origin] for name, at in where.items()},
                shape_trend=True,
            )
            prepared[origin, hw] = prep
            shapes = [shape_of(origin, hw, sm, False) for sm in SMOOTH_GRID]
            levels[origin, hw] = {
                rule: _daily(prep, rule, wd, target - origin) for rule in LEVEL_RULES
            }
            for rule in LEVEL_RULES:
                daily = levels[origin, hw][rule]
                for sm, shape in zip(SMOOTH_GRID, shapes, strict=True):
                    mean = daily[:, :, None] * shape
                    k = index[hw, rule, sm]
                    part[k] = (np.abs(actual - mean) * scored).sum(axis=2).T
        error.append(part)
    by_day = np.concatenate(error, axis=1)  # [settings, days, Q]
    order = sorted(range(len(settings)), key=lambda k: _simplicity(settings[k]))
    params = [_params(settings[rules.least_error(by_day[:, :, q], order)]) for q in range(q_count)]

    def forecast(origin: int, chosen: list[Params]) -> FloatArray:
        target = np.arange(origin, min(origin + 7, data.shape[1]))
        mean = np.zeros((q_count, target.size, data.shape[2]))
        for q, p in enumerate(chosen):
            hw = p.weekday_half_life_weeks
            rule = (p.level_half_life_days, p.theta, p.recent_weight)
            if p.cycles and where is not None:
                at = {name: values[target] for name, values in where.items()}
                prep = prepared[origin, hw]
                daily = _daily(prep, rule, weekdays[target], target - origin, at, p.cycles)
            else:
                daily = levels[origin, hw][rule]
            mean[q] = daily[q][:, None] * shape_of(origin, hw, p.smooth_min, p.shape_trend)[q]
        return mean

    def per_day_error(chosen: list[Params]) -> FloatArray:
        """[Q, held-out days] absolute error of the settings `chosen`."""
        parts = []
        for origin in origins:
            target = np.arange(origin, min(origin + 7, contacts.shape[1]))
            scored = _scored(open_mask, weekdays[target], good[:, target])
            parts.append((np.abs(contacts[:, target] - forecast(origin, chosen)) * scored).sum(2))
        return np.concatenate(parts, axis=1)

    learned = {name for hw in WEEKDAY_GRID for name in prepared[origins[-1], hw].cycle_profiles}
    so_far = per_day_error(params)
    for cycle in cycles.CYCLES:
        if cycle.name in learned:  # in the stead of the cycle it replaces, where adopted
            with_cycle = [
                replace(p, cycles=(*(n for n in p.cycles if n != cycle.instead_of), cycle.name))
                for p in params
            ]
            params, so_far = _adopt_if_clearly_better(with_cycle, params, so_far, per_day_error)
    with_trend = [replace(p, shape_trend=True) for p in params]
    params, _ = _adopt_if_clearly_better(with_trend, params, so_far, per_day_error)
    chosen = np.concatenate([forecast(origin, params) for origin in origins], axis=1)
    return params, chosen


def _adopt_if_clearly_better(
    extended: list[Params],
    params: list[Params],
    without: FloatArray,
    per_day_error: Callable[[list[Params]], FloatArray],
) -> tuple[list[Params], FloatArray]:
    """Per queue, its setting with an extra effect (a calendar cycle, the shape's trend)
    if that clearly beats the setting without (`rules.clearly_better`: by a standard error
    of the per-day differences): an extra effect must earn its place. Returns the settings
    and their per-day errors [Q, held-out days] (`without`: those of `params`)."""
    within = per_day_error(extended)
    keep = [rules.clearly_better(within[q], without[q]) for q in range(len(params))]
    adopted = [e if k else p for e, p, k in zip(extended, params, keep, strict=True)]
    return adopted, np.where(np.array(keep)[:, None], within, without)


def _simplicity(setting: Setting) -> tuple[bool, bool, float, float, float]:
    """Sort key (it breaks exact ties, e.g. of a queue without contacts), simplest first:
    plain SES before mixed levels and Theta's drift, then the longest memories and the
    most smoothing."""
    hw, (half_life, theta, weight), sm = setting
    return (theta, weight < 1.0, -half_life, -hw, -sm)


def _params(setting: Setting) -> Params:
    hw, (half_life, theta, weight), sm = setting
    return Params(
        level_half_life_days=half_life,
        smooth_min=sm,
        weekday_half_life_weeks=hw,
        theta=theta,
        recent_weight=weight,
    )


def _daily(
    prep: estimator.Prepared,
    rule: tuple[float, bool, float],
    wd: IntArray,
    leads: IntArray,
    where: cycles.Positions | None = None,
    cycle_names: tuple[str, ...] = (),
) -> FloatArray:
    """[Q, n] daily totals of the model for target days with weekdays `wd`; with their
    positions in the calendar cycles (`where`), the factors of `cycle_names` learned."""
    half_life, theta, weight = rule
    learned = tuple(n for n in cycle_names if n in prep.cycle_profiles and where is not None)
    level, drift = estimator.level_of(prep, half_life, theta, weight, learned)
    daily = np.maximum(level[:, None] + drift[:, None] * leads[None], 0.0) * prep.factor[:, wd]
    for name in learned:
        assert where is not None
        daily = daily * prep.cycle_profiles[name].at(where[name])
    return daily


def _holdout(
    contacts: FloatArray,
    weekdays: IntArray,
    open_mask: BoolArray,
    good: BoolArray,
    origins: list[int],
    model: FloatArray,
) -> Holdout:
    actual, naive, four, opened, normal = [], [], [], [], []
    for origin in origins:
        target = np.arange(origin, min(origin + 7, contacts.shape[1]))
        recent = estimator.recent_days(contacts[:, :origin], good[:, :origin], weekdays[:origin])
        sn, fw = estimator.baselines(recent, weekdays[target])
        mask = open_mask[weekdays[target]]
        naive.append(sn * mask[None])
        four.append(fw * mask[None])
        actual.append(contacts[:, target])
        opened.append(mask)
        normal.append(good[:, target])
    candidates = np.stack([model, np.concatenate(four, axis=1), np.concatenate(naive, axis=1)])
    return Holdout(
        np.concatenate(actual, axis=1),
        model.copy(),
        np.concatenate(opened, axis=0),
        np.concatenate(normal, axis=1),
        candidates,
    )


def _choose_weights(h: Holdout) -> tuple[FloatArray, dict[str, object]]:
    """Per queue, the mix of (model, four-week mean, seasonal naive) chosen by the
    one-standard-error rule on the held-out days, most weight on the model first; the WAPE
    of each candidate and of the mix on those days, for the record."""
    grid = _weights()
    scored = h.open[None] & h.normal[:, :, None]
    q_count = h.actual.shape[0]
    chosen = np.zeros((q_count, 3))
    wape: dict[str, list[float]] = {name: [] for name in (*CANDIDATES, "mix")}
    order = list(range(len(grid)))
    for q in range(q_count):
        keep = scored[q]
        a = np.where(keep, h.actual[q], 0.0)  # [n, S]
        c = np.where(keep[None], h.candidates[:, q], 0.0)  # [3, n, S]
        mix = np.einsum("gc,cns->gns", grid, c)
        by_day = np.abs(a[None] - mix).sum(axis=2)  # [grid, n]
        # never more error than the better baseline alone (both are on the grid)
        baseline = min(by_day[k].sum() for k in BASELINE_ROWS)
        pick = rules.one_standard_error(by_day, order, by_day.sum(axis=1) <= baseline + 1e-9)
        chosen[q] = grid[pick]
        total = max(float(a.sum()), 1e-12)
        for i, name in enumerate(CANDIDATES):
            wape[name].append(float(np.abs(a - c[i]).sum()) / total)
        wape["mix"].append(float(by_day[pick].sum()) / total)
    return chosen, {"weights": chosen.round(2).tolist(), "holdout_wape": wape}


def _calibrate_interval(h: Holdout, coverage: float = 0.8) -> tuple[FloatArray, FloatArray]:
    """Per queue, the dispersion φ (and, for queues so small that even Poisson bounds cover
    too much, a lower nominal level) whose bounds cover the held-out actuals nearest
    `coverage`. Coverage grows with φ, so the φ grid is bisected."""
    q_count = h.actual.shape[0]
    phi = np.zeros(q_count)
    nominal = np.full(q_count, coverage)
    for q in range(q_count):
        keep = h.open & h.normal[q][:, None]
        a = h.actual[q][keep]
        m = h.mean[q][keep]
        if a.size == 0:
            phi[q] = DEFAULT_PHI
            continue
        if (
            a.size > COVERAGE_SAMPLE
        ):  # a seeded sample: coverage to ±0.5 % at a fraction of the cost
            pick = np.random.default_rng(q).choice(a.size, COVERAGE_SAMPLE, replace=False)
            a, m = a[pick], m[pick]

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
    ok = (mean > 1.0) & h.normal
    out = np.full(actual.shape[0], DEFAULT_DAY_VAR)
    for q in range(actual.shape[0]):
        if ok[q].sum() >= 3:
            ratio = actual[q, ok[q]] / mean[q, ok[q]]
            out[q] = float(np.var(ratio) - np.mean(1.0 / mean[q, ok[q]]))
    return np.clip(out, 0.001, 0.5)


def _week_ahead_exceedance(
    h: Holdout, phi: FloatArray, thresholds: FloatArray
) -> tuple[FloatArray, BoolArray]:
    """P(exceed) and whether it was exceeded, for the held-out weeks' open intervals of the
    queues with a usable threshold (as forecast a week ahead)."""
    probs, peaks = [np.zeros(0)], [np.zeros(0, dtype=bool)]
    for q in range(h.actual.shape[0]):
        if thresholds[q] < MIN_PEAK_THRESHOLD:
            continue
        keep = h.open & h.normal[q][:, None]
        a, m = h.actual[q][keep], h.mean[q][keep]
        probs.append(intervals.exceed_probability(m, np.full(m.size, phi[q]), thresholds[q]))
        peaks.append(a > thresholds[q])
    return np.concatenate(probs), np.concatenate(peaks)


def _intraday_exceedance(
    h: Holdout, fit: Fit, thresholds: FloatArray
) -> tuple[FloatArray, BoolArray]:
    """As `_week_ahead_exceedance`, for intervals 4–6 h after origins every 2 h of each
    held-out day, with the day's forecast updated from its actuals before the origin (the
    same `intraday.update` as a forecast made during the day): intraday forecasts are
    sharper, so the same probability cut would catch more peaks than it did a week ahead."""
    assert fit.phi is not None and fit.day_var is not None and fit.intraday_gain is not None
    assert h.midnight is not None
    _, days, slots = h.actual.shape
    width = MINUTES_PER_DAY // slots
    ok = thresholds >= MIN_PEAK_THRESHOLD
    probs, peaks = [np.zeros(0)], [np.zeros(0, dtype=bool)]
    if not ok.any():
        return probs[0], peaks[0]
    lo, hi = intraday.SCORED_LEAD_MIN
    for d in range(max(0, days - PEAK_CALIBRATION_DAYS), days):
        opened = h.open[d]
        for origin in range(0, slots, max(1, intraday.STEP_MIN // width)):
            target = np.flatnonzero(opened[origin + lo // width : origin + hi // width])
            target = target + origin + lo // width
            if target.size == 0:
                continue
            mean, phi_rest = intraday.update(
                h.midnight[:, d],
                h.actual[:, d],
                opened,
                origin,
                fit.phi,
                fit.day_var,
                fit.intraday_gain,
                width,
            )
            for q in np.flatnonzero(ok & h.normal[:, d]):
                probs.append(
                    intervals.exceed_probability(
                        mean[q, target], phi_rest[q, target], thresholds[q]
                    )
                )
                peaks.append(h.actual[q, d, target] > thresholds[q])
    return np.concatenate(probs), np.concatenate(peaks)


def _alert_probability(prob: FloatArray, is_peak: BoolArray, target_recall: float) -> float:
    """The highest exceedance probability at which alerts still catch `target_recall` of the
    held-out peaks (a planner's policy: rather a false alarm than a missed peak), aiming one
    binomial standard error above the target so that recall on new days stays at or above
    it: the probability of the peak ranked ⌈(target + se) × peaks⌉-th."""
    caught = np.sort(prob[is_peak])[::-1]
    if caught.size < MIN_CALIBRATION_PEAKS:
        return DEFAULT_ALERT_PROBABILITY
    aim = min(1.0, target_recall + np.sqrt(target_recall * (1 - target_recall) / caught.size))
    rank = int(np.ceil(aim * caught.size)) - 1
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
