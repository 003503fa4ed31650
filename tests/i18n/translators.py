"""Translators for tests that need one engine alone, whatever else the machine has."""

from __future__ import annotations

from pathlib import Path

from i18n.translation import Translator
from i18n.translation_settings import TranslationSettings

ARGOS_ONLY = TranslationSettings(engines=("argos",))
APERTIUM_ONLY = TranslationSettings(engines=("apertium",))


def argos_translator(packages_dir: Path, cache_size: int = 2048) -> Translator:
    """A Translator over the Argos models of `packages_dir` alone."""
    return Translator(packages_dir, cache_size, settings=ARGOS_ONLY)
