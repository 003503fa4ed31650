"""Prompt texts and their 8 kHz WAV files, cached by content.

Every text comes from the i18n prompt catalogs (i18n/messages.py, one prompts.po per
language), so that `switchboard prompts check` and `voice check` see each one a caller
can hear: a language or key a catalog lacks is said in English and logged there.
Rendering goes through `i18n.prompts.render_prompt` when it exists, else straight to
espeak-ng + sox: one function (`render`) so that switching is a one-line change.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import wave
from collections.abc import Iterable
from pathlib import Path

from i18n.prompts import DEFAULT_RATE, PromptCatalog
from router.reports.survey import SurveyConfig
from telephony.model import IvrFlow, Prompt, RecordingConfig

log = logging.getLogger(__name__)

# The post-call survey's prompt keys (router.reports.survey.SurveySession) in the i18n catalog.
CATALOG_KEYS: dict[str, str] = {
    "survey.question": "survey_question",
    "survey.invalid": "invalid_choice",
    "survey.thanks": "thank_you",
    "survey.goodbye": "goodbye",
}
SURVEY_KEYS = tuple(CATALOG_KEYS)
# What a called-back customer hears on picking up, before the agent: who calls, and that
# an agent is being connected (the agent hears the ringing tone meanwhile).
CALLBACK_INTRO = ("callback.intro", "callback.connecting")

_ESPEAK_VOICE = {"en": "en-us", "fr": "fr-fr", "de": "de", "es": "es", "zh": "cmn", "ja": "ja"}


def prompt_text(prompt: Prompt) -> str:
    """The prompt's sentence in its language, from the catalogs (English, logged, where
    the language's catalog lacks it). A key no catalog has is a KeyError: a programming
    error, not a caller's."""
    key = CATALOG_KEYS.get(prompt.key, prompt.key)
    return PromptCatalog().text(key, prompt.language, **dict(prompt.values))


def render(text: str, language: str, cache_dir: Path, rate: int = DEFAULT_RATE) -> Path:
    """An 8 kHz mono 16-bit WAV saying `text` at `rate` words a minute, rendered once and
    cached by content."""
    try:
        from i18n.prompts import render_prompt

        return Path(render_prompt(text, language, cache_dir, rate))
    except ImportError:
        pass
    return render_espeak(text, language, cache_dir, rate)


def render_espeak(text: str, language: str, cache_dir: Path, rate: int = DEFAULT_RATE) -> Path:
    """espeak-ng speaks at 22.05 kHz; sox resamples to the 8 kHz the bridge runs at."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(f"{language}\0{rate}\0{text}".encode()).hexdigest()[:24]
    target = cache_dir / f"{language}-{digest}.wav"
    if target.exists():
        return target
    raw = target.with_suffix(f".{os.getpid()}.tmp.wav")
    voice = _ESPEAK_VOICE.get(language, language)
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(raw), text],
        check=True,
        capture_output=True,
    )
    partial = target.with_suffix(f".{os.getpid()}.part.wav")
    subprocess.run(
        ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(partial)],
        check=True,
        capture_output=True,
    )
    raw.unlink(missing_ok=True)
    partial.replace(target)
    return target


def make_music(path: Path) -> Path:
    """A gentle 8 kHz loop (two alternating tones) when no music file is configured."""
    return _synth(path, "synth 0.6 sine 440 vol 0.1 : synth 0.6 sine 554 vol 0.1")


RINGBACK_FILE = "ringback.wav"  # in the prompt cache, made at a worker's start


def make_ringback(path: Path) -> Path:
    """The ringing tone an agent hears while the node calls a customer back: 425 Hz, one
    second on and four off (ITU-T E.180's common cadence), one period to loop."""
    return _synth(path, "synth 1 sine 425 vol 0.3 pad 0 4")


def _synth(path: Path, effects: str) -> Path:
    """An 8 kHz mono WAV made once by sox from `effects` (kept in the prompt cache)."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.part.wav")
    command = ["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(partial), *effects.split()]
    subprocess.run(command, check=True, capture_output=True)
    partial.replace(path)
    return path


def duration_s(path: Path) -> float:
    with wave.open(str(path), "rb") as handle:
        return handle.getnframes() / float(handle.getframerate())


class PromptRenderer:
    """Turns IVR prompts into cached WAV paths; memoises so a call costs a dict lookup."""

    def __init__(self, cache_dir: Path, rate: int = DEFAULT_RATE) -> None:
        self.cache_dir = cache_dir
        self.rate = rate
        self._paths: dict[Prompt, Path] = {}

    def known(self, prompt: Prompt) -> Path | None:
        """The file of a prompt rendered before (a dict lookup), else None."""
        return self._paths.get(prompt)

    def path(self, prompt: Prompt) -> Path:
        found = self._paths.get(prompt)
        if found is None:
            found = render(prompt_text(prompt), prompt.language, self.cache_dir, self.rate)
            self._paths[prompt] = found
        return found


def static_prompts(
    flows: list[IvrFlow],
    surveys: Iterable[SurveyConfig] = (),
    recording: RecordingConfig | None = None,
) -> list[Prompt]:
    """Every prompt of the flows that does not depend on the caller (position, EWT do),
    the post-call survey's in each flow language some voice survey is offered in, and the
    recording consent in every flow language when calls may be recorded with consent."""
    prompts: list[Prompt] = []
    surveys = list(surveys)
    for flow in flows:
        for index, language in enumerate(flow.languages, start=1):
            if recording is not None and recording.consent:
                prompts.append(Prompt("recording.consent", language))
            if any(survey.offered("voice", language) for survey in surveys):
                prompts.extend(Prompt(key, language) for key in SURVEY_KEYS)
            prompts.append(Prompt("ivr.language_option", language, (("digit", str(index)),)))
            for key in (
                "welcome",
                "welcome_informal",
                "choose_reason",
                "menu_repeat_hint",
                "ivr.invalid",
                "ivr.closed",
                "ivr.queued",
            ):
                prompts.append(Prompt(key, language))
            for reason in flow.reasons:
                values = (("digit", reason.digit), ("reason", reason.name))
                prompts.append(Prompt("ivr.reason_option", language, values))
            if flow.callback:
                digit = (("digit", flow.callback_digit),)
                prompts.append(Prompt("queue.callback_offer", language, digit))
                prompts.append(Prompt("queue.callback_confirmed", language))
                prompts.extend(Prompt(key, language) for key in CALLBACK_INTRO)
    return prompts
