"""Fixtures of the i18n suite: argostranslate kept out of the home directory, tiny models."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.i18n.tiny_model import build_tiny_package

_ARGOS_ENV = ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "ARGOS_PACKAGES_DIR")


@pytest.fixture(scope="session", autouse=True)
def argos_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """argostranslate reads these once, at import: point them at a temporary directory."""
    base = tmp_path_factory.mktemp("argos")
    saved = {name: os.environ.get(name) for name in (*_ARGOS_ENV, "SWITCHBOARD_ARGOS_DIR")}
    os.environ["SWITCHBOARD_ARGOS_DIR"] = str(base)
    for name in _ARGOS_ENV:
        os.environ[name] = str(base / name.lower())
    yield base
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def model_files(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Tiny .argosmodel files: es→en, en→es and en→ja (built once per session)."""
    out = tmp_path_factory.mktemp("argosmodels")
    pairs = {("es", "en"): 11, ("en", "es"): 12, ("en", "ja"): 13}
    return {
        pair: build_tiny_package(out, pair[0], pair[1], seed=seed) for pair, seed in pairs.items()
    }


@pytest.fixture(scope="session")
def packages_dir(
    tmp_path_factory: pytest.TempPathFactory, model_files: dict[tuple[str, str], Path]
) -> Path:
    """A packages directory with the three tiny models installed through the real API."""
    from i18n.translation import install_model

    target = tmp_path_factory.mktemp("packages")
    for path in model_files.values():
        install_model(path, target)
    return target
