"""Reading a rules TOML file into `Rules`, reporting every fault at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any, TypeVar

from scheduler.model import BREAK_ACTIVITIES, AgentWishes, BreakRule, QueueRule, Rules, Weights
from scheduler.names import EXPECTED_LANGUAGE, language_hint
from scheduler.units import parse_clock, parse_duration
from switchboard.common.configfile import ConfigReader
from switchboard.common.errors import ConfigError
from switchboard.common.languages import known_to_babel, primary

T = TypeVar("T")
_DEFAULT = Rules()


def _parsed(reader: ConfigReader, name: str, default: T, parse: Callable[[str], T], what: str) -> T:
    text = reader.string(name, None)
    if text is None:
        return default
    try:
        return parse(text)
    except ValueError:
        reader.fault(name, what, text)
        return default


def _duration(reader: ConfigReader, name: str, default: timedelta) -> timedelta:
    return _parsed(reader, name, default, parse_duration, "a duration like 8h or 30m")


def _clock(reader: ConfigReader, name: str, default: time) -> time:
    return _parsed(reader, name, default, parse_clock, "a local time HH:MM")


def _dates(reader: ConfigReader, name: str) -> frozenset[date]:
    result = set()
    for text in reader.strings(name, []) or []:
        try:
            result.add(date.fromisoformat(text))
        except ValueError:
            reader.fault(name, "a list of dates YYYY-MM-DD", text)
    return frozenset(result)


def _start_window(section: ConfigReader, earliest: time, latest: time) -> None:
    """Start times lie within one local day (a shift may end past midnight, never start
    past it): a window that ends before it begins allows none, and is refused here rather
    than as every agent's "no shift fits" before the solve."""
    if latest < earliest:
        section.fault(
            "latest_start",
            f"a local time at or after earliest_start {earliest:%H:%M} (start times lie "
            "within one local day; a shift may run past midnight, so night shifts start "
            'in a window like earliest_start "20:00", latest_start "23:45")',
            f"{latest:%H:%M}",
        )


def _shifts(section: ConfigReader) -> dict[str, Any]:
    lengths = []
    for text in section.strings("lengths", ["8h"]) or ["8h"]:
        try:
            lengths.append(parse_duration(text))
        except ValueError:
            section.fault("lengths", "a list of durations like 8h", text)
    earliest = _clock(section, "earliest_start", _DEFAULT.earliest_start)
    latest = _clock(section, "latest_start", _DEFAULT.latest_start)
    _start_window(section, earliest, latest)
    return {
        "shift_lengths": tuple(sorted(set(lengths), reverse=True)) or _DEFAULT.shift_lengths,
        "start_granularity": _duration(section, "start_granularity", _DEFAULT.start_granularity),
        "earliest_start": earliest,
        "latest_start": latest,
        "min_rest": _duration(section, "min_rest", _DEFAULT.min_rest),
        "max_consecutive_days": section.integer(
            "max_consecutive_days", _DEFAULT.max_consecutive_days, minimum=1
        ),
        "days_off_per_week": section.integer(
            "days_off_per_week", _DEFAULT.days_off_per_week, minimum=0
        ),
        "min_hours_per_week": section.number(
            "min_hours_per_week", _DEFAULT.min_hours_per_week, minimum=0
        ),
        "max_hours_per_week": section.number(
            "max_hours_per_week", _DEFAULT.max_hours_per_week, minimum=0
        ),
        "night_start": _clock(section, "night_start", _DEFAULT.night_start),
        "night_end": _clock(section, "night_end", _DEFAULT.night_end),
        "early_before": _clock(section, "early_before", _DEFAULT.early_before),
        "late_from": _clock(section, "late_from", _DEFAULT.late_from),
    }


def _break(section: ConfigReader) -> BreakRule:
    activity = section.string("activity", "break", choices=BREAK_ACTIVITIES)
    return BreakRule(
        activity=activity or "break",
        length=_duration(section, "length", timedelta(minutes=30)),
        earliest_after_start=_duration(section, "earliest_after_start", timedelta(hours=2)),
        latest_after_start=_duration(section, "latest_after_start", timedelta(hours=4)),
        min_shift=_duration(section, "min_shift", timedelta(0)),
        paid=section.boolean("paid", True),
    )


def _wishes(section: ConfigReader) -> AgentWishes:
    available_from = (
        _clock(section, "available_from", time(0)) if section.has("available_from") else None
    )
    available_until = (
        _clock(section, "available_until", time(0)) if section.has("available_until") else None
    )
    return AgentWishes(
        available_from=available_from,
        available_until=available_until,
        unavailable=_dates(section, "unavailable"),
        requested_days_off=_dates(section, "requested_days_off"),
        prefer=section.string("prefer", None, choices=("early", "late")),
    )


def load_rules(path: Path) -> Rules:
    """Parse and validate a rules file; raises ConfigError listing every fault."""
    root = ConfigReader.open(path)
    values = _shifts(root.section("shifts"))
    breaks = tuple(_break(section) for section in root.sections("breaks"))
    queues = {}
    queue_tables = root.section("queues")
    for name in queue_tables.table:
        section = queue_tables.section(name)
        tag = section.string("language", None)
        if tag is not None and not known_to_babel(tag):
            section.fault("language", EXPECTED_LANGUAGE + language_hint(tag), tag)
        queues[name] = QueueRule(
            name=name,
            skill=section.string("skill", name),
            language=_language(tag),
            priority=section.integer("priority", 1, minimum=1),
        )
    agent_tables = root.section("agents")
    agents = {name: _wishes(agent_tables.section(name)) for name in agent_tables.table}
    costs = root.section("cost_per_hour")
    cost_per_hour = {name: costs.number(name, 1.0, minimum=0) for name in costs.table}
    weights_section = root.section("weights")
    defaults = Weights()
    weights = Weights(
        **{
            name: weights_section.integer(name, getattr(defaults, name), minimum=0)
            for name in ("under", "over", "fairness", "requested_day_off", "preference", "cost")
        }
    )
    max_on_break = root.section("shifts").integer("max_on_break", None, minimum=1)
    root.check_unknown_keys()  # a misspelled rule (`undr`) is a fault, not a silent default
    root.faults.raise_if_any()
    return Rules(
        **values,
        breaks=breaks,
        max_on_break=max_on_break,
        queues=queues,
        agents=agents,
        cost_per_hour=cost_per_hour,
        weights=weights,
    )


def check_grid(rules: Rules, interval: timedelta, source: str) -> None:
    """Every length in the rules must be a whole number of intervals; ConfigError otherwise."""
    faults = []
    checks: list[tuple[str, timedelta]] = [("shifts.lengths", x) for x in rules.shift_lengths]
    checks.append(("shifts.start_granularity", rules.start_granularity))
    for index, rule in enumerate(rules.breaks):
        checks.append((f"breaks[{index}].length", rule.length))
        checks.append((f"breaks[{index}].earliest_after_start", rule.earliest_after_start))
        checks.append((f"breaks[{index}].latest_after_start", rule.latest_after_start))
    for key, value in checks:
        if value <= timedelta(0) and not key.endswith("after_start"):
            faults.append(f"{source}: {key}: expected a positive duration, found {value}")
        elif value % interval:
            faults.append(
                f"{source}: {key}: expected a multiple of the {interval} interval, found {value}"
            )
    if faults:
        raise ConfigError("\n".join(faults))


def _language(tag: str | None) -> str | None:
    """A queue's language by its subtag, as agents' are matched (`de-CH` is `de`)."""
    return primary(tag) if tag else None
