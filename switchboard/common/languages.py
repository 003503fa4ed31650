"""The language subtag of a tag: the one rule by which agents, contacts, queues and
messages are matched on language (`es-MX`, `ES` and `es_ES` are all `es`, and a
deprecated or alias code is its current one: `iw` is `he`, `in` is `id`, `cmn` is `zh`).

And a tag's parts as BCP 47 writes them (`subtags`, `canonical`): language tags are
case-insensitive (`EN`, `zh_hant_tw`), so they are compared only in this form."""

from __future__ import annotations

import re
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.core import get_global

_SCRIPT = re.compile(r"^[A-Za-z]{4}$")
_REGION = re.compile(r"^(?:[A-Za-z]{2}|[0-9]{3})$")


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


def subtags(tag: str) -> tuple[str, str, str]:
    """(language, script, region) of a tag in BCP 47's case, `""` for a part it lacks:
    `ZH_hant_tw` → (`zh`, `Hant`, `TW`), `iw-il` → (`he`, ``, `IL`), `es-419` → (`es`,
    ``, `419`). Variants and extensions (`-1996`, `-u-ca-japanese`) are left out."""
    parts = tag.strip().replace("_", "-").split("-")
    rest = parts[1:]
    script = rest.pop(0).title() if rest and _SCRIPT.match(rest[0]) else ""
    region = rest.pop(0).upper() if rest and _REGION.match(rest[0]) else ""
    return primary(parts[0]), script, region


def known_to_babel(tag: str) -> bool:
    """Whether babel knows the tag (`es`, `es-MX`, `zh_Hant`): the one test the API, the
    agents' roster and the scheduler's files hold a language tag to."""
    try:
        Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return False
    return True


def canonical(tag: str) -> str:
    """The tag as BCP 47 writes it, language, script and region only: `zh_hant_tw` →
    `zh-Hant-TW`, `PT-br` → `pt-BR`, `iw-IL` → `he-IL`."""
    return "-".join(part for part in subtags(tag) if part)


def script_of(tag: str) -> str:
    """The script a tag is written in: its own script subtag, else its language's likely
    one in its region (CLDR's likely subtags, via babel): `zh-TW`, `zh-HK` and `zh-MO`
    are `Hant`, `zh`, `zh-CN` and `zh-SG` are `Hans`, `sr` is `Cyrl`; `""` unknown."""
    language, script, region = subtags(tag)
    return script or _likely_script(language, region)


@cache
def _likely_script(language: str, region: str) -> str:
    likely = get_global("likely_subtags")
    found = (region and likely.get(f"{language}_{region}")) or likely.get(language) or ""
    parts = str(found).split("_")
    return next((part for part in parts[1:] if _SCRIPT.match(part)), "")
