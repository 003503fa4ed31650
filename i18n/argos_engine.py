"""Neural translation with Argos Translate models (.argosmodel files), without torch.

The `argostranslate` module comes from argos-translate-lt, which splits sentences with
MiniSBD (onnxruntime) instead of stanza and torch. A model must carry its own splitter
(`minisbd/*.onnx`): without one MiniSBD downloads one at run time, which fails offline,
so such a file is refused at install and such an installed package is left unused.

An `ArgosEngine` reads the models of one packages directory (its own, never the global
list, so two engines in one process do not mix models).
"""

from __future__ import annotations

import json
import logging
import threading
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from i18n import argos
from i18n.model import InstalledModel
from switchboard.common.errors import InputError
from switchboard.common.languages import primary

log = logging.getLogger(__name__)


MINISBD = "minisbd"


def _splitter(package_dir: Path) -> str | None:
    if any((package_dir / "minisbd").glob("*.onnx")):
        return MINISBD
    if (package_dir / "stanza").is_dir():
        return "stanza"
    if (package_dir / "spacy").is_dir():
        return "spacy"
    return None


def installed_models(packages_dir: Path | None = None) -> list[InstalledModel]:
    """The translation models of a packages directory (no argostranslate import needed)."""
    root = packages_dir or argos.default_packages_dir()
    models: list[InstalledModel] = []
    if not root.is_dir():
        return models
    for package_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        try:
            metadata = json.loads((package_dir / "metadata.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if metadata.get("type", "translate") != "translate":
            continue
        models.append(
            InstalledModel(
                source=str(metadata.get("from_code")),
                target=str(metadata.get("to_code")),
                version=str(metadata.get("package_version", "")),
                path=package_dir,
                sentence_splitter=_splitter(package_dir) or "none",
            )
        )
    return models


def check_model_file(path: Path) -> dict[str, Any]:
    """The metadata of a .argosmodel, or InputError saying what makes it unusable offline."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path}: not an Argos model (expected a zip archive)")
    with zipfile.ZipFile(path) as archive:
        names = [PurePosixPath(n) for n in archive.namelist()]
        tops = {n.parts[0] for n in names if n.parts}
        if len(tops) != 1:
            raise InputError(f"{path}: expected one top folder in the archive, found {len(tops)}")
        top = tops.pop()
        inside = {str(PurePosixPath(*n.parts[1:])) for n in names if len(n.parts) > 1}
        if "metadata.json" not in inside:
            raise InputError(f"{path}: {top}/metadata.json missing")
        try:
            metadata = json.loads(archive.read(f"{top}/metadata.json"))
        except ValueError as error:
            raise InputError(f"{path}: {top}/metadata.json: not valid JSON ({error})") from None
    if not isinstance(metadata, dict):
        raise InputError(f"{path}: metadata.json: expected an object")
    for field in ("from_code", "to_code"):
        if not isinstance(metadata.get(field), str) or not metadata[field]:
            raise InputError(f"{path}: metadata.json: field {field}: expected a language code")
    if not any(n.startswith("model/") for n in inside):
        raise InputError(f"{path}: {top}/model/ (the CTranslate2 model) missing")
    if "sentencepiece.model" not in inside and "bpe.model" not in inside:
        raise InputError(f"{path}: {top}/sentencepiece.model (or bpe.model) missing")
    if not any(n.startswith("minisbd/") and n.endswith(".onnx") for n in inside):
        others = sorted({n.split("/", 1)[0] for n in inside} & {"stanza", "spacy"})
        found = f" (it has {'/, '.join(others)}/, which needs torch)" if others else ""
        raise InputError(
            f"{path}: no MiniSBD sentence splitter (minisbd/*.onnx){found}: argos-translate-lt "
            "would try to download one at run time, which fails offline; use a model "
            "packaged with minisbd/"
        )
    return metadata


def install_model(path: Path, packages_dir: Path | None = None) -> InstalledModel:
    """Check a .argosmodel file and install it with argostranslate's own installer."""
    metadata = check_model_file(path)
    if not argos.available():
        raise InputError(f"{path}: {argos.MISSING}")
    target_dir = packages_dir or argos.default_packages_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    with argos.installing_into(target_dir) as package:
        package.install_from_path(path)
    for model in installed_models(target_dir):
        if (model.source, model.target) == (metadata["from_code"], metadata["to_code"]):
            log.info("installed %s→%s into %s", model.source, model.target, target_dir)
            return model
    raise InputError(
        f"{path}: installed, but no model {metadata['from_code']}→"
        f"{metadata['to_code']} found in {target_dir}"
    )


class ArgosEngine:
    """The installed Argos models of one packages directory; one model call at a time."""

    name = "argos"

    def __init__(self, packages_dir: Path | None = None) -> None:
        self.packages_dir = packages_dir or argos.default_packages_dir()
        self._lock = threading.RLock()
        self._loaded: dict[tuple[str, str], Any] = {}
        self._listing: dict[tuple[str, str], InstalledModel] = {}
        self._listed_stamp: int | None = None

    def models(self) -> dict[tuple[str, str], InstalledModel]:
        """Usable models (with a MiniSBD splitter), listed again when the directory changes;
        none when the Argos engine is not installed."""
        if not argos.available():
            return {}
        try:
            stamp = self.packages_dir.stat().st_mtime_ns
        except OSError:
            stamp = -1
        with self._lock:
            if stamp != self._listed_stamp:
                listing = {}
                for model in installed_models(self.packages_dir):
                    if model.sentence_splitter != MINISBD:
                        log.warning("%s: no minisbd/ sentence splitter; not used", model.path)
                        continue
                    # Keyed by current codes (`tl` is `fil`), as contacts' languages are.
                    listing[(primary(model.source), primary(model.target))] = model
                self._listing, self._loaded, self._listed_stamp = listing, {}, stamp
            return self._listing

    def pairs(self) -> set[tuple[str, str]]:
        return set(self.models())

    def _translation_for(self, pair: tuple[str, str]) -> Any:
        """argostranslate's PackageTranslation for one installed package (loaded once)."""
        if pair not in self._loaded:
            package, translate, _ = argos.modules()
            pkg = package.Package(self.models()[pair].path)
            self._loaded[pair] = translate.PackageTranslation(
                translate.Language(pkg.from_code, pkg.from_name),
                translate.Language(pkg.to_code, pkg.to_name),
                pkg,
            )
        return self._loaded[pair]

    def translate(self, text: str, source: str, target: str) -> str:
        self.models()  # notice an install before loading
        # argostranslate loads lazily and is not thread-safe: one call at a time.
        with self._lock:
            return str(self._translation_for((source, target)).translate(text))

    def close(self) -> None:
        with self._lock:
            self._loaded.clear()
