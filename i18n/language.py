"""Which language to speak first: from a caller's number, or from a browser's Accept-Language.

Both answers are restricted to the languages the center serves (`supported`), and both
return codes exactly as the caller of these functions spelled them in `supported`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import phonenumbers
from babel.core import negotiate_locale
from babel.languages import get_territory_language_info

from switchboard.common.languages import primary

_TAG = re.compile(r"^[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*$|^\*$")


def territory_for_number(number: str) -> str | None:
    """ISO territory of an E.164 number (`+41…` → `CH`), None when it cannot be told."""
    text = number.strip()
    if text.startswith("sip:") or text.startswith("tel:"):
        text = text.split(":", 1)[1].split("@", 1)[0].split(";", 1)[0]
    digits = re.sub(r"[^\d+]", "", text)
    if not digits:
        return None
    if not digits.startswith("+"):
        digits = "+" + digits.lstrip("0")
    try:
        parsed = phonenumbers.parse(digits, None)
    except phonenumbers.NumberParseException:
        return None
    territory = phonenumbers.region_code_for_number(parsed)
    if territory and territory != "ZZ":
        return territory
    # Not a valid number in any plan: fall back to the main territory of its calling code.
    territory = phonenumbers.region_code_for_country_code(parsed.country_code or 0)
    return territory if territory and territory != "ZZ" else None


def territory_languages(territory: str) -> list[str]:
    """Languages of a territory from CLDR (via babel), most spoken first, primary subtags."""
    info = get_territory_language_info(territory)
    ranked = sorted(info.items(), key=lambda item: -float(item[1].get("population_percent") or 0.0))
    out: list[str] = []
    for code, _ in ranked:
        language = primary(code)
        if language not in out:
            out.append(language)
    return out


def _pick(language: str, supported: Sequence[str]) -> str | None:
    """The entry of `supported` for a language: exact code first, then same primary subtag."""
    for code in supported:
        if code.lower() == language.lower():
            return code
    for code in supported:
        if primary(code) == primary(language):
            return code
    return None


def guess_languages_for_number(number: str, supported: Sequence[str]) -> list[str]:
    """Languages to offer a caller first, most spoken in the caller's territory first.

    Only languages in `supported` are returned; English (when supported) closes the list
    as a last resort, so an unknown or foreign number still gets a usable menu.
    """
    out: list[str] = []
    territory = territory_for_number(number)
    if territory:
        for language in territory_languages(territory):
            code = _pick(language, supported)
            if code is not None and code not in out:
                out.append(code)
    english = _pick("en", supported)
    if english is not None and english not in out:
        out.append(english)
    return out


def parse_accept_language(header: str | None) -> list[str]:
    """Language tags of an Accept-Language header, best first (q=0 dropped, ties keep order)."""
    if not header:
        return []
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        fields = [f.strip() for f in part.split(";")]
        tag = fields[0]
        if not tag or not _TAG.match(tag):
            continue
        quality = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate_chat_language(
    accept_language: str | None, supported: Sequence[str], default: str = "en"
) -> str:
    """The supported language a chat should use, from the browser's Accept-Language.

    For each preference, best first: babel's strict negotiation, then a match on the
    language alone. babel alone misses common cases: it maps `pt` to `pt_PT` (so `pt`
    finds nothing against `pt_BR`) and `es-ES` finds nothing against `es-MX`. Trying the
    fallback per preference keeps the customer's order: `es-ES, en;q=0.5` gets Spanish.
    """
    available = [code.replace("-", "_") for code in supported]
    for tag in parse_accept_language(accept_language):
        if tag == "*":
            break
        strict = negotiate_locale([tag.replace("-", "_")], available, sep="_")
        if strict is not None:
            return supported[available.index(strict)]
        loose = _pick(primary(tag), supported)
        if loose is not None:
            return loose
    fallback = _pick(default, supported)
    return fallback if fallback is not None else default
