"""Forecast use cases: open intervals, widths, intraday update, events, peaks."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pytest

from forecasting import files, service, synthetic
from forecasting.model import Event, History
from switchboard.common.errors import InputError


@pytest.fixture
def history(center: synthetic.Synthetic) -> History:
    return files.build_history(center.rows, "history.csv")


def test_forecast_covers_open_intervals_of_the_horizon(history: History) -> None:
    start = history.end.replace(hour=0, minute=0) + timedelta(days=1)
    result = service.forecast(history, start, timedelta(days=7))
    times = {row.interval_start for row in result.rows}
    assert min(times) >= start
    assert max(times) < start + timedelta(days=7)
    assert all(7 <= t.hour < 22 for t in times)  # the generator's opening hours
    assert 400 <= len(result.rows) <= 7 * 30 * 2  # at most 30 open half-hours, two queues
    assert all(r.low <= r.contacts <= r.high + 1 for r in result.rows)
    assert all(r.aht_s > 0 for r in result.rows)


def test_coarser_interval_sums_the_finer_one(history: History) -> None:
    start = history.end.replace(hour=0, minute=0) + timedelta(days=1)
    half = service.forecast(history, start, timedelta(days=1))
    hour = service.forecast(history, start, timedelta(days=1), width_min=60)
    assert hour.width_min == 60
    total_half = sum(r.contacts for r in half.rows)
    total_hour = sum(r.contacts for r in hour.rows)
    assert abs(total_half - total_hour) / total_half < 0.05


def test_finer_interval_than_history_is_refused(history: History) -> None:
    with pytest.raises(InputError, match="--interval 15m: expected a multiple"):
        service.forecast(history, history.end, timedelta(days=1), width_min=15)


def test_start_off_the_grid_is_refused(history: History) -> None:
    with pytest.raises(InputError, match="--start: expected a time on the 30-minute grid"):
        service.forecast(history, history.end + timedelta(minutes=10), timedelta(hours=6))


def test_too_short_history_is_refused(history: History) -> None:
    short = history.cut(history.day_start(5))
    with pytest.raises(InputError, match="at least 7 days"):
        service.forecast(short, short.end, timedelta(days=1))


def test_a_start_inside_history_forecasts_as_of_that_start(history: History) -> None:
    """Rows at or after --start are what is forecast, never what the forecast learns from:
    the result is the one the history cut at --start gives, and it says so."""
    for start in (history.day_start(42), history.day_start(44) + timedelta(hours=11)):
        whole = service.forecast(history, start, timedelta(days=2))
        known = service.forecast(history.cut(start), start, timedelta(days=2))
        assert [r.contacts for r in whole.rows] == [r.contacts for r in known.rows]
        assert whole.rows and start <= whole.rows[0].interval_start < start + timedelta(hours=8)
        assert any(f"history after {start} not used" in note for note in whole.notes)
        assert not any("not used" in note for note in known.notes)
    with pytest.raises(InputError, match=r"--start: .* at or before the history's first day"):
        service.forecast(history, history.first_day, timedelta(days=1))


def test_intraday_update_follows_todays_actuals(history: History) -> None:
    day = 50
    busy = replace(history, contacts=history.contacts.copy())
    busy.contacts[:, day] *= 1.5  # today runs half again above normal
    noon = history.day_start(day) + timedelta(hours=12)
    weekly = service.project(history.cut(history.day_start(day)), day)
    usual = service.project(history.cut(noon), day)
    today = service.project(busy.cut(noon), day)
    assert today.first == weekly.first == usual.first == day
    assert np.all(weekly.day_factor == 1.0)
    assert np.all(today.day_factor > 1.08 * usual.day_factor)
    # the next two hours follow the busy morning most (the gains are learned per lead)
    soon = slice(24, 28)
    assert np.all(today.mean[:, 0, soon].sum(axis=1) > 1.1 * usual.mean[:, 0, soon].sum(axis=1))
    afternoon = slice(26, 44)
    # the update comes with narrower uncertainty about the day than a week ahead
    assert np.all(today.phi[:, 0, afternoon] <= weekly.phi[:, 0, afternoon])


def test_event_uplift_is_estimated_from_past_events(history: History) -> None:
    stormy = replace(history, contacts=history.contacts.copy())
    events = []
    for day in (20, 34):
        start = history.day_start(day) + timedelta(hours=9)
        stormy.contacts[1, day, 18:26] *= 2.0  # booking doubles 09:00-13:00
        events.append(Event(start, start + timedelta(hours=4), "storm", queue="booking"))
    future_day = stormy.days + 1
    future = history.day_start(future_day) + timedelta(hours=9)
    events.append(Event(future, future + timedelta(hours=4), "storm", queue="booking", row=4))
    start = history.day_start(future_day)
    plain = service.forecast(stormy, start, timedelta(days=1))
    result = service.forecast(stormy, start, timedelta(days=1), events=events)
    assert 1.6 < result.uplift["storm"] < 2.4
    ratio = _sum(result, "booking", 9, 13) / _sum(plain, "booking", 9, 13)
    assert ratio == pytest.approx(result.uplift["storm"], rel=0.1)
    assert _sum(result, "baggage", 9, 13) == pytest.approx(_sum(plain, "baggage", 9, 13), rel=0.05)
    assert _sum(result, "booking", 14, 20) == pytest.approx(
        _sum(plain, "booking", 14, 20), rel=0.05
    )


def test_new_event_kind_uses_the_planners_factor(history: History) -> None:
    day = history.days + 1
    start = history.day_start(day) + timedelta(hours=10)
    event = Event(start, start + timedelta(hours=2), "cancellations", factor=3.0, row=2)
    plain = service.forecast(history, history.day_start(day), timedelta(days=1))
    result = service.forecast(history, history.day_start(day), timedelta(days=1), events=[event])
    assert result.uplift == {"cancellations": 3.0}
    assert _sum(result, "booking", 10, 12) == pytest.approx(3 * _sum(plain, "booking", 10, 12))


def test_new_event_kind_without_factor_is_an_input_error(history: History) -> None:
    start = history.day_start(history.days + 1) + timedelta(hours=10)
    event = Event(start, start + timedelta(hours=2), "strike", row=3)
    with pytest.raises(InputError, match=r"events.csv: row 3: field factor: no past 'strike'"):
        service.forecast(
            history,
            history.day_start(history.days + 1),
            timedelta(days=1),
            events=[event],
            events_path="events.csv",
        )


def test_another_regions_events_are_ignored(history: History) -> None:
    """A forecast for region us: Europe's closed day, its strike (a kind never seen, no
    factor) and its campaign change nothing and are not reported as applied."""
    day = history.days + 1
    start = history.day_start(day)
    europe = [
        Event(start, start + timedelta(days=1), "closed", region="eu", row=2),
        Event(start + timedelta(hours=10), start + timedelta(hours=12), "strike", "eu", row=3),
        Event(start, start + timedelta(hours=12), "mail", region="eu", factor=1.5, row=4),
    ]
    plain = service.forecast(history, start, timedelta(days=1), region="us")
    result = service.forecast(history, start, timedelta(days=1), events=europe, region="us")
    assert result.uplift == {}
    assert [(r.interval_start, r.contacts) for r in result.rows] == [
        (r.interval_start, r.contacts) for r in plain.rows
    ]
    ours = [replace(event, region="us") for event in europe[:1]]
    closed = service.forecast(history, start, timedelta(days=1), events=ours, region="us")
    assert closed.rows == [] and closed.uplift == {"closed": 0.0}


def test_peaks_above_a_capacity_carry_their_lead_time(history: History) -> None:
    start = history.end.replace(hour=0, minute=0) + timedelta(days=1)
    result = service.forecast(history, start, timedelta(days=2), peak_threshold=40.0)
    assert result.peaks
    for peak in result.peaks:
        assert peak.queue == "booking"  # baggage never nears 40 per half-hour
        assert peak.lead == peak.interval_start - history.end
        assert peak.contacts > 25
    quiet = [r for r in result.rows if r.queue == "booking" and r.contacts < 20]
    flagged = {(p.interval_start, p.queue) for p in result.peaks}
    assert not any((r.interval_start, r.queue) in flagged for r in quiet)


def _sum(result: object, queue: str, from_h: int, to_h: int) -> float:
    rows = result.rows  # type: ignore[attr-defined]
    return sum(
        r.contacts for r in rows if r.queue == queue and from_h <= r.interval_start.hour < to_h
    )


def test_weekdays_of_the_grid(history: History) -> None:
    assert history.first_day == datetime(2025, 1, 6)  # a Monday
    assert list(service.weekdays_of(history, 0, 8)) == [0, 1, 2, 3, 4, 5, 6, 0]


def test_complete_days_ignore_a_quiet_tail(history: History) -> None:
    # the file's last row is the last busy interval: the day counts as complete
    assert service.complete_days(history) == history.days
    noon = history.cut(history.day_start(40) + timedelta(hours=12))
    assert service.complete_days(noon) == 40


def test_five_minute_history_aggregates_to_fifteen() -> None:
    fine = synthetic.generate(days=14, width_min=5, seed=3)
    history = files.build_history(fine.rows, "fine.csv")
    coarse = service.aggregate(history, 15)
    assert coarse.width_min == 15
    assert coarse.contacts.shape[2] == 96
    assert coarse.contacts.sum() == history.contacts.sum()
    assert np.array_equal(coarse.contacts[:, :, 40], history.contacts[:, :, 120:123].sum(axis=2))
    with pytest.raises(InputError, match="--interval 25m"):
        service.aggregate(history, 25)  # not a divisor of a day


def test_queues_spelled_alike_but_for_case_are_named(center: synthetic.Synthetic) -> None:
    """A row of ` Retail ` in an export of `retail` made a queue of its own, forecast 0
    everywhere, without a word."""
    first = center.rows[0]
    history = files.build_history([*center.rows, replace(first, queue=first.queue.upper())], "h")
    start = history.end.replace(hour=0, minute=0) + timedelta(days=1)
    result = service.forecast(history, start, timedelta(days=1))
    named = [note for note in result.notes if "differ only in case" in note]
    assert len(named) == 1
    assert repr(first.queue) in named[0] and repr(first.queue.upper()) in named[0]
