"""Live chat translation through installed Argos Translate models.

A `Translator` reads the models of one packages directory (its own, never a global
list, so two translators in one process do not mix models), translates directly or
through one pivot language, keeps an LRU cache of recent translations, and never raises:
a missing pair comes back as `Translation(missing_pair=True)` with the original text.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import zipfile
from collections import OrderedDict
from pathlib import Path, PurePosixPath
from typing import Any

from i18n import argos
from i18n.language import primary
from i18n.model import InstalledModel, Translation
from switchboard.common.errors import InputError

log = logging.getLogger(__name__)

DEFAULT_CACHE_SIZE = 2048


def _splitter(package_dir: Path) -> str | None:
    if any((package_dir / "minisbd").glob("*.onnx")):
        return "minisbd"
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
    has_splitter = any(
        (n.startswith("minisbd/") and n.endswith(".onnx")) or n.startswith("stanza/")
        for n in inside
    )
    if not has_splitter:
        raise InputError(
            f"{path}: no sentence splitter (minisbd/*.onnx or stanza/): argostranslate would "
            "try to download one at run time, which fails offline"
        )
    return metadata


def install_model(path: Path, packages_dir: Path | None = None) -> InstalledModel:
    """Check a .argosmodel file and install it with argostranslate's own installer."""
    metadata = check_model_file(path)
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


class Translator:
    """Translates chat messages with the models of one packages directory."""

    def __init__(self, packages_dir: Path | None = None, cache_size: int = DEFAULT_CACHE_SIZE):
        self.packages_dir = packages_dir or argos.default_packages_dir()
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        self._lock = threading.Lock()
        self._model_lock = threading.Lock()
        self._direct: dict[tuple[str, str], Any] = {}
        self._listing: dict[tuple[str, str], InstalledModel] = {}
        self._listed_stamp: int | None = None
        self.hits = 0
        self.misses = 0

    # -- which pairs exist ---------------------------------------------------------------

    def reload(self) -> None:
        """Forget loaded models and cached translations; the next call reads the directory."""
        with self._lock:
            self._listed_stamp = None
            self._direct.clear()
            self._cache.clear()

    def _models(self) -> dict[tuple[str, str], InstalledModel]:
        """Installed models, listed again only when the directory changed (an install)."""
        try:
            stamp = self.packages_dir.stat().st_mtime_ns
        except OSError:
            stamp = -1
        if stamp != self._listed_stamp:
            self._listing = {(m.source, m.target): m for m in installed_models(self.packages_dir)}
            self._direct = {}
            self._listed_stamp = stamp
        return self._listing

    def direct_pairs(self) -> list[tuple[str, str]]:
        return sorted(self._models())

    def pairs(self) -> list[tuple[str, str]]:
        """Every (source, target) it can translate: direct, or through one pivot language."""
        direct = set(self._models())
        found = set(direct)
        for a, b in direct:
            for c, d in direct:
                if b == c and a != d:
                    found.add((a, d))
        return sorted(found)

    def can_translate(self, source: str, target: str) -> bool:
        source, target = primary(source), primary(target)
        return source == target or (source, target) in set(self.pairs())

    # -- translating ---------------------------------------------------------------------

    def _route(self, source: str, target: str) -> list[tuple[str, str]] | None:
        direct = set(self._models())
        if (source, target) in direct:
            return [(source, target)]
        for a, pivot in sorted(direct):
            if a == source and (pivot, target) in direct:
                return [(source, pivot), (pivot, target)]
        return None

    def _translation_for(self, pair: tuple[str, str]) -> Any:
        """argostranslate's PackageTranslation for one installed package (loaded once)."""
        if pair not in self._direct:
            package, translate, _ = argos.modules()
            model = self._models()[pair]
            pkg = package.Package(model.path)
            self._direct[pair] = translate.PackageTranslation(
                translate.Language(pkg.from_code, pkg.from_name),
                translate.Language(pkg.to_code, pkg.to_name),
                pkg,
            )
        return self._direct[pair]

    def translate(self, text: str, source: str, target: str) -> Translation:
        """`text` in `target`, with the original kept; never raises."""
        src, dst = primary(source), primary(target)
        if src == dst or not text.strip():
            return Translation(text=text, source=src, target=dst, original=text)
        key = (src, dst, text)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                self.hits += 1
                return Translation(cached, src, dst, text, cached=True)
            self.misses += 1
            route = self._route(src, dst)
        if route is None:
            return Translation(text, src, dst, text, missing_pair=True)
        # One model call at a time (argostranslate loads lazily and is not thread-safe);
        # cache hits above never wait for it.
        with self._model_lock:
            try:
                result = text
                for pair in route:
                    result = self._translation_for(pair).translate(result)
            except Exception as error:  # a broken model must not end a chat
                log.exception("translation %s→%s failed", src, dst)
                return Translation(text, src, dst, text, error=f"{type(error).__name__}: {error}")
        with self._lock:
            self._cache[key] = result
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return Translation(result, src, dst, text)

    async def translate_async(self, text: str, source: str, target: str) -> Translation:
        """`translate` off the event loop (a model call takes milliseconds to seconds)."""
        return await asyncio.to_thread(self.translate, text, source, target)
