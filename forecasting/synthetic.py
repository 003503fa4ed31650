"""Synthetic contact history for benchmarks and tests: a seeded, plausible center.

Weekly rhythm (quiet weekend), a two-humped working day, opening hours, a slow trend,
day-to-day variation (gamma day factor) and Poisson counts; AHT varies through the day.
The truth (`rate`) is returned too, so tests can check the model against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np

from forecasting.model import FloatArray, HistoryRow


@dataclass
class Synthetic:
    rows: list[HistoryRow]
    rate: FloatArray  # [Q, D, S] expected contacts (before the day factor)
    counts: FloatArray  # [Q, D, S]
    first_day: datetime  # local midnight, aware
    width_min: int


def generate(
    days: int = 56,
    width_min: int = 30,
    queues: tuple[str, ...] = ("booking", "baggage"),
    daily: tuple[float, ...] = (800.0, 300.0),
    open_hours: tuple[int, int] = (7, 22),
    day_sd: float = 0.08,
    seed: int = 7,
    first_day: datetime | None = None,
) -> Synthetic:
    rng = np.random.default_rng(seed)
    start = first_day or datetime(2025, 1, 6, tzinfo=timezone(timedelta(hours=1)))
    slots = 1440 // width_min
    hours = (np.arange(slots) + 0.5) * width_min / 60.0
    opened = (hours >= open_hours[0]) & (hours < open_hours[1])
    weekday_factor = np.array([1.15, 1.05, 1.0, 1.0, 0.95, 0.55, 0.35])
    rate = np.zeros((len(queues), days, slots))
    for q, volume in enumerate(daily):
        morning = np.exp(-0.5 * ((hours - (10.0 + 0.5 * q)) / 1.6) ** 2)
        afternoon = 0.7 * np.exp(-0.5 * ((hours - 15.5) / 2.2) ** 2)
        weekend = np.exp(-0.5 * ((hours - 12.5) / 3.0) ** 2)
        for d in range(days):
            w = (start + timedelta(days=d)).weekday()
            shape = (morning + afternoon) if w < 5 else weekend
            shape = shape * opened
            shape = shape / shape.sum()
            trend = 1.0 + 0.15 * d / 365.0 + 0.05 * np.sin(2 * np.pi * d / 365.0)
            rate[q, d] = volume * weekday_factor[w] * trend * shape
    day_factor = rng.gamma(1.0 / day_sd**2, day_sd**2, size=(len(queues), days, 1))
    counts = rng.poisson(rate * day_factor).astype(float)
    aht_curve = 240.0 + 40.0 * np.sin(2 * np.pi * (hours - 9.0) / 24.0)
    rows: list[HistoryRow] = []
    base_local = start.replace(tzinfo=None)
    zone = start.tzinfo
    for d in range(days):
        for s in np.flatnonzero(opened):
            moment = (base_local + timedelta(days=d, minutes=int(s) * width_min)).replace(
                tzinfo=zone
            )
            for q, name in enumerate(queues):
                if counts[q, d, s] > 0:
                    aht = float(aht_curve[s] * (1.0 + 0.1 * q) + rng.normal(0.0, 15.0))
                    rows.append(HistoryRow(moment, name, float(counts[q, d, s]), round(aht, 1)))
    return Synthetic(rows, rate, counts, start, width_min)
