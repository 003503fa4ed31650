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

The other way, for the engines (whose Chinese is Simplified) and for an agent who reads
Simplified, a Traditional writer's text is simplified by the inverse configuration:
`tw2sp` for `zh-TW` (Taiwan's words become the mainland's: 計程車 → 出租车), `hk2s` for
`zh-HK`, `t2s` for `zh-Hant`. Between two Traditional forms nothing is converted.

A tag reaches its form by `i18n.language.match_language` (script first, then region), so
the pages and the chat's translations agree: `zh-Hant-TW` is `zh-TW`, `zh-MO` is
`zh-Hant`, and `zh`, `zh-CN`, `zh-SG` and `zh-Hans-HK` are Simplified (no conversion).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import cache

import opencc

from i18n.language import match_language, primary

SIMPLIFIED = "zh"
# The Traditional forms served, each with its OpenCC configuration (see the table above).
TRADITIONAL: dict[str, str] = {"zh-Hant": "s2t", "zh-TW": "s2twp", "zh-HK": "s2hk"}
# Each form's text back to Simplified: the inverse of its configuration above.
SIMPLIFY: dict[str, str] = {"zh-Hant": "t2s", "zh-TW": "tw2sp", "zh-HK": "hk2s"}


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


def to_simplified(text: str, tag: str) -> str:
    """Chinese `text` written by a writer of `tag`, in Simplified characters: converted
    with OpenCC for a Traditional writer (`zh-TW`: Taiwan's words too), unchanged for
    anyone else. Text already in Simplified passes through unchanged."""
    form = traditional_form(tag)
    if form is None or not text:
        return text
    return _converter(SIMPLIFY[form]).convert(text)


def for_reader(text: str, writer: str, reader: str) -> str:
    """`text`, written by a writer of the tag `writer`, as a reader of `reader` reads it
    in the same language: Simplified to Traditional, Traditional to Simplified, and
    unchanged between two Simplified or two Traditional forms (each reads the other; a
    round trip through Simplified could merge characters) or in another language."""
    if primary(writer) != SIMPLIFIED or primary(reader) != SIMPLIFIED:
        return text
    written, read = traditional_form(writer), traditional_form(reader)
    if (written is None) == (read is None):
        return text
    return to_simplified(text, writer) if read is None else to_script(text, reader)
