"""Emotion words in a customer's message, and a simple sentiment score: pure functions.

Each language has a `Lexicon` (shipped for the twenty prompt languages in
`config/emotion/<language>.toml`, editable): phrases that call a person at once
(`escalate`), words that lower or raise the score, `neutral` phrases that say nothing of
the customer's mood although a listed word is in them (a name, a compound: "angry
birds", "投诉电话", the complaints number), and negators that flip what they govern ("not
angry", "不生气", "怒っていない"), except where they begin an `amplifiers` phrase, a
negator that strengthens ("never so disappointed", "nunca tan enfadado": VADER's
"never so" / "never this").

An escalation phrase fires alone, so it must say that the customer is upset or wants a
person (or the courts) whatever the sentence around it: a single word with an everyday
other sense (a profession, "lawyer", "avocat"; the name of a procedure or its form,
"complaint", "reclamación"; a word another variety uses otherwise, Chilean "harta",
"very") is listed as `negative` instead, where it counts but needs company to trigger,
and the phrases that carry the intent ("my lawyer", "estoy harta") escalate.

Matching ignores case, accents, letter width and kana (katakana matches hiragana): both
the message and the phrases pass through `normalize`. Languages written with spaces are
matched on whole words (a trailing `*` on a word of a phrase matches any ending, for
inflections: `decepcionad*`; `clitics` lists prefixes glued to words, as Arabic `ال`
and Hebrew `ה`, stripped from any word of a phrase: "مع المدير" is "مع مدير"); languages
written without spaces (zh, ja, th) are matched as runs of characters, a space between
two Han or kana characters skipped ("转 人 工"). German phrases match as typed without
umlauts too ("wuetend"). Overlapping matches keep the longest ("不满意" wins over
"满意"); a neutral phrase that wins so takes the words it covers out of the reading.
Anger emoji count as negative words in every language. A message may be read after the
customer's message before it (`before`), for what joins the two only: "我要" + "投诉".

The score is lexicon-based, in the manner of VADER: escalation phrases count -2,
negative words -1, positive +1, a negated word half of its opposite, exclamation
marks add weight, and the sum s is squashed to s / sqrt(s² + 15) in [-1, 1]. No model:
a lexicon works the same in twenty languages, runs in microseconds, and an operator can
read and edit why a message scored what it did.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from switchboard.common.languages import primary

# Letters that do not decompose into a base and an accent but are typed without one.
_FOLD = str.maketrans(
    {"ı": "i", "ł": "l", "ø": "o", "đ": "d", "ð": "d", "æ": "ae", "œ": "oe", "ى": "ي", "’": "'"}
)
ALPHA = 15.0  # VADER's normalisation constant
NEGATED = -0.5  # what a negated word counts, relative to itself
EXCLAMATION = 0.3  # weight of each '!' (at most three) in the direction of the sum
WEIGHTS = {"escalate": -2.0, "negative": -1.0, "positive": 1.0}
KINDS = ("escalate", "negative", "positive", "neutral")  # neutral: matched, then dropped
WORDS_BEFORE, WORDS_AFTER = 3, 2  # negation windows, in words
CHARS_BEFORE, CHARS_AFTER = 4, 6  # ... and in characters (scripts without spaces)
_STOPS = set(".,;:!?。，、；：！？\n()[]")
# Faces and symbols of anger: a negative word in every language (a single one lowers the
# score as one negative word does, and does not trigger alone; three do, as three words).
ANGER_EMOJI = frozenset("\U0001f621\U0001f92c\U0001f47f\U0001f4a2\U0001f620")  # 😡🤬👿💢😠
# How a language is typed without its letters: German ä ö ü as ae oe ue ("wuetend"; ß is
# already ss once case is folded). A phrase of that language matches both spellings.
ASCII_SPELLINGS: dict[str, tuple[tuple[str, str], ...]] = {
    "de": (("ä", "ae"), ("ö", "oe"), ("ü", "ue")),
}
# Han and kana: a space between two of them carries nothing in zh, yue, ja ("转 人 工", a
# full-width space alike once normalized), so character matching skips it.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_CJK_GAP = re.compile(f"(?<=[{_CJK}])\\s+(?=[{_CJK}])")


def _accent(char: str) -> bool:
    """A combining mark that is an accent (Latin, Greek, Cyrillic, Hebrew points, Arabic
    harakat, the Devanagari nukta), not a vowel sign: Thai, Indic vowels and Japanese
    voicing marks are part of the letter and stay."""
    code = ord(char)
    return unicodedata.category(char) == "Mn" and (
        0x300 <= code <= 0x36F
        or 0x591 <= code <= 0x5C7
        or 0x610 <= code <= 0x61A
        or 0x64B <= code <= 0x65F
        or code in (0x670, 0x93C)
    )


def normalize(text: str) -> str:
    """Case-, accent-, width- and kana-insensitive form of `text`."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_FOLD)
    kept = []
    for char in unicodedata.normalize("NFD", folded):
        if _accent(char) or char == "\u0640":  # accents, Arabic tatweel
            continue
        code = ord(char)
        if 0x30A1 <= code <= 0x30F6:  # katakana -> hiragana
            char = chr(code - 0x60)
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


def _is_word_char(char: str) -> bool:
    return unicodedata.category(char)[0] in "LMN"


def tokens(text: str) -> list[tuple[str, int, int]]:
    """Words of a normalized text with their spans: runs of letters, marks and digits
    (apostrophes split them, so `l'avion` is `l` and `avion`)."""
    found, start = [], None
    for index, char in enumerate(text):
        if _is_word_char(char):
            if start is None:
                start = index
        elif start is not None:
            found.append((text[start:index], start, index))
            start = None
    if start is not None:
        found.append((text[start:], start, len(text)))
    return found


class MatchMode(StrEnum):
    WORDS = "words"  # languages written with spaces
    CHARACTERS = "characters"  # zh, ja, th: runs of characters


@dataclass(frozen=True)
class Lexicon:
    """One language's lists, as written in its file."""

    language: str
    mode: MatchMode = MatchMode.WORDS
    escalate: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()
    positive: tuple[str, ...] = ()
    neutral: tuple[str, ...] = ()  # phrases that take a listed word out of a reading
    negators: tuple[str, ...] = ()
    negators_after: tuple[str, ...] = ()
    amplifiers: tuple[str, ...] = ()
    clitics: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    """A phrase of a list found in a message."""

    phrase: str  # as written in the list
    kind: str  # escalate, negative or positive
    words: str  # the message's words that matched
    negated: bool
    language: str


@dataclass(frozen=True)
class Reading:
    """What a message says: the phrases found and the sentiment score in [-1, 1]."""

    hits: tuple[Hit, ...]
    score: float

    @property
    def escalations(self) -> tuple[Hit, ...]:
        """Escalation phrases that were not negated."""
        return tuple(hit for hit in self.hits if hit.kind == "escalate" and not hit.negated)


@dataclass(frozen=True)
class _Phrase:
    written: str
    kind: str
    parts: tuple[tuple[str, bool], ...]  # (normalized word, matches any ending)
    text: str  # normalized, for character matching


def _phrase(written: str, kind: str, spelled: str | None = None) -> _Phrase:
    """`written` as matched (or as `spelled`, another spelling of it), kept as written."""
    text = normalize(written if spelled is None else spelled).strip()
    parts = []
    for word, _, end in tokens(text):
        parts.append((word, text[end : end + 1] == "*"))
    return _Phrase(written, kind, tuple(parts), text.replace("*", ""))


def _spellings(written: str, language: str) -> list[str]:
    """`written` and, where the language has them, its ASCII spelling (`wuetend`)."""
    forms = [written]
    folded = written.casefold()
    for letter, ascii_form in ASCII_SPELLINGS.get(language, ()):
        folded = folded.replace(letter, ascii_form)
    if folded != written.casefold():
        forms.append(folded)
    return forms


def _phrases(written: Iterable[str], kind: str, language: str) -> list[_Phrase]:
    return [
        _phrase(phrase, kind, form)
        for phrase in written
        if normalize(phrase).strip(" *")
        for form in _spellings(phrase, language)
    ]


@dataclass
class _Compiled:
    lexicon: Lexicon
    phrases: list[_Phrase] = field(default_factory=list)
    negators: list[_Phrase] = field(default_factory=list)
    negators_after: list[_Phrase] = field(default_factory=list)
    amplifiers: list[_Phrase] = field(default_factory=list)
    clitics: tuple[str, ...] = ()

    @classmethod
    def of(cls, lexicon: Lexicon) -> _Compiled:
        language = lexicon.language
        return cls(
            lexicon,
            [p for kind in KINDS for p in _phrases(getattr(lexicon, kind), kind, language)],
            _phrases(lexicon.negators, "negator", language),
            _phrases(lexicon.negators_after, "negator", language),
            _phrases(lexicon.amplifiers, "amplifier", language),
            tuple(normalize(c) for c in lexicon.clitics if c.strip()),
        )


def _word_fits(word: str, part: tuple[str, bool], clitics: tuple[str, ...]) -> bool:
    wanted, any_ending = part
    forms = [word] + [word[len(c) :] for c in clitics if word.startswith(c) and len(word) > len(c)]
    return any(form.startswith(wanted) if any_ending else form == wanted for form in forms)


def _at(
    words: list[tuple[str, int, int]], index: int, phrase: _Phrase, clitics: tuple[str, ...]
) -> bool:
    """Whether `phrase` starts at word `index`; each word may carry a clitic ("مع المدير",
    "עם המנהל": the article is glued to the later word as often as to the first)."""
    if index + len(phrase.parts) > len(words):
        return False
    return all(
        _word_fits(words[index + k][0], part, clitics) for k, part in enumerate(phrase.parts)
    )


def _squeezed(text: str) -> tuple[str, list[int]]:
    """`text` without the spaces between Han or kana characters, and where in `text` each
    character kept stands."""
    kept: list[str] = []
    where: list[int] = []
    at = 0
    for gap in _CJK_GAP.finditer(text):
        kept.append(text[at : gap.start()])
        where.extend(range(at, gap.start()))
        at = gap.end()
    kept.append(text[at:])
    where.extend(range(at, len(text)))
    return "".join(kept), where


def _unbroken(text: str) -> bool:
    return not any(char in _STOPS for char in text)


class Emotions:
    """Reads messages with the lexicon of their language (and the always-read ones)."""

    def __init__(self, lexicons: Iterable[Lexicon], always: Iterable[str] = ()) -> None:
        self.lexicons = {lexicon.language: _Compiled.of(lexicon) for lexicon in lexicons}
        self.always = tuple(always)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self.lexicons))

    def read(self, text: str, language: str, before: str = "") -> Reading:
        """The phrases of `language` (its primary subtag: `pt-BR` reads `pt`) and of the
        always-read languages found in `text`, the anger emoji in it, and the score.
        `before` is the customer's message just before, read with it only for what joins
        them: a phrase begun there and ended in `text` ("我要" + "投诉"), a negator there
        of a word here ("I'm not" + "angry"); its own phrases are its own reading's."""
        own = primary(language)
        normal = normalize(text)
        joined, offset = normal, 0
        if before.strip():
            previous = normalize(before)
            joined, offset = f"{previous} {normal}", len(previous) + 1
        hits: list[Hit] = []
        seen = set()
        for code in (own, *self.always):
            compiled = self.lexicons.get(code)
            if compiled is None or code in seen:
                continue
            seen.add(code)
            hits += [hit for hit, _, end in self._hits(joined, compiled) if end > offset]
        hits += [Hit(char, "negative", char, False, own) for char in normal if char in ANGER_EMOJI]
        return Reading(tuple(hits), score(hits, normal.count("!")))

    def _hits(self, text: str, compiled: _Compiled) -> list[tuple[Hit, int, int]]:
        """The hits with where they stand in `text`."""
        if compiled.lexicon.mode == MatchMode.CHARACTERS:
            spans = self._character_spans(text, compiled)
        else:
            spans = self._word_spans(text, compiled)
        language = compiled.lexicon.language
        return [
            (Hit(phrase.written, phrase.kind, text[start:end], negated, language), start, end)
            for phrase, start, end, negated in spans
            if phrase.kind != "neutral"  # it won its words from the other lists: say nothing
        ]

    def _word_spans(self, text: str, compiled: _Compiled) -> list[tuple[_Phrase, int, int, bool]]:
        words = tokens(text)
        found = []
        for index in range(len(words)):
            for phrase in compiled.phrases:
                if phrase.parts and _at(words, index, phrase, compiled.clitics):
                    last = index + len(phrase.parts) - 1
                    found.append((phrase, index, last))
        chosen = _longest_first([(p, words[i][1], words[j][2], i, j) for p, i, j in found])
        spans = []
        for phrase, start, end, first, last in chosen:
            negated = self._negated_words(text, words, first, last, compiled)
            spans.append((phrase, start, end, negated))
        return spans

    @staticmethod
    def _negated_words(
        text: str, words: list[tuple[str, int, int]], first: int, last: int, compiled: _Compiled
    ) -> bool:
        for k in range(max(0, first - WORDS_BEFORE), first):
            for negator in compiled.negators:
                end = k + len(negator.parts) - 1
                if (
                    end < first
                    and _at(words, k, negator, ())
                    and _unbroken(text[words[end][2] : words[first][1]])
                    and not any(
                        k + len(a.parts) <= first and _at(words, k, a, ())
                        for a in compiled.amplifiers
                    )
                ):
                    return True
        for k in range(last + 1, min(len(words), last + 1 + WORDS_AFTER)):
            for negator in compiled.negators_after:
                if _at(words, k, negator, ()) and _unbroken(text[words[last][2] : words[k][1]]):
                    return True
        return False

    @staticmethod
    def _character_spans(written: str, compiled: _Compiled) -> list[tuple[_Phrase, int, int, bool]]:
        """Runs of characters, the spaces between Han or kana skipped; spans in `written`."""
        text, where = _squeezed(written)
        found = []
        for phrase in compiled.phrases:
            start = text.find(phrase.text)
            while start >= 0 and phrase.text:
                found.append((phrase, start, start + len(phrase.text), 0, 0))
                start = text.find(phrase.text, start + 1)
        spans = []
        for phrase, start, end, _, _ in _longest_first(found):
            before = text[max(0, start - CHARS_BEFORE) : start]
            after = text[end : end + CHARS_AFTER]
            negated = any(
                n.text in before and _unbroken(before[before.rfind(n.text) :])
                for n in compiled.negators
            ) or any(
                n.text in after and _unbroken(after[: after.find(n.text)])
                for n in compiled.negators_after
            )
            spans.append((phrase, where[start], where[end - 1] + 1, negated))
        return spans


def _longest_first(
    found: list[tuple[_Phrase, int, int, int, int]],
) -> list[tuple[_Phrase, int, int, int, int]]:
    """Non-overlapping matches, the longest winning where they overlap."""
    taken: list[tuple[int, int]] = []
    chosen = []
    for match in sorted(found, key=lambda m: (-(m[2] - m[1]), m[1])):
        start, end = match[1], match[2]
        if all(end <= s or start >= e for s, e in taken):
            taken.append((start, end))
            chosen.append(match)
    return sorted(chosen, key=lambda m: m[1])


def score(hits: Iterable[Hit], exclamations: int = 0) -> float:
    """The sentiment of the hits in [-1, 1] (0: nothing found)."""
    total = sum(WEIGHTS[hit.kind] * (NEGATED if hit.negated else 1.0) for hit in hits)
    if total:
        total += math.copysign(EXCLAMATION * min(exclamations, 3), total)
    return total / math.sqrt(total * total + ALPHA)
