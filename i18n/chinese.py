"""Traditional Chinese, derived from Simplified with OpenCC (the `opencc` package).

The pages' Chinese catalog and the translation engines write Simplified Chinese; customers
in Taiwan, Hong Kong and Macau read Traditional. Rather than a second catalog to keep in
step by hand, the Traditional text is converted from the Simplified when it is needed,
with OpenCC's conversion for the reader's region:

| form | OpenCC config | for |
|---|---|---|
| `zh-TW` | `s2twp` | Taiwan: Traditional characters and Taiwan's words (软件 → 軟體) |
| `zh-HK` | `s2hk` | Hong Kong: Hong Kong's variant characters (里面 → 裏面) |
| `zh-Hant` | `s2t` | Traditional anywhere else (`zh-MO`, `zh-Hant-SG`): OpenCC's standard |

A tag reaches its form by `i18n.language.match_language` (script first, then region), so
the pages and the chat's translations agree: `zh-Hant-TW` is `zh-TW`, `zh-MO` is
`zh-Hant`, and `zh`, `zh-CN`, `zh-SG` and `zh-Hans-HK` are Simplified (no conversion).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import cache

import opencc

from i18n.language import match_language

SIMPLIFIED = "zh"
# The Traditional forms served, each with its OpenCC configuration (see the table above).
TRADITIONAL: dict[str, str] = {"zh-Hant": "s2t", "zh-TW": "s2twp", "zh-HK": "s2hk"}


def traditional_form(tag: str) -> str | None:
    """The Traditional form (`TRADITIONAL`'s key) a reader of `tag` gets, None for a reader
    of Simplified Chinese or of another language."""
    found = match_language(tag, [SIMPLIFIED, *TRADITIONAL])
    return found if found in TRADITIONAL else None


def opencc_config(tag: str) -> str | None:
    """The OpenCC configuration that turns Simplified into `tag`'s script, None for none."""
    form = traditional_form(tag)
    return TRADITIONAL[form] if form is not None else None


def with_traditional(languages: Sequence[str]) -> list[str]:
    """`languages`, with the Traditional forms added when Simplified Chinese is one of
    them (the forms are derived from it)."""
    out = list(languages)
    if SIMPLIFIED in out:
        out += [form for form in TRADITIONAL if form not in out]
    return out


class _Converter:
    """One OpenCC converter, used by one thread at a time (chat translations run on
    worker threads; OpenCC does not promise its converters are thread-safe)."""

    def __init__(self, config: str) -> None:
        self._converter = opencc.OpenCC(config)
        self._lock = threading.Lock()

    def convert(self, text: str) -> str:
        with self._lock:
            return str(self._converter.convert(text))


@cache
def _converter(config: str) -> _Converter:
    return _Converter(config)


def to_script(text: str, tag: str) -> str:
    """Simplified Chinese `text` as a reader of `tag` writes it: converted with OpenCC for
    a Traditional reader (`zh-TW`, `zh-HK`, `zh-Hant`), unchanged for anyone else."""
    config = opencc_config(tag)
    if config is None or not text:
        return text
    return _converter(config).convert(text)
