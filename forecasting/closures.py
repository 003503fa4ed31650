"""Holidays and closed days: which days ahead are closed or unusual, learned from history.

The calendar is the region's (`--holidays US`, or `holidays = "US"` in the region's
config) or, when none is given, inferred from history: the country whose public holidays
best explain the normally-open weekdays on which the center had no contacts at all (and
would have had: an empty day of a near-empty center is chance, not a closure). A
country is taken only on evidence: at least `MIN_EVIDENCE` such closed days are its
holidays, and it has more of them closed than open (never a guess from one day). Then:

- **History.** Holidays and the first open day after a closure are left out of the fit
  (they are not ordinary days).
- **A holiday ahead** behaves as the same holiday did last time it is in history; a holiday
  not seen before as most past holidays did: closed when the center was closed on most of
  them, otherwise scaled by their mean ratio to an ordinary day of that weekday. With no
  past holiday in history it is forecast as an ordinary day (and said so). Each queue of
  several does so from its own past holidays (an office closed on them, a hotline that
  ran through them); a queue too small to tell, or without a past holiday, as the center.
  When the center never closed, a queue that closes may tell the calendar.
- **The first open day after a closure** gets the mean uplift of such days in history
  (at least `MIN_EVIDENCE` of them); **the eve**, the last open day before a holiday
  forecast closed, the mean ratio of the eves of the holidays history shows closed (a
  center quiet before its holidays). Each is kept only when it is more than two standard
  errors from 1, then shrunk towards 1 by n / (n + 1). When every past eve (at least
  `MIN_EVIDENCE`) ended an hour or more before every ordinary day around it, the eve
  ahead closes after the latest of their last contacts, and its ratio is taken over the
  hours it is open.

Every such ratio is to what an ordinary day of the weekday would have brought then, at
the level of the ordinary days around it (`_Reference`), not to the same weekday a month
either side: a level that moves over weeks is not the holiday's own effect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from forecasting.estimator import robust_sd
from forecasting.grid import busy_span
from forecasting.lifetimes import CLOSED_SURPRISE
from forecasting.model import BoolArray, FloatArray, History
from forecasting.runs import runs_of
from switchboard.common import calendar as calendars
from switchboard.common.calendar import HolidayCalendar

MIN_EVIDENCE = 2
NEIGHBOUR_DAYS = 28  # an ordinary day of the same weekday within four weeks: the fallback
LEVEL_DAYS = 7  # the level around a day: the ordinary days within a week either side
LEVEL_EVIDENCE = 3  # ... when there are at least three of them
CLOSED_RATIO = 0.05  # a day under 5 % of an ordinary day counts as closed
QUIET_HOLIDAY = 0.5  # a holiday under half an ordinary day is a closure for the day after


@dataclass
class DayPlan:
    """What closures make of the forecast days: per day index, a factor (0 = closed)."""

    factor: dict[int, float] = field(default_factory=dict)
    # per day index, a factor per queue where queues differ (a holiday an office closes
    # on and a hotline runs through); `factor` is then their volume-weighted mean, 0 only
    # when every queue is closed
    queue_factor: dict[int, FloatArray] = field(default_factory=dict)
    # per day index, the slot from which it is closed (an eve on which the center closes early)
    closes_at: dict[int, int] = field(default_factory=dict)
    notes: list[tuple[int, str]] = field(default_factory=list)  # (day index, what it is)
    calendar: HolidayCalendar | None = None
    # per day index closed by a holiday, which and why ("Columbus Day, as 3 of the 4
    # past holidays were"): a planner must see what a closed day rests on
    closed_why: dict[int, str] = field(default_factory=dict)

    def queue_factors(self, day: int, queues: int) -> FloatArray:
        """[queues] the factors of forecast day `day` (index), one per queue."""
        if day in self.queue_factor:
            return self.queue_factor[day]
        return np.full(queues, self.factor.get(day, 1.0))


def open_weekdays(open_mask: BoolArray) -> BoolArray:
    """[7]: weekdays with any open slot."""
    return np.asarray(open_mask.any(axis=1), dtype=bool)


def _dates(history: History, first: int, count: int) -> list[date]:
    return [history.date_of(first + k) for k in range(count)]


def closed_days(history: History, days: int, normally_open: BoolArray) -> BoolArray:
    """[days]: normally-open weekdays without a single row (a missing interval is closed),
    where an empty day is improbable: a center whose usual day of that weekday brings at
    most `CLOSED_SURPRISE` contacts (e^-λ ≥ 1/1000) has empty days by chance, open days
    with no contact (a near-empty center is not closed on most of its days)."""
    weekday = np.array([history.weekday(d) for d in range(days)])
    empty = normally_open[weekday] & ~history.present[:days].any(axis=1)
    if not empty.any():
        return empty
    totals = history.contacts[:, :days].sum(axis=(0, 2))
    usual = np.array([_usual_day(totals, weekday, int(d)) for d in np.flatnonzero(empty)])
    empty[np.flatnonzero(empty)] = usual > CLOSED_SURPRISE
    return empty


def _usual_day(totals: FloatArray, weekday: np.ndarray, day: int) -> float:
    """The median total of the days with contacts of `day`'s weekday within
    `NEIGHBOUR_DAYS` (else in all of history): the center's usual day then, 0 if none."""
    same = (weekday == weekday[day]) & (totals > 0)
    near = same & (np.abs(np.arange(totals.size) - day) <= NEIGHBOUR_DAYS)
    chosen = near if near.any() else same
    return float(np.median(totals[chosen])) if chosen.any() else 0.0


def infer_calendar(
    history: History, days: int, normally_open: BoolArray
) -> tuple[HolidayCalendar | None, str]:
    """The country whose holidays best explain the closed normally-open days, or None.

    Score = closed holidays − open holidays on normally-open weekdays; it must be at least
    1 with `MIN_EVIDENCE` closed holidays. A closed holiday counts only when every day of
    its run of closed days is a holiday of that country (Good Friday to Easter Monday):
    weeks missing from an export are no country's holidays, though some country always has
    a few among them (a gap in May read as Kyrgyzstan's May holidays). Ties go to a
    country with a time zone at the history's UTC offset (the US, not its Pacific outlying
    islands, for a clock at -04:00), then to a country over a territory of one (the US over
    them on any clock: a history exported in UTC), then to fewer holidays in the span (the
    more specific explanation), then alphabetically. A territory that wins gives way to its
    country when the country explains every closure it does (`_best_country`)."""
    dates = _dates(history, 0, days)
    weekday = np.array([d.weekday() for d in dates])
    end = history.day_start(days - 1)
    offset = history.tz.utcoffset(end) or timedelta(0)
    local = calendars.countries_at_offset(offset, end - offset)
    # the center's closed days; else those of a queue that closes while others run (an
    # office closed on holidays in a center whose hotline never closes)
    eligible = np.asarray(normally_open[weekday], dtype=bool)
    chosen = _best_country(closed_days(history, days, normally_open), eligible, dates, local)
    whose = ""
    if chosen is None:
        for queue, closed, lived in _queue_closed_days(history, days):
            mine = _best_country(closed, lived, dates, local)
            if mine is not None and (chosen is None or mine[0][:4] > chosen[0][:4]):
                chosen, whose = mine, f" of queue {queue}"
    if chosen is None:
        closed = closed_days(history, days, normally_open)
        return None, _lone_holidays(_closed_runs(closed, eligible), dates, local)
    best, found = chosen
    calendar = HolidayCalendar(best[4])
    names = ", ".join(f"{d.isoformat()} {calendar.name(d)}" for d in found)
    return calendar, (
        f"holidays: {calendar.spec} inferred from {len(found)} closed weekdays{whose} that are "
        f"its holidays ({names}); give --holidays to set it"
    )


def _closed_runs(closed: BoolArray, eligible: BoolArray) -> list[list[int]]:
    """The runs of closed days among the normally-open ones (`eligible`), as day indexes:
    a holiday, a long weekend, a holiday week, or weeks of an export missing."""
    candidates = [k for k in range(closed.size) if eligible[k]]
    return [candidates[a : b + 1] for a, b in runs_of(closed[candidates])]


def _lone_holidays(runs: list[list[int]], dates: list[date], local: frozenset[str]) -> str:
    """A note when the center's closures are holidays of the countries of its clock but
    too few to tell a calendar (one, in a short history): the planner knows it, and says
    it with --holidays. A closure counts as `_best_country` counts it: every day of its
    run a holiday of the country (weeks missing from an export are nobody's holidays)."""
    known = sorted(local & set(calendars.countries()))
    found = []
    for run in runs:
        codes = [c for c in known if all(HolidayCalendar(c).is_holiday(dates[k]) for k in run)]
        if codes:
            said = ", ".join(dates[k].isoformat() for k in run)
            found.append(f"{said}, a holiday of {', '.join(codes)}")
    if not found:
        return ""
    closures = "closure" if len(found) == 1 else "closures"
    return (
        f"holidays: none inferred from {len(found)} {closures}: {'; '.join(found)}; "
        "give --holidays to close the center's holidays"
    )


def _queue_closed_days(history: History, days: int) -> list[tuple[str, BoolArray, BoolArray]]:
    """Per queue of several, (its name, [days] its closed days, [days] those that could be):
    the days of its life (first to last contact) on a weekday it opens (contacts on a
    quarter of its last 8 such days), and without a contact where its median day of that
    weekday brings more than `CLOSED_SURPRISE` (a small queue's quiet day is chance)."""
    totals = history.contacts[:, :days].sum(axis=2)  # [Q, D]
    if totals.shape[0] < 2:
        return []
    weekday = np.array([history.weekday(d) for d in range(days)])
    found = []
    for queue, row in zip(history.queues, totals, strict=True):
        busy = np.flatnonzero(row > 0)
        if not busy.size:
            continue
        lived = np.zeros(days, dtype=bool)
        lived[busy[0] : busy[-1] + 1] = True
        eligible = np.zeros(days, dtype=bool)
        for w in range(7):
            same = np.flatnonzero(lived & (weekday == w))[-8:]
            opened = row[same] > 0
            if (
                same.size
                and opened.sum() >= max(1.0, 0.25 * same.size)
                and float(np.median(row[same][opened])) > CLOSED_SURPRISE
            ):
                eligible |= lived & (weekday == w)
        closed = eligible & (row <= 0)
        if closed.sum() >= MIN_EVIDENCE:
            found.append((queue, closed, eligible))
    return found


def _best_country(
    closed: BoolArray, eligible: BoolArray, dates: list[date], local: frozenset[str]
) -> tuple[tuple[int, int, int, int, str], list[date]] | None:
    """(the key of `infer_calendar`'s best country, its closed holidays) for closed days
    `closed` among the days that could be (`eligible`: normally open), or None."""
    if closed.sum() < MIN_EVIDENCE:
        return None
    candidates = [k for k in range(len(dates)) if eligible[k]]
    runs = _closed_runs(closed, eligible)
    in_runs = {dates[k] for run in runs for k in run}
    scored: dict[str, tuple[tuple[int, int, int, int, str], list[date]]] = {}
    fits: dict[str, tuple[tuple[int, int, int, int, str], list[date]]] = {}  # unscored too
    for code in calendars.countries():
        calendar = HolidayCalendar(code)
        holidays = [dates[k] for k in candidates if calendar.is_holiday(dates[k])]
        explained = [run for run in runs if all(calendar.is_holiday(dates[k]) for k in run)]
        hits = sorted(dates[k] for run in explained for k in run)
        unexplained = in_runs - set(hits)
        holidays = [d for d in holidays if d not in unexplained]  # in a gap: unknown
        key = (
            len(hits) - (len(holidays) - len(hits)),
            int(code in local),
            int(not calendars.is_territory(code)),
            -len(holidays),
            code,
        )
        fits[code] = (key, hits)
        if len(hits) >= MIN_EVIDENCE and len(hits) > len(holidays) - len(hits):
            scored[code] = (key, hits)
    if not scored:
        return None
    best = max(scored.values(), key=lambda s: s[0][:4])
    # A territory gives way to its country when the country explains every closure it
    # does: the territory only lacks holidays the center was open on (UM is the US
    # without Columbus Day), which the country's calendar then forecasts as they went.
    # So even when those open days leave the country short of the evidence asked (a
    # center open on as many of its holidays as it closed on: UM was all that remained).
    parent = fits.get(calendars.parent_country(best[0][4]) or "")
    return parent if parent is not None and set(parent[1]) >= set(best[1]) else best


class _Reference:
    """What an ordinary day of a day's weekday would have brought then: its weekday's
    share times the level of the ordinary days within `LEVEL_DAYS` either side (each over
    its own weekday's share), so that a level moving over weeks is not read as the day's
    own effect (a probe's bank: a level falling through the summer made every eve 0.84 of
    a day and a +25 % day after a closure +6 %, against the same weekday a month either
    side). With fewer than `LEVEL_EVIDENCE` such days around it: the median of the same
    weekday's ordinary days within `NEIGHBOUR_DAYS`."""

    def __init__(self, totals: FloatArray, ordinary: BoolArray, weekday: np.ndarray) -> None:
        self.totals, self.weekday = totals, weekday
        self.ordinary = ordinary & (totals > 0)
        self.share = _weekday_shares(totals, self.ordinary, weekday)

    def at(self, day: int) -> float:
        distance = np.abs(np.arange(self.totals.size) - day)
        share = self.share[self.weekday]
        around = self.ordinary & (distance <= LEVEL_DAYS) & (distance > 0) & (share > 0)
        if around.sum() >= LEVEL_EVIDENCE and share[day] > 0:
            return float(np.median(self.totals[around] / share[around]) * share[day])
        near = self.ordinary & (self.weekday == self.weekday[day]) & (distance <= NEIGHBOUR_DAYS)
        return float(np.median(self.totals[near])) if near.any() else float("nan")


def _weekday_shares(totals: FloatArray, ordinary: BoolArray, weekday: np.ndarray) -> FloatArray:
    """[7] each weekday's ordinary day over the ordinary days around it: the median of its
    days' totals over the median of the ordinary days within `LEVEL_DAYS` of each (a
    level that moves cancels out); 0 for a weekday without ordinary days."""
    days = np.flatnonzero(ordinary)
    share = np.zeros(7)
    if not days.size:
        return share
    left = np.searchsorted(days, days - LEVEL_DAYS)
    right = np.searchsorted(days, days + LEVEL_DAYS, side="right")
    level = np.array([np.median(totals[days[a:b]]) for a, b in zip(left, right, strict=True)])
    for w in range(7):
        mine = weekday[days] == w
        if mine.any():
            share[w] = float(np.median(totals[days[mine]] / level[mine]))
    return share


def history_mask(
    history: History, days: int, calendar: HolidayCalendar | None, normally_open: BoolArray
) -> BoolArray:
    """[days]: False for holidays and first open days after a closure (not ordinary).
    Eves stay: the freak-day clipping takes care of a short one, and leaving them out
    cost a little on centers whose eves are ordinary (experiment log)."""
    dates = _dates(history, 0, days)
    unusual = np.array([calendar is not None and calendar.is_holiday(d) for d in dates])
    closed = _closures(history, days, normally_open, unusual)
    return ~(unusual | _beside_closure(closed, history, days, normally_open, 1))


def _closures(
    history: History, days: int, normally_open: BoolArray, holiday: BoolArray
) -> BoolArray:
    """[days]: the days the center closed: without a contact, or holidays it ran at under
    `QUIET_HOLIDAY` of an ordinary day. A holiday it stayed open on (a bank's Columbus
    Day) is no closure: the day after it carries no backlog, and counted as one it
    diluted the uplift of the days after real closures."""
    no_rows = closed_days(history, days, normally_open)
    totals = history.contacts[:, :days].sum(axis=(0, 2))
    weekday = np.array([history.weekday(d) for d in range(days)])
    ordinary = normally_open[weekday] & ~no_rows & ~holiday & (totals > 0)
    quiet = holiday.copy()
    reference_of = _Reference(totals, ordinary, weekday)
    for d in np.flatnonzero(holiday & ~no_rows):
        reference = reference_of.at(int(d))
        quiet[d] = not totals[d] >= QUIET_HOLIDAY * reference  # unknown: a closure
    return no_rows | quiet


def _beside_closure(
    closed: BoolArray,
    history: History,
    days: int,
    normally_open: BoolArray,
    step: int,
    of: BoolArray | None = None,
) -> BoolArray:
    """[days]: the first normally-open, not closed day after (`step` 1) or before (-1) a
    closed normally-open day (of those in `of`, default all): the day after a closure,
    or its eve."""
    weekday = np.array([history.weekday(d) for d in range(days)])
    beside = np.zeros(days, dtype=bool)
    for d in np.flatnonzero(closed if of is None else closed & of):
        near = _next_open(int(d), closed, normally_open, weekday, step)
        if near is not None:
            beside[near] = True
    return beside


def plan(
    history: History,
    fit_days: int,
    count: int,
    calendar: HolidayCalendar | None,
    normally_open: BoolArray,
    reopened: frozenset[int] = frozenset(),
) -> DayPlan:
    """Factors for the `count` days from `fit_days` on (0 = closed), from how holidays and
    the days beside closures behaved in the `fit_days` days of history; the days of
    `reopened` (indices, an `open` event's) are no holidays, whatever the calendar says."""
    result = DayPlan(calendar=calendar)
    totals = history.contacts[:, :fit_days].sum(axis=(0, 2))
    weekday = np.array([history.weekday(d) for d in range(fit_days + count)])
    past_dates = _dates(history, 0, fit_days)
    past_holiday = np.array(
        [calendar is not None and calendar.is_holiday(d) for d in past_dates], dtype=bool
    )
    no_rows = closed_days(history, fit_days, normally_open)
    past_closed = _closures(history, fit_days, normally_open, past_holiday)
    after = _beside_closure(past_closed, history, fit_days, normally_open, 1)
    # the eves that tell: those of holidays the center closed on (not of a gap in a file)
    eves = _beside_closure(
        past_closed, history, fit_days, normally_open, -1, no_rows & past_holiday
    )
    ordinary = normally_open[weekday[:fit_days]] & ~past_closed & ~after & (totals > 0)

    center = _Reference(totals, ordinary, weekday[:fit_days])

    def ratio(day: int, reference: _Reference = center) -> float:
        ref = reference.at(day)
        return reference.totals[day] / ref if ref > 0 else float("nan")

    def spread(reference: _Reference = center) -> float:
        """An ordinary day's ratio's spread around 1: the noise of one day."""
        usual = np.array([ratio(int(d), reference) for d in np.flatnonzero(ordinary)])
        return robust_sd(usual[np.isfinite(usual)])

    def gated(days: BoolArray, of: FloatArray = totals) -> float:
        reference = center if of is totals else _Reference(of, ordinary, weekday[:fit_days])
        return _shrunk_mean(
            [ratio(int(d), reference) for d in np.flatnonzero(days)], spread(reference)
        )

    outcomes: dict[str, float] = {}  # name -> ratio of its latest occurrence
    seen: list[float] = []
    afters: dict[str, list[float]] = {}  # name -> ratios of the open days after it, closed
    q_count = history.contacts.shape[0]
    queue_totals = history.contacts[:, :fit_days].sum(axis=2)  # [Q, D]
    # the same per queue (several): an office closed on holidays, a hotline that runs
    queue_outcomes: list[dict[str, float]] = [{} for _ in range(q_count)]
    queue_seen: list[list[float]] = [[] for _ in range(q_count)]
    if calendar is not None:
        for d in np.flatnonzero(past_holiday & normally_open[weekday[:fit_days]]):
            r = ratio(int(d))
            if np.isnan(r):
                continue
            r = 0.0 if r < CLOSED_RATIO else r
            title = calendar.name(past_dates[d]) or ""
            outcomes[title] = r
            seen.append(r)
            following = _next_open(int(d), past_closed, normally_open, weekday[:fit_days])
            if r == 0.0 and following is not None and after[following]:
                afters.setdefault(title, []).append(ratio(following))
            for q in range(q_count) if q_count > 1 else ():
                own = _queue_ratio(queue_totals[q], ordinary, weekday[:fit_days], int(d), r)
                if own is not None:
                    queue_outcomes[q][title] = own
                    queue_seen[q].append(own)
    recent = queue_totals[:, max(0, fit_days - NEIGHBOUR_DAYS) :].sum(axis=1)
    volume = recent / max(float(recent.sum()), 1e-12)
    after_factor = gated(after)
    after_seen = [r for r in (ratio(int(d)) for d in np.flatnonzero(after)) if r > CLOSED_RATIO]
    after_of = _afters_by_holiday(afters, after_factor, spread())
    eve_close = _eve_closing(history, eves, ordinary, weekday[:fit_days])
    # an eve that closes early is compared with ordinary days over its open hours
    eve_factor = gated(
        eves,
        totals if eve_close is None else history.contacts[:, :fit_days, :eve_close].sum((0, 2)),
    )

    def closing_holiday(day: int) -> str | None:
        """The holiday forecast closed on the next normally-open day after `day`, if any."""
        near = day + 1
        while not normally_open[weekday_of(near)] and near < day + 7:
            near += 1
        name = holiday_of(near)
        return name if name is not None and _holiday_factor(name, outcomes, seen) == 0 else None

    def holiday_of(day: int) -> str | None:
        if calendar is None or day in reopened:
            return None
        return calendar.name(history.date_of(day))

    def weekday_of(day: int) -> int:
        return int(weekday[day]) if day < weekday.size else history.weekday(day)

    closed_before = bool(past_closed[fit_days - 1]) if fit_days else False
    closed_by = ""  # the holiday that closed the day before, if one did
    for k in range(count):
        day = fit_days + k
        moment = history.date_of(day)
        if not normally_open[weekday[day]]:
            continue
        name = holiday_of(day)
        if name is not None:
            factor = _holiday_factor(name, outcomes, seen)
            if factor is None:
                result.notes.append(
                    (
                        k,
                        f"holiday {moment.isoformat()} {name}: no past holiday in history, "
                        "forecast as an ordinary day (add it to the events CSV to change that)",
                    )
                )
            else:
                if q_count > 1:  # each queue as it did on past holidays (else the center)
                    each = np.array(
                        [
                            _or(_holiday_factor(name, queue_outcomes[q], queue_seen[q]), factor)
                            for q in range(q_count)
                        ]
                    )
                    if (each != factor).any():
                        result.queue_factor[k] = each
                        factor = 0.0 if not each.any() else float(volume @ each)
                result.factor[k] = factor
                closed_before = factor == 0.0
                closed_by = name
                if factor == 0.0:
                    result.closed_why[k] = f"{name}, {_closed_as(name, outcomes, seen)}"
                continue
        unusual_eve = eve_factor != 1.0 or eve_close is not None
        eve_of = closing_holiday(day) if unusual_eve else None
        after_it = after_of.get(closed_by, after_factor) if closed_before else 1.0
        if closed_before and after_seen:
            evidence = after_seen
            if closed_by in after_of:  # this holiday's days after went their own way
                evidence = [r for r in afters[closed_by] if r > CLOSED_RATIO]
            result.notes.append((k, _after_said(moment, closed_by, evidence, after_it)))
        factor = after_it * (eve_factor if eve_of else 1.0)
        if factor != 1.0:
            result.factor[k] = factor
        if eve_of:
            said = _eve_said(history, day, eve_close, eve_factor)
            result.notes.append((k, f"{moment.isoformat()}, the eve of {eve_of}: {said}"))
            if eve_close is not None:
                result.closes_at[k] = eve_close
        closed_before = False
    return result


def _next_open(
    day: int, closed: BoolArray, normally_open: BoolArray, weekday: np.ndarray, step: int = 1
) -> int | None:
    """The first normally-open, not closed day after (`step` 1) or before (-1) `day` in
    history, if any."""
    near = day + step
    while 0 <= near < closed.size and (not normally_open[weekday[near]] or closed[near]):
        near += step
    return near if 0 <= near < closed.size else None


def _afters_by_holiday(
    afters: dict[str, list[float]], pooled: float, noise: float
) -> dict[str, float]:
    """Per holiday whose days after are unlike the others', the factor of the open day
    after it: the mean of its own, when it is more than two standard errors (a day's
    noise over √n, and over √m for the others) from the mean of the other holidays'
    days after, shrunk toward the pooled factor by n / (n + 1). Days after alike (a
    backlog after any closure) keep the pooled factor; a Friday after Thanksgiving at
    half a day beside Tuesdays after Mondays at +12 % goes its own way (a probe's bank:
    3,975 forecast for 1,881)."""
    found: dict[str, float] = {}
    if not np.isfinite(noise):
        return found
    for name, own in afters.items():
        mine = [r for r in own if np.isfinite(r)]
        others = [r for title, rs in afters.items() if title != name for r in rs if np.isfinite(r)]
        if not mine or len(others) < MIN_EVIDENCE:
            continue
        gap = float(np.mean(mine)) - float(np.mean(others))
        if abs(gap) > 2.0 * noise * np.sqrt(1 / len(mine) + 1 / len(others)):
            n = len(mine)
            found[name] = pooled + (float(np.mean(mine)) - pooled) * n / (n + 1)
    return found


def _eve_closing(
    history: History, eves: BoolArray, ordinary: BoolArray, weekday: np.ndarray
) -> int | None:
    """The slot from which the center is closed on an eve: one after the latest last
    contact of past eves, when every one of them (at least MIN_EVIDENCE) ended at least an
    hour before every ordinary day of its weekday around it (Christmas Eve until 13:00;
    not a quiet evening of a small queue); None when eves keep the usual hours."""
    days = eves.size
    _, last = busy_span(history.contacts[:, :days].sum(axis=0) > 0)
    hour = max(1, 60 // history.width_min)
    ends: list[int] = []
    for d in np.flatnonzero(eves):
        near = (
            ordinary
            & ~eves
            & (weekday == weekday[d])
            & (np.abs(np.arange(days) - d) <= NEIGHBOUR_DAYS)
        )
        if not near.any() or last[d] < 0 or last[d] > last[near].min() - hour:
            return None
        ends.append(int(last[d]))
    return max(ends) + 1 if len(ends) >= MIN_EVIDENCE else None


def _eve_said(history: History, day: int, closes: int | None, factor: float) -> str:
    if closes is None:
        return f"{factor:.2f} of an ordinary day, as the eves of past holidays were"
    at = history.day_start(day) + timedelta(minutes=closes * history.width_min)
    volume = "" if factor == 1.0 else f", {factor:.2f} of an ordinary day until then"
    return f"closes at {at:%H:%M} as past eves did{volume}"


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def _queue_ratio(
    totals: FloatArray, ordinary: BoolArray, weekday: np.ndarray, day: int, center: float
) -> float | None:
    """One queue's ratio on past holiday `day` to its ordinary day of that weekday (0 under
    `CLOSED_RATIO`); the center's ratio (`center`) where its ordinary day is too small for
    a silence to tell (at most `CLOSED_SURPRISE` contacts); None before its first contact
    or after its last (it did not exist)."""
    busy = np.flatnonzero(totals > 0)
    if not busy.size or not busy[0] <= day <= busy[-1]:
        return None
    ref = _Reference(totals, ordinary, weekday).at(day)
    if not ref > CLOSED_SURPRISE:
        return center
    mine = float(totals[day]) / ref
    return 0.0 if mine < CLOSED_RATIO else mine


def _shrunk_mean(ratios: list[float], noise: float) -> float:
    """The mean ratio of such days to an ordinary day, shrunk towards 1 by n / (n + 1);
    1 with fewer than MIN_EVIDENCE of them (closed ones and gaps are not evidence) or a
    mean within two standard errors of 1 (`noise`: an ordinary day's spread), where the
    days are ordinary as far as history can tell."""
    seen = [r for r in ratios if np.isfinite(r) and r > CLOSED_RATIO]
    n = len(seen)
    if n < MIN_EVIDENCE:
        return 1.0
    mean = float(np.mean(seen))
    if abs(mean - 1.0) <= 2.0 * noise / np.sqrt(n):
        return 1.0
    return 1.0 + (mean - 1.0) * n / (n + 1)


def _after_said(moment: date, closed_by: str, seen: list[float], factor: float) -> str:
    """How the day after a closure is forecast, and what that rests on: the days after
    past closures (`seen`, their ratios to an ordinary day), shrunk toward an ordinary
    day for so few of them, or not taken when within an ordinary day's spread
    (`_shrunk_mean`). A planner who knows better sets it with an event."""
    after = closed_by or "a closure"
    mean = float(np.mean(seen)) - 1.0
    ran = f"the {len(seen)} days after past closures ran {mean:+.0%} on average"
    if factor != 1.0:
        return (
            f"{moment.isoformat()}, the day after {after}: {factor:.2f} of an ordinary day "
            f"({ran}; an event with a factor sets it)"
        )
    return (
        f"{moment.isoformat()}, the day after {after}: forecast as an ordinary day ({ran}: "
        "not told apart from an ordinary day's spread; an event with a factor sets it)"
    )


def _closed_as(name: str, outcomes: dict[str, float], seen: list[float]) -> str:
    """What a holiday forecast closed rests on (`_holiday_factor`)."""
    if name in outcomes:
        return "as it was last time in history"
    closed = sum(1 for r in seen if r == 0.0)
    return f"as {closed} of the {len(seen)} past holidays in history were"


def _holiday_factor(name: str, outcomes: dict[str, float], seen: list[float]) -> float | None:
    if name in outcomes:
        return outcomes[name]
    if not seen:
        return None
    closed = sum(1 for r in seen if r == 0.0)
    if closed * 2 >= len(seen):
        return 0.0
    return float(np.mean([r for r in seen if r > 0.0]))
