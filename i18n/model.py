"""Plain data of the i18n package: locale settings, translations, installed models."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class Formality(StrEnum):
    """How a greeting addresses the caller (`Sie`/`vous` versus `du`/`tu`)."""

    FORMAL = "formal"
    INFORMAL = "informal"


class Verbosity(StrEnum):
    """How much an IVR menu explains: `full` adds hints, `short` takes the shortest path."""

    FULL = "full"
    SHORT = "short"


@dataclass(frozen=True)
class LocaleSettings:
    """One row of the locale configuration: how a region speaks one language."""

    region: str
    language: str
    locale: str
    currency: str = "USD"
    timezone: str = "UTC"
    formality: Formality = Formality.FORMAL
    verbosity: Verbosity = Verbosity.FULL


@dataclass(frozen=True)
class Translation:
    """A message in the reader's language, with the author's words kept beside it.

    `missing_pair` is True when no engine (directly or through a pivot language)
    translates source to target; `text` is then the original, untouched. `engine` names
    the engine that translated (`argos`, `apertium`, or both joined by `+` for a pivot).
    """

    text: str
    source: str
    target: str
    original: str
    missing_pair: bool = False
    cached: bool = False
    error: str | None = None
    engine: str = ""

    @property
    def translated(self) -> bool:
        return self.source != self.target and not self.missing_pair and self.error is None


@dataclass(frozen=True)
class InstalledModel:
    """An installed Argos Translate package: one direct language pair."""

    source: str
    target: str
    version: str
    path: Path
    sentence_splitter: str
