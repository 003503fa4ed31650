"""IVR prompts: text from the gettext catalogs, audio rendered once with espeak-ng + sox.

`PromptCatalog.text` never fails a call for a missing translation: it falls back to
English and logs the gap once per (language, key). `render_prompt` caches the WAV by a
hash of the text, voice and format, so a prompt is synthesized once per content.
"""

from __future__ import annotations

import gettext
import hashlib
import io
import logging
import os
import re
import shutil
import string
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from num2words import num2words

from i18n import catalogs
from i18n.chinese import to_script
from i18n.language import primary
from i18n.messages import PLURAL_COUNTS, PROMPTS, resolve_key

log = logging.getLogger(__name__)

DEFAULT_CACHE_DIR = Path("var/prompts")
SAMPLE_RATE = 8000
# espeak-ng voice per language (see `espeak-ng --voices`); the code itself when it matches.
# Mandarin: "cmn" turns characters into tone-numbered pinyin and then reads that pinyin as
# English ("ni three hao three"); "cmn-latn-pinyin" reads the same pinyin as Mandarin.
VOICES: dict[str, str] = {"zh": "cmn-latn-pinyin", "en": "en-us"}
# Voices that say nothing for digits (`espeak-ng -v he -x "12"` is empty): their numbers are
# spelled in words by num2words first, with its options. Hebrew counts, keys and minutes
# (דקה) in the feminine. tests/i18n/test_spoken_numbers.py finds any other such voice.
NUMBER_WORDS: dict[str, dict[str, str]] = {"he": {"lang": "he", "gender": "f"}}
# How a spelled hour is joined to its minutes ("שמונה ושלושים", 8:30); a space elsewhere.
MINUTES_JOINER: dict[str, str] = {"he": " ו"}
_TIME = re.compile(r"\b(\d{1,2}):(\d{2})\b")
_NUMBER = re.compile(r"\d+")
# Bump when the rendering pipeline changes, so that cached files are rendered anew.
RENDER_VERSION = "2"
# espeak-ng's own speed, in words a minute; a prompt at another rate is cached apart.
DEFAULT_RATE = 175


class PromptRenderError(RuntimeError):
    """espeak-ng or sox is missing or failed; the message says which and why."""


# Loaded catalogs and reported gaps, shared by every PromptCatalog of the same directory:
# a worker may build a catalog per call, and a gap is still logged once per process.
_LOADED: dict[Path, dict[str, gettext.GNUTranslations | None]] = {}
_REPORTED: dict[Path, set[tuple[str, str]]] = {}


class PromptCatalog:
    """The prompts of every shipped language, read through gettext."""

    def __init__(self, languages_dir: Path | None = None) -> None:
        self.languages_dir = (languages_dir or catalogs.LOCALES_DIR).resolve()
        self._translations = _LOADED.setdefault(self.languages_dir, {})
        self._reported = _REPORTED.setdefault(self.languages_dir, set())

    def reload(self) -> None:
        """Read the catalogs again (after `prompts compile`)."""
        self._translations.clear()

    def keys(self) -> list[str]:
        """Every prompt key, in menu order."""
        return list(PROMPTS)

    def __iter__(self) -> Iterator[str]:
        return iter(PROMPTS)

    def languages(self) -> list[str]:
        """Languages with a catalog on disk."""
        return catalogs.catalog_languages(self.languages_dir)

    def _load(self, language: str) -> gettext.GNUTranslations | None:
        if language not in self._translations:
            mo = catalogs.mo_path(language, self.languages_dir)
            po = catalogs.po_path(language, self.languages_dir)
            data: bytes | None = None
            if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
                data = mo.read_bytes()
            elif po.is_file():
                # No compiled catalog (or an older one): compile in memory, never fail a call.
                data = catalogs.compile_bytes(catalogs.read_catalog(po, language))
            self._translations[language] = (
                gettext.GNUTranslations(io.BytesIO(data)) if data is not None else None
            )
        return self._translations[language]

    def has(self, key: str, language: str) -> bool:
        """True when the language's catalog translates this key."""
        translations = self._load(primary(language))
        if translations is None:
            return False
        source = PROMPTS[resolve_key(key, {})]
        entry = source if isinstance(source, str) else (source[0], 0)
        table: dict[object, str] = translations._catalog  # type: ignore[attr-defined]
        return bool(table.get(entry))

    def _report_once(self, language: str, key: str, why: str) -> None:
        if (language, key) not in self._reported:
            self._reported.add((language, key))
            log.warning("prompt %s in %s: %s; speaking English instead", key, language, why)

    def text(self, key: str, language: str, **values: object) -> str:
        """The prompt `key` in `language`, formatted with `values`.

        Plural prompts pick their form from the value named in PLURAL_COUNTS with the
        language's own rule (`queue_position` counts `minutes`: Russian has three forms,
        Arabic six). Unknown key → KeyError (a programming error, not a caller's).
        The telephony IVR's own names (`ivr.greeting`, `queue.position`…) are aliases.
        Traditional Chinese (`zh-TW`, `zh-HK`, `zh-Hant`) is `zh`'s text converted by
        OpenCC, as the pages are (i18n/chinese.py), never a catalog of its own.
        """
        return to_script(self._text(key, primary(language), values), language)

    def _text(self, key: str, language: str, values: dict[str, object]) -> str:
        """`text` in the catalog of `language`, a language subtag."""
        key = resolve_key(key, values)
        source = PROMPTS[key]
        english = gettext.NullTranslations()
        translations: gettext.NullTranslations = english
        if self.has(key, language):
            translations = self._load(language) or english
        else:
            self._report_once(language, key, "no translation")
        try:
            return self._format(translations, source, key, values)
        except (KeyError, IndexError, ValueError) as error:
            if translations is english:
                raise
            self._report_once(language, key, f"bad placeholder ({error!r})")
            return self._format(english, source, key, values)

    @staticmethod
    def _format(
        translations: gettext.NullTranslations,
        source: str | tuple[str, str],
        key: str,
        values: dict[str, object],
    ) -> str:
        if isinstance(source, str):
            return translations.gettext(source).format(**values)
        count = values[PLURAL_COUNTS[key]]
        if not isinstance(count, int):
            raise TypeError(f"prompt {key}: {PLURAL_COUNTS[key]} must be an int")
        return translations.ngettext(source[0], source[1], count).format(**values)


def voice_for(language: str) -> str:
    code = primary(language)
    return VOICES.get(code, code)


def spoken_text(text: str, language: str) -> str:
    """The text as espeak-ng is given it: numbers in words where the voice skips digits
    ("הקישו 1" would say "press" alone), a time as its hour and minutes ("08:00")."""
    options = NUMBER_WORDS.get(primary(language))
    if options is None:
        return text

    def words(number: str) -> str:
        return str(num2words(int(number), **options))

    def clock(match: re.Match[str]) -> str:
        hour, minutes = words(match[1]), int(match[2])
        joiner = MINUTES_JOINER.get(primary(language), " ")
        return hour if minutes == 0 else f"{hour}{joiner}{words(match[2])}"

    text = _TIME.sub(clock, text)
    return _NUMBER.sub(lambda match: words(match[0]), text)


def prompt_path(text: str, language: str, cache_dir: Path, rate: int = DEFAULT_RATE) -> Path:
    """Where the WAV of this text lives in the cache (it may not exist yet); named by what
    is spoken, so a prompt whose numbers are now spelled out is rendered anew."""
    text = spoken_text(text, language)
    voice = voice_for(language)
    speed = () if rate == DEFAULT_RATE else (f"{rate} wpm",)
    digest = hashlib.sha256(
        "\0".join((RENDER_VERSION, voice, str(SAMPLE_RATE), *speed, text)).encode()
    ).hexdigest()
    return cache_dir / primary(language) / f"{digest[:24]}.wav"


def _run(command: list[str], stdin: bytes | None = None) -> None:
    if shutil.which(command[0]) is None:
        raise PromptRenderError(f"{command[0]} not found: install it (scripts/system-deps.sh)")
    result = subprocess.run(command, input=stdin, capture_output=True, timeout=60, check=False)
    if result.returncode != 0:
        detail = result.stderr.decode(errors="replace").strip().splitlines()
        raise PromptRenderError(
            f"{command[0]} failed ({result.returncode}): {detail[-1] if detail else 'no output'}"
        )


def render_prompt(text: str, language: str, cache_dir: Path, rate: int = DEFAULT_RATE) -> Path:
    """The prompt as an 8 kHz mono 16-bit PCM WAV, synthesized once and then cached.

    `rate` is espeak-ng's speed in words a minute. The file name is a hash of the text,
    voice, format and a rate other than the default; a file appears only when complete
    (rendered beside it, then renamed), so concurrent callers never read half.
    """
    target = prompt_path(text, language, cache_dir, rate)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".render-") as scratch:
        raw = Path(scratch) / "espeak.wav"
        final = Path(scratch) / "final.wav"
        speed = [] if rate == DEFAULT_RATE else ["-s", str(rate)]
        _run(
            ["espeak-ng", "-v", voice_for(language), *speed, "-w", str(raw), "--stdin"],
            spoken_text(text, language).encode(),
        )
        _run(
            [
                "sox",
                str(raw),
                "-r",
                str(SAMPLE_RATE),
                "-c",
                "1",
                "-b",
                "16",
                "-e",
                "signed-integer",
                str(final),
            ]
        )
        os.replace(final, target)
    return target


def _runtime_values(english: str | tuple[str, str]) -> set[str]:
    """A prompt's placeholders known only during a call (all but a menu's `{digit}`)."""
    texts = (english,) if isinstance(english, str) else english
    names = {name for text in texts for _, name, _, _ in string.Formatter().parse(text) if name}
    return names - {"digit"}


def render_all(
    catalog: PromptCatalog,
    languages: Iterable[str],
    cache_dir: Path,
    digits: Iterable[int] = range(1, 10),
) -> dict[str, dict[str, dict[str, str]]]:
    """Render every static prompt, and each `{digit}` prompt for each digit.

    Returns a manifest: language → key → {variant → WAV path relative to cache_dir};
    the variant is "" for a static prompt and the digit for a menu entry. Prompts with
    run-time values (queue_position, queue_position_no_wait) are rendered on demand by
    `render_prompt`.
    """
    manifest: dict[str, dict[str, dict[str, str]]] = {}
    digit_list = list(digits)
    for language in languages:
        entries: dict[str, dict[str, str]] = {}
        for key in catalog:
            english = PROMPTS[key]
            if key in PLURAL_COUNTS or _runtime_values(english):
                continue
            variants: dict[str, str] = {}
            if isinstance(english, str) and "{digit}" in english:
                for digit in digit_list:
                    path = render_prompt(
                        catalog.text(key, language, digit=digit), language, cache_dir
                    )
                    variants[str(digit)] = str(path.relative_to(cache_dir))
            else:
                path = render_prompt(catalog.text(key, language), language, cache_dir)
                variants[""] = str(path.relative_to(cache_dir))
            entries[key] = variants
        manifest[language] = entries
    return manifest
