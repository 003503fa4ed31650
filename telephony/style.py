"""The IVR's style for a caller, from i18n's locale profiles (config/locales.toml).

`profile_for(region, language)` picks the (region, language) row, else the region's or
the language's, else the defaults; its formality chooses the greeting, its verbosity the
fuller or the shorter menus, and babel says numbers and times in its locale.
"""

from __future__ import annotations

import functools
from datetime import datetime

from babel.dates import format_time
from babel.numbers import format_decimal

from i18n.locale import profile_for
from i18n.model import Verbosity
from telephony.ivr import IvrStyle


@functools.lru_cache(maxsize=256)
def locale_style(region: str, language: str) -> IvrStyle:
    profile = profile_for(region, language)
    return IvrStyle(
        greeting=profile.greeting_key,
        verbose=profile.verbosity is Verbosity.FULL,
        number=lambda value: _spoken_number(value, profile.locale),
        clock=lambda moment: _spoken_time(_local_time(moment, profile.locale)),
    )


def _local_time(moment: datetime, locale: str) -> str:
    """A time of the center's own clock (the opening hours' zone, which `moment` carries),
    written as the caller's locale writes times: "8:00 AM", "08:00"."""
    return format_time(moment, format="short", tzinfo=moment.tzinfo, locale=locale)


def _spoken_number(value: int, locale: str) -> str:
    """A number as the locale writes it, never grouped: espeak-ng reads fr's "1 234"
    (U+202F) and ru/pl/pt's "1 234" (U+00A0) as two numbers, "one, two hundred ..."."""
    return format_decimal(value, locale=locale, group_separator=False)


def _spoken_time(text: str) -> str:
    # babel separates "8:00" and "AM" with a narrow no-break space, which espeak-ng skips.
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def no_style(region: str, language: str) -> IvrStyle:
    """Plain menus (formal greeting, options only, digits as digits): no locale profiles."""
    return IvrStyle()
