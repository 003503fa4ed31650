"""The IVR's style for a caller, from i18n's locale profiles (config/locales.toml).

`profile_for(region, language)` picks the (region, language) row, else the region's or
the language's, else the defaults; its formality chooses the greeting, its verbosity the
fuller or the shorter menus, and babel says numbers and times in its locale.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from babel import Locale
from babel.dates import format_datetime, tokenize_pattern
from babel.numbers import format_decimal
from babel.units import format_unit

from i18n.locale import language_locale, profile_for
from i18n.model import Verbosity
from switchboard.common.languages import primary
from telephony.ivr import IvrStyle

# How a spoken time reads its minutes where the language counts them with a word of its
# own ("8時30分", "8点30分", "8시 30분"); elsewhere they follow the hour's word as a number
# ("8 Uhr 5", "8 heures 30"), or the bare hour as two digits ("8 05 in the evening": a
# clock's minutes, not a second number).
_MINUTE_WORDS: dict[str, str] = {"zh": "{}分", "yue": "{}分", "ko": " {}분"}
# CLDR's written words the voice should be given in their spoken form: an hour is 点/點
# in spoken Mandarin and Cantonese (时/時 is written style), and espeak-ng's Japanese
# voice reads no kanji ("Chinese letter", in English): kana.
_SAID: dict[str, tuple[tuple[str, str], ...]] = {
    "zh": (("时", "点"),),
    "yue": (("時", "點"),),
    "ja": (("時", "じ"),),
}
# Korean says the hour of a clock in its native numbers (여덟 시, "eight o'clock"), the
# minutes in Sino-Korean (삼십 분); espeak-ng reads "8시" as 팔 시. Index: hour % 12.
_KOREAN_HOURS = (
    "열두", "한", "두", "세", "네", "다섯",
    "여섯", "일곱", "여덟", "아홉", "열", "열한",
)  # fmt: skip
Token = tuple[str, Any]  # babel's pattern token: ("field", ("H", 2)) or ("chars", " Uhr")
_SPACES = str.maketrans({"\u202f": " ", "\u00a0": " ", "\u200e": None, "\u200f": None})


@functools.lru_cache(maxsize=256)
def locale_style(region: str, language: str) -> IvrStyle:
    profile = profile_for(region, language)
    return IvrStyle(
        greeting=profile.greeting_key,
        verbose=profile.verbosity is Verbosity.FULL,
        number=lambda value: _spoken_number(value, profile.locale),
        clock=lambda moment: spoken_time(moment, profile.locale),
    )


def _spoken_number(value: int, locale: str) -> str:
    """A number as the locale writes it, never grouped: espeak-ng reads fr's "1 234"
    (U+202F) and ru/pl/pt's "1 234" (U+00A0) as two numbers, "one, two hundred ..."."""
    return format_decimal(value, locale=locale, group_separator=False)


def spoken_time(moment: datetime, locale: str) -> str:
    """A time of the center's own clock (the zone `moment` carries) as the caller's locale
    says it, for the speech engine: "8 in the morning", "8 Uhr", "8 heures", "8じ",
    "8点", "오전 여덟 시", "सुबह 8"; with minutes "8 30 in the morning", "8 Uhr 30",
    "8点30分".

    The written short time ("8:00 AM", "08:00", "AM 8:00") is no text to speak: espeak-ng
    reads it digit by digit ("eight zero zero A M"; Korean callers heard English letters).
    A locale that writes 24-hour times and names the hour (CLDR's hour-alone pattern: de
    "HH 'Uhr'", fr "HH 'h'", ja "H時", zh "H时", vi "HH 'giờ'") says that; any other
    says the 12-hour hour with its part of the day (CLDR's "Bh": "8 de la mañana",
    "8 утра", "sabah 8", "8 صباحًا"), as a time written "08:00" is said aloud there.
    """
    loc = Locale.parse(locale)
    language = primary(str(loc))
    tokens = _hour_pattern(loc)
    parts: list[str] = []
    index = 0
    while index < len(tokens):
        kind, value = tokens[index]
        index += 1
        if kind == "chars":
            parts.append(value)
        elif value[0] in "aBb":
            parts.append(_part_of_day(moment, value[0], loc))
        elif value[0] not in "hHkK":
            parts.append(format_datetime(moment, value[0], locale=loc))
        else:
            word = ""
            if index < len(tokens) and tokens[index][0] == "chars" and tokens[index][1].strip():
                word, index = tokens[index][1], index + 1  # "Uhr", " h", "時": the hour's
            parts.append(_hour(moment, value[0], word, loc, language))
            if moment.minute:
                parts.append(_minutes(moment.minute, language, after_word=bool(word)))
    text = " ".join("".join(parts).translate(_SPACES).split())
    for written, said in _SAID.get(language, ()):
        text = text.replace(written, said)
    return text


def _hour_pattern(loc: Locale) -> list[Token]:
    """The pattern of an hour alone: the locale's 24-hour one when it names the hour
    (a word besides the number), else the 12-hour one with the part of the day."""
    hour_alone = _merged(tokenize_pattern(loc.datetime_skeletons["H"].pattern))
    if not _twelve_hour(loc) and any(k == "chars" and v.strip() for k, v in hour_alone):
        return hour_alone
    return _merged(tokenize_pattern(loc.datetime_skeletons["Bh"].pattern))


def _merged(tokens: list[Token]) -> list[Token]:
    """babel's pattern tokens with neighbouring literal text joined ("HH 'h'" is the
    field and the literal " h")."""
    merged: list[Token] = []
    for kind, value in tokens:
        if kind == "chars" and merged and merged[-1][0] == "chars":
            merged[-1] = ("chars", merged[-1][1] + value)
        else:
            merged.append((kind, value))
    return merged


def _twelve_hour(loc: Locale) -> bool:
    """Whether the locale writes times on a 12-hour clock ("h:mm a"), by its short time."""
    tokens = tokenize_pattern(loc.time_formats["short"].pattern)
    return any(kind == "field" and value[0] in "hK" for kind, value in tokens)


def _part_of_day(moment: datetime, letter: str, loc: Locale) -> str:
    """The part of the day in its fuller CLDR name, the longer of the abbreviated and the
    wide one: pt's wide is "manhã" where "8 da manhã" is said, pl's and tr's wide names
    are abbreviations ("wiecz.", "ö"), fr's and ar's abbreviated ones ("matin", "ص")."""
    names = (format_datetime(moment, letter * width, locale=loc) for width in (1, 4))
    return max(names, key=len)


def _hour(moment: datetime, letter: str, word: str, loc: Locale, language: str) -> str:
    """The hour without a leading zero, with its word. An abbreviation of the hour unit
    (fr "8 h", which espeak-ng spells as the letter) is said as the unit's long name,
    "8 heures", "1 heure" (babel's units, plural and all)."""
    if language == "ko" and letter == "h":
        return f"{_KOREAN_HOURS[moment.hour % 12]} {word}"
    number = format_datetime(moment, letter, locale=loc)
    if not word:
        return number
    value = int(number) if number.isdigit() else moment.hour
    short = format_unit(value, "duration-hour", length="short", locale=loc)
    if (number + word).translate(_SPACES) == short.translate(_SPACES):
        long = format_unit(value, "duration-hour", length="long", locale=loc)
        if "duration-hour" not in long:  # babel's stand-in for a name CLDR lacks
            return long
    return number + word


def _minutes(minute: int, language: str, after_word: bool) -> str:
    """The minutes after the hour: with the language's minute word where it has one,
    after the hour's word as a number, after a bare hour as a clock's two digits."""
    if language == "ja":  # 1, 3, 4, 6, 8 and 0 take ぷん (さんじゅっぷん), the others ふん
        return f"{minute}{'ぷん' if minute % 10 in (0, 1, 3, 4, 6, 8) else 'ふん'}"
    if language in _MINUTE_WORDS:
        return _MINUTE_WORDS[language].format(minute)
    return f" {minute}" if after_word else f" {minute:02d}"


def no_style(region: str, language: str) -> IvrStyle:
    """Plain menus (formal greeting, options only, digits as digits): no locale profiles;
    a time is still said as the language says it (never "zero zero")."""
    return IvrStyle(clock=lambda moment: spoken_time(moment, language_locale(language)))
