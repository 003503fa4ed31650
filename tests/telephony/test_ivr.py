"""The IVR state machine alone: menus, retries, default route, hours, emergency."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial

import pytest

from telephony.ivr import IvrSession, IvrStyle, flow_for
from telephony.model import Hangup, Hours, Play, Prompt, Route, WaitDigit
from telephony.style import locale_style

from .conftest import flow

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
NIGHT = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
OFFICE = Hours(timezone="Europe/Paris", open="08:00", close="20:00")


def keys(actions: Sequence[object]) -> list[str]:
    return [p.key for a in actions if isinstance(a, Play) for p in a.prompts]


def test_greeting_in_the_guessed_language_then_language_menu_in_each_language() -> None:
    session = IvrSession(flow(), ["fr", "en"], NOON)
    actions = session.start()
    play = actions[0]
    assert isinstance(play, Play) and play.collect
    assert [(p.key, p.language) for p in play.prompts] == [
        ("welcome", "fr"),
        ("ivr.language_option", "en"),
        ("ivr.language_option", "fr"),
    ]
    assert isinstance(actions[1], WaitDigit)


def test_language_then_reason_routes_to_the_reasons_queue() -> None:
    session = IvrSession(flow(), [], NOON)
    session.start()
    menu = session.digit("2")
    assert {p.language for a in menu if isinstance(a, Play) for p in a.prompts} == {"fr"}
    (route,) = session.digit("2")
    assert route == Route("baggage", "", "fr", 0, "baggage")


def test_invalid_digit_and_timeout_reprompt_then_default_route_after_max_tries() -> None:
    session = IvrSession(flow(max_tries=3), [], NOON)
    session.start()
    session.digit("1")
    first = session.digit("7")
    assert keys(first)[0] == "ivr.invalid"
    second = session.timeout()
    assert keys(second)[0] == "ivr.no_input"  # no key at all: not "invalid"
    (route,) = session.timeout()
    assert isinstance(route, Route) and route.queue == "general" and route.defaulted


def test_unanswered_language_menu_keeps_the_guessed_language() -> None:
    session = IvrSession(flow(max_tries=1), ["fr"], NOON)
    session.start()
    actions = session.timeout()
    assert session.language == "fr"
    assert "ivr.reason_option" in keys(actions)


def test_closed_center_offers_only_the_emergency_reason_and_routes_it() -> None:
    session = IvrSession(flow(hours=OFFICE, languages=("en",)), [], NIGHT)
    actions = session.start()
    assert keys(actions) == ["welcome", "ivr.closed", "ivr.opens_at", "ivr.reason_option"]
    assert session.digit("1") != [Route("booking", "", "en", 0, "booking")]
    (route,) = session.digit("9")
    assert isinstance(route, Route) and route.queue == "emergency" and route.emergency


def test_closed_center_without_emergency_says_closed_and_hangs_up() -> None:
    closed_flow = flow(hours=OFFICE, reasons=flow().reasons[:2])
    actions = IvrSession(closed_flow, [], NIGHT).start()
    assert keys(actions) == ["welcome", "ivr.closed", "ivr.opens_at"]
    assert actions[-1] == Hangup("closed")


def test_closed_and_no_digit_hangs_up_instead_of_the_default_queue() -> None:
    session = IvrSession(flow(hours=OFFICE, languages=("en",), max_tries=1), [], NIGHT)
    session.start()
    assert session.timeout()[-1] == Hangup("closed")


def test_opening_hours_use_the_regions_time_zone_and_may_cross_midnight() -> None:
    # 07:30 UTC is 08:30 in Paris (winter time).
    assert OFFICE.is_open(datetime(2026, 1, 5, 7, 30, tzinfo=UTC))
    assert not OFFICE.is_open(datetime(2026, 1, 5, 6, 30, tzinfo=UTC))
    overnight = Hours("UTC", "22:00", "06:00")
    assert overnight.is_open(NIGHT) and not overnight.is_open(NOON)
    assert Hours().is_open(NIGHT)


def test_flow_for_prefers_the_dialled_number_over_the_catch_all() -> None:
    flows = [flow(number="*"), flow(number="800", default_queue="booking")]
    dialled, catch_all = flow_for(flows, "800"), flow_for(flows, "123")
    assert dialled is not None and dialled.default_queue == "booking"
    assert catch_all is not None and catch_all.number == "*"
    assert flow_for(flows[1:], "123") is None


# -- the caller's locale profile: greeting, menus, numbers and times ------------------------

VERBOSE = IvrStyle(greeting="welcome_informal", verbose=True)


def same_style(style: IvrStyle, *_: object) -> IvrStyle:
    """A style resolver that answers `style` whatever it is asked."""
    return style


def prompts_of(actions: Sequence[object]) -> list[Prompt]:
    return [p for a in actions if isinstance(a, Play) for p in a.prompts]


def test_a_verbose_style_explains_the_menu_and_star_repeats_it_without_a_try() -> None:
    session = IvrSession(flow(languages=("es",), max_tries=1), ["es"], NOON, lambda _: VERBOSE)
    menu = session.start()
    assert keys(menu) == [
        "welcome_informal",
        "choose_reason",
        "ivr.reason_option",
        "ivr.reason_option",
        "ivr.reason_option",
        "menu_repeat_hint",
    ]
    again = session.digit("*")  # with max_tries = 1 a wrong key would route to the default
    assert keys(again) == keys(menu)[1:]
    (route,) = session.digit("2")
    assert isinstance(route, Route) and route.queue == "baggage"


def test_a_brief_style_says_the_options_alone() -> None:
    session = IvrSession(flow(languages=("de",)), ["de"], NOON, lambda _: IvrStyle())
    assert keys(session.start()) == ["welcome", *["ivr.reason_option"] * 3]


def test_the_style_follows_the_language_chosen_in_the_menu() -> None:
    styles = {"en": IvrStyle(), "fr": VERBOSE}
    session = IvrSession(flow(), ["en"], NOON, styles.__getitem__)
    assert keys(session.start())[0] == "welcome"
    assert keys(session.digit("2"))[0] == "choose_reason"  # French: the fuller menu


def test_closed_says_when_it_opens_again_in_the_callers_local_way() -> None:
    # 23:30 UTC on a Monday is 00:30 in Paris: it opens at 08:00 that morning, said as
    # words the voice reads (the written "8:00 AM", "08:00" were read digit by digit).
    assert OFFICE.next_opening(NIGHT).isoformat() == "2026-03-03T08:00:00+01:00"
    for region, language, said in (
        ("america-east", "en", "8 in the morning"),
        ("europe-west", "de", "8 Uhr"),
    ):
        style = locale_style(region, language)
        session = IvrSession(
            flow(hours=OFFICE, languages=(language,)), [], NIGHT, partial(same_style, style)
        )
        opens = next(p for p in prompts_of(session.start()) if p.key == "ivr.opens_at")
        assert dict(opens.values)["time"] == said


def test_hours_that_never_open_say_closed_and_no_opening_time() -> None:
    # An equal open and close time is never open: there is no "we open at" to say (the
    # IVR's own copy of the hours said the next day's 09:00, which never came).
    never = Hours("Europe/Paris", "09:00", "09:00")
    session = IvrSession(flow(hours=never, languages=("en",)), ["en"], NOON)
    said = keys(session.start())
    assert "ivr.closed" in said and "ivr.opens_at" not in said


@pytest.mark.parametrize(
    ("region", "language", "greeting", "verbose", "number"),
    [
        (
            "america-east",
            "es",
            "welcome_informal",
            True,
            "1234",
        ),  # config/locales.toml; spoken: never grouped
        ("europe-west", "de", "welcome", False, "1234"),
        ("asia-east", "ja", "welcome", True, "1234"),
    ],
)
def test_locale_profiles_choose_the_style(
    region: str, language: str, greeting: str, verbose: bool, number: str
) -> None:
    style = locale_style(region, language)
    assert (style.greeting, style.verbose, style.number(1234)) == (greeting, verbose, number)
