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
from babel.dates import format_datetime, format_time, format_timedelta
from babel.lists import format_list
from babel.numbers import format_currency, format_decimal

from i18n.model import Formality, LocaleSettings, Verbosity
from switchboard.common.configfile import ConfigReader
from switchboard.common.languages import canonical, primary

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config" / "locales.toml"


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
        """A wait or handle time. Written: `4 min`; spoken: `4 minutes`, `4 минуты`.

        The spoken form rounds to whole minutes (at least one), so that a caller hears
        "4 minutes", never "3 minutes 47 seconds", and "1 hour and 30 minutes" past an hour.
        """
        seconds = max(0.0, float(seconds))
        if not spoken:
            return format_timedelta(
                timedelta(seconds=seconds), granularity="second", format="short", locale=self.locale
            )
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

    exact = find(region, lang) or find(region, base)
    if exact is not None:
        return LocaleProfile(replace(exact, region=region))
    region_style = find(region, "*")
    language_row = find("*", lang) or find("*", base)
    start = region_style or defaults
    locale = (
        language_row.locale if language_row else (lang if "_" in lang else language_locale(base))
    )
    chosen = replace(start, region=region, language=base, locale=locale)
    if language_row is not None and region_style is None:
        chosen = replace(language_row, region=region)
    return LocaleProfile(chosen)
