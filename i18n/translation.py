"""Live chat translation: the port the router uses, over two engines.

Engines: Argos Translate models (neural, one .argosmodel per direction, i18n/argos_engine.py)
and Apertium (rule-based, Debian's apertium-xxx-yyy packages, i18n/apertium.py). A pair is
translated by the engine the configuration pins to it, else by the first engine in the
configured order that has it (Argos, then Apertium), else through one pivot language over
those direct pairs (es→en by one engine, en→ja by another).

A `Translator` keeps an LRU cache of recent translations and never raises: a missing pair
comes back as `Translation(missing_pair=True)` with the original text, an engine failure
with `error` set.

Source and target may be whole tags: engines translate between their languages (`zh` for
`zh-TW`). The engines' Chinese is Simplified, so a Traditional writer's text (`zh-TW`,
`zh-HK`, `zh-Hant`) is simplified before it reaches them, and Chinese for a reader of
Traditional characters is converted from their output, both with OpenCC
(i18n/chinese.py); between two tags of Chinese no engine runs, only that conversion.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

from i18n.apertium import ApertiumEngine
from i18n.argos_engine import ArgosEngine, check_model_file, install_model, installed_models
from i18n.chinese import for_reader, to_script, to_simplified
from i18n.language import primary
from i18n.model import Translation
from i18n.translation_settings import TranslationSettings, translation_settings

__all__ = [
    "Engine",
    "Translator",
    "check_model_file",
    "install_model",
    "installed_models",
]

log = logging.getLogger(__name__)

DEFAULT_CACHE_SIZE = 2048
Pair = tuple[str, str]
Hop = tuple[str, str, str]  # source, target, engine


class Engine(Protocol):
    """What a translation engine offers the Translator."""

    name: str

    def pairs(self) -> set[Pair]: ...

    def translate(self, text: str, source: str, target: str) -> str:
        """The translation; raises when the engine fails."""
        ...

    def close(self) -> None: ...


def build_engines(settings: TranslationSettings, packages_dir: Path | None) -> dict[str, Engine]:
    """The engines the settings use: those in the order and those a pair is pinned to."""
    wanted = set(settings.engines) | set(settings.pairs.values())
    engines: dict[str, Engine] = {}
    if "argos" in wanted:
        engines["argos"] = ArgosEngine(packages_dir or settings.argos_packages_dir)
    if "apertium" in wanted:
        engines["apertium"] = ApertiumEngine(settings.apertium_dir)
    return engines


def same_language(text: str, source: str, target: str) -> Translation:
    """`text` for a reader of its own language: as written, or in the reader's script
    (Chinese, OpenCC: engine `opencc`) when the writer's tag says another."""
    written = for_reader(text, source, target)
    engine = "opencc" if written != text else ""
    return Translation(written, primary(source), primary(target), text, engine=engine)


class Translator:
    """Translates chat messages with the engines of its settings (config/locales.toml)."""

    def __init__(
        self,
        packages_dir: Path | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
        *,
        settings: TranslationSettings | None = None,
    ) -> None:
        """`packages_dir` overrides the settings' Argos models directory."""
        self.settings = settings or translation_settings()
        self.engines = build_engines(self.settings, packages_dir)
        argos_engine = self.engines.get("argos")
        self.packages_dir = (
            argos_engine.packages_dir if isinstance(argos_engine, ArgosEngine) else packages_dir
        )
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, str, str], tuple[str, str]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    # -- which pairs exist ---------------------------------------------------------------

    def engine_pairs(self) -> dict[str, set[Pair]]:
        """Each engine's direct pairs."""
        return {name: engine.pairs() for name, engine in self.engines.items()}

    def direct(self) -> dict[Pair, str]:
        """(source, target) → the engine that translates it directly."""
        offered = self.engine_pairs()
        chosen: dict[Pair, str] = {}
        for name in self.settings.engines:
            for pair in sorted(offered.get(name, ())):
                chosen.setdefault(pair, name)
        for pair, name in self.settings.pairs.items():
            if pair in offered.get(name, ()):
                chosen[pair] = name
        return chosen

    def pairs(self) -> list[Pair]:
        """Every (source, target) it can translate: direct, or through one pivot language."""
        direct = set(self.direct())
        found = set(direct)
        for a, b in direct:
            for c, d in direct:
                if b == c and a != d:
                    found.add((a, d))
        return sorted(found)

    def can_translate(self, source: str, target: str) -> bool:
        source, target = primary(source), primary(target)
        return source == target or (source, target) in set(self.pairs())

    def route(self, source: str, target: str) -> list[Hop] | None:
        """The hops of a translation: one direct, or two through a pivot; None when none.
        Of two possible pivots the code that sorts first is taken (`ca` before `es`), so
        the route does not depend on the order engines list their pairs in."""
        direct = self.direct()
        if (source, target) in direct:
            return [(source, target, direct[(source, target)])]
        for a, pivot in sorted(direct):
            if a == source and (pivot, target) in direct:
                return [
                    (source, pivot, direct[(a, pivot)]),
                    (pivot, target, direct[(pivot, target)]),
                ]
        return None

    # -- translating ---------------------------------------------------------------------

    def translate(self, text: str, source: str, target: str) -> Translation:
        """`text` in `target`, with the original kept; never raises. Either may carry a
        script or region: a `zh-TW` writer's Traditional is given to the engines in
        Simplified, Chinese for a `zh-TW` reader comes in Traditional characters (the
        engines' Simplified, converted; the cache keeps what the engines were given and
        wrote), and Chinese between scripts is only converted (engine `opencc`)."""
        src, dst = primary(source), primary(target)
        if src == dst or not text.strip():
            return same_language(text, source, target)
        given = to_simplified(text, source)
        key = (src, dst, given)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                self.hits += 1
            else:
                self.misses += 1
        if cached is not None:
            written = to_script(cached[0], target)
            return Translation(written, src, dst, text, cached=True, engine=cached[1])
        hops = self.route(src, dst)
        if hops is None:
            return Translation(text, src, dst, text, missing_pair=True)
        engine_names = "+".join(dict.fromkeys(name for _, _, name in hops))
        # Each engine serialises its own model calls; cache hits above never wait for them.
        try:
            result = given
            for hop_source, hop_target, name in hops:
                result = self.engines[name].translate(result, hop_source, hop_target)
        except Exception as error:  # a broken model or pipeline must not end a chat
            log.exception("translation %s→%s (%s) failed", src, dst, engine_names)
            return Translation(
                text, src, dst, text, error=f"{type(error).__name__}: {error}", engine=engine_names
            )
        with self._lock:
            self._cache[key] = (result, engine_names)
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return Translation(to_script(result, target), src, dst, text, engine=engine_names)

    async def translate_async(self, text: str, source: str, target: str) -> Translation:
        """`translate` off the event loop (a model call takes milliseconds to seconds)."""
        return await asyncio.to_thread(self.translate, text, source, target)

    def reload(self) -> None:
        """Forget cached translations (engines notice installs by themselves)."""
        with self._lock:
            self._cache.clear()

    def close(self) -> None:
        """End the engines' processes (Apertium pipelines); they also end with this process."""
        for engine in self.engines.values():
            engine.close()
