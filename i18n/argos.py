"""The one place that imports argostranslate, after pointing its directories at ours.

argostranslate reads ARGOS_* and XDG_* settings once, at import, and creates its data,
config and cache directories under the user's home unless told otherwise. So before the
first import this module sets them (unless the operator already did) under one base
directory: SWITCHBOARD_ARGOS_DIR, default var/argos. The module comes from the
argos-translate-lt package (no torch, no stanza); importing it loads ctranslate2 and
MiniSBD's onnxruntime, about 0.2 s: done lazily, on first use.
"""

from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BASE_ENV = "SWITCHBOARD_ARGOS_DIR"
DEFAULT_BASE = Path("var/argos")
_lock = threading.RLock()


def base_dir() -> Path:
    return Path(os.environ.get(BASE_ENV, str(DEFAULT_BASE)))


def default_packages_dir() -> Path:
    """Where models are installed unless a packages_dir is given."""
    configured = os.environ.get("ARGOS_PACKAGES_DIR")
    return Path(configured) if configured else base_dir() / "packages"


def configure(base: Path | None = None) -> None:
    """Set argostranslate's directories (only those not set yet); no effect after import."""
    root = (base or base_dir()).resolve()
    defaults = {
        "XDG_DATA_HOME": root / "data",
        "XDG_CONFIG_HOME": root / "config",
        "XDG_CACHE_HOME": root / "cache",
        "ARGOS_PACKAGES_DIR": root / "packages",
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, str(value))
    # Never ask the network for a sentence splitter or a package index.
    os.environ.setdefault("ARGOS_CHUNK_TYPE", "DEFAULT")
    os.environ.setdefault("ARGOS_DEVICE_TYPE", "cpu")


def available() -> bool:
    """Whether the `argostranslate` module is installed (`pip install 'switchboard[argos]'`,
    which `make run` and `make test` do); without it Argos models are not used."""
    import importlib.util

    return importlib.util.find_spec("argostranslate") is not None


MISSING = "the Argos engine is not installed: pip install 'switchboard[argos]' (argos-translate-lt)"


def imported() -> bool:
    return "argostranslate.settings" in sys.modules


def modules() -> tuple[Any, Any, Any]:
    """(argostranslate.package, argostranslate.translate, argostranslate.settings)."""
    with _lock:
        if not imported():
            configure()
        from argostranslate import package, settings, translate

        return package, translate, settings


@contextmanager
def installing_into(packages_dir: Path) -> Any:
    """Point argostranslate's install target at packages_dir for the duration."""
    package, _, settings = modules()
    with _lock:
        previous = settings.package_data_dir
        settings.package_data_dir = packages_dir
        try:
            yield package
        finally:
            settings.package_data_dir = previous
