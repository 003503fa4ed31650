"""Which translation engines run, and which one translates a given pair.

Read from the `[translation]` section of the i18n configuration (config/locales.toml, the
file `[locales]` lives in) with the project's ConfigReader, so every fault is reported at
once with file and key:

    [translation]
    engines = ["argos", "apertium"]   # tried in this order; an engine left out is off
    # argos_packages_dir = "var/argos/packages"
    # apertium_dir = "/usr/share/apertium"

    [translation.pairs]               # a pair's engine, whatever the order says
    "es-en" = "apertium"
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from i18n.apertium import DEFAULT_DATA_DIR
from i18n.language import primary
from i18n.locale import DEFAULT_CONFIG
from switchboard.common.configfile import ConfigReader

ENGINES = ("argos", "apertium")
_PAIR = re.compile(r"^([a-z]{2,3})-([a-z]{2,3})$")


@dataclass(frozen=True)
class TranslationSettings:
    """`engines` in order of preference; `pairs` pins an engine to a (source, target)."""

    engines: tuple[str, ...] = ENGINES
    pairs: Mapping[tuple[str, str], str] = field(default_factory=dict)
    argos_packages_dir: Path | None = None  # None: $ARGOS_PACKAGES_DIR or var/argos/packages
    apertium_dir: Path = DEFAULT_DATA_DIR


def read_translation_settings(path: Path) -> TranslationSettings:
    """The `[translation]` section of a file (defaults without one); ConfigError lists faults."""
    reader = ConfigReader.open(path)
    section = reader.section("translation")
    engines = tuple(section.strings("engines", list(ENGINES)) or ())
    for engine in engines:
        if engine not in ENGINES:
            section.fault("engines", f"engines among {', '.join(ENGINES)}", engine)
    pairs: dict[tuple[str, str], str] = {}
    pairs_section = section.section("pairs")
    for key in pairs_section.table:
        match = _PAIR.match(key)
        if match is None:
            pairs_section.fault(key, "a pair of language codes like es-en", key)
            continue
        engine = pairs_section.string(key, choices=ENGINES)
        if engine:
            pairs[(primary(match[1]), primary(match[2]))] = engine
    packages = section.string("argos_packages_dir", "")
    apertium_dir = section.string("apertium_dir", str(DEFAULT_DATA_DIR))
    reader.faults.raise_if_any()
    return TranslationSettings(
        engines=engines,
        pairs=pairs,
        argos_packages_dir=Path(packages) if packages else None,
        apertium_dir=Path(apertium_dir or DEFAULT_DATA_DIR),
    )


@functools.lru_cache(maxsize=8)
def translation_settings(path: Path = DEFAULT_CONFIG) -> TranslationSettings:
    """The settings of the i18n configuration (cached per path); defaults without a file."""
    if not path.is_file():
        return TranslationSettings()
    return read_translation_settings(path)
