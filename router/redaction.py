"""Card details taken out of free text before anything keeps, translates or sends it.

PCI DSS forbids keeping a primary account number in clear, and the card's security code
(CVV) at all, and customers do type theirs into a chat to pay a fee. Chat messages,
wrap-up notes, case subjects and case notes pass `Redactor` where they enter the router;
the logging filter (`router.reports.privacy`) masks with the same `mask_card_numbers` as
a second line of defence.

A candidate is 13 to 19 digits, of any script (`unicodedata`: full-width and
Arabic-Indic digits count as their values), maybe split by single spaces or dashes, or
split as a card prints them (fours, or Amex's 4-6-5) by anything a line of groups is
written with: line breaks, several spaces, dots, slashes. It is a card number when it
passes the Luhn check (`stdnum.luhn`) and starts as a card scheme's numbers of that
length start (`ISSUERS`). The issuer rule is what keeps airline numbers: a ticket number
(13 digits: an airline's 3-digit code and 10 more) passes Luhn one time in ten, and no
scheme issues 13-digit numbers any more, so 13 digits are never a card; nor are phone
numbers, dates, amounts or booking references. The mask keeps the last four digits, as
PCI's truncation allows: `•••• •••• •••• 4242`.

The card's expiry and security code are masked digit by digit (`••/••`, `•••`) where a
text with a card number holds them: right after the card (or after each other), with
only spaces or punctuation between, or after a word that names them (`EXPIRY_WORDS`,
`CODE_WORDS`, in the languages served). Three or four digits after a word that names
nothing but a card's security code (`SECURITY_CODE_WORDS`: "CVV", "安全码") are
masked in any text, a card number in it or not; a short number alone (the next message's
"123") is not: it cannot be told from a count, a flight or a time.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

from stdnum import luhn

CARD_NUMBER = "card_number"
CARD_EXPIRY = "card_expiry"
SECURITY_CODE = "card_security_code"
MASK = "•••• •••• •••• "
HIDDEN = "•"
# Between two digits of one number: one space (also no-break, narrow and ideographic) or
# one dash (also the hyphens and the full-width hyphen-minus of CJK input methods).
_SEPARATORS = " \u00a0\u202f\u3000-\u2010\u2011\u2012\u2013\uff0d"
# Between two groups of a number written as a card prints it: up to four of these (a
# line break, a tab, spaces, dots, slashes, bars, underscores; their full-width and
# Japanese forms). Not commas: a list of numbers is written with them.
_LOOSE = _SEPARATORS + "\t\r\n./\\|_\u00b7\u30fb\u3002\uff0e\uff0f\uff5c"
# A run of digits (`\d`: any script's) in groups, with separators between them.
_RUN = re.compile(rf"(?<!\d)\d+(?:[{re.escape(_LOOSE)}]{{1,4}}\d+)*")
_GROUP = re.compile(r"\d+")
_LENGTHS = range(13, 20)
_LONG = range(16, 20)

# (lowest prefix, highest prefix, lengths): the schemes' issuer numbers (IINs) by length.
# No 13-digit range: 13 digits is an airline ticket number, and the last 13-digit cards
# (Visa's) are no longer issued.
ISSUERS: tuple[tuple[str, str, range | tuple[int, ...]], ...] = (
    ("1", "1", (15,)),  # UATP, the airlines' own card
    ("2200", "2204", _LONG),  # Mir
    ("2221", "2720", _LONG),  # Mastercard's 2-series
    ("300", "305", (14, *_LONG)),  # Diners Club
    ("34", "34", (15,)),  # American Express
    ("35", "35", _LONG),  # JCB (3528-3589)
    ("36", "36", (14, *_LONG)),  # Diners Club International
    ("37", "37", (15,)),  # American Express
    ("38", "39", _LONG),  # Diners Club
    ("4", "4", _LONG),  # Visa
    ("50", "59", _LONG),  # Mastercard (51-55), Maestro
    ("60", "69", _LONG),  # Discover, UnionPay, Maestro, RuPay, ...
    ("81", "82", _LONG),  # UnionPay, RuPay
    ("9792", "9792", (16,)),  # Troy
)

# Words naming a card's security code and nothing else: the code after one is masked in
# any text. Matched without case, an accented letter also as its plain one.
SECURITY_CODE_WORDS = (
    *("cvv", "cvv2", "cvc", "cvc2", "cvn", "cvd", "csc", "cav2", "cid2", "ccv", "cv2"),
    *("security code", "security number", "card verification"),  # en
    *("código de seguridad", "cód. de seguridad"),  # es
    *("cryptogramme", "code de sécurité", "code de vérification"),  # fr
    *("prüfnummer", "pruefnummer", "kartenprüfnummer", "kartenpruefnummer"),  # de
    *("prüfziffer", "sicherheitscode"),
    *("código de segurança", "código de verificação"),  # pt
    "codice di sicurezza",  # it
    *("beveiligingscode", "veiligheidscode", "kaartverificatiecode"),  # nl
    *("kod zabezpieczający", "kod bezpieczeństwa"),  # pl
    *("код безопасности", "код проверки"),  # ru
    "güvenlik kodu",  # tr
    *("kode keamanan", "kod keselamatan"),  # id, ms
    "mã bảo mật",  # vi
    *("安全码", "安全碼", "验证码", "驗證碼"),  # zh, yue
    "セキュリティコード",  # ja
    *("보안코드", "보안 코드"),  # ko
    "รหัสความปลอดภัย",  # th
    *("رمز الأمان", "رمز التحقق"),  # ar
    "קוד אבטחה",  # he
    "सुरक्षा कोड",  # hi
)
# Words that name a code among others ("code", "PIN"): a code after one is masked in a
# text with a card number.
CODE_WORDS = (
    *("code", "cid", "pin", "código", "codigo", "cód", "codice", "kod", "kode", "код"),
    *("코드", "コード", "密码", "密碼", "后三位", "後三位"),
)
# Words naming a card's expiry: an expiry after one is masked in a text with a card number.
EXPIRY_WORDS = (
    *("exp", "expiry", "expires", "expiring", "expiration", "valid thru", "valid through"),
    *("valid until", "good thru"),  # en
    *("vence", "vencimiento", "caducidad", "caduca", "expiración", "expira"),  # es
    *("expire", "validité", "valable jusqu'au"),  # fr
    *("gültig bis", "ablaufdatum", "ablauf", "läuft ab", "verfallsdatum", "gültigkeit"),  # de
    *("validade", "vencimento"),  # pt
    *("scadenza", "scade"),  # it
    *("vervaldatum", "geldig tot"),  # nl
    *("ważna do", "ważność", "data ważności"),  # pl
    *("срок действия", "действительна до"),  # ru
    "son kullanma",  # tr
    *("berlaku hingga", "masa berlaku", "tarikh luput"),  # id, ms
    "hết hạn",  # vi
    *("有效期", "到期", "有効期限"),  # zh, yue, ja
    *("유효기간", "만료"),  # ko
    "หมดอายุ",  # th
    *("تاريخ الانتهاء", "ينتهي"),  # ar
    "תוקף",  # he
    "समाप्ति",  # hi
)

# What may stand between a card number and its expiry or code with no word naming them
# (`4242… 12/27 123`, `4242…, 12/27, 123`): up to four spaces or punctuation marks.
_NEXT_TO = re.compile(r"[^\w•]{0,4}")
# What may stand between a word and what it names (`CVV: 123`, `expires at the end of
# 12/27`, `安全码是123`): up to 40 characters of no digit, and at most four words.
_AFTER_WORD = re.compile(r"[^\d•]{0,40}")
_WORDS_BETWEEN = 4
_WORD = re.compile(r"[^\W\d_]+")
# A number written as an expiry or a code is: groups joined by one dash, slash or dot
# (with a space either side, maybe). A dot or a third group makes it an amount or a date.
_NUMBER = re.compile(r"\d+(?: ?[-/.\uff0d\uff0f] ?\d+)*")
_EXPIRY_SEPARATORS = "-/\uff0d\uff0f"


class Redacted(NamedTuple):
    """Text as it may be kept, and what was taken out of it (one kind per thing)."""

    text: str
    found: tuple[str, ...] = ()

    @property
    def kinds(self) -> list[str]:
        """What the text had taken out, each kind once (a message's `redacted`)."""
        return sorted(set(self.found))


class Span(NamedTuple):
    """Where something to mask is in a text, and what it is."""

    start: int
    end: int
    kind: str


def ascii_digits(digits: str) -> str:
    """'٤٢٤٢' and '４２４２' as '4242': every script's digits as their values."""
    return "".join(str(unicodedata.decimal(char)) for char in digits)


def is_card_number(digits: str) -> bool:
    """Whether ASCII `digits` are a card number: a scheme's prefix for that length, and
    the Luhn check."""
    if len(digits) not in _LENGTHS:
        return False
    plausible = any(
        low <= digits[: len(low)] <= high and len(digits) in lengths
        for low, high, lengths in ISSUERS
    )
    return plausible and luhn.is_valid(digits)


def printed_as_a_card(lengths: Sequence[int]) -> bool:
    """Whether groups of these lengths are a card's as printed: fours (the last maybe
    shorter), or Amex's 4-6-5 and Diners' 4-6-4. A number split by line breaks, dots or
    slashes is only taken for a card so: a date, a phone number, an address or a list
    of numbers is not written in fours."""
    *body, last = lengths
    fours = all(length == 4 for length in body) and 1 <= last <= 4
    return fours or tuple(lengths) in {(4, 6, 5), (4, 6, 4)}


def card_spans(text: str) -> list[tuple[int, int]]:
    """Where card numbers are in `text` (start, end). A run of digit groups may hold one
    beside other numbers (an expiry, a CVV, a booking's digits): from each group on, the
    shortest run of whole groups that is a card number is taken. Its groups are split by
    single spaces or dashes, or printed as a card's (`printed_as_a_card`)."""
    spans = []
    for run in _RUN.finditer(text):
        groups = [(m.start() + run.start(), m.end() + run.start()) for m in _GROUP.finditer(run[0])]
        first = 0
        while first < len(groups):
            digits = ""
            for last in range(first, len(groups)):
                digits += ascii_digits(text[groups[last][0] : groups[last][1]])
                if len(digits) > _LENGTHS[-1]:
                    break
                if is_card_number(digits) and _written_as_one(text, groups[first : last + 1]):
                    spans.append((groups[first][0], groups[last][1]))
                    first = last
                    break
            first += 1
    return spans


def _written_as_one(text: str, groups: Sequence[tuple[int, int]]) -> bool:
    """Whether the groups are one number as written: single spaces or dashes between
    them, or a card's grouping."""
    between = [text[end:start] for (_, end), (start, _) in itertools.pairwise(groups)]
    tight = all(len(gap) == 1 and gap in _SEPARATORS for gap in between)
    return tight or printed_as_a_card([end - start for start, end in groups])


def _cased(char: str) -> bool:
    """A letter of a script with cases (Latin, Cyrillic, Greek...), whose words are
    written apart: a number glued to one (`BA117`, `12A`) is no code."""
    return char.lower() != char.upper()


def _pattern(words: Iterable[str]) -> re.Pattern[str]:
    """One pattern for `words`, longest first, without case, an accented letter also as
    its plain one, any space as any spaces. A word of a script that writes spaces
    between words matches a whole word only ("cid" is not in "decided")."""

    def letter(char: str) -> str:
        if char == " ":
            return r"\s+"
        parts = unicodedata.normalize("NFD", char)
        if len(parts) > 1 and all(unicodedata.combining(mark) for mark in parts[1:]):
            return f"[{re.escape(char)}{re.escape(parts[0])}]"
        return re.escape(char)

    alternatives = []
    for word in sorted(set(words), key=len, reverse=True):
        body = "".join(letter(char) for char in word)
        before = r"(?<![^\W\d_])" if _cased(word[0]) else ""
        after = r"(?![^\W\d_])" if _cased(word[-1]) or word[-1] == "." else ""
        alternatives.append(f"{before}{body}{after}")
    return re.compile("|".join(alternatives), re.IGNORECASE)


_SECURITY_CODE_WORD = _pattern(SECURITY_CODE_WORDS)
_CODE_WORD = _pattern(CODE_WORDS)
_EXPIRY_WORD = _pattern(EXPIRY_WORDS)


def _number_at(text: str, start: int) -> Span | None:
    """The expiry (MM/YY, MM/YYYY, MM-YY) or the 3-4 digit code written at `start`,
    standing alone (no letter of a cased script or digit right after it: not `12A`, not
    `BA117`'s digits); None for any other number (an amount, a date, a booking's)."""
    found = _NUMBER.match(text, start)
    if found is None:
        return None
    after = text[found.end() : found.end() + 1]
    if after and _cased(after):
        return None
    groups = _GROUP.findall(found[0])
    if len(groups) == 1 and len(groups[0]) in (3, 4):
        return Span(start, found.end(), SECURITY_CODE)
    if len(groups) == 2 and _expiry(*(ascii_digits(group) for group in groups)):
        joint = found[0][len(groups[0]) : -len(groups[1])].strip()
        if joint in _EXPIRY_SEPARATORS:
            return Span(start, found.end(), CARD_EXPIRY)
    return None


def _expiry(month: str, year: str) -> bool:
    """Whether these are an expiry's month (1-12) and year (YY, or 20YY)."""
    valid_year = len(year) == 2 or (len(year) == 4 and year.startswith("20"))
    return len(month) <= 2 and 1 <= int(month) <= 12 and valid_year


def _named(text: str, words: re.Pattern[str], kinds: frozenset[str]) -> list[Span]:
    """What the `words` name, of `kinds`: the number after each, with at most four words
    (none glued to the number, as `IB` in `IB3166`) and no other number between. A
    4-digit code after an expiry's word is the expiry written MMYY."""
    spans = []
    for word in words.finditer(text):
        gap = _AFTER_WORD.match(text, word.end())
        assert gap is not None  # it matches the empty string
        between = gap[0]
        if len(_WORD.findall(between)) > _WORDS_BETWEEN:
            continue
        if between and _cased(between[-1]):
            continue
        found = _number_at(text, gap.end())
        if found is None:
            continue
        if CARD_EXPIRY in kinds and found.kind == SECURITY_CODE:
            digits = ascii_digits(text[found.start : found.end])
            if len(digits) == 4 and _expiry(digits[:2], digits[2:]):
                found = found._replace(kind=CARD_EXPIRY)
        if found.kind in kinds:
            spans.append(found)
    return spans


def _following(text: str, after: Span) -> list[Span]:
    """The expiry and the code right after a card number or after each other (spaces or
    punctuation between): each at most once, the card's own first."""
    spans: list[Span] = []
    taken = {after.kind}
    end = after.end
    while True:
        gap = _NEXT_TO.match(text, end)
        assert gap is not None  # it matches the empty string
        found = _number_at(text, gap.end())
        if found is None or found.kind in taken:
            return spans
        spans.append(found)
        taken.add(found.kind)
        end = found.end


def sensitive_spans(text: str) -> list[Span]:
    """Where card numbers, their expiries and security codes are in `text`, in order,
    none overlapping (a card number first)."""
    cards = [Span(start, end, CARD_NUMBER) for start, end in card_spans(text)]
    named = _named(text, _SECURITY_CODE_WORD, frozenset({SECURITY_CODE}))
    if cards:
        named += _named(text, _CODE_WORD, frozenset({SECURITY_CODE}))
        named += _named(text, _EXPIRY_WORD, frozenset({CARD_EXPIRY}))
        for anchor in sorted([*cards, *named]):
            named += _following(text, anchor)
    kept: list[Span] = []
    for span in [*cards, *sorted(named)]:
        if not any(span.start < other.end and other.start < span.end for other in kept):
            kept.append(span)
    return sorted(kept)


def _masked(written: str, kind: str) -> str:
    """The mask of a number as written: a card's last four digits, in the writer's
    script; no digit of an expiry or a code."""
    if kind == CARD_NUMBER:
        return MASK + "".join(char for char in written if char.isdecimal())[-4:]
    return "".join(HIDDEN if char.isdecimal() else char for char in written)


def redact(text: str) -> Redacted:
    """`text` with every card number, card expiry and security code masked, and one kind
    per thing masked."""
    spans = sensitive_spans(text)
    if not spans:
        return Redacted(text)
    parts, end = [], 0
    for start, stop, kind in spans:
        parts += [text[end:start], _masked(text[start:stop], kind)]
        end = stop
    parts.append(text[end:])
    return Redacted("".join(parts), tuple(span.kind for span in spans))


def mask_card_numbers(text: str) -> str:
    """`text` with every card number and what goes with it masked (the logging filter's
    pass)."""
    return redact(text).text


def uncounted(kind: str) -> None:
    """No metrics (tests, tools)."""


class Redactor:
    """Redaction where free text enters the router, each thing masked counted by kind
    (the node's `switchboard_chat_redactions_total`)."""

    def __init__(self, counted: Callable[[str], None] = uncounted) -> None:
        self.counted = counted

    def redact(self, text: str) -> Redacted:
        redacted = redact(text)
        for kind in redacted.found:
            self.counted(kind)
        return redacted
