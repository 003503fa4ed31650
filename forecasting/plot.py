"""PNG of actual vs forecast for one week (matplotlib, no display needed)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np

from forecasting import intervals, service
from forecasting.model import History
from switchboard.common.calendar import HolidayCalendar
from switchboard.common.errors import InputError


def last_working_week(history: History, days: int) -> int:
    """The first day of the latest week within the first `days` days that starts on the
    center's first working day (Monday for a Monday-Friday center: a week drawn from a
    Saturday shows two empty days); a center open every weekday starts 7 days back."""
    latest = days - 7
    busy = history.contacts[:, :days].sum(axis=(0, 2)) > 0
    open_weekdays = {history.date_of(int(d)).weekday() for d in np.flatnonzero(busy)}
    starts = [w for w in open_weekdays if (w - 1) % 7 not in open_weekdays]
    if latest < 0 or len(starts) != 1:
        return latest
    back = (history.date_of(latest).weekday() - starts[0]) % 7
    return latest - back if latest - back >= service.MIN_FIT_DAYS else latest


def plot_week(
    history: History,
    path: Path,
    first_day: str | None = None,
    holidays: HolidayCalendar | None = None,
    infer_holidays: bool = True,
) -> str:
    """Plot the week starting `first_day` (default: the last full week of history),
    forecast from its first midnight with the backtest's calendar, summed over queues;
    returns the week's first day."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = service.complete_days(history)
    if first_day is None:
        start = last_working_week(history, days)
    else:
        try:
            wanted = date.fromisoformat(first_day)
        except ValueError:
            raise InputError(f"--plot-week: expected YYYY-MM-DD, found {first_day!r}") from None
        start = (wanted - history.date_of(0)).days
    if start < service.MIN_FIT_DAYS or start + 7 > days:
        raise InputError(
            f"--plot-week: expected a week with {service.MIN_FIT_DAYS} days of history before "
            f"it and inside the history, found {first_day or 'the last week'}"
        )
    proj = service.project(
        history.cut(history.day_start(start)),
        start + 6,
        holidays=holidays,
        infer_holidays=infer_holidays,
    )
    actual = history.contacts[:, start : start + 7].sum(axis=0).ravel()
    nominal = (
        proj.fit.nominal if proj.fit.nominal is not None else np.full(len(history.queues), 0.8)
    )
    mean_q = proj.mean.reshape(proj.mean.shape[0], -1)
    mean = mean_q.sum(axis=0)
    low_q, high_q = zip(
        *(
            intervals.bounds(mean_q[q], proj.phi[q].ravel(), nominal[q])
            for q in range(mean_q.shape[0])
        ),
        strict=True,
    )
    naive = history.contacts[:, start - 7 : start].sum(axis=0).ravel()
    times = np.array(
        [
            history.day_start(start) + timedelta(minutes=i * history.width_min)
            for i in range(actual.size)
        ],
        dtype="datetime64[m]",
    )
    figure, axis = plt.subplots(figsize=(14, 4.5), dpi=100)
    axis.fill_between(
        times,
        np.sum(low_q, axis=0),
        np.sum(high_q, axis=0),
        step="post",
        color="tab:blue",
        alpha=0.15,
        label="sum of per-queue 80 % bounds",
    )
    axis.step(times, actual, where="post", color="black", linewidth=0.9, label="actual")
    axis.step(times, mean, where="post", color="tab:blue", linewidth=1.3, label="forecast")
    axis.step(
        times,
        naive,
        where="post",
        color="tab:orange",
        linewidth=0.8,
        alpha=0.7,
        linestyle="--",
        label="seasonal naive",
    )
    week = history.date_of(start).isoformat()
    axis.set_title(
        f"Contacts per {history.width_min} min, all queues, week of {week} "
        "(forecast made at the week's start)"
    )
    axis.set_ylabel("contacts")
    axis.legend(loc="upper right")
    axis.grid(alpha=0.3)
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return week
