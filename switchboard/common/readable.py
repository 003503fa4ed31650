"""Text a person is to read: something shows, and no control character but line breaks
and tabs. One rule for a chat message, a case's subject and a note (the API), mirrored
by the pages' check (`message-text.js`)."""

from __future__ import annotations

import unicodedata

# Characters that show nothing: spaces and separators, format marks (zero-width space and
# joiner, direction marks) and controls. A message of these alone reads as an empty bubble.
_INVISIBLE = ("Z", "Cf", "Cc")
# Controls a message may carry: its line breaks and tabs (NUL and the rest are refused).
_CONTROLS_KEPT = frozenset("\n\r\t")


def _chars(*spans: tuple[int, int]) -> frozenset[str]:
    return frozenset(chr(cp) for first, last in spans for cp in range(first, last + 1))


# Characters that draw nothing though Unicode files them as letters, marks or symbols,
# not Z/Cf/Cc: the ignorable ones outside Cf (the Hangul fillers U+115F, U+1160, U+3164,
# U+FFA0, the combining grapheme joiner U+034F, the Khmer inherent vowels U+17B4-17B5,
# the variation selectors U+180B-180D, U+180F, U+FE00-FE0F, U+E0100-E01EF) and the
# Braille blank U+2800. The one list: the pages' check (message-text.js
# NOTHING_TO_READ, the customer's page and the desk) mirrors it, and docs/desktop.md
# names them.
BLANK = _chars(
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180D),
    (0x180F, 0x180F),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xE0100, 0xE01EF),
)


def readable(text: str) -> bool:
    """Something a reader sees, and no control character but line breaks and tabs."""
    if any(unicodedata.category(ch) == "Cc" and ch not in _CONTROLS_KEPT for ch in text):
        return False
    return any(
        not unicodedata.category(ch).startswith(_INVISIBLE) and ch not in BLANK for ch in text
    )
