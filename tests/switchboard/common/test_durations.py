"""The one grammar of durations every flag, file and configuration key speaks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from switchboard.common.durations import (
    duration_arg,
    duration_s,
    format_duration,
    parse_duration,
)
from switchboard.common.errors import InputError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("20s", 20),
        ("30m", 1800),
        ("30min", 1800),
        ("1h30m", 5400),
        ("1.5h", 5400),
        ("7d", 604_800),
        ("1w", 604_800),
        ("PT15M", 900),
        ("P1DT2H", 93_600),
        ("0s", 0),
    ],
)
def test_the_grammar(text: str, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["15", "soon", "30m1h", "1h1h", "", "PT", "P", "-5m"])
def test_what_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="expected a duration like"):
        parse_duration(text)


def test_a_bare_number_asks_for_a_unit() -> None:
    """Once read as seconds by one command and minutes by another: now neither."""
    with pytest.raises(ValueError, match=r"add a unit: 15m, 20s"):
        parse_duration("15")


def test_flags_name_themselves_and_refuse_zero() -> None:
    assert duration_s("30m", "--interval") == 1800
    with pytest.raises(InputError, match=r"^--interval: expected a duration above zero"):
        duration_arg("0s", "--interval")
    with pytest.raises(InputError, match=r"^--horizon: expected a duration like"):
        duration_arg("soon", "--horizon")


@pytest.mark.parametrize("text", ["20s", "30m", "1h30m", "2d", "1w", "1d2h"])
def test_formatting_round_trips(text: str) -> None:
    assert format_duration(parse_duration(text)) == text
