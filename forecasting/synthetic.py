"""Synthetic contact history for benchmarks and tests: a seeded, plausible center.

Weekly rhythm (quiet weekend), a two-humped working day, opening hours, a slow trend,
day-to-day variation (gamma day factor) and Poisson counts; AHT varies through the day.
The truth (`rate`) is returned too, so tests can check the model against it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone

import numpy as np

from forecasting import zones
from forecasting.model import FloatArray, HistoryRow, IntArray


@dataclass
class Synthetic:
    rows: list[HistoryRow]
    rate: FloatArray  # [Q, D, S] expected contacts (before the day factor)
    counts: FloatArray  # [Q, D, S]
    first_day: datetime  # local midnight, aware
    width_min: int
    intensity: FloatArray | None = None  # [Q, D, S] the Poisson mean after all noise


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
            wall = base_local + timedelta(days=d, minutes=int(s) * width_min)
            if zone is not None and not zones.occurrences(wall, zone):
                continue  # the clocks skip it (spring forward): no such interval
            moment = wall.replace(tzinfo=zone)
            for q, name in enumerate(queues):
                if counts[q, d, s] > 0:
                    aht = float(aht_curve[s] * (1.0 + 0.1 * q) + rng.normal(0.0, 15.0))
                    rows.append(HistoryRow(moment, name, float(counts[q, d, s]), round(aht, 1)))
    return Synthetic(rows, rate, counts, start, width_min)


@dataclass(frozen=True)
class Scenario:
    """A long synthetic history: what a real center's year looks like to a forecaster.

    The daily volume of a queue is `daily × weekday factor × trend × level × day noise`:
    growth per year, a yearly cycle, step changes (a queue gains or loses a product), a
    wandering level (log AR(1) with daily persistence `level_persistence` and stationary
    sd `level_sd`: weeks that run a few per cent over or under), independent day noise,
    and within the day a smooth two-humped shape with its own noise (AR(1) across
    intervals, sd `slot_sd`). Public holidays of `holidays` close the center (or scale it
    by `holiday_factor`) and the next open day carries `after_holiday` extra volume, the
    last open day before a closed one `before_holiday` (an eve), and closes on it at
    `eve_closes` if given;
    `month_days` add volume on days of the month (the next open day when closed),
    `business_days` on the month's n-th open days (statement days), `fortnight_days` on
    days of a two-week cycle (bi-weekly pay); `incident_share` of
    the open days are an outage's or an incident's. The shape may move through the history
    (`shape_drift_h`) and tilt day by day (`tilt_sd`), the week's pattern fade
    (`weekday_flattening`), and the days of a calendar week share a shock (`week_sd`)."""

    name: str
    days: int = 365
    width_min: int = 5
    first_day: date = date(2024, 1, 1)
    zone: str = "Europe/Berlin"
    queues: tuple[str, ...] = ("retail", "cards")
    daily: tuple[float, ...] = (15000.0, 3000.0)
    open_hours: tuple[float, float] = (7.0, 21.0)
    open_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    weekday_factor: tuple[float, ...] = (1.12, 1.02, 0.98, 0.97, 0.91, 0.5, 0.35)
    holidays: str | None = None
    holiday_factor: float = 0.0  # 0: closed on public holidays
    after_holiday: float = 0.12
    # (holiday name, the extra share of the open day after it, instead of `after_holiday`):
    # a day after unlike the others (the Friday after Thanksgiving at half a day)
    after_named: tuple[tuple[str, float], ...] = ()
    before_holiday: float = 0.0  # the eve: the last open day before a closed holiday
    eve_closes: float | None = None  # the hour the center closes on an eve (None: as usual)
    growth_per_year: float = 0.0
    yearly_amplitude: float = 0.0
    steps: tuple[tuple[int, float], ...] = ()  # (day, factor from that day on), all queues
    # (day of the month, extra share): pay and benefit days; on a closed day the extra
    # volume comes on the next open day
    month_days: tuple[tuple[int, float], ...] = ()
    # (n-th open day of the month: 1 the first, -1 the last; extra share): statement and
    # billing runs on business days, moved by weekends and closed holidays
    business_days: tuple[tuple[int, float], ...] = ()
    # (day of the fortnight, extra share; day 0 a Monday, `fortnight_day`): bi-weekly pay
    fortnight_days: tuple[tuple[int, float], ...] = ()
    # share of open days with an incident, center-wide: an outage lets 40-70 % of the
    # calls through, an incident (a card system down, a storm) brings 1.4-2 times
    incident_share: float = 0.0
    level_sd: float = 0.04
    level_persistence: float = 0.97
    day_sd: float = 0.03
    slot_sd: float = 0.03
    slot_persistence: float = 0.8
    # the day's shape moving: the morning hump later by `shape_drift_h` hours over the
    # whole history (a season), and each day tilted toward its morning or its evening
    # (log-slope over the open span, sd `tilt_sd`: a morning-heavy or evening-heavy day)
    shape_drift_h: float = 0.0
    tilt_sd: float = 0.0
    # the week's pattern moving: the weekday factors this share of the way to flat by the
    # end of the history (a Monday rush that fades as customers move online)
    weekday_flattening: float = 0.0
    # a shock shared by the days of one calendar week (log sd; a campaign's week, a
    # statement run): weeks off by a few per cent together, then back
    week_sd: float = 0.0
    with_aht: bool = False


# A bank's center: weekdays 07:00-21:00, high volume, a wandering level, US holidays.
_BANK = Scenario(
    "bank_weekdays_7m",
    days=238,
    first_day=date(2025, 3, 3),
    zone="America/New_York",
    holidays="US",
)

# Long histories for the bench and the robustness checks (none is the real data set).
SCENARIOS: dict[str, Scenario] = {
    "bank_weekdays_7m": _BANK,
    # the same bank with the month's rhythm of a retail bank: pay days on the 1st and the
    # 15th, benefits on the 3rd, statements at the month's end
    "bank_paydays_7m": replace(
        _BANK,
        name="bank_paydays_7m",
        month_days=((1, 0.12), (2, 0.05), (3, 0.10), (15, 0.08), (16, 0.04), (30, 0.05)),
    ),
    # the same bank with an outage or an incident on one open day in 25
    "bank_incidents_7m": replace(_BANK, name="bank_incidents_7m", incident_share=0.04),
    # the same bank paid every other week: the pay week runs 5-8 % above the other
    "bank_biweekly_7m": replace(
        _BANK,
        name="bank_biweekly_7m",
        fortnight_days=((0, 0.06), (1, 0.05), (2, 0.05), (3, 0.06), (4, 0.08)),
    ),
    # an airline's service: every day, 18 months of growth and a yearly cycle, open on
    # German holidays at 45 % of a normal day
    "airline_growth_18m": Scenario(
        "airline_growth_18m",
        days=546,
        first_day=date(2024, 1, 1),
        zone="Europe/Berlin",
        queues=("booking", "baggage", "loyalty"),
        daily=(3000.0, 1200.0, 400.0),
        open_hours=(6.0, 23.0),
        open_weekdays=(0, 1, 2, 3, 4, 5, 6),
        holidays="DE",
        holiday_factor=0.45,
        after_holiday=0.05,
        growth_per_year=0.3,
        yearly_amplitude=0.08,
        level_sd=0.03,
    ),
    # a retailer: Monday to Saturday, steps (a product moved in, a channel moved out),
    # French holidays closed, modest volume
    "retail_steps_12m": Scenario(
        "retail_steps_12m",
        days=364,
        first_day=date(2024, 9, 2),
        zone="Europe/Paris",
        queues=("orders", "returns"),
        daily=(1400.0, 500.0),
        open_hours=(8.0, 20.0),
        open_weekdays=(0, 1, 2, 3, 4, 5),
        holidays="FR",
        steps=((150, 0.75), (290, 1.2)),
        level_sd=0.05,
        day_sd=0.05,
    ),
    # a small utility's center: 6 months, small queues (count noise dominates),
    # British holidays closed, a strongly wandering level
    "utility_small_6m": Scenario(
        "utility_small_6m",
        days=182,
        first_day=date(2025, 1, 6),
        zone="Europe/London",
        queues=("billing", "outage", "moves"),
        daily=(700.0, 250.0, 90.0),
        open_hours=(8.0, 18.0),
        holidays="GB",
        level_sd=0.08,
        level_persistence=0.98,
        day_sd=0.06,
        slot_sd=0.05,
    ),
}


def fortnight_day(day: date) -> int:
    """0-13: the day's place in the two-week cycle from Monday 1 January 2001."""
    return (day - date(2001, 1, 1)).days % 14


def _open_beside(
    days: IntArray, open_day: np.ndarray, holiday: np.ndarray, step: int
) -> np.ndarray:
    """[D] the first open day after (`step` 1) or before (-1) each of `days`, unless it is
    a holiday itself: the day after a holiday, or its eve."""
    marked = np.zeros(open_day.size, dtype=bool)
    for day in days:
        near = int(day) + step
        while 0 <= near < open_day.size and not open_day[near]:
            near += step
        if 0 <= near < open_day.size and not holiday[near]:
            marked[near] = True
    return marked


def _calendar_extra(scenario: Scenario, dates: list[date], open_day: np.ndarray) -> FloatArray:
    """[D] extra share of each day from the month's pay and benefit days (a closed day's
    on the next open day), its business days and the fortnight's pay week."""
    fortnight = dict(scenario.fortnight_days)
    extra = np.array([fortnight.get(fortnight_day(day), 0.0) for day in dates])
    months = np.array([day.year * 12 + day.month for day in dates])
    for month in np.unique(months):
        days = np.flatnonzero(months == month)
        opened = days[open_day[days]]
        for n, share in scenario.business_days:
            whole = dates[days[0]].day == 1 if n > 0 else (dates[days[-1]] + timedelta(1)).day == 1
            if whole and opened.size >= abs(n):  # the month's start (or end) in history
                extra[opened[n - 1 if n > 0 else n]] += share
    for d, day in enumerate(dates):
        for dom, share in scenario.month_days:
            if day.day == dom:
                target = d
                while target < len(dates) and not open_day[target]:
                    target += 1
                if target < len(dates):
                    extra[target] += share
    return extra


def _incidents(share: float, open_day: np.ndarray, seed: int) -> FloatArray:
    """[D] the volume factor of each day: 1, or an outage's or an incident's (drawn from
    their own generator, so the rest of a scenario is the same with or without them)."""
    factor = np.ones(open_day.size)
    if share <= 0:
        return factor
    rng = np.random.default_rng([seed, 7])
    hit = open_day & (rng.random(open_day.size) < share)
    outage = rng.random(open_day.size) < 0.5
    factor[hit & outage] = rng.uniform(0.4, 0.7, open_day.size)[hit & outage]
    factor[hit & ~outage] = rng.uniform(1.4, 2.0, open_day.size)[hit & ~outage]
    return factor


def generate_scenario(scenario: Scenario, seed: int = 1) -> Synthetic:
    """Rows, the expected rate (before day and interval noise) and the counts of a scenario."""
    from zoneinfo import ZoneInfo

    from switchboard.common.calendar import HolidayCalendar

    rng = np.random.default_rng(seed)
    zone = ZoneInfo(scenario.zone)
    width = scenario.width_min
    slots = 1440 // width
    q_count, days = len(scenario.queues), scenario.days
    hours = (np.arange(slots) + 0.5) * width / 60.0
    begin, finish = scenario.open_hours
    opened = (hours >= begin) & (hours < finish)
    dates = [scenario.first_day + timedelta(days=d) for d in range(days)]
    weekday = np.array([d.weekday() for d in dates])
    calendar = HolidayCalendar.parse(scenario.holidays) if scenario.holidays else None
    holiday = np.array([calendar is not None and calendar.is_holiday(d) for d in dates])
    open_day = np.isin(weekday, scenario.open_weekdays) & ~(
        holiday & (scenario.holiday_factor == 0)
    )
    after = _open_beside(np.flatnonzero(holiday), open_day, holiday, 1)
    after_share = np.where(after, scenario.after_holiday, 0.0)
    for name, share in scenario.after_named:
        named = [d for d in np.flatnonzero(holiday) if calendar and calendar.name(dates[d]) == name]
        after_share[_open_beside(np.array(named, dtype=int), open_day, holiday, 1)] = share
    closed_weekday = holiday & ~open_day & np.isin(weekday, scenario.open_weekdays)
    before = _open_beside(np.flatnonzero(closed_weekday), open_day, holiday, -1)
    calendar_extra = _calendar_extra(scenario, dates, open_day)
    incident = _incidents(scenario.incident_share, open_day, seed)
    tilt = np.random.default_rng([seed, 11]).normal(0.0, scenario.tilt_sd, (q_count, days))
    week_of = np.array([(day - dates[0]).days + dates[0].weekday() for day in dates]) // 7
    week_shock = np.random.default_rng([seed, 13]).normal(0.0, scenario.week_sd, week_of[-1] + 1)
    across = (hours - (begin + finish) / 2) / (finish - begin)  # -0.5 .. 0.5 over the span
    t = np.arange(days) / 365.0
    trend = (1.0 + scenario.growth_per_year) ** t * (
        1.0 + scenario.yearly_amplitude * np.sin(2 * np.pi * (t + 0.2))
    )
    for day, factor in scenario.steps:
        trend[day:] *= factor
    rate = np.zeros((q_count, days, slots))
    intensity = np.zeros_like(rate)
    innovation = scenario.level_sd * np.sqrt(1.0 - scenario.level_persistence**2)
    for q, volume in enumerate(scenario.daily):
        log_level = np.zeros(days)
        log_level[0] = rng.normal(0.0, scenario.level_sd)
        for d in range(1, days):
            log_level[d] = scenario.level_persistence * log_level[d - 1] + rng.normal(
                0.0, innovation
            )
        peak2 = begin + 0.6 * (finish - begin)
        for d in range(days):
            if not open_day[d]:
                continue
            w = int(weekday[d])
            peak1 = begin + 0.3 * (finish - begin) + 0.3 * q + scenario.shape_drift_h * d / days
            monday = 0.25 if w == 0 else 0.0
            shape = (1.0 + monday) * np.exp(-0.5 * ((hours - peak1) / 1.7) ** 2) + 0.75 * np.exp(
                -0.5 * ((hours - peak2) / 2.3) ** 2
            )
            if w >= 5:
                shape = np.exp(-0.5 * ((hours - (begin + finish) / 2) / 3.0) ** 2)
            shape = (shape + 0.05) * opened
            shape /= shape.sum()
            tilted = np.exp(tilt[q, d] * across)
            if scenario.tilt_sd:
                tilted /= (shape * tilted).sum()  # the day's total as it was
            flat = scenario.weekday_flattening * d / days
            factor = (scenario.weekday_factor[w] * (1.0 - flat) + flat) * trend[d]
            if holiday[d]:
                factor *= scenario.holiday_factor
            if after[d]:
                factor *= 1.0 + after_share[d]
            if before[d]:
                factor *= 1.0 + scenario.before_holiday
                if scenario.eve_closes is not None:  # the morning as usual, then closed
                    shape = shape * (hours < scenario.eve_closes)
            factor *= (1.0 + calendar_extra[d]) * incident[d]
            rate[q, d] = volume * factor * shape
            noise = np.zeros(slots)
            step_sd = scenario.slot_sd * np.sqrt(1.0 - scenario.slot_persistence**2)
            for k in range(1, slots):
                noise[k] = scenario.slot_persistence * noise[k - 1] + rng.normal(0.0, step_sd)
            day_noise = rng.normal(0.0, scenario.day_sd)
            shock = week_shock[week_of[d]]
            intensity[q, d] = rate[q, d] * tilted * np.exp(log_level[d] + shock + day_noise + noise)
    counts = rng.poisson(intensity).astype(float)
    rows: list[HistoryRow] = []
    for d in range(days):
        midnight = datetime(dates[d].year, dates[d].month, dates[d].day)
        for slot in np.flatnonzero(opened) if open_day[d] else []:
            wall = midnight + timedelta(minutes=int(slot) * width)
            if not zones.occurrences(wall, zone):
                continue  # the clocks skip it (spring forward): no such interval
            moment = wall.replace(tzinfo=zone)
            stamp = datetime.fromisoformat(moment.isoformat())  # fixed offset, as in a file
            for q, name in enumerate(scenario.queues):
                if counts[q, d, slot] > 0:
                    aht = round(240.0 + 30.0 * q + rng.normal(0.0, 15.0), 1)
                    rows.append(
                        HistoryRow(
                            stamp,
                            name,
                            float(counts[q, d, slot]),
                            aht if scenario.with_aht else None,
                        )
                    )
    first = datetime(dates[0].year, dates[0].month, dates[0].day, tzinfo=zone)
    return Synthetic(rows, rate, counts, first, width, intensity)
