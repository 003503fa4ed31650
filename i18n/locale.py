"""Locale profiles: how a region says numbers, money, times and durations in a language.

A profile wraps babel for one (region, language) with the settings of the configuration
file (config/locales.toml): currency, time zone, greeting formality and menu verbosity.
The IVR uses the spoken forms, the agent's view of the customer the written ones.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.dates import format_datetime, format_time, format_timedelta
from babel.lists import format_list
from babel.numbers import format_currency, format_decimal, get_territory_currencies

from i18n.language import SPOKEN_BEFORE_WRITTEN
from i18n.model import Formality, LocaleSettings, Verbosity
from switchboard.common.configfile import ConfigReader
from switchboard.common.languages import canonical, primary, script_of, subtags

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config" / "locales.toml"
# CLDR's list styles a short unit list falls back through, pattern by pattern (root's
# aliases: unit-short → unit → standard). babel's `format_list` takes the first style a
# locale has at all, whole, so a locale that writes only some of unit-short's patterns
# lost the two-item one (Arabic wrote "1 س، و30 د، و30 د"; Spanish raised KeyError).
_UNIT_LIST_STYLES = ("unit-short", "unit", "standard")


def language_locale(language: str) -> str:
    """The locale of a language as given (`pt`, `de_CH`; unknown: `en`). No territory is
    guessed for a bare language: a customer's country does not follow from their language
    (an Arabic speaker is not in Egypt, CLDR's likely one), and the card shows the name."""
    try:
        parsed = Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return "en"
    return str(parsed)


@dataclass(frozen=True)
class LocaleProfile:
    """Formatting and style for one caller: babel underneath, plain strings out."""

    settings: LocaleSettings

    @property
    def language(self) -> str:
        return self.settings.language

    @property
    def locale(self) -> str:
        return self.settings.locale

    @property
    def formality(self) -> Formality:
        return self.settings.formality

    @property
    def verbosity(self) -> Verbosity:
        return self.settings.verbosity

    @property
    def greeting_key(self) -> str:
        """The prompt key of the greeting this profile asks for."""
        return "welcome" if self.formality is Formality.FORMAL else "welcome_informal"

    def format_number(self, value: float | int, decimals: int | None = None) -> str:
        """`1234.5` → `1,234.5` (en), `1.234,5` (de), `1 234,5` (fr)."""
        if decimals is None:
            return format_decimal(value, locale=self.locale)
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def format_money(self, amount: float | int, currency: str | None = None) -> str:
        """`12.5` → `€12.50` (en), `12,50 €` (de), `￥13` (ja, no minor unit)."""
        return format_currency(amount, currency or self.settings.currency, locale=self.locale)

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("format_time needs an aware datetime (with a UTC offset)")
        return moment.astimezone(ZoneInfo(self.settings.timezone))

    def format_time(self, moment: datetime, with_date: bool = False) -> str:
        """Local time of the profile's time zone: `2:30 PM` (en_US), `14:30` (de)."""
        local = self._local(moment)
        if with_date:
            return format_datetime(local, format="medium", locale=self.locale)
        return format_time(local, format="short", locale=self.locale)

    def format_duration(self, seconds: float, spoken: bool = False) -> str:
        """A wait or handle time. Written: `4 min`, `1 hr, 30 min`; spoken: `4 minutes`,
        `4 минуты`, `1 hour and 30 minutes`.

        The spoken form rounds to whole minutes (at least one), so that a caller hears
        "4 minutes", never "3 minutes 47 seconds", and "1 hour and 30 minutes" past an hour.
        The written form is seconds under a minute, else whole minutes, with the hours
        apart past an hour: babel's `format_timedelta` says one unit only, and wrote a
        90-minute wait as "2 hr".
        """
        seconds = max(0.0, float(seconds))
        if not spoken:
            return self._written_duration(seconds)
        total_minutes = max(1, round(seconds / 60))
        hours, minutes = divmod(total_minutes, 60)
        parts = [
            format_timedelta(
                timedelta(**{unit: count}), threshold=1, format="long", locale=self.locale
            )
            for unit, count in (("hours", hours), ("minutes", minutes))
            if count
        ]
        return format_list(parts, locale=self.locale)

    def _written_duration(self, seconds: float) -> str:
        """`45 sec`, `4 min`, `1 hr, 30 min` (en), `1 Std., 30 Min.` (de), `1小时30分钟`
        (zh): each unit in CLDR's short form (babel's `format_timedelta` of that unit
        alone, which falls back to the `other` plural where a locale writes no `one`, as
        `format_unit` does not: es "1 horas"), joined by the locale's short unit list."""
        if round(seconds) < 60:
            return format_timedelta(
                timedelta(seconds=seconds), granularity="second", format="short", locale=self.locale
            )
        hours, minutes = divmod(round(seconds / 60), 60)
        parts = [
            format_timedelta(
                timedelta(**{unit: count}), threshold=1, format="short", locale=self.locale
            )
            for unit, count in (("hours", hours), ("minutes", minutes))
            if count
        ]
        return _unit_list(parts, self.locale)


def _unit_list(parts: list[str], locale: str) -> str:
    """One or two measures as one (`1 hr, 30 min`, `1 h et 30 min`, `1 س و30 د`): the
    two-item pattern of CLDR's short unit list, found as CLDR inherits it."""
    if len(parts) < 2:
        return "".join(parts)
    patterns = Locale.parse(locale).list_patterns
    pattern = next(
        (found["2"] for style in _UNIT_LIST_STYLES if "2" in (found := patterns.get(style, {}))),
        "{0}, {1}",  # root's
    )
    return str(pattern).format(*parts)


def _read_config(path: Path) -> tuple[LocaleSettings, list[LocaleSettings], tuple[str, ...]]:
    """Defaults, profiles and enabled languages of a locales file; ConfigError lists faults."""
    reader = ConfigReader.open(path)
    section = reader.section("locales", required=True)
    defaults_section = section.section("defaults")
    formalities = tuple(f.value for f in Formality)
    verbosities = tuple(v.value for v in Verbosity)
    defaults = LocaleSettings(
        region="*",
        language="*",
        locale="en",
        currency=defaults_section.string("currency", "USD"),
        timezone=defaults_section.string("timezone", "UTC"),
        formality=Formality(
            defaults_section.string("formality", "formal", choices=formalities) or "formal"
        ),
        verbosity=Verbosity(
            defaults_section.string("verbosity", "full", choices=verbosities) or "full"
        ),
    )
    enabled = tuple(section.strings("enabled_languages", ["en"]) or ("en",))
    default_language = section.string("default_language", enabled[0])
    if isinstance(default_language, str) and default_language not in enabled:
        section.fault("default_language", "one of enabled_languages", default_language)
    profiles: list[LocaleSettings] = []
    for entry in section.sections("profiles"):
        language = entry.string("language")
        locale = entry.string("locale", language_locale(language or "en"))
        try:
            Locale.parse(locale)
        except (UnknownLocaleError, ValueError, TypeError):
            entry.fault("locale", "a CLDR locale like de_CH", locale)
        timezone = entry.string("timezone", defaults.timezone)
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            entry.fault("timezone", "an IANA time zone like Europe/Paris", timezone)
        formality = entry.string("formality", defaults.formality.value, choices=formalities)
        verbosity = entry.string("verbosity", defaults.verbosity.value, choices=verbosities)
        profiles.append(
            LocaleSettings(
                region=entry.string("region", "*"),
                language=language or "",
                locale=locale or "en",
                currency=entry.string("currency", defaults.currency),
                timezone=timezone or "UTC",
                formality=Formality(formality or "formal"),
                verbosity=Verbosity(verbosity or "full"),
            )
        )
    # A misspelled key of `[locales]` (`verbosty`) is a fault, not a silent default. The
    # file's other sections are not this reader's: `[translation]`
    # (i18n.translation_settings), or the node's when `[locales]` is folded into its file.
    section.check_unknown_keys()
    reader.faults.raise_if_any()
    return defaults, profiles, enabled


@functools.lru_cache(maxsize=8)
def load_locales(path: Path = DEFAULT_CONFIG) -> tuple[LocaleSettings, tuple[LocaleSettings, ...]]:
    """The defaults and the profiles of a locales file (cached per path)."""
    defaults, profiles, _ = _read_config(path)
    return defaults, tuple(profiles)


@functools.lru_cache(maxsize=8)
def enabled_languages(path: Path = DEFAULT_CONFIG) -> tuple[str, ...]:
    """The languages the IVR and `switchboard prompts check` serve."""
    return _read_config(path)[2]


def profile_for(region: str, language: str, config: Path | None = None) -> LocaleProfile:
    """The profile of a caller: (region, language), then (any region, language), then defaults.

    A region row with language `*` sets the region's style (currency, time zone,
    formality, verbosity) for every language spoken there that has no row of its own.
    A tag that names a script or a region is written as it says (`tag_locale`): a row
    of its bare language whose locale is of another script or country (`zh` →
    `zh_Hans_CN`), or none, gives its style, not its locale, to a `zh-TW` customer
    (`zh_Hant_TW`; and the country the tag names gives its currency, Taiwan's dollar,
    and its time zone where it has only one, Asia/Taipei). A row for the tag itself
    (`pt-BR`) is the operator's word, as written.
    """
    defaults, profiles = load_locales(config or DEFAULT_CONFIG)
    lang = canonical(language).replace("-", "_")
    base = primary(language)

    def find(reg: str, lng: str) -> LocaleSettings | None:
        # Language tags are case-insensitive: a row's `DE` or `pt-br` is `de`, `pt_BR`.
        wanted = canonical(lng)
        return next(
            (p for p in profiles if p.region == reg and canonical(p.language) == wanted), None
        )

    own = find(region, lang) or find("*", lang)
    exact = find(region, lang) or find(region, base)
    if exact is not None:
        return _written_as_tagged(replace(exact, region=region), language, own)
    region_style = find(region, "*")
    language_row = find("*", lang) or find("*", base)
    start = region_style or defaults
    # the language's own locale; the tag's script and region are `_written_as_tagged`'s
    locale = language_row.locale if language_row else language_locale(base)
    chosen = replace(start, region=region, language=base, locale=locale)
    if language_row is not None and region_style is None:
        chosen = replace(language_row, region=region)
    return _written_as_tagged(chosen, language, own)


def tag_locale(tag: str) -> str | None:
    """The locale a customer's tag names, when it names a script or a region: `zh-TW` →
    `zh_Hant_TW`, `zh-Hant` → `zh_Hant`, `pt-BR` → `pt_BR`; a spoken language written in
    another (`SPOKEN_BEFORE_WRITTEN`: Cantonese) in its likely region when it names none,
    as its readers read (i18n/pages.py `reading_tag`): `yue` → `yue_Hant_HK`. None for
    any other bare language (no country is guessed from a language) or one babel does
    not know."""
    language, script, region = subtags(tag)
    if not script and not region and language in SPOKEN_BEFORE_WRITTEN:
        region = str(get_global("likely_subtags").get(language, "")).split("_")[-1]
    if not script and not region:
        return None
    try:
        return str(Locale.parse("_".join(part for part in (language, script, region) if part)))
    except (UnknownLocaleError, ValueError):
        return None


def _written_as_tagged(
    chosen: LocaleSettings, tag: str, own: LocaleSettings | None
) -> LocaleProfile:
    """`chosen`, in the locale `tag` names where its own is of another script or country,
    with that country's currency and its time zone if it has one only (CLDR, through
    babel; a country of many zones keeps the region's). A row for the tag itself (`own`)
    is kept as is."""
    named = tag_locale(tag)
    if own is not None or named is None:
        return LocaleProfile(chosen)
    country = Locale.parse(named).territory
    other_country = country is not None and country != Locale.parse(chosen.locale).territory
    if script_of(named) == script_of(chosen.locale) and not other_country:
        return LocaleProfile(chosen)  # `zh-CN` with a `zh_Hans_CN` row: the row's
    if not other_country or country is None:
        return LocaleProfile(replace(chosen, locale=named))
    currencies = get_territory_currencies(country)
    zones = get_global("territory_zones").get(country, [])
    return LocaleProfile(
        replace(
            chosen,
            locale=named,
            currency=currencies[0] if currencies else chosen.currency,
            timezone=zones[0] if len(zones) == 1 else chosen.timezone,
        )
    )
