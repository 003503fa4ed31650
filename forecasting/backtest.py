"""Rolling-origin backtest of the model against two seasonal baselines, in one run.

Week ahead: an origin at every local midnight whose following 7 days lie in the last
`weeks` weeks of history and which has at least `min_train_days` days before it; each
origin forecasts the 7 days after it. The baselines are computed for the same target
intervals: the same interval one week earlier (seasonal naive) and the mean of the same
interval on the last four same weekdays (fewer when history is shorter).

Intraday: origins every `intraday_step_h` hours on each day of the target window; the
history is cut at the origin (today's actuals so far) and the model forecasts the
intervals 4–6 h after it. The same intervals are scored for the forecast made one week
before the origin, which is what a planner had when the week's schedule was drawn.

Peaks: per queue, the threshold is the 90th percentile of the queue's interval volumes
over the 4 weeks before the origin (queues whose threshold is below 5 contacts are left
out: there "top decile" is noise). An interval is a peak when its actual exceeds the
threshold; it is alerted when the model gives it an exceedance probability of at least
the alert probability calibrated on held-out weeks (the intraday one for the intervals
after an intraday update). Next to it, `noise_bound`: what an oracle that knows every
rate would reach, i.e. how much of the miss is count noise rather than the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np

from forecasting import estimator, intervals, service
from forecasting.model import FloatArray, History

MIN_PEAK_THRESHOLD = service.MIN_PEAK_THRESHOLD
# Coverage is scored where an 80 % interval can mean something: below one expected contact
# a count is mostly 0 and the narrowest interval, [0, 0], already covers far more than 80 %.
MIN_INTERVAL_MEAN = 1.0
NOISE_BOUND_DRAWS = 50


@dataclass
class Scores:
    """Pairs of actual and forecast collected over many origins."""

    actual: list[FloatArray] = field(default_factory=list)
    forecast: list[FloatArray] = field(default_factory=list)
    low: list[FloatArray] = field(default_factory=list)
    high: list[FloatArray] = field(default_factory=list)
    naive: list[FloatArray] = field(default_factory=list)
    four_week: list[FloatArray] = field(default_factory=list)
    before: list[FloatArray] = field(default_factory=list)
    peak_actual: list[np.ndarray] = field(default_factory=list)
    peak_alert: list[np.ndarray] = field(default_factory=list)
    peak_mean: list[FloatArray] = field(default_factory=list)  # of the peak-scored intervals
    peak_phi: list[FloatArray] = field(default_factory=list)
    peak_threshold: list[FloatArray] = field(default_factory=list)

    def cat(self, name: str) -> FloatArray:
        parts = getattr(self, name)
        return np.concatenate(parts) if parts else np.zeros(0)


def wape(actual: FloatArray, forecast: FloatArray) -> float:
    total = float(actual.sum())
    return float(np.abs(actual - forecast).sum() / total) if total > 0 else float("nan")


def mape(actual: FloatArray, forecast: FloatArray) -> float:
    keep = actual > 0
    if not keep.any():
        return float("nan")
    return float(np.mean(np.abs(actual[keep] - forecast[keep]) / actual[keep]))


def bias(actual: FloatArray, forecast: FloatArray) -> float:
    total = float(actual.sum())
    return float((forecast - actual).sum() / total) if total > 0 else float("nan")


@dataclass
class Report:
    week: Scores
    intraday: Scores
    origins: int
    intraday_origins: int
    first_target: str
    width_min: int

    def summary(self) -> dict[str, float | int | str]:
        a, f = self.week.cat("actual"), self.week.cat("forecast")
        ia, ifc = self.intraday.cat("actual"), self.intraday.cat("forecast")
        low, high = self.week.cat("low"), self.week.cat("high")
        pa = (
            np.concatenate(self.intraday.peak_actual)
            if self.intraday.peak_actual
            else np.zeros(0, bool)
        )
        pf = (
            np.concatenate(self.intraday.peak_alert)
            if self.intraday.peak_alert
            else np.zeros(0, bool)
        )
        wa = np.concatenate(self.week.peak_actual) if self.week.peak_actual else np.zeros(0, bool)
        wf = np.concatenate(self.week.peak_alert) if self.week.peak_alert else np.zeros(0, bool)
        return {
            "wape": round(wape(a, f), 4),
            "wape_seasonal_naive": round(wape(a, self.week.cat("naive")), 4),
            "wape_four_week_mean": round(wape(a, self.week.cat("four_week")), 4),
            "mape": round(mape(a, f), 4),
            "bias": round(bias(a, f), 4),
            "coverage_80": round(_coverage(a, low, high, f >= MIN_INTERVAL_MEAN), 4),
            "coverage_80_all": round(_coverage(a, low, high, np.ones(a.size, dtype=bool)), 4),
            "wape_intraday_4_6h": round(wape(ia, ifc), 4),
            "wape_week_ahead_same_intervals": round(wape(ia, self.intraday.cat("before")), 4),
            "peak_recall": round(_ratio((pa & pf).sum(), pa.sum()), 4),
            "peak_precision": round(_ratio((pa & pf).sum(), pf.sum()), 4),
            "peak_recall_week_ahead": round(_ratio((wa & wf).sum(), wa.sum()), 4),
            "peak_precision_week_ahead": round(_ratio((wa & wf).sum(), wf.sum()), 4),
            "peak_precision_noise_bound": round(
                noise_bound(
                    self.intraday.cat("peak_mean"),
                    self.intraday.cat("peak_phi"),
                    self.intraday.cat("peak_threshold"),
                ),
                4,
            ),
            "peaks": int(pa.sum()),
            "origins": self.origins,
            "intraday_origins": self.intraday_origins,
            "intervals": int(a.size),
            "interval_min": self.width_min,
            "first_target_day": self.first_target,
        }


def _coverage(actual: FloatArray, low: FloatArray, high: FloatArray, keep: np.ndarray) -> float:
    if not keep.any():
        return float("nan")
    inside = (actual >= low) & (actual <= high)
    return float(inside[keep].mean())


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else float("nan")


def _baselines(history: History, day: int, count: int) -> tuple[FloatArray, FloatArray]:
    """Seasonal naive and four-week mean for days day..day+count-1: [Q, count, S]."""
    c = history.contacts
    q, _, s = c.shape
    naive = np.zeros((q, count, s))
    four = np.zeros((q, count, s))
    for i in range(count):
        d = day + i
        past = [d - 7 * k for k in range(1, 5) if d - 7 * k >= 0]
        if past:
            naive[:, i] = c[:, past[0]]
            four[:, i] = c[:, past].mean(axis=1)
    return naive, four


def _peaks(
    scores: Scores,
    projection: service.Projection,
    actual: FloatArray,
    mean: FloatArray,
    phi: FloatArray,
    queue_index: np.ndarray,
    cut: FloatArray,
) -> None:
    """Score peaks of these intervals: actual above the queue's threshold vs alerted."""
    thr = projection.thresholds[queue_index]
    keep = thr >= MIN_PEAK_THRESHOLD
    prob = intervals.exceed_probability(mean[keep], phi[keep], thr[keep])
    scores.peak_actual.append(actual[keep] > thr[keep])
    scores.peak_alert.append(prob >= cut[keep])
    scores.peak_mean.append(mean[keep])
    scores.peak_phi.append(phi[keep])
    scores.peak_threshold.append(thr[keep])


def noise_bound(
    mean: FloatArray,
    phi: FloatArray,
    threshold: FloatArray,
    recall: float = 0.9,
    draws: int = NOISE_BOUND_DRAWS,
    seed: int = 0,
) -> float:
    """Peak precision at `recall` of an oracle that knows every interval's rate, in a world
    that is exactly as the model describes it: rates drawn from the model's predictive
    Gamma (mean μ, relative variance φ), counts Poisson around them. The oracle ranks by its
    exact P(count > threshold) and picks its cut with hindsight, so no forecaster can beat
    it on average: what remains is count noise, set by the volume per interval. Averaged
    over `draws` seeded draws."""
    if mean.size == 0:
        return float("nan")
    rng = np.random.default_rng(seed)
    shape = 1.0 / np.maximum(phi, 1e-9)
    out = []
    for _ in range(draws):
        rate = np.where(phi > 1e-9, rng.gamma(shape, mean / shape), mean)
        peak = rng.poisson(rate) > threshold
        if not peak.any():
            continue
        prob = intervals.exceed_probability(rate, np.zeros(rate.size), threshold)
        order = np.argsort(-prob, kind="stable")
        caught = np.cumsum(peak[order])
        alerts = int(np.searchsorted(caught, np.ceil(recall * peak.sum()))) + 1
        out.append(caught[alerts - 1] / alerts)
    return float(np.mean(out)) if out else float("nan")


def run(
    history: History, weeks: int = 4, min_train_days: int = 14, intraday_step_h: int = 2
) -> Report:
    days = service.complete_days(history)
    first_target = max(days - 7 * weeks, min_train_days)
    if first_target + 7 > days:
        from switchboard.common.errors import InputError

        raise InputError(
            f"history: a backtest needs at least {min_train_days + 7} full days, found {days}"
        )
    history = history.cut(history.day_start(days))
    cache: dict[int, tuple[estimator.Fit, FloatArray]] = {}
    week = Scores()
    origins = 0
    q_count = len(history.queues)
    for origin in range(first_target, days - 6):
        cut = history.cut(history.day_start(origin))
        proj = service.project(cut, origin + 6, cache)
        actual = history.contacts[:, origin : origin + 7]
        naive, four = _baselines(history, origin, 7)
        keep = proj.open[None] | (actual > 0)
        qi = np.broadcast_to(np.arange(q_count)[:, None, None], actual.shape)[keep]
        mean, phi = proj.mean[keep], proj.phi[keep]
        assert proj.fit.nominal is not None
        low, high = intervals.bounds(mean, phi, proj.fit.nominal[qi])
        week.actual.append(actual[keep])
        week.forecast.append(mean)
        week.low.append(low)
        week.high.append(high)
        week.naive.append(naive[keep])
        week.four_week.append(four[keep])
        alert_cut = np.broadcast_to(proj.cut[None], actual.shape)[keep]
        _peaks(week, proj, actual[keep], mean, phi, qi, alert_cut)
        origins += 1
    intraday = Scores()
    intraday_origins = 0
    width = history.width_min
    span = (4 * 60 // width, 6 * 60 // width)
    for day in range(first_target + 7, days):
        for hour in range(0, 24, intraday_step_h):
            o_min = day * 1440 + hour * 60
            t0, t1 = o_min // width + span[0], o_min // width + span[1]
            if t1 > days * (1440 // width):
                continue
            moment = history.day_start(day) + timedelta(hours=hour)
            now = service.project(history.cut(moment), (t1 - 1) * width // 1440, cache)
            before = service.project(
                history.cut(moment - timedelta(days=7)), (t1 - 1) * width // 1440, cache
            )
            a, f, phi, ok, qi, alert_cut = _window(history, now, t0, t1)
            b = _window(history, before, t0, t1)[1]
            keep = ok
            if not keep.any():
                continue
            intraday.actual.append(a[keep])
            intraday.forecast.append(f[keep])
            intraday.before.append(b[keep])
            _peaks(intraday, now, a[keep], f[keep], phi[keep], qi[keep], alert_cut[keep])
            intraday_origins += 1
    return Report(
        week,
        intraday,
        origins,
        intraday_origins,
        history.day_start(first_target).date().isoformat(),
        width,
    )


def _window(
    history: History, proj: service.Projection, t0: int, t1: int
) -> tuple[FloatArray, FloatArray, FloatArray, np.ndarray, np.ndarray, FloatArray]:
    """Actual, forecast, dispersion, mask, queue index and alert cut for absolute slots
    [t0, t1)."""
    s = history.slots_per_day
    q_count = len(history.queues)
    flat_actual = history.contacts.reshape(q_count, -1)[:, t0:t1]
    start = proj.first * s
    mean = proj.mean.reshape(q_count, -1)[:, t0 - start : t1 - start]
    phi = proj.phi.reshape(q_count, -1)[:, t0 - start : t1 - start]
    opened = proj.open.reshape(-1)[t0 - start : t1 - start]
    cut = np.broadcast_to(proj.cut.reshape(-1)[None, t0 - start : t1 - start], flat_actual.shape)
    ok = opened[None, :] | (flat_actual > 0)
    qi = np.broadcast_to(np.arange(q_count)[:, None], flat_actual.shape)
    return flat_actual.ravel(), mean.ravel(), phi.ravel(), ok.ravel(), qi.ravel(), cut.ravel()


def describe(report: Report) -> list[str]:
    s = report.summary()
    better = min(float(s["wape_seasonal_naive"]), float(s["wape_four_week_mean"]))
    return [
        f"backtest: {s['origins']} week-ahead origins from {s['first_target_day']}, "
        f"{s['intraday_origins']} intraday origins, {s['interval_min']}-minute intervals",
        f"week ahead   WAPE {s['wape']:.3f}  MAPE {s['mape']:.3f}  bias {s['bias']:+.3f}  "
        f"80% coverage {s['coverage_80']:.3f} (all intervals {s['coverage_80_all']:.3f})",
        f"baselines    seasonal naive WAPE {s['wape_seasonal_naive']:.3f}  "
        f"four-week mean WAPE {s['wape_four_week_mean']:.3f}  "
        f"(model/better = {float(s['wape']) / better:.3f}, target <= 0.9)",
        f"intraday     4-6 h ahead WAPE {s['wape_intraday_4_6h']:.3f}  vs week-ahead on the "
        f"same intervals {s['wape_week_ahead_same_intervals']:.3f}",
        f"peaks        4-6 h ahead recall {s['peak_recall']:.3f} precision "
        f"{s['peak_precision']:.3f} ({s['peaks']} peaks); week ahead recall "
        f"{s['peak_recall_week_ahead']:.3f} precision {s['peak_precision_week_ahead']:.3f}",
        f"             count-noise bound: an oracle knowing every rate reaches precision "
        f"{s['peak_precision_noise_bound']:.3f} at recall 0.9 (target 0.7)",
    ]
