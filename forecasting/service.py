"""Use cases: import history, forecast (with intraday update, events, peaks).

Everything here takes and returns plain data (`History`, `Event`, `Forecast`); the CSV
files are read and written by `files`, the numerics live in `estimator`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

import numpy as np

from forecasting import (
    closures,
    cycles,
    estimator,
    hours,
    intervals,
    intraday,
    lifetimes,
    selection,
    transients,
    zones,
)
from forecasting.grid import MAX_CONTACTS
from forecasting.model import (
    MINUTES_PER_DAY,
    BoolArray,
    Event,
    FloatArray,
    Forecast,
    ForecastRow,
    History,
    Peak,
)
from switchboard.common.calendar import HolidayCalendar
from switchboard.common.errors import InputError

MIN_FIT_DAYS = 7
MAX_FIT_DAYS = 364  # 52 weeks
YEARLY_FIT_DAYS = 728  # 104 weeks: the year's term (cycles.YEAR) needs last year's weeks
PEAK_PERCENTILE = 90.0
MIN_PEAK_THRESHOLD = selection.MIN_PEAK_THRESHOLD
CLOSED_KIND = "closed"  # an event of this kind closes the intervals it covers
OPEN_KIND = "open"  # and this one forecasts the holidays it covers as ordinary days
PLAIN_KINDS = frozenset({CLOSED_KIND, OPEN_KIND})  # kinds that carry no uplift


def aggregate(history: History, width_min: int) -> History:
    """The same history on a coarser grid (sums of contacts, contact-weighted AHT)."""
    if width_min == history.width_min:
        return history
    if width_min % history.width_min or MINUTES_PER_DAY % width_min:
        raise InputError(
            f"--interval {width_min}m: expected a multiple of the history's "
            f"{history.width_min}-minute intervals that divides a day"
        )
    k = width_min // history.width_min
    q, d, s = history.contacts.shape
    contacts = history.contacts.reshape(q, d, s // k, k)
    aht = history.aht_s.reshape(q, d, s // k, k)
    has = ~np.isnan(aht)
    weight = np.where(has, contacts, 0.0)
    handled = np.where(has, aht * contacts, 0.0).sum(axis=3)
    wsum = weight.sum(axis=3)
    with np.errstate(invalid="ignore", divide="ignore"):
        new_aht = np.where(wsum > 0, handled / np.maximum(wsum, 1e-12), np.nan)
    present = np.asarray(history.present.reshape(d, s // k, k).any(axis=2), dtype=bool)
    return dataclasses.replace(
        history,
        width_min=width_min,
        contacts=contacts.sum(axis=3),
        aht_s=new_aht,
        present=present,
    )


def weekdays_of(history: History, first: int, count: int) -> np.ndarray:
    base = history.first_day.weekday()
    return (base + np.arange(first, first + count)) % 7


def cycle_positions(history: History, first: int, count: int) -> cycles.Positions:
    """Where days [first, first + count) lie in the calendar cycles (`cycles`)."""
    return cycles.positions(history.date_of(first), count)


def applies(event: Event, queue: str, region: str | None) -> bool:
    if event.queue is not None and event.queue != queue:
        return False
    return not (event.region is not None and region is not None and event.region != region)


@dataclass
class Projection:
    """Mean contacts from day `first` on (index into the history's days), per queue."""

    first: int
    mean: FloatArray  # [Q, n, S]
    phi: FloatArray  # [Q, n, S] dispersion per interval
    aht: FloatArray  # [Q, n, S]
    open: BoolArray  # [n, S]
    fit: estimator.Fit
    thresholds: FloatArray  # [Q] peak thresholds (percentile of recent volumes)
    day_factor: FloatArray  # [Q] intraday update of the partial day (1 = none)
    cut: FloatArray  # [n, S] alert probability: today's after an intraday update, else later days'
    days: closures.DayPlan  # holidays and days after closures among the forecast days
    closed_queues: list[lifetimes.ClosedQueue]  # forecast 0: their contacts stopped


def fit_days_of(history: History) -> tuple[int, bool]:
    """(days to fit on, whether the last day is a partial "today" to update intraday)."""
    weekdays = weekdays_of(history, 0, history.days)
    open_mask = estimator.open_slots(history.present, history.contacts.sum(axis=(0, 2)), weekdays)
    end_day, end_slot = history.end_index()
    if end_slot == 0:
        return end_day, False
    w = (history.first_day.weekday() + end_day) % 7
    if open_mask[w, end_slot:].any():
        return end_day, True
    return end_day + 1, False


def complete_days(history: History, tail_share: float = 0.05) -> int:
    """Days of history with actuals for the whole day: a last day that ends early counts
    as complete when the intervals after its end usually carry under `tail_share` of
    that weekday's volume (a file's last row is rarely the last second of the data)."""
    end_day, end_slot = history.end_index()
    if end_slot == 0:
        return min(end_day, history.days)
    weekdays = weekdays_of(history, 0, history.days)
    same = np.flatnonzero(weekdays[:end_day] == weekdays[end_day])
    if same.size:
        usual = history.contacts[:, same].sum(axis=(0, 1))
        if usual[end_slot:].sum() < tail_share * max(usual.sum(), 1e-12):
            return min(end_day + 1, history.days)
    return end_day


@dataclass
class Fitted:
    """A calibrated fit on the complete days before a forecast, and the calendar used."""

    fit: estimator.Fit
    thresholds: FloatArray  # [Q] peak thresholds (percentile of recent volumes)
    calendar: HolidayCalendar | None
    normally_open: BoolArray  # [7] weekdays with open slots
    notes: list[str]


def working_day_note(history: History) -> str:
    """What the command says of a day read across the history clock's midnight."""
    offset = zones.offset_text(history.tz.utcoffset(history.end))
    begins = (datetime.min + history.day_offset % timedelta(days=1)).strftime("%H:%M")
    return (
        f"history: the center's day runs across midnight on the history's clock "
        f"(UTC{offset}): each day is read from {begins} to {begins}, under the date most of "
        "its hours fall on; if it was exported in UTC or another zone, give --timezone with "
        "the center's, and --history-timezone with the export's if its times carry no offset "
        "(on this clock its hours move with daylight saving)"
    )


def calibrated_fit(
    history: History,
    fit_days: int,
    use: BoolArray | None = None,
    target_recall: float = 0.9,
    holidays: HolidayCalendar | None = None,
    infer_holidays: bool = True,
) -> Fitted:
    """Fit and calibrate on days [0, fit_days): holidays (given, else inferred from the
    closed weekdays of history) and the days after closures are left out of the fit."""
    if fit_days < MIN_FIT_DAYS:
        raise InputError(
            f"history: expected at least {MIN_FIT_DAYS} days before the forecast, "
            f"found {max(fit_days, 0)}"
        )
    # older days weigh next to nothing (half-lives of weeks): a year is plenty, two where
    # history holds enough for the year's term (last year's same weeks, cycles.YEAR)
    span = YEARLY_FIT_DAYS if fit_days >= cycles.YEAR.min_days else MAX_FIT_DAYS
    first = max(0, fit_days - span)
    weekdays = weekdays_of(history, first, fit_days - first)
    contacts = history.contacts[:, first:fit_days]
    present = history.present[first:fit_days]
    # the hours as they are now: closed intervals out, newly opened ones as if always open
    open_mask, as_open_now = hours.as_open_now(contacts, present, weekdays)
    normally_open = closures.open_weekdays(open_mask)
    calendar, notes = holidays, []
    if history.unread_columns:
        notes.append(f"history: columns not read: {', '.join(history.unread_columns)}")
    notes += _same_but_case(history.queues)
    if history.file_clock is not None:
        clock = zones.offset_text(history.file_clock.utcoffset(history.end))
        notes.append(
            f"history: on its clock (UTC{clock}) the center's hours move by an hour on the "
            f"daylight-saving dates of {history.tz}: read on that zone's clock (or any zone "
            "switching on those dates: the same forecast, written on the file's clock); "
            "give --timezone to set the center's zone"
        )
    if history.across_midnight:
        notes.append(working_day_note(history))
    if calendar is None and infer_holidays:
        calendar, note = closures.infer_calendar(history, fit_days, normally_open)
        notes += [note] if note else []
    ordinary = closures.history_mask(history, fit_days, calendar, normally_open)
    contacts_so_far = history.contacts[:, :fit_days]
    if use is None:
        use = np.ones(history.contacts.shape[:2], dtype=bool)
    # a queue's days before its first contact are not its normal days (it did not exist)
    use = use[:, :fit_days] & ordinary[None, :] & lifetimes.in_service(contacts_so_far)
    thresholds = selection.peak_thresholds(contacts, present, PEAK_PERCENTILE)
    fitted = selection.calibrate(
        as_open_now,
        history.aht_s[:, first:fit_days],
        weekdays,
        open_mask,
        use[:, first:fit_days],
        history.width_min,
        thresholds,
        target_recall,
        cycle_positions(history, first, fit_days - first),
    )
    runs = fitted.choice.get("transients")
    if isinstance(runs, list):  # a mailing's days that came back, named with their dates
        notes += transients.notes(runs, history.queues, lambda k: history.date_of(first + k))
    return Fitted(fitted, thresholds, calendar, normally_open, notes)


def _same_but_case(queues: list[str]) -> list[str]:
    """A note for queues whose names differ only in case (` Retail ` in one row of an
    export of `retail`): each is forecast on its own, which is seldom what was meant."""
    spelled: dict[str, list[str]] = {}
    for queue in queues:
        spelled.setdefault(queue.casefold(), []).append(queue)
    return [
        f"history: queues {' and '.join(repr(n) for n in names)} differ only in case: "
        "each is forecast on its own (spell them alike to forecast one queue)"
        for names in spelled.values()
        if len(names) > 1
    ]


def _closed_ahead(
    history: History, fit_days: int, days: closures.DayPlan, seen_today: bool
) -> frozenset[int]:
    """The date ordinals of the days ahead the plan closes (a holiday the center closes
    on), today apart when it has had contacts."""
    return frozenset(
        history.date_of(fit_days + k).toordinal()
        for k, factor in days.factor.items()
        if factor == 0.0 and not (k == 0 and seen_today)
    )


def _with_closed_days(fit: estimator.Fit, ahead: frozenset[int]) -> estimator.Fit:
    """The fit with the closed days ahead among its closed days, so that the month's
    business days (`cycles.BUSINESS_DAY`) are counted without them: a New Year's Day the
    center closes on makes the 2nd January's first business day. The fit itself (cached
    for other forecasts) is left as it is."""
    if fit.open_days is None or not ahead:
        return fit
    open_days = dataclasses.replace(fit.open_days, closed=fit.open_days.closed | ahead)
    return dataclasses.replace(fit, open_days=open_days)


def project(
    history: History,
    last_day: int,
    fit_cache: dict[int, Fitted] | None = None,
    use: BoolArray | None = None,
    holidays: HolidayCalendar | None = None,
    infer_holidays: bool = True,
    reopened: frozenset[int] = frozenset(),
) -> Projection:
    """Forecast every interval from the first unfitted day through `last_day` (inclusive):
    holidays and days after closures as history showed them, and a partial last day of
    history updated with today's actuals so far."""
    fit_days, partial = fit_days_of(history)
    if fit_cache is not None and fit_days in fit_cache:
        fitted = fit_cache[fit_days]
    else:
        fitted = calibrated_fit(history, fit_days, use, 0.9, holidays, infer_holidays)
        if fit_cache is not None:
            fit_cache[fit_days] = fitted
    fit = fitted.fit
    count = max(1, last_day - fit_days + 1)
    weekdays = weekdays_of(history, fit_days, count)
    days = closures.plan(history, fit_days, count, fitted.calendar, fitted.normally_open, reopened)
    seen_today = partial and fit_days < history.days and history.contacts[:, fit_days].sum() > 0
    ahead = _closed_ahead(history, fit_days, days, seen_today)
    mean = _with_closed_days(fit, ahead).predict(
        weekdays, cycle_positions(history, fit_days, count)
    )
    aht = fit.predict_aht(weekdays)
    opened = fit.open[weekdays].copy()
    q_count = mean.shape[0]
    assert fit.phi is not None and fit.day_var is not None and fit.intraday_gain is not None
    phi = np.broadcast_to(fit.phi[:, None, None], mean.shape).copy()
    for k, factor in days.factor.items():
        if k == 0 and seen_today and factor == 0.0:
            continue  # contacts today: the center is open after all
        mean[:, k] *= days.queue_factors(k, q_count)[:, None]  # each queue as on past holidays
        if factor == 0.0:
            opened[k] = False
    for k, slot in days.closes_at.items():  # an eve on which the center closes early
        mean[:, k, slot:] = 0.0
        opened[k, slot:] = False
    closed = _closed_queues(history, fit_days)
    for silence in closed:
        mean[silence.queue] = 0.0
    day_factor = np.ones(q_count)
    cut = np.full(opened.shape, fit.alert_probability)
    if partial and fit_days < history.days:
        _, end_slot = history.end_index()
        before = mean[:, 0, end_slot:].sum(axis=1)
        mean[:, 0], phi[:, 0] = intraday.update(
            mean[:, 0],
            history.contacts[:, fit_days],
            opened[0],
            end_slot,
            fit.phi,
            fit.day_var,
            fit.intraday_gain,
            history.width_min,
        )
        day_factor = np.where(
            before > 0, mean[:, 0, end_slot:].sum(axis=1) / np.maximum(before, 1e-12), 1.0
        )
        cut[0, end_slot:] = fit.alert_probability_today
    return Projection(
        fit_days, mean, phi, aht, opened, fit, fitted.thresholds, day_factor, cut, days, closed
    )


def _closed_queues(history: History, fit_days: int) -> list[lifetimes.ClosedQueue]:
    """The queues whose contacts stopped (judged on complete days), unless contacts came
    again today."""
    weekdays = weekdays_of(history, 0, fit_days)
    silent = lifetimes.closed_queues(history.contacts[:, :fit_days], weekdays)
    return [s for s in silent if not history.contacts[s.queue, fit_days:].any()]


def closed_queue_notes(history: History, projection: Projection) -> list[str]:
    return [
        f"queue {history.queues[s.queue]}: no contacts since "
        f"{history.date_of(s.since).isoformat()} ({s.open_days} open days that "
        f"would have brought about {s.expected:.0f}): forecast 0, as closed"
        for s in projection.closed_queues
    ]


def _reopened_days(history: History, events: Sequence[Event], region: str | None) -> frozenset[int]:
    """The days (indices) an `open` event of the center covers: a holiday the calendar
    closes that this center works (a bank open on Columbus Day)."""
    days: set[int] = set()
    for event in events:
        if event.kind == OPEN_KIND and applies(event, "", region):
            first = history.index_of(event.start)[0]
            last = history.index_of(event.end - timedelta(minutes=1))[0]
            days.update(range(first, last + 1))
    return frozenset(days)


def _event_mask(
    history: History, events: Sequence[Event], region: str | None, days: int
) -> BoolArray:
    use = np.ones((len(history.queues), days), dtype=bool)
    for event in events:
        first = max(0, history.index_of(event.start)[0])
        last = min(days - 1, history.index_of(event.end - timedelta(minutes=1))[0])
        for q, queue in enumerate(history.queues):
            if applies(event, queue, region) and first <= last:
                use[q, first : last + 1] = False
    return use


def _slot_mask(history: History, event: Event, first_day: int, count: int) -> BoolArray:
    """[count, S]: slots of days first_day.. that overlap the event."""
    width = history.width_min
    origin = history.day_start(first_day)
    begin = (event.start - origin).total_seconds() / 60
    finish = (event.end - origin).total_seconds() / 60
    starts = (
        np.arange(count)[:, None] * MINUTES_PER_DAY
        + np.arange(history.slots_per_day)[None, :] * width
    )
    return (starts < finish) & (starts + width > begin)


def estimate_uplift(
    history: History,
    events: Sequence[Event],
    region: str | None,
    fit_days: int,
    fitted: estimator.Fit,
) -> dict[str, float]:
    """Per kind, actual / expected contacts over the past events of that kind in history."""
    actual: dict[str, float] = {}
    expected: dict[str, float] = {}
    weekdays = weekdays_of(history, 0, fit_days)
    base = fitted.predict_model(weekdays, where=cycle_positions(history, 0, fit_days))
    totals = history.contacts[:, :fit_days].sum(axis=2)
    predicted_totals = base.sum(axis=2)
    use = _event_mask(history, events, region, fit_days)
    for event in events:
        if event.kind in PLAIN_KINDS:
            continue
        if event.end > history.day_start(fit_days) or event.start < history.day_start(0):
            continue
        mask = _slot_mask(history, event, 0, fit_days)
        for q, queue in enumerate(history.queues):
            if not applies(event, queue, region):
                continue
            day, _ = history.index_of(event.start)
            near = use[q] & (np.abs(np.arange(fit_days) - day) <= 14) & (predicted_totals[q] > 0)
            local = (
                float(np.median(totals[q, near] / predicted_totals[q, near])) if near.any() else 1.0
            )
            actual[event.kind] = actual.get(event.kind, 0.0) + float(
                history.contacts[q, :fit_days][mask].sum()
            )
            expected[event.kind] = (
                expected.get(event.kind, 0.0) + float(base[q][mask].sum()) * local
            )
    return {k: actual[k] / expected[k] for k in actual if expected[k] > 0}


def forecast(
    history: History,
    start: datetime,
    horizon: timedelta,
    width_min: int | None = None,
    events: Sequence[Event] = (),
    region: str | None = None,
    peak_threshold: float | None = None,
    peak_percentile: float | None = None,
    events_path: str = "events",
    alert_probability: float | None = None,
    holidays: HolidayCalendar | None = None,
    infer_holidays: bool = True,
) -> Forecast:
    """Contacts, AHT and 80 % bounds per open interval of [start, start + horizon)."""
    history = aggregate(history, width_min or history.width_min)
    width = history.width_min
    on_grid = (start - history.day_start(0)) % timedelta(minutes=width)
    if on_grid:
        moved = history.day_start(0).minute % width  # the grid's minutes past the hour
        grid = f" (intervals start at :{moved:02d})" if moved else ""
        raise InputError(
            f"--start: expected a time on the {width}-minute grid{grid}, found {start}"
        )
    history, as_of = as_of_start(history, start)
    _check_event_queues(history.queues, events, region, events_path)
    end = start + horizon
    last_day, _ = history.index_of(end - timedelta(minutes=1))
    fit_days, _ = fit_days_of(history)
    use = _event_mask(history, events, region, fit_days) if events else None
    cache: dict[int, Fitted] = {}
    reopened = _reopened_days(history, events, region)
    projection = project(history, last_day, cache, use, holidays, infer_holidays, reopened)
    # the days between history's end and the start are forecast, not written nor told of
    shown_from = max(0, history.index_of(start)[0] - projection.first)
    uplift = estimate_uplift(history, events, region, fit_days, projection.fit) if events else {}
    applied = _apply_events(history, projection, events, region, uplift, events_path)
    thresholds = projection.thresholds
    if peak_threshold is not None:
        thresholds = np.full(len(history.queues), peak_threshold)
    else:
        if peak_percentile is not None and peak_percentile != PEAK_PERCENTILE:
            thresholds = selection.peak_thresholds(
                history.contacts[:, :fit_days], history.present[:fit_days], peak_percentile
            )
        # a percentile of a queue that sees a handful of contacts per interval is noise,
        # not a peak: such queues get no percentile alerts (a capacity still applies)
        thresholds = np.where(thresholds < MIN_PEAK_THRESHOLD, np.inf, thresholds)
    if alert_probability is not None:
        projection.cut[:] = alert_probability
    rows, peaks = _rows(
        history,
        projection,
        start,
        end,
        thresholds,
        peak_threshold is not None or peak_percentile is not None,
    )
    fit = projection.fit
    return Forecast(
        rows,
        width,
        history.end,
        applied,
        peaks,
        fit.alert_probability if alert_probability is None else alert_probability,
        fit.alert_probability_today if alert_probability is None else alert_probability,
        [
            *as_of,
            *cache[fit_days].notes,
            *(note for k, note in projection.days.notes if k >= shown_from),
            *closed_queue_notes(history, projection),
        ],
        _closed_days(history, projection, shown_from),
        fit.choice,
        {
            history.date_of(projection.first + k): why
            for k, why in projection.days.closed_why.items()
            if k >= shown_from
        },
    )


@dataclass
class OnClocks:
    """A forecast of queues on several clocks (`clocks`): per history of the queues of one
    clock, its forecast, each on its history's clock (`History.tz`, written on
    `History.file_clock` when set)."""

    parts: list[tuple[History, Forecast]]

    def rows(self) -> list[tuple[ForecastRow, History]]:
        """Every row with its history, in time order, then by queue (as one history's)."""
        rows = [(row, history) for history, result in self.parts for row in result.rows]
        if len(self.parts) > 1:
            rows.sort(key=lambda r: (zones.instant(r[0].interval_start, r[1].tz), r[0].queue))
        return rows

    def peaks(self) -> list[tuple[Peak, History]]:
        """Every peak with its history, in time order, then by queue."""
        peaks = [(peak, history) for history, result in self.parts for peak in result.peaks]
        if len(self.parts) > 1:
            peaks.sort(key=lambda p: (zones.instant(p[0].interval_start, p[1].tz), p[0].queue))
        return peaks

    @property
    def width_min(self) -> int:
        return self.parts[0][1].width_min


def forecast_on_clocks(
    histories: Sequence[History],
    start: datetime,
    horizon: timedelta,
    width_min: int | None = None,
    events: Sequence[Event] = (),
    region: str | None = None,
    peak_threshold: float | None = None,
    peak_percentile: float | None = None,
    events_path: str = "events",
    alert_probability: float | None = None,
    holidays: HolidayCalendar | None = None,
    infer_holidays: bool = True,
) -> OnClocks:
    """`forecast` of each history (the queues of one clock) from the same instant `start`
    (aware), one after another; `events` are on UTC's clock (naive), each taken to the
    clock of the history whose queues it concerns (an event naming a queue none of them
    holds is refused, as one history's)."""
    queues = [queue for history in histories for queue in history.queues]
    _check_event_queues(queues, events, region, events_path)
    parts = []
    for history in histories:
        zone = history.tz
        mine = [
            _on_clock(event, zone)
            for event in events
            if event.queue is None or event.queue in history.queues
        ]
        result = forecast(
            history,
            start.astimezone(zone).replace(tzinfo=None),
            horizon,
            width_min,
            mine,
            region,
            peak_threshold,
            peak_percentile,
            events_path,
            alert_probability,
            holidays,
            infer_holidays,
        )
        parts.append((history, result))
    return OnClocks(parts)


def _on_clock(event: Event, zone: tzinfo) -> Event:
    """An event of UTC times (naive) on `zone`'s wall clock."""

    def local(moment: datetime) -> datetime:
        return moment.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)

    return dataclasses.replace(event, start=local(event.start), end=local(event.end))


def as_of_start(history: History, start: datetime) -> tuple[History, list[str]]:
    """The history as known at `start`, and a note when rows after it were left out.

    A forecast is made as of its start: rows at or after it are what it forecasts, not
    what it may learn from (a planner re-running last Monday's forecast from this week's
    export; a forecast from 11:00 with the morning's actuals, the rest of the day unused)."""
    if start >= history.end:
        return history, []
    if start <= history.day_start(0):
        raise InputError(
            f"--start: {start} is at or before the history's first day "
            f"({history.date_of(0)}): nothing to learn from"
        )
    return history.cut(start), [
        f"history after {start} not used: the forecast is made as of --start "
        f"(history ends {history.end})"
    ]


def _check_event_queues(
    queues: Sequence[str], events: Sequence[Event], region: str | None, events_path: str
) -> None:
    """An event of this region (or of every region) must name a queue of the history: a
    misspelt queue would otherwise be dropped while the command reports its factor."""
    known = {queue.lower(): queue for queue in queues}
    for event in events:
        if event.kind == OPEN_KIND and event.queue is not None:
            raise InputError(
                f"{events_path}: row {event.row}: field queue: an '{OPEN_KIND}' event opens "
                f"the center on a holiday, every queue: expected none, found {event.queue!r}"
            )
        if event.queue is None or event.queue in queues:
            continue
        if not applies(event, event.queue, region):
            continue  # another region's event: not this history's business
        near = known.get(event.queue.lower())
        hint = f"; did you mean {near!r}?" if near else ""
        raise InputError(
            f"{events_path}: row {event.row}: field queue: unknown queue {event.queue!r} "
            f"(the history's queues: {', '.join(queues)}){hint}"
        )


def _closed_days(history: History, projection: Projection, shown_from: int) -> list[date]:
    """The forecast days closed by holidays, from day index `shown_from` (the start's)."""
    return [
        history.date_of(projection.first + k)
        for k, factor in sorted(projection.days.factor.items())
        if factor == 0.0 and k >= shown_from
    ]


def _apply_events(
    history: History,
    projection: Projection,
    events: Sequence[Event],
    region: str | None,
    uplift: dict[str, float],
    events_path: str,
) -> dict[str, float]:
    applied: dict[str, float] = {}
    count = projection.mean.shape[1]
    for event in events:
        if event.end <= history.day_start(projection.first):
            continue
        queues = [q for q, queue in enumerate(history.queues) if applies(event, queue, region)]
        if not queues:  # another region's, or a queue this history does not hold
            continue
        if event.kind == OPEN_KIND:  # its days were planned as ordinary (`_reopened_days`)
            applied[event.kind] = 1.0
            continue
        mask = _slot_mask(history, event, projection.first, count)
        if event.kind == CLOSED_KIND:
            for q in queues:
                projection.mean[q][mask] = 0.0
            if event.queue is None:
                projection.open[mask] = False
            applied[event.kind] = 0.0
            continue
        factor = uplift.get(event.kind, event.factor)
        if factor is None:
            raise InputError(
                f"{events_path}: row {event.row}: field factor: no past '{event.kind}' event "
                f"in history to estimate the uplift from; expected a factor"
            )
        for q in queues:
            projection.mean[q][mask] *= factor
            if (projection.mean[q][mask] > MAX_CONTACTS).any():
                raise InputError(
                    f"{events_path}: row {event.row}: field factor: with this event's factor "
                    f"{factor:g} (and those of the events it overlaps) queue "
                    f"{history.queues[q]} expects more than {MAX_CONTACTS:.0f} contacts in "
                    "an interval, more than a history may hold"
                )
        applied[event.kind] = factor
    return applied


def _rows(
    history: History,
    projection: Projection,
    start: datetime,
    end: datetime,
    thresholds: FloatArray,
    want_peaks: bool,
) -> tuple[list[ForecastRow], list[Peak]]:
    """A row per queue for every open interval that starts in [start, end), on the
    center's clock: an interval the clocks skip (spring forward) has no row, one they
    repeat (fall back) a row at each of its two instants, with its slot's forecast."""
    width = history.width_min
    zone = history.tz
    first, last = zones.instant(start, zone), zones.instant(end, zone)
    origin = zones.instant(history.end, zone)
    picked: list[tuple[int, int, datetime, float]] = []  # day, slot, wall time, instant
    for d in range(projection.mean.shape[1]):
        begins = history.day_start(projection.first + d)
        for s in np.flatnonzero(projection.open[d]):
            wall = begins + timedelta(minutes=int(s) * width)
            for moment in zones.occurrences(wall, zone):
                at = zones.instant(moment, zone)
                if first <= at < last:
                    picked.append((d, int(s), moment, at))
    rows: list[tuple[float, ForecastRow]] = []
    peaks: list[tuple[float, Peak]] = []
    if not picked:
        return [], []
    d_idx = np.array([p[0] for p in picked])
    s_idx = np.array([p[1] for p in picked])
    for q, queue in enumerate(history.queues):
        mu = projection.mean[q, d_idx, s_idx]
        phi = projection.phi[q, d_idx, s_idx]
        assert projection.fit.nominal is not None
        low, high = intervals.bounds(mu, phi, projection.fit.nominal[q])
        aht = projection.aht[q, d_idx, s_idx]
        prob = (
            intervals.exceed_probability(mu, phi, np.full(mu.size, thresholds[q]))
            if want_peaks and np.isfinite(thresholds[q])
            else np.zeros(mu.size)
        )
        cut = projection.cut[d_idx, s_idx]
        for j, (_, _, moment, at) in enumerate(picked):
            row = ForecastRow(
                moment, queue, float(mu[j]), float(aht[j]), float(low[j]), float(high[j])
            )
            rows.append((at, row))
            if want_peaks and prob[j] >= cut[j] and prob[j] > 0:
                lead = timedelta(seconds=at - origin)
                peak = Peak(moment, queue, float(mu[j]), float(thresholds[q]), lead, float(prob[j]))
                peaks.append((at, peak))
    rows.sort(key=lambda r: (r[0], r[1].queue))
    peaks.sort(key=lambda p: (p[0], p[1].queue))
    return [row for _, row in rows], [peak for _, peak in peaks]
