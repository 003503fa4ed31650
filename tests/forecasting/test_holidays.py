"""Holidays and closed days: given, or inferred from the weekdays history shows closed."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from forecasting import closures, files, service, synthetic
from forecasting.model import Event, Forecast, History, HistoryRow
from switchboard.common.calendar import HolidayCalendar
from switchboard.common.errors import InputError


def _rows(**changes: Any) -> list[HistoryRow]:
    """A bank's weekday center (closed on US holidays) at 30 minutes, as rows."""
    scenario = replace(synthetic.SCENARIOS["bank_weekdays_7m"], width_min=30, **changes)
    return synthetic.generate_scenario(scenario, seed=4).rows


def _center(**changes: object) -> History:
    return files.build_history(_rows(**changes), "history.csv")


@pytest.fixture(scope="module")
def bank() -> History:
    # 2025-03-03 .. 2025-10-10: Memorial Day, Juneteenth, Independence Day and Labor Day
    # closed; the forecast week starts on Columbus Day
    return _center(days=222)


def _days(result: Forecast) -> dict[date, float]:
    totals: dict[date, float] = {}
    for row in result.rows:
        totals[row.interval_start.date()] = (
            totals.get(row.interval_start.date(), 0.0) + row.contacts
        )
    return totals


def test_a_holiday_is_forecast_closed_when_history_shows_holidays_closed(bank: History) -> None:
    monday = datetime(2025, 10, 13)
    result = service.forecast(bank, monday, timedelta(days=5))
    days = _days(result)
    assert date(2025, 10, 13) not in days  # Columbus Day: no rows, the center is closed
    assert result.closed_why == {
        monday.date(): "Columbus Day, as 4 of the 4 past holidays in history were"
    }
    assert set(days) == {date(2025, 10, d) for d in (14, 15, 16, 17)}
    assert result.closed_days == [monday.date()]
    assert any(
        note.startswith("holidays: US inferred from 4 closed weekdays") for note in result.notes
    )
    # the day after a closure carries the backlog, as it did after past holidays
    assert days[date(2025, 10, 14)] > 1.04 * days[date(2025, 10, 15)]


def test_an_open_event_forecasts_a_holiday_the_calendar_closes(bank: History) -> None:
    """A bank closed on its past holidays is open on Columbus Day: the planner's only way
    to say so was --holidays none, which opened Thanksgiving too (a planner probe). An
    event of kind `open` over the day forecasts it as an ordinary Monday."""
    monday = datetime(2025, 10, 13)
    event = Event(start=monday, end=monday + timedelta(days=1), kind="open", row=2)
    result = service.forecast(bank, monday, timedelta(days=9), events=[event])
    days = _days(result)
    assert result.closed_days == [] and result.closed_why == {}
    assert 0.8 * days[date(2025, 10, 20)] < days[monday.date()] < 1.2 * days[date(2025, 10, 20)]
    # the day after is no day after a closure: an ordinary Tuesday
    assert days[date(2025, 10, 14)] < 1.04 * days[date(2025, 10, 21)]
    with pytest.raises(InputError, match="row 2: field queue: an 'open' event opens the center"):
        service.forecast(bank, monday, timedelta(days=1), events=[replace(event, queue="q")])


def test_a_given_calendar_closes_the_same_day_and_none_closes_nothing(bank: History) -> None:
    monday = datetime(2025, 10, 13)
    given = service.forecast(
        bank, monday, timedelta(days=1), holidays=HolidayCalendar.parse("US"), infer_holidays=False
    )
    assert given.rows == [] and given.closed_days == [monday.date()]
    plain = service.forecast(bank, monday, timedelta(days=1), infer_holidays=False)
    assert len(plain.rows) == 2 * 28  # two queues, 07:00-21:00
    assert plain.notes == []


@pytest.mark.parametrize("holidays", [None, "US"])
def test_weeks_missing_from_an_export_are_no_countrys_holidays(holidays: str | None) -> None:
    """Two weeks of May missing hold some country's May holidays (Kyrgyzstan's, before):
    no calendar is inferred from them, and a US center's own holidays still tell."""
    gap = (date(2025, 5, 1), date(2025, 5, 15))
    rows = [r for r in _rows(holidays=holidays) if not gap[0] <= r.interval_start.date() < gap[1]]
    history = files.build_history(rows, "history.csv")
    result = service.forecast(history, datetime(2025, 9, 29), timedelta(days=1))
    inferred = [note for note in result.notes if note.startswith("holidays:")]
    if holidays is None:
        assert inferred == [] and len(result.rows) == 2 * 28
    else:
        [note] = inferred
        assert note.startswith("holidays: US inferred from 4 closed weekdays")


def test_a_us_center_open_on_columbus_day_is_given_the_us_calendar() -> None:
    """The holidays package's UM (the US Minor Outlying Islands) is the US without
    Columbus Day: a US center open on it (private centers are) scored UM above the US
    (a probe), and its Columbus Day was then an ordinary day of no calendar. The US, which
    explains every closure UM does, is taken; the holiday goes as it went last year."""
    history = _center(holidays="UM", first_day=date(2024, 9, 2), days=404)  # ..2025-10-10
    result = service.forecast(history, datetime(2025, 10, 13), timedelta(days=5))
    [note] = [note for note in result.notes if note.startswith("holidays:")]
    assert note.startswith("holidays: US inferred from 10 closed weekdays"), note
    days = _days(result)
    assert result.closed_days == [] and len(days) == 5
    ordinary = np.mean([days[date(2025, 10, d)] for d in (14, 15, 16, 17)])
    assert days[date(2025, 10, 13)] > 0.8 * ordinary  # open, as in 2024


def test_a_center_open_on_as_many_us_holidays_as_it_closed_on_is_still_given_the_us() -> None:
    """Closed on Memorial Day, Independence Day and Labor Day, open on Juneteenth, Columbus
    Day and Veterans Day: the US fell short of the evidence asked (3 closed, 3 open) and
    UM (the US without Columbus Day) was inferred (a probe's bank); the US is taken, and
    Thanksgiving closed as half the past holidays were."""
    closed = {date(2025, 5, 26), date(2025, 7, 4), date(2025, 9, 1)}
    rows = [r for r in _rows(holidays=None, days=266) if r.interval_start.date() not in closed]
    history = files.build_history(rows, "history.csv")  # 2025-03-03 .. 2025-11-23
    result = service.forecast(history, datetime(2025, 11, 24), timedelta(days=5))
    [note] = [note for note in result.notes if note.startswith("holidays:")]
    assert note.startswith("holidays: US inferred from 3 closed weekdays"), note
    assert result.closed_days == [date(2025, 11, 27)]
    assert result.closed_why == {
        date(2025, 11, 27): "Thanksgiving Day, as 3 of the 6 past holidays in history were"
    }


def test_the_day_after_a_holiday_the_center_was_open_on_is_an_ordinary_day() -> None:
    """The day after a closure carries a backlog and is kept out of the fit and the
    uplift of such days; a holiday the center ran through as any day (Juneteenth here)
    was taken for a closure too: its next day diluted that uplift (a probe's bank: the
    week-ahead WAPE of its backtest 0.099, now 0.097)."""
    rows = [
        r for r in _rows(holidays=None, days=120) if r.interval_start.date() != date(2025, 5, 26)
    ]
    history = files.build_history(rows, "history.csv")  # 2025-03-03 .. 2025-06-30
    normally_open = np.array([True] * 5 + [False] * 2)  # Monday to Friday
    ordinary = closures.history_mask(history, history.days, HolidayCalendar("US"), normally_open)
    day = {d: (d - date(2025, 3, 3)).days for d in (date(2025, 5, 27), date(2025, 6, 20))}
    assert not ordinary[day[date(2025, 5, 27)]]  # after Memorial Day, closed
    assert ordinary[day[date(2025, 6, 20)]]  # after Juneteenth, open as any Thursday


def test_a_day_after_a_holiday_unlike_the_others_goes_its_own_way() -> None:
    """The Friday after Thanksgiving at half a day, twice in history, beside days after
    other holidays at +12 %: one pooled uplift forecast it a busy Friday (a probe's
    bank, 3,975 for 1,881); the Monday after keeps the ordinary forecast."""
    history = _center(
        first_day=date(2023, 10, 2), days=784, after_named=(("Thanksgiving Day", -0.5),)
    )  # .. 2025-11-23
    result = service.forecast(history, datetime(2025, 11, 24), timedelta(days=12))
    days = _days(result)
    assert date(2025, 11, 27) not in days  # Thanksgiving: closed
    assert days[date(2025, 11, 28)] < 0.7 * days[date(2025, 12, 5)]
    assert days[date(2025, 12, 1)] == pytest.approx(days[date(2025, 11, 24)], rel=0.1)


def test_one_closed_holiday_is_no_evidence_but_is_pointed_out() -> None:
    """Too little to infer a calendar from (Labor Day and Canada's Labour Day alike), but
    the planner of a short history is told, so that a holiday ahead (Veterans Day after
    five weeks, a probe's) is not forecast open without a word."""
    # 2025-07-07 .. 2025-09-05: Labor Day is the only holiday, one closed weekday
    history = _center(first_day=date(2025, 7, 7), days=61)
    result = service.forecast(history, datetime(2025, 9, 8), timedelta(days=1))
    assert result.closed_days == [] and len(result.rows) == 2 * 28
    [note] = result.notes
    assert note.startswith("holidays: none inferred from 1 closure: 2025-09-01, a holiday of ")
    assert re.search(r"holiday of [A-Z, ]*\bCA\b[A-Z, ]*\bUS\b", note), note
    assert note.endswith("give --holidays to close the center's holidays")


@pytest.mark.parametrize("eve", [-0.4, 0.0])
def test_the_eve_of_a_holiday_is_forecast_as_past_eves_were(eve: float) -> None:
    """A center that closes early before its holidays (its eves 40 % down): the eve of
    Independence Day is forecast down, as the eves of Memorial Day and Juneteenth were;
    a center whose eves are ordinary keeps an ordinary Thursday."""
    history = _center(days=119, before_holiday=eve)  # 2025-03-03 .. 2025-06-29
    result = service.forecast(history, datetime(2025, 6, 30), timedelta(days=5))
    days = _days(result)
    assert date(2025, 7, 4) not in days
    ratio = days[date(2025, 7, 3)] / days[date(2025, 7, 2)]
    eve_notes = [note for note in result.notes if "the eve of" in note]
    if eve:
        assert 0.6 < ratio < 0.85  # two eves seen: their mean, shrunk by 2/3 towards 1
        [note] = eve_notes
        said = re.fullmatch(
            r"2025-07-03, the eve of Independence Day: (0\.\d\d) of an ordinary day, "
            r"as the eves of past holidays were",
            note,
        )
        assert said is not None and 0.6 < float(said[1]) < 0.85
    else:
        assert ratio == pytest.approx(0.99, abs=0.05)
        assert eve_notes == []


def test_an_eve_the_center_closes_early_on_is_forecast_closed_after_that_hour() -> None:
    """Past eves ended at 13:00 (a bank's Christmas Eve): the eve ahead has no rows after
    13:00 and its morning is an ordinary morning, not the day's volume squeezed or spread."""
    history = _center(days=119, eve_closes=13.0)  # 2025-03-03 .. 2025-06-29
    result = service.forecast(history, datetime(2025, 6, 30), timedelta(days=5))
    eve = [row for row in result.rows if row.interval_start.date() == date(2025, 7, 3)]
    before = [row for row in result.rows if row.interval_start.date() == date(2025, 7, 2)]
    assert {row.interval_start.hour for row in eve} == set(range(7, 13))
    morning = sum(row.contacts for row in eve)
    usual = sum(row.contacts for row in before if row.interval_start.hour < 13)
    assert morning == pytest.approx(usual, rel=0.1)
    assert "2025-07-03, the eve of Independence Day: closes at 13:00 as past eves did" in (
        result.notes
    )
    ordinary = service.forecast(_center(days=119), datetime(2025, 6, 30), timedelta(days=5))
    assert {row.interval_start.hour for row in ordinary.rows} == set(range(7, 21))


def test_a_center_open_on_holidays_keeps_their_share() -> None:
    scenario = replace(
        synthetic.SCENARIOS["airline_growth_18m"],
        width_min=60,
        days=276,
        level_sd=0.01,
        day_sd=0.02,
    )  # 2024-01-01 .. 2024-10-02, German holidays at 45 % of a day; 2024-10-03 is one
    history = files.build_history(synthetic.generate_scenario(scenario, seed=2).rows, "h.csv")
    unity = datetime(2024, 10, 3)
    inferred = service.forecast(history, unity, timedelta(days=2))
    # never closed: nothing to infer a calendar from (Whit Sunday and Monday at 45 % of a
    # day are named as a transient that came back, not as holidays)
    assert [note for note in inferred.notes if "holiday" in note] == []
    given = service.forecast(
        history,
        unity,
        timedelta(days=2),
        holidays=HolidayCalendar.parse("DE"),
        infer_holidays=False,
    )
    days, plain = _days(given), _days(inferred)
    assert days[date(2024, 10, 3)] == pytest.approx(0.45 * plain[date(2024, 10, 3)], rel=0.15)
    assert days[date(2024, 10, 4)] == pytest.approx(plain[date(2024, 10, 4)], rel=0.1)
    assert np.isfinite(days[date(2024, 10, 3)])


def test_a_planner_closes_a_day_with_the_events_csv(bank: History, tmp_path: object) -> None:
    from forecasting.model import Event

    tuesday = datetime(2025, 10, 14)
    closing = Event(tuesday + timedelta(hours=14), tuesday + timedelta(days=1), "closed", row=2)
    result = service.forecast(bank, tuesday, timedelta(days=1), events=[closing])
    hours = sorted({row.interval_start.hour for row in result.rows})
    assert hours == list(range(7, 14))  # a special day: open in the morning only
    assert result.uplift == {"closed": 0.0}


def test_an_export_of_every_interval_with_zeros_forecasts_as_the_rows_with_contacts(
    bank: History,
) -> None:
    # a spreadsheet of every 30 minutes of every day: zeros for nights, weekends, holidays
    rows = _rows(days=222)
    written = {(row.interval_start, row.queue) for row in rows}
    zone = ZoneInfo(synthetic.SCENARIOS["bank_weekdays_7m"].zone)
    walls = (bank.first_day + timedelta(minutes=30 * k) for k in range(222 * 48))
    moments = [
        datetime.fromisoformat(wall.replace(tzinfo=zone).isoformat())  # fixed offsets
        for wall in walls
        if wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall
    ]  # not the wall times of the spring's missing hour
    padding = [
        HistoryRow(moment, queue, 0.0)
        for moment in moments
        for queue in bank.queues
        if (moment, queue) not in written
    ]
    padded = files.build_history(rows + padding, "every-interval.csv")
    assert padded.present.sum() < padded.present.size / 2  # the zeros did not read as open
    np.testing.assert_array_equal(padded.present, bank.present)
    monday = datetime(2025, 10, 13)
    sparse = service.forecast(bank, monday, timedelta(days=5))
    dense = service.forecast(padded, monday, timedelta(days=5))
    assert dense.closed_days == [monday.date()]  # Columbus Day, from the zero-filled holidays
    assert dense.rows == sparse.rows


@pytest.mark.parametrize("given", [None, "US"])
def test_each_queue_follows_its_own_past_holidays(given: str | None) -> None:
    """retail closed on every US holiday while cards ran as on any day: without a
    calendar one is inferred from retail's closed days; Columbus Day ahead is 0 for retail
    and an ordinary day for cards (retail was forecast open, or cards cut to the center's
    ratio, before)."""
    history = _center(days=222, holidays=None)  # 2025-03-03 .. 2025-10-10
    retail, cards = history.queues.index("retail"), history.queues.index("cards")
    calendar = HolidayCalendar("US")
    contacts = history.contacts.copy()
    for d in range(history.days):
        if calendar.is_holiday(history.date_of(d)):
            contacts[retail, d] = 0.0
    monday = datetime(2025, 10, 13)  # Columbus Day
    result = service.forecast(
        replace(history, contacts=contacts),
        monday,
        timedelta(days=5),
        holidays=None if given is None else HolidayCalendar(given),
    )
    totals = np.zeros((2, 5))
    for row in result.rows:
        totals[history.queues.index(row.queue), row.interval_start.day - 13] += row.contacts
    assert totals[retail, 0] == 0
    assert totals[retail, 1:].min() > 0
    # cards on Columbus Day as on its other days of the week, about 1.1 x Tuesday's
    assert totals[cards, 0] == pytest.approx(totals[cards, 1:].mean(), rel=0.25)
    assert totals[cards, 0] > 0.9 * totals[cards, 1]
    if given is None:
        assert any(
            note.startswith("holidays: US inferred from 4 closed weekdays of queue retail")
            for note in result.notes
        )


def test_the_backtest_also_scores_baselines_that_copy_no_closed_day() -> None:
    """The judge's baselines forecast the Monday after Labor Day from its zeros (a probe:
    no planner would); the open-days ones skip it, and the two agree without closures."""
    from forecasting import backtest

    labor_day = backtest.run(_center(days=208), weeks=3).summary()  # .. 2025-09-26
    assert labor_day["wape_seasonal_naive_open_days"] < 0.8 * labor_day["wape_seasonal_naive"]
    assert labor_day["ratio_to_best_open_days_baseline"] > labor_day["ratio_to_best_baseline"]
    plain = backtest.run(_center(holidays=None, days=208), weeks=3).summary()
    assert plain["wape_seasonal_naive_open_days"] == plain["wape_seasonal_naive"]
    assert plain["wape_four_week_mean_open_days"] == plain["wape_four_week_mean"]


def test_a_day_after_a_closure_forecast_ordinary_says_what_the_past_ones_did() -> None:
    """Two days after closures, too few or too spread to tell from an ordinary day, give
    no uplift; a planner saw a Tuesday after Labor Day forecast as any Tuesday without a
    word (a probe). The note says so, and what those days did."""
    closed = {date(2025, 5, 26), date(2025, 6, 19)}  # Memorial Day, Juneteenth
    rows = [r for r in _rows(holidays=None, days=120) if r.interval_start.date() not in closed]
    history = files.build_history(rows, "history.csv")  # 2025-03-03 .. 2025-06-30
    result = service.forecast(history, datetime(2025, 7, 1), timedelta(days=7))
    assert date(2025, 7, 4) in result.closed_days
    [note] = [n for n in result.notes if n.startswith("2025-07-07, the day after")]
    assert note.startswith(
        "2025-07-07, the day after Independence Day: forecast as an ordinary day (the 2 days "
        "after past closures ran "
    ), note


NEW_YORK = ZoneInfo("America/New_York")


def _lull_rows(seed: int) -> list[HistoryRow]:
    """A bank's weekdays (2025-03-03 .. 2025-08-29, 30 minutes) closed on US holidays, its
    level 20 % down from a week before each of its holidays to ten days after (a summer
    lull), the first open day after each closure +25 %, no eve effect."""
    us = HolidayCalendar("US")
    rng = np.random.default_rng(seed)
    hours = np.arange(7, 21, 0.5)
    shape = np.exp(-(((hours - 11) / 3.5) ** 2)) + 0.3
    shape /= shape.sum()
    holidays = [date(2025, 5, 26), date(2025, 6, 19), date(2025, 7, 4)]
    rows, day, after = [], date(2025, 3, 3), False
    while day < date(2025, 9, 1):
        if day.weekday() < 5 and us.is_holiday(day):
            after = True
        elif day.weekday() < 5:
            lull = any(-7 <= (day - h).days <= 10 for h in holidays)
            total = 3000 * (1.1, 1.0, 1.0, 0.95, 0.9)[day.weekday()] * (0.8 if lull else 1.0)
            counts = rng.poisson(total * (1.25 if after else 1.0) * shape)
            after = False
            opens = datetime(day.year, day.month, day.day, 7, tzinfo=NEW_YORK)
            rows += [
                HistoryRow(opens + timedelta(minutes=30 * k), "retail", float(c))
                for k, c in enumerate(counts)
            ]
        day += timedelta(days=1)
    return rows


@pytest.mark.parametrize("seed", [1, 2])
def test_the_day_after_a_closure_is_measured_against_the_level_around_it(seed: int) -> None:
    """Past days after closures fell in a lull: against the same weekday a month either
    side they looked ordinary (+12 %), though each ran +25 % over the days around it (a
    probe's bank, its level wandering, lost a +25 % day after so). The day after Labor Day
    gets that uplift, shrunk by 3/4, and the note says how much and on what."""
    history = files.build_history(_lull_rows(seed), "history.csv")
    result = service.forecast(history, datetime(2025, 9, 1), timedelta(days=5))
    assert result.closed_days == [date(2025, 9, 1)]
    days = _days(result)
    assert days[date(2025, 9, 2)] / days[date(2025, 9, 3)] > 1.16
    [note] = [n for n in result.notes if "the day after" in n]
    said = re.fullmatch(
        r"2025-09-02, the day after Labor Day: (1\.\d\d) of an ordinary day \(the 3 days after "
        r"past closures ran \+(\d+)% on average; an event with a factor sets it\)",
        note,
    )
    assert said is not None and float(said[1]) > 1.15 and int(said[2]) >= 20, note
    assert not [n for n in result.notes if "the eve of" in n]  # the lull is no eve effect


def test_a_closed_holiday_before_the_start_is_not_told_of(bank: History) -> None:
    """History ends on Friday 2025-10-10; a forecast of the week after Columbus Day also
    forecasts that Monday (history to the start) but neither writes nor names it."""
    result = service.forecast(bank, datetime(2025, 10, 14), timedelta(days=4))
    assert result.closed_days == [] and result.closed_why == {}
    assert not [n for n in result.notes if "2025-10-13" in n], result.notes
