"""Prompt texts and their 8 kHz WAV files, cached by content.

Texts come from the i18n prompt catalog when it knows the key; the few texts below
are the fallback so a worker can always speak. Rendering goes through
`i18n.prompts.render_prompt` when it exists, else straight to espeak-ng + sox: one
function (`render`) so that switching is a one-line change.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import wave
from collections.abc import Iterable
from pathlib import Path

from i18n.prompts import DEFAULT_RATE
from router.reports.survey import SurveyConfig
from telephony.model import IvrFlow, Prompt, RecordingConfig

log = logging.getLogger(__name__)

# Keys the IVR uses; `{...}` are filled from Prompt.values.
FALLBACK_TEXTS: dict[str, dict[str, str]] = {
    "welcome": {
        "en": "Welcome.",
        "fr": "Bienvenue.",
        "de": "Willkommen.",
        "es": "Bienvenido.",
    },
    "welcome_informal": {
        "en": "Hi, thanks for calling!",
        "fr": "Salut, merci de ton appel !",
        "de": "Hallo, danke für deinen Anruf!",
        "es": "¡Hola, gracias por llamar!",
    },
    "choose_reason": {
        "en": "Please choose the reason for your call.",
        "fr": "Veuillez choisir le motif de votre appel.",
        "de": "Bitte wählen Sie den Grund Ihres Anrufs.",
        "es": "Por favor, elija el motivo de su llamada.",
    },
    "menu_repeat_hint": {
        "en": "To hear these options again, press star.",
        "fr": "Pour réécouter ces options, appuyez sur étoile.",
        "de": "Um diese Optionen erneut zu hören, drücken Sie die Sterntaste.",
        "es": "Para volver a escuchar estas opciones, pulse asterisco.",
    },
    "ivr.opens_at": {
        "en": "We open again at {time}.",
        "fr": "Nous rouvrons à {time}.",
        "de": "Wir sind ab {time} wieder für Sie da.",
        "es": "Volvemos a abrir a las {time}.",
        "pt": "Voltamos a abrir às {time}.",
        "it": "Riapriamo alle {time}.",
        "nl": "We zijn weer open om {time}.",
        "ru": "Мы снова открываемся в {time}.",
        "ar": "سنعاود العمل في الساعة {time}.",
        "he": "נשוב לפעילות בשעה {time}.",
        "hi": "हम {time} बजे फिर से खुलेंगे।",
        "zh": "我们将于{time}重新营业。",
        "yue": "我哋會喺{time}重新開放。",
        "ja": "{time} から えいぎょう を さいかい します。",
        "ko": "{time}에 다시 업무를 시작합니다.",
        "th": "เราจะเปิดทำการอีกครั้งเวลา {time}",
        "vi": "Chúng tôi sẽ mở cửa lại lúc {time}.",
        "id": "Kami buka kembali pukul {time}.",
        "ms": "Kami akan dibuka semula pada pukul {time}.",
        "tr": "Saat {time} itibarıyla yeniden hizmetinizdeyiz.",
        "pl": "Ponownie zapraszamy od godziny {time}.",
    },
    "ivr.language_option": {
        "en": "For English, press {digit}.",
        "fr": "Pour le français, appuyez sur {digit}.",
        "de": "Für Deutsch, drücken Sie {digit}.",
        "es": "Para español, pulse {digit}.",
    },
    "ivr.reason_option": {
        "en": "For {reason}, press {digit}.",
        "fr": "Pour {reason}, appuyez sur {digit}.",
        "de": "Für {reason}, drücken Sie {digit}.",
        "es": "Para {reason}, pulse {digit}.",
    },
    "ivr.invalid": {
        "en": "Sorry, I did not get that.",
        "fr": "Désolé, je n'ai pas compris.",
        "de": "Entschuldigung, das habe ich nicht verstanden.",
        "es": "Lo siento, no le he entendido.",
    },
    "ivr.closed": {
        "en": "We are closed. Please call again during opening hours.",
        "fr": "Nous sommes fermés. Merci de rappeler pendant nos heures d'ouverture.",
        "de": "Wir haben geschlossen. Bitte rufen Sie während der Öffnungszeiten an.",
        "es": "Estamos cerrados. Llame de nuevo en horario de apertura.",
    },
    "ivr.queued": {
        "en": "Please hold, an agent will be with you shortly.",
        "fr": "Merci de patienter, un conseiller va vous répondre.",
        "de": "Bitte warten Sie, ein Mitarbeiter ist gleich für Sie da.",
        "es": "Por favor espere, un agente le atenderá en breve.",
    },
    "queue.position": {
        "en": "You are number {position} in the queue. Estimated wait: {minutes} minutes.",
        "fr": "Vous êtes numéro {position} dans la file. Attente estimée : {minutes} minutes.",
        "de": "Sie sind Nummer {position} in der Warteschlange. Wartezeit: {minutes} Minuten.",
        "es": "Usted es el número {position} en la cola. Espera estimada: {minutes} minutos.",
    },
    "queue.position_no_wait": {
        "en": "You are number {position} in the queue.",
        "fr": "Vous êtes numéro {position} dans la file.",
        "de": "Sie sind Nummer {position} in der Warteschlange.",
        "es": "Usted es el número {position} en la cola.",
    },
    "queue.callback_offer": {
        "en": "To be called back instead, press {digit}.",
        "fr": "Pour être rappelé, appuyez sur {digit}.",
        "de": "Für einen Rückruf drücken Sie {digit}.",
        "es": "Para que le llamemos, pulse {digit}.",
    },
    "queue.callback_confirmed": {
        "en": "Thank you. We will call you back. Goodbye.",
        "fr": "Merci. Nous vous rappellerons. Au revoir.",
        "de": "Danke. Wir rufen Sie zurück. Auf Wiederhören.",
        "es": "Gracias. Le llamaremos. Adiós.",
    },
    "callback.intro": {
        "en": "This is Switchboard Airlines, calling you back as you asked.",
        "fr": "Ici Switchboard Airlines : nous vous rappelons, comme vous l'avez demandé.",
        "de": "Hier ist Switchboard Airlines mit dem Rückruf, um den Sie gebeten haben.",
        "es": "Le llama Switchboard Airlines: le devolvemos la llamada, como nos pidió.",
    },
    "callback.connecting": {
        "en": "Connecting you to an agent now.",
        "fr": "Nous vous mettons en relation avec un conseiller.",
        "de": "Wir verbinden Sie jetzt mit einem Mitarbeiter.",
        "es": "Le estamos conectando con un agente.",
    },
    "survey.question": {
        "en": "How satisfied were you with this call? Press 1 to 5.",
        "fr": "Êtes-vous satisfait de cet appel ? Tapez de 1 à 5.",
        "de": "Wie zufrieden waren Sie mit diesem Anruf? Drücken Sie 1 bis 5.",
        "es": "¿Qué tan satisfecho quedó con esta llamada? Pulse de 1 a 5.",
    },
    "survey.invalid": {
        "en": "Sorry, that is not a valid choice.",
        "fr": "Désolé, ce choix n'est pas valide.",
        "de": "Entschuldigung, diese Auswahl ist ungültig.",
        "es": "Lo siento, esa opción no es válida.",
    },
    "survey.thanks": {
        "en": "Thank you for your feedback.",
        "fr": "Merci pour votre avis.",
        "de": "Vielen Dank für Ihre Bewertung.",
        "es": "Gracias por su opinión.",
    },
    "recording.consent": {
        "en": "This call is recorded for quality and training.",
        "fr": "Cet appel est enregistré à des fins de qualité et de formation.",
        "de": "Dieses Gespräch wird zu Qualitäts- und Schulungszwecken aufgezeichnet.",
        "es": "Esta llamada se graba con fines de calidad y formación.",
        "pt": "Esta chamada é gravada para fins de qualidade e formação.",
        "it": "Questa chiamata viene registrata per finalità di qualità e formazione.",
        "nl": "Dit gesprek wordt opgenomen voor kwaliteits- en trainingsdoeleinden.",
        "ru": "Этот звонок записывается в целях контроля качества и обучения.",
        "ar": "يتم تسجيل هذه المكالمة لأغراض الجودة والتدريب.",
        "he": "שיחה זו מוקלטת לצורכי בקרת איכות והדרכה.",
        "hi": "गुणवत्ता और प्रशिक्षण के लिए यह कॉल रिकॉर्ड की जा रही है।",
        "zh": "为了保证服务质量和员工培训，本次通话将被录音。",
        "yue": "為咗保證服務質素同培訓，今次通話會被錄音。",
        "ja": "この おでんわ は ひんしつ こうじょう と けんしゅう の ため ろくおん されて います。",
        "ko": "이 통화는 품질 관리와 교육을 위해 녹음됩니다.",
        "th": "การสนทนานี้จะถูกบันทึกเพื่อคุณภาพและการฝึกอบรม",
        "vi": "Cuộc gọi này được ghi âm nhằm mục đích nâng cao chất lượng và đào tạo.",
        "id": "Panggilan ini direkam untuk keperluan mutu dan pelatihan.",
        "ms": "Panggilan ini dirakam untuk tujuan kualiti dan latihan.",
        "tr": "Bu görüşme kalite ve eğitim amacıyla kaydedilmektedir.",
        "pl": "Ta rozmowa jest nagrywana w celach jakościowych i szkoleniowych.",
    },
    "survey.goodbye": {
        "en": "Goodbye.",
        "fr": "Au revoir.",
        "de": "Auf Wiederhören.",
        "es": "Adiós.",
    },
}

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
    """The prompt's sentence in its language (catalog first, then the fallback, then English)."""
    values = dict(prompt.values)
    try:
        from i18n.prompts import PromptCatalog  # the i18n package's catalogs

        key = CATALOG_KEYS.get(prompt.key, prompt.key)
        return str(PromptCatalog().text(key, prompt.language, **values))
    except Exception:  # catalog missing, or key unknown there: use ours
        pass
    texts = FALLBACK_TEXTS.get(prompt.key, {})
    template = texts.get(prompt.language) or texts.get("en") or prompt.key
    return template.format(**values)


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
