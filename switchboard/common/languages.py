"""The language subtag of a tag: the one rule by which agents, contacts, queues and
messages are matched on language (`es-MX`, `ES` and `es_ES` are all `es`, and a
deprecated or alias code is its current one: `iw` is `he`, `in` is `id`, `cmn` is `zh`)."""

from __future__ import annotations

from functools import cache

from babel.core import get_global


def primary(tag: str) -> str:
    """The language subtag alone, lower case, in its current code: `pt-BR` → `pt`,
    `zh_Hant_TW` → `zh`, `iw-IL` → `he`."""
    return _current(tag.replace("-", "_").split("_", 1)[0].lower())


@cache
def _current(language: str) -> str:
    """CLDR's replacement for a retired or alias language code (`iw` → `he`, `tl` →
    `fil`), read from babel's copy of CLDR's aliases; the code itself otherwise."""
    replacement = get_global("language_aliases").get(language, language)
    return str(replacement).split("_", 1)[0].lower()
