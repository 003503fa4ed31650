"""Which language to speak first: from a caller's number, or from a browser's Accept-Language.

Both answers are restricted to the languages the center serves (`supported`), and both
return codes exactly as the caller of these functions spelled them in `supported`.
`match_language` is the one place a wanted tag is matched against the tags on offer (the
chat's language, the pages' catalog, the IVR's languages): BCP 47 tags are
case-insensitive, so `EN`, `En-Us` and `DE-de` are `en`, `en-US` and `de-DE`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import phonenumbers
from babel.languages import get_territory_language_info

from switchboard.common.languages import primary, script_of, subtags

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


# Spoken languages CLDR ranks behind the written language of their territory: in Hong Kong
# CLDR counts Traditional Chinese (`zh_Hant`, 95%, what people read) before Cantonese
# (`yue`, 90%, what they speak). A caller is spoken to, so where most people speak one of
# these it goes before the language it is written in (`yue` before `zh`); the mainland,
# where 5% speak Cantonese, keeps Mandarin first.
SPOKEN_BEFORE_WRITTEN: dict[str, str] = {"yue": "zh"}
SPOKEN_MAJORITY_PERCENT = 50.0


def spoken_languages(territory: str) -> list[str]:
    """`territory_languages`, with a majority's spoken language before its written one
    (`SPOKEN_BEFORE_WRITTEN`): `HK` and `MO` give `yue` before `zh`."""
    ranked = territory_languages(territory)
    info = get_territory_language_info(territory)
    for spoken, written in SPOKEN_BEFORE_WRITTEN.items():
        share = float(info.get(spoken, {}).get("population_percent") or 0.0)
        if share < SPOKEN_MAJORITY_PERCENT or spoken not in ranked or written not in ranked:
            continue
        if ranked.index(spoken) > ranked.index(written):
            ranked.remove(spoken)
            ranked.insert(ranked.index(written), spoken)
    return ranked


def match_language(tag: str, available: Sequence[str], *, loose: bool = True) -> str | None:
    """The entry of `available` for someone who asked for `tag`, spelled as `available`
    spells it; None when none serves them.

    Tags are compared in BCP 47's form (`switchboard.common.languages.subtags`): case,
    `-` or `_` and retired codes do not matter (`EN`, `zh_hant_tw`, `iw-IL`). A tag
    without a script is written in its language's likely script there (`zh-TW` and
    `zh-HK` in Traditional characters, `zh` and `zh-SG` in Simplified), so the script
    counts before the region. Best first: the same language, script and region (with
    `loose=False` nothing else); the same language and script without a region; with
    another region (the first listed: `es-ES` gets `es-MX`, `pt` gets `pt-BR`); the same
    language in another script (`zh-TW` gets `zh` when no Traditional form is offered).
    """
    language, _, region = subtags(tag)
    script = script_of(tag)
    ranked: list[tuple[int, int, str]] = []
    for index, code in enumerate(available):
        other, _, other_region = subtags(code)
        if other != language:
            continue
        same_script = script_of(code) == script
        if same_script and other_region == region:
            rank = 0
        elif not loose:
            continue
        elif same_script:
            rank = 1 if not other_region else 2
        else:
            rank = 3 if not other_region else 4
        ranked.append((rank, index, code))
    return min(ranked)[2] if ranked else None


def guess_languages_for_number(number: str, supported: Sequence[str]) -> list[str]:
    """Languages to offer a caller first, most spoken in the caller's territory first.

    Only languages in `supported` are returned; English (when supported) closes the list
    as a last resort, so an unknown or foreign number still gets a usable menu. A spoken
    language goes before its written one (`spoken_languages`): a +852 caller gets `yue`
    first when the flow offers it, and `zh` when it offers Mandarin alone.
    """
    out: list[str] = []
    territory = territory_for_number(number)
    if territory:
        for language in spoken_languages(territory):
            code = match_language(language, supported)
            if code is not None and code not in out:
                out.append(code)
    english = match_language("en", supported)
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

    For each preference, best first, `match_language`: the same tag, else the same
    language (in its script first). babel's `negotiate_locale` is not used: it misses
    common cases (it maps `pt` to `pt_PT`, so `pt` finds nothing against `pt_BR`, and
    `es-ES` finds nothing against `es-MX`), answers `zh` for `zh-Hant-TW` against a
    Traditional `zh-TW` (it drops the subtags before it looks at the script), and
    returns the client's spelling (`EN`, `DE` for `DE-de`), not the entry of `supported`.
    Matching per preference keeps the customer's order: `es-ES, en;q=0.5` gets Spanish.
    """
    for tag in parse_accept_language(accept_language):
        if tag == "*":
            break
        found = match_language(tag, supported)
        if found is not None:
            return found
    fallback = match_language(default, supported)
    return fallback if fallback is not None else default
