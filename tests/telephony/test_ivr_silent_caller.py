"""A caller who presses nothing (IVR probe 3, finding 3): the language menu moves on to
the guessed language after one silent round (a caller who sends no key at all likely
cannot: 3 rounds of a 12-language menu were 1.5 minutes of waiting); wrong keys still
get `max_tries`, and so does the reason menu."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from telephony.ivr import IvrSession
from telephony.model import Hangup, Hours, Play, Route

from .conftest import flow

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
NIGHT = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)


def keys(actions: list[Any]) -> list[str]:
    return [p.key for a in actions if isinstance(a, Play) for p in a.prompts]


def test_one_silent_round_of_the_language_menu_then_the_reasons_in_the_guess() -> None:
    ivr = IvrSession(flow(languages=("en", "fr", "de"), max_tries=3), ["de"], NOON)
    ivr.start()
    moved_on = ivr.timeout()
    assert (ivr.step, ivr.language) == ("reason", "de")
    assert keys(moved_on)[0] == "ivr.no_input"  # why the menu changed
    assert "ivr.language_option" not in keys(moved_on)
    assert keys(moved_on)[1:] == ["ivr.reason_option"] * 3
    # The reason menu keeps its tries: 3 silent rounds, then the default queue.
    assert keys(ivr.timeout())[0] == "ivr.no_input"
    assert keys(ivr.timeout())[0] == "ivr.no_input"
    (route,) = ivr.timeout()
    assert isinstance(route, Route) and route.defaulted and route.language == "de"


def test_a_caller_who_pressed_a_key_gets_the_language_menu_again() -> None:
    ivr = IvrSession(flow(languages=("en", "fr", "de"), max_tries=3), [], NOON)
    ivr.start()
    assert keys(ivr.digit("7"))[0] == "ivr.invalid"  # keys reach us: no reason to hurry
    again = ivr.timeout()
    assert ivr.step == "language" and keys(again)[0] == "ivr.no_input"
    assert "ivr.language_option" in keys(again)
    ivr.timeout()  # the third try
    assert ivr.step == "reason"


def test_wrong_keys_still_get_max_tries() -> None:
    ivr = IvrSession(flow(languages=("en", "fr"), max_tries=3), [], NOON)
    ivr.start()
    for _ in range(2):
        assert keys(ivr.digit("7"))[0] == "ivr.invalid" and ivr.step == "language"
    ivr.digit("7")
    assert ivr.step == "reason"


def test_a_silent_caller_to_a_closed_centre_hears_when_it_opens() -> None:
    office = Hours(timezone="UTC", open="08:00", close="20:00")
    ivr = IvrSession(flow(hours=office, max_tries=1), [], NIGHT)
    ivr.start()
    moved_on = ivr.timeout()
    assert keys(moved_on) == ["ivr.no_input", "ivr.closed", "ivr.opens_at", "ivr.reason_option"]
    assert ivr.timeout()[-1] == Hangup("closed")
