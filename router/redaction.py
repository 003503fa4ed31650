"""Card numbers (PANs) taken out of free text before anything keeps, translates or sends it.

PCI DSS forbids keeping a primary account number in clear, and customers do type theirs
into a chat to pay a fee. Chat messages, wrap-up notes and case notes pass `Redactor`
where they enter the router; the logging filter (`router.reports.privacy`) masks with the
same `mask_card_numbers` as a second line of defence.

A candidate is 13 to 19 digits, of any script (`unicodedata`: full-width and
Arabic-Indic digits count as their values), maybe split by single spaces or dashes. It is
a card number when it passes the Luhn check (`stdnum.luhn`) and starts as a card scheme's
numbers of that length start (`ISSUERS`). The issuer rule is what keeps airline numbers:
a ticket number (13 digits: an airline's 3-digit code and 10 more) passes Luhn one time in
ten, and no scheme issues 13-digit numbers any more, so 13 digits are never a card; nor
are phone numbers, dates, amounts or booking references. The mask keeps the last four
digits, as PCI's truncation allows: `•••• •••• •••• 4242`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import NamedTuple

from stdnum import luhn

CARD_NUMBER = "card_number"
MASK = "•••• •••• •••• "
# Between two digits of one number: one space (also no-break, narrow and ideographic) or
# one dash (also the hyphens and the full-width hyphen-minus of CJK input methods).
_SEPARATORS = " \u00a0\u202f\u3000-\u2010\u2011\u2012\u2013\uff0d"
_SEP = f"[{re.escape(_SEPARATORS)}]"
# A run of digits (`\d`: any script's) with at most one separator between two of them.
_RUN = re.compile(rf"(?<!\d)\d(?:{_SEP}?\d)*(?!\d)")
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


class Redacted(NamedTuple):
    """Text as it may be kept, and what was taken out of it (one kind per number)."""

    text: str
    found: tuple[str, ...] = ()

    @property
    def kinds(self) -> list[str]:
        """What the text had taken out, each kind once (a message's `redacted`)."""
        return sorted(set(self.found))


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


def card_spans(text: str) -> list[tuple[int, int]]:
    """Where card numbers are in `text` (start, end). A run of digit groups may hold one
    beside other numbers (an expiry, a CVV, a booking's digits): from each group on, the
    shortest run of whole groups that is a card number is taken."""
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
                if is_card_number(digits):
                    spans.append((groups[first][0], groups[last][1]))
                    first = last
                    break
            first += 1
    return spans


def _masked(number: str) -> str:
    """The mask of a number as written: its last four digits, in the writer's script."""
    return MASK + "".join(char for char in number if char.isdecimal())[-4:]


def redact(text: str) -> Redacted:
    """`text` with every card number masked, and one `card_number` per number masked."""
    spans = card_spans(text)
    if not spans:
        return Redacted(text)
    parts, end = [], 0
    for start, stop in spans:
        parts += [text[end:start], _masked(text[start:stop])]
        end = stop
    parts.append(text[end:])
    return Redacted("".join(parts), (CARD_NUMBER,) * len(spans))


def mask_card_numbers(text: str) -> str:
    """`text` with every card number masked (the logging filter's pass)."""
    return redact(text).text


def uncounted(kind: str) -> None:
    """No metrics (tests, tools)."""


class Redactor:
    """Redaction where free text enters the router, each number masked counted by kind
    (the node's `switchboard_chat_redactions_total`)."""

    def __init__(self, counted: Callable[[str], None] = uncounted) -> None:
        self.counted = counted

    def redact(self, text: str) -> Redacted:
        redacted = redact(text)
        for kind in redacted.found:
            self.counted(kind)
        return redacted
