"""Rolling-origin backtest of the forecaster against two seasonal baselines, in one run.

Week ahead: an origin at every local midnight whose following 7 days lie in the last
`weeks` weeks of history and which has at least `min_train_days` days before it; each
origin forecasts the 7 days after it from the history before it only (the model choice,
the holiday calendar and every calibration are redone at each origin). The baselines are
computed for the same target intervals as a planner would without us: the same interval
one week earlier (seasonal naive) and the mean of the same interval on the last four same
weekdays (fewer when history is shorter).

Intraday: origins every `intraday_step_h` hours on each day from the first week-ahead
target on; the history is cut at the origin (today's actuals so far) and the intervals
0–2, 2–4 and 4–6 h after it are forecast. Their peaks are scored on every such day; their
WAPE 4–6 h ahead only where a week-ahead forecast was made one week before the origin
(what a planner had when the week's schedule was drawn), and against it.

Peaks: per queue, the threshold is the 90th percentile of the queue's interval volumes
over the 4 weeks before the origin (queues whose threshold is below 5 contacts are left
out: there "top decile" is noise). An interval is a peak when its actual exceeds the
threshold; it is alerted when the forecast's exceedance probability reaches the alert
probability calibrated on held-out weeks. Recall is given per lead (how far ahead a peak
was flagged), and next to the precision the noise bound: the precision, at the same
recall and on the same peaks, of an oracle that knows every interval's rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import Any

import numpy as np

from forecasting import intervals, service
from forecasting.model import FloatArray, History
from switchboard.common.calendar import HolidayCalendar
from switchboard.common.errors import InputError

MIN_PEAK_THRESHOLD = service.MIN_PEAK_THRESHOLD
# Coverage is scored where an 80 % interval can mean something: below one expected contact
# a count is mostly 0 and the narrowest interval, [0, 0], already covers far more than 80 %.
MIN_INTERVAL_MEAN = 1.0
NOISE_BOUND_DRAWS = 50
HINDSIGHT_RECALL = 0.9  # the recall target: where the best cut is judged in hindsight
LEADS_H = ((0, 2), (2, 4), (4, 6))  # intraday lead buckets; (4, 6) is the scored one
SCORED_LEAD = "4_6h"


@dataclass
class Scores:
    """Pairs of actual and forecast collected over many origins."""

    actual: list[FloatArray] = field(default_factory=list)
    forecast: list[FloatArray] = field(default_factory=list)
    low: list[FloatArray] = field(default_factory=list)
    high: list[FloatArray] = field(default_factory=list)
    naive: list[FloatArray] = field(default_factory=list)
    four_week: list[FloatArray] = field(default_factory=list)
    naive_open: list[FloatArray] = field(default_factory=list)  # from open days only
    four_week_open: list[FloatArray] = field(default_factory=list)
    before: list[FloatArray] = field(default_factory=list)
    peak_actual: list[np.ndarray] = field(default_factory=list)
    peak_count: list[FloatArray] = field(default_factory=list)  # actual counts of those intervals
    peak_alert: list[np.ndarray] = field(default_factory=list)
    peak_probability: list[FloatArray] = field(default_factory=list)  # P(exceed) we alerted on
    peak_mean: list[FloatArray] = field(default_factory=list)  # of the peak-scored intervals
    peak_phi: list[FloatArray] = field(default_factory=list)
    peak_threshold: list[FloatArray] = field(default_factory=list)

    def cat(self, name: str) -> np.ndarray:
        parts = getattr(self, name)
        return np.concatenate(parts) if parts else np.zeros(0)

    def recall(self) -> float:
        peaks, alerts = self.cat("peak_actual").astype(bool), self.cat("peak_alert").astype(bool)
        return _ratio(float((peaks & alerts).sum()), float(peaks.sum()))

    def precision(self) -> float:
        peaks, alerts = self.cat("peak_actual").astype(bool), self.cat("peak_alert").astype(bool)
        return _ratio(float((peaks & alerts).sum()), float(alerts.sum()))


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
    intraday: Scores  # 4-6 h ahead, beside the week-ahead forecast of the same intervals
    by_lead: dict[str, Scores]  # intraday peaks per lead bucket, from the first target day
    origins: int
    intraday_origins: int
    first_target: str
    width_min: int
    holidays: str = ""
    closed_days: int = 0
    cycles: dict[str, list[str]] = field(default_factory=dict)  # per queue, the last origin's
    shape_trend: list[str] = field(default_factory=list)  # queues whose shapes were trended

    def summary(self) -> dict[str, Any]:
        a, f = self.week.cat("actual"), self.week.cat("forecast")
        ia, ifc = self.intraday.cat("actual"), self.intraday.cat("forecast")
        low, high = self.week.cat("low"), self.week.cat("high")
        naive = wape(a, self.week.cat("naive"))
        four = wape(a, self.week.cat("four_week"))
        naive_open = wape(a, self.week.cat("naive_open"))
        four_open = wape(a, self.week.cat("four_week_open"))
        ours = wape(a, f)
        peaks = self.by_lead[SCORED_LEAD]
        recall = peaks.recall()
        precision = peaks.precision()
        mean, phi = peaks.cat("peak_mean"), peaks.cat("peak_phi")
        threshold, count = peaks.cat("peak_threshold"), peaks.cat("peak_count")
        reached = recall if np.isfinite(recall) else HINDSIGHT_RECALL
        bound = noise_bound(mean, phi, threshold, reached, actual=count)
        # our ranking with the best cut for the target recall, against the bound there:
        # tells whether the alert cut or the ranking itself keeps precision from the bound
        hindsight = precision_at_recall(
            peaks.cat("peak_probability"), peaks.cat("peak_actual").astype(bool), HINDSIGHT_RECALL
        )
        bound_target = noise_bound(mean, phi, threshold, HINDSIGHT_RECALL, actual=count)
        return {
            "wape": round(ours, 4),
            "wape_seasonal_naive": round(naive, 4),
            "wape_four_week_mean": round(four, 4),
            "ratio_to_best_baseline": round(ours / min(naive, four), 4),
            # the baselines from open days only (a closed holiday not copied forward)
            "wape_seasonal_naive_open_days": round(naive_open, 4),
            "wape_four_week_mean_open_days": round(four_open, 4),
            "ratio_to_best_open_days_baseline": round(ours / min(naive_open, four_open), 4),
            "mape": round(mape(a, f), 4),
            "bias": round(bias(a, f), 4),
            "coverage_80": round(_coverage(a, low, high, f >= MIN_INTERVAL_MEAN), 4),
            "coverage_80_all": round(_coverage(a, low, high, np.ones(a.size, dtype=bool)), 4),
            "wape_intraday_4_6h": round(wape(ia, ifc), 4),
            "wape_week_ahead_same_intervals": round(wape(ia, self.intraday.cat("before")), 4),
            "peak_recall": round(recall, 4),
            "peak_precision": round(precision, 4),
            "peak_precision_noise_bound": round(bound, 4),
            "peak_precision_over_bound": round(_ratio(precision, bound), 4),
            "peak_precision_hindsight_at_0_9": round(hindsight, 4),
            "peak_precision_noise_bound_at_0_9": round(bound_target, 4),
            "peak_hindsight_over_bound_at_0_9": round(_ratio(hindsight, bound_target), 4),
            "peak_recall_week_ahead": round(self.week.recall(), 4),
            "peak_precision_week_ahead": round(self.week.precision(), 4),
            "peak_recall_by_lead": {
                name: round(scores.recall(), 4) for name, scores in self.by_lead.items()
            },
            "peaks": int(peaks.cat("peak_actual").astype(bool).sum()),
            "origins": self.origins,
            "intraday_origins": self.intraday_origins,
            "intervals": int(a.size),
            "interval_min": self.width_min,
            "first_target_day": self.first_target,
            "holidays": self.holidays,
            "closed_days_forecast": self.closed_days,
            "cycles": self.cycles,
            "shape_trend": self.shape_trend,
        }


def _coverage(actual: FloatArray, low: FloatArray, high: FloatArray, keep: np.ndarray) -> float:
    if not keep.any():
        return float("nan")
    inside = (actual >= low) & (actual <= high)
    return float(inside[keep].mean())


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else float("nan")


def _baselines(
    history: History, day: int, count: int, skip_closed: bool = False
) -> tuple[FloatArray, FloatArray]:
    """Seasonal naive and four-week mean for days day..day+count-1: [Q, count, S]. As the
    issue's judge computes them (a closed holiday copied forward as zeros), or, with
    `skip_closed`, from the same weekday's last open days (a day with a contact), as a
    planner who knows the holiday would."""
    c = history.contacts
    q, _, s = c.shape
    naive = np.zeros((q, count, s))
    four = np.zeros((q, count, s))
    opened = c.sum(axis=(0, 2)) > 0
    for i in range(count):
        d = day + i
        weeks = range(1, 5 + 4 * skip_closed)  # up to 8 weeks back for 4 open days
        past = [
            d - 7 * k for k in weeks if d - 7 * k >= 0 and (opened[d - 7 * k] or not skip_closed)
        ]
        past = past[:4]
        if past:
            naive[:, i] = c[:, past[0]]
            four[:, i] = c[:, past].mean(axis=1)
    return naive, four


def _peaks(
    scores: Scores,
    thresholds: FloatArray,
    actual: FloatArray,
    mean: FloatArray,
    phi: FloatArray,
    queue_index: np.ndarray,
    cut: FloatArray,
) -> None:
    """Score peaks of these intervals: actual above the queue's threshold vs alerted."""
    thr = thresholds[queue_index]
    keep = thr >= MIN_PEAK_THRESHOLD
    prob = intervals.exceed_probability(mean[keep], phi[keep], thr[keep])
    scores.peak_actual.append(actual[keep] > thr[keep])
    scores.peak_count.append(actual[keep])
    scores.peak_alert.append(prob >= cut[keep])
    scores.peak_probability.append(prob)
    scores.peak_mean.append(mean[keep])
    scores.peak_phi.append(phi[keep])
    scores.peak_threshold.append(thr[keep])


def precision_at_recall(score: FloatArray, peak: np.ndarray, recall: float) -> float:
    """Precision of the fewest top-`score` alerts that catch `recall` of the peaks (ties
    kept in order): a ranking judged with the best cut in hindsight."""
    if not peak.any():
        return float("nan")
    order = np.argsort(-score, kind="stable")
    caught = np.cumsum(peak[order])
    need = max(1.0, np.ceil(recall * peak.sum()))
    alerts = int(np.searchsorted(caught, need)) + 1
    return float(caught[alerts - 1] / alerts)


def noise_bound(
    mean: FloatArray,
    phi: FloatArray,
    threshold: FloatArray,
    recall: float = 0.9,
    draws: int = NOISE_BOUND_DRAWS,
    seed: int = 0,
    actual: FloatArray | None = None,
) -> float:
    """Peak precision at `recall` of an oracle that knows every interval's rate. Rates are
    the model's predictive Gamma (mean μ, relative variance φ) and counts Poisson around
    them. The oracle ranks by its exact P(count > threshold) and picks its cut with
    hindsight, so no forecaster can beat it on average: what remains is count noise, set
    by the volume per interval. Averaged over `draws` seeded draws.

    With `actual` counts (the backtest), the oracle is scored on the peaks that happened,
    as ours are: each rate is drawn from its posterior given the actual count (Gamma prior
    times Poisson likelihood), so the bound sees the real number of peaks. Without them,
    counts are drawn too; the two agree when the model's μ and φ are right, and differ
    when its tails are not: a forecast biased up would otherwise face more peaks in the
    simulated world than in the real one, and a higher bound."""
    if mean.size == 0:
        return float("nan")
    rng = np.random.default_rng(seed)
    shape = 1.0 / np.maximum(phi, 1e-9)
    spread = phi > 1e-9
    out = []
    for _ in range(draws):
        if actual is None:
            rate = np.where(spread, rng.gamma(shape, mean / shape), mean)
            peak = rng.poisson(rate) > threshold
        else:
            posterior = rng.gamma(shape + actual, mean / (shape + mean + 1e-12))
            rate = np.where(spread, posterior, mean)
            peak = actual > threshold
        if not peak.any():
            continue
        prob = intervals.exceed_probability(rate, np.zeros(rate.size), threshold)
        out.append(precision_at_recall(prob, peak, recall))
    return float(np.mean(out)) if out else float("nan")


def run(
    history: History,
    weeks: int = 4,
    min_train_days: int = 14,
    intraday_step_h: int = 2,
    holidays: HolidayCalendar | None = None,
    infer_holidays: bool = True,
) -> Report:
    days = service.complete_days(history)
    first_target = max(days - 7 * weeks, min_train_days)
    if first_target + 7 > days:
        raise InputError(
            f"history: a backtest needs at least {min_train_days + 7} full days, found {days}"
        )
    history = history.cut(history.day_start(days))
    cache: dict[int, service.Fitted] = {}

    def project(moment_day: int, hour: int, last_day: int) -> service.Projection:
        moment = history.day_start(moment_day) + timedelta(hours=hour)
        return service.project(history.cut(moment), last_day, cache, None, holidays, infer_holidays)

    week = Scores()
    origins = 0
    q_count = len(history.queues)
    calendar, closed = "", 0
    adopted: dict[str, list[str]] = {}
    trended: list[str] = []
    for origin in range(first_target, days - 6):
        proj = project(origin, 0, origin + 6)
        calendar = proj.days.calendar.spec if proj.days.calendar else ""
        chosen = proj.fit.choice.get("cycles")
        if isinstance(chosen, list):
            adopted = dict(zip(history.queues, chosen, strict=True))
        trends = proj.fit.choice.get("shape_trend")
        if isinstance(trends, list):
            trended = [q for q, t in zip(history.queues, trends, strict=True) if t]
        closed += sum(1 for k, f in proj.days.factor.items() if f == 0.0 and k == 0)
        actual = history.contacts[:, origin : origin + 7]
        naive, four = _baselines(history, origin, 7)
        naive_open, four_open = _baselines(history, origin, 7, skip_closed=True)
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
        week.naive_open.append(naive_open[keep])
        week.four_week_open.append(four_open[keep])
        alert_cut = np.broadcast_to(proj.cut[None], actual.shape)[keep]
        _peaks(week, proj.thresholds, actual[keep], mean, phi, qi, alert_cut)
        origins += 1
    intraday = Scores()
    by_lead = {f"{lo}_{hi}h": Scores() for lo, hi in LEADS_H}
    intraday_origins = 0
    width = history.width_min
    slots = history.slots_per_day
    for day in range(first_target, days):
        for hour in range(0, 24, intraday_step_h):
            o = (day * 1440 + hour * 60) // width  # absolute slot of the origin
            last = min(days * slots, o + LEADS_H[-1][1] * 60 // width)
            now = project(day, hour, (last - 1) // slots)
            for lo, hi in LEADS_H:
                t0, t1 = o + lo * 60 // width, o + hi * 60 // width
                if t1 > days * slots:
                    continue
                a, f, phi, ok, qi, alert_cut = _window(history, now, t0, t1)
                if not ok.any():
                    continue
                _peaks(
                    by_lead[f"{lo}_{hi}h"],
                    now.thresholds,
                    a[ok],
                    f[ok],
                    phi[ok],
                    qi[ok],
                    alert_cut[ok],
                )
                if (lo, hi) != LEADS_H[-1] or day < first_target + 7:
                    continue  # scored against the week-ahead forecast: needs one a week back
                before = project(day - 7, hour, (t1 - 1) // slots)
                b = _window(history, before, t0, t1)[1]
                intraday.actual.append(a[ok])
                intraday.forecast.append(f[ok])
                intraday.before.append(b[ok])
                intraday_origins += 1
    return Report(
        week,
        intraday,
        by_lead,
        origins,
        intraday_origins,
        history.date_of(first_target).isoformat(),
        width,
        calendar,
        closed,
        adopted,
        trended,
    )


def merge(reports: Sequence[Report]) -> Report:
    """One report of the queues of several histories (a center's queues, each group on
    its own clock, `clocks`): every figure pooled over all their intervals and peaks, the
    origins those of one clock (each clock had the same weeks), the holidays and closed
    days of any."""
    first = reports[0]
    week, intraday = Scores(), Scores()
    by_lead = {name: Scores() for name in first.by_lead}
    for report in reports:
        _extend(week, report.week)
        _extend(intraday, report.intraday)
        for name, scores in report.by_lead.items():
            _extend(by_lead.setdefault(name, Scores()), scores)
    calendars = dict.fromkeys(r.holidays for r in reports if r.holidays)
    return Report(
        week,
        intraday,
        by_lead,
        max(r.origins for r in reports),
        max(r.intraday_origins for r in reports),
        min(r.first_target for r in reports),
        first.width_min,
        ", ".join(calendars),
        max(r.closed_days for r in reports),
        dict(sorted({q: c for r in reports for q, c in r.cycles.items()}.items())),
        sorted(q for r in reports for q in r.shape_trend),
    )


def _extend(into: Scores, scores: Scores) -> None:
    for part in fields(Scores):
        getattr(into, part.name).extend(getattr(scores, part.name))


def _window(
    history: History, proj: service.Projection, t0: int, t1: int
) -> tuple[FloatArray, FloatArray, FloatArray, np.ndarray, np.ndarray, FloatArray]:
    """Actual, forecast, dispersion, mask, queue index and alert cut for absolute slots
    [t0, t1); slots before the projection's first day (a closed day the fit skipped) or
    after its last are forecast closed."""
    s = history.slots_per_day
    q_count = len(history.queues)
    actual = history.contacts.reshape(q_count, -1)[:, t0:t1]
    index = np.arange(t0, t1) - proj.first * s
    inside = (index >= 0) & (index < proj.mean.shape[1] * s)
    at = np.clip(index, 0, proj.mean.shape[1] * s - 1)
    mean = np.where(inside[None], proj.mean.reshape(q_count, -1)[:, at], 0.0)
    phi = proj.phi.reshape(q_count, -1)[:, at]
    opened = inside & proj.open.reshape(-1)[at]
    cut = np.broadcast_to(proj.cut.reshape(-1)[at][None], actual.shape)
    ok = opened[None, :] | (actual > 0)
    qi = np.broadcast_to(np.arange(q_count)[:, None], actual.shape)
    return actual.ravel(), mean.ravel(), phi.ravel(), ok.ravel(), qi.ravel(), cut.ravel()


def _cycles_said(adopted: dict[str, list[str]]) -> str:
    """ ", cycles retail: fortnight" for the queues whose model took a calendar cycle."""
    said = [f"{queue}: {' and '.join(names)}" for queue, names in adopted.items() if names]
    return f", cycles {'; '.join(said)}" if said else ""


def describe(report: Report) -> list[str]:
    s = report.summary()
    leads = s["peak_recall_by_lead"]
    assert isinstance(leads, dict)
    return [
        f"backtest: {s['origins']} week-ahead origins from {s['first_target_day']}, "
        f"{s['intraday_origins']} intraday origins, {s['interval_min']}-minute intervals"
        + (f", holidays {s['holidays']}" if s["holidays"] else "")
        + _cycles_said(s["cycles"])
        + (f", shape's trend {', '.join(s['shape_trend'])}" if s["shape_trend"] else ""),
        f"week ahead   WAPE {s['wape']:.3f}  MAPE {s['mape']:.3f}  bias {s['bias']:+.3f}  "
        f"80% coverage {s['coverage_80']:.3f} (all intervals {s['coverage_80_all']:.3f})",
        f"baselines    seasonal naive WAPE {s['wape_seasonal_naive']:.3f}  "
        f"four-week mean WAPE {s['wape_four_week_mean']:.3f}  "
        f"(ours/better = {s['ratio_to_best_baseline']:.3f}, target <= 0.9)",
        f"             from open days only: {s['wape_seasonal_naive_open_days']:.3f} and "
        f"{s['wape_four_week_mean_open_days']:.3f} "
        f"(ours/better = {s['ratio_to_best_open_days_baseline']:.3f}: no closed day copied)",
        f"intraday     4-6 h ahead WAPE {s['wape_intraday_4_6h']:.3f}  vs week-ahead on the "
        f"same intervals {s['wape_week_ahead_same_intervals']:.3f}",
        f"peaks        4-6 h ahead recall {s['peak_recall']:.3f} precision "
        f"{s['peak_precision']:.3f} ({s['peaks']} peaks); noise bound at that recall "
        f"{s['peak_precision_noise_bound']:.3f} (ours/bound "
        f"{s['peak_precision_over_bound']:.2f}, target >= 0.8)",
        f"             best cut in hindsight at recall 0.9: precision "
        f"{s['peak_precision_hindsight_at_0_9']:.3f}, "
        f"bound {s['peak_precision_noise_bound_at_0_9']:.3f} "
        f"(ratio {s['peak_hindsight_over_bound_at_0_9']:.2f}: the ranking's limit)",
        "             recall by lead: "
        + ", ".join(f"{k.replace('_', '-')} {v:.3f}" for k, v in leads.items())
        + f", week ahead {s['peak_recall_week_ahead']:.3f} (precision "
        f"{s['peak_precision_week_ahead']:.3f})",
    ]
