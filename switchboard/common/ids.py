"""The API's rules for ids and names, in one place: the HTTP schemas validate bodies,
queries and path names with them, and the signed identity of a site's customer is held
to the same rules (`router.identity`).

- `Id`: users, agents, customers: printable, no whitespace, control or format
  characters (zero-width, bidi marks and overrides), valid Unicode, 1-128 characters.
- `StaffId`: a user or agent id being created (the admin API's paths, `users add`, a
  roster import): an `Id` without the URL's delimiters `/ ? # %` nor a backslash, since
  it goes into paths (`/api/v1/agents/{agent_id}/...`). Ids stored before the rule
  still sign in and are still named (a login, a transfer, a case's owner take any `Id`).
- `Name`: queues, regions, skills, tiers, sites: ASCII letters, digits, `_`, `.`, `-`,
  at least one letter or digit, 1-64 characters.

A value that breaks a rule is named by `first_fault` in the API's words: each pattern is
`described` where it is declared, so a client reads "a name of letters, digits, _ . -",
never the regular expression.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints, ValidationError


def valid_unicode(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("valid Unicode (no lone surrogates)") from None
    return value


def finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("a finite number")
    return value


Text = Annotated[str, AfterValidator(valid_unicode)]

# What each pattern of the API asks for, in the API's words: the message of a value that
# does not match names this, not the regular expression (`first_fault`).
_PATTERN_WORDS: dict[str, str] = {}


def described(pattern: str, means: str) -> str:
    """`pattern`, remembered as asking for `means` ("a phone number: ...") when a value
    does not match it."""
    _PATTERN_WORDS[pattern] = means
    return pattern


def pattern_words(pattern: str) -> str:
    return _PATTERN_WORDS.get(pattern, f"text matching {pattern}")


# What no id may hold besides whitespace: the controls (C0, DEL, C1) and Unicode's format
# characters (Cf: the soft hyphen, zero-width space and joiners U+200B-U+200D, the marks
# U+200E/U+200F, bidi embeddings and overrides U+202A-U+202E, isolates U+2066-U+2069,
# the BOM U+FEFF, tag characters...). They show as nothing or reverse the text around
# them: an id of them is blank, or reads reversed, on the wallboard, the directory and
# the audit log. Unicode 15's Cc and Cf, as ranges (tests check them against the
# running Python's unicodedata).
_INVISIBLE = (
    (0x00, 0x1F),
    (0x7F, 0x9F),
    (0xAD, 0xAD),
    (0x600, 0x605),
    (0x61C, 0x61C),
    (0x6DD, 0x6DD),
    (0x70F, 0x70F),
    (0x890, 0x891),
    (0x8E2, 0x8E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)


def _escaped(code: int) -> str:
    """A character as every regex dialect the rule meets reads it (Python's, pydantic's
    Rust engine, the OpenAPI document's ECMA-262): an escape, a literal beyond the BMP."""
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else chr(code)


_ID_CHARACTER = (
    "[^\\s"
    + "".join(
        _escaped(low) if low == high else f"{_escaped(low)}-{_escaped(high)}"
        for low, high in _INVISIBLE
    )
    + "]"
)
# A name: at least one letter or digit (`.`, `..`, `-` name nothing anyone would read).
_NAME_BODY = "[_.-]*[A-Za-z0-9][A-Za-z0-9_.-]*"
# The two rules as patterns, for readers of files (the roster) that hold to them too.
ID_PATTERN = f"^{_ID_CHARACTER}{{1,128}}$"
NAME_PATTERN = f"^(?=.{{1,64}}$){_NAME_BODY}$"
ID_WORDS = (
    "an id of printable characters: no spaces, controls or invisible formatting "
    "characters (zero-width, bidi marks)"
)
# What a user or agent id may not hold besides: the URL's delimiters. It is a path
# segment (`/api/v1/agents/{agent_id}/state`, `/api/v1/admin/users/{user}`), where `/`
# needs `%2F`, which proxies decode, normalise or refuse (so does a backslash, which
# browsers read as `/`), `?` and `#` end the path, and `%` starts an escape.
_URL_DELIMITERS = "/?#%\\"
_STAFF_ID_CHARACTER = (
    _ID_CHARACTER[:-1] + "".join(_escaped(ord(char)) for char in _URL_DELIMITERS) + "]"
)
STAFF_ID_PATTERN = f"^{_STAFF_ID_CHARACTER}{{1,128}}$"
# An audit entry's id (its Redis stream id), as a page's `before` names it.
AUDIT_ENTRY_ID = r"^[0-9]{1,15}-[0-9]{1,10}$"
STAFF_ID_WORDS = (
    "an id of printable characters: no spaces, controls, invisible formatting characters "
    "(zero-width, bidi marks) or / ? # % \\ (it goes into URLs)"
)
# Ids of users, agents, customers: printable, no spaces, short.
Id = Annotated[
    str,
    StringConstraints(
        min_length=1,
        max_length=128,
        pattern=described(f"^{_ID_CHARACTER}+$", ID_WORDS),
    ),
    AfterValidator(valid_unicode),
]
# Ids of users and agents being created: an `Id` fit for a URL's path.
StaffId = Annotated[
    str,
    StringConstraints(
        min_length=1,
        max_length=128,
        pattern=described(f"^{_STAFF_ID_CHARACTER}+$", STAFF_ID_WORDS),
    ),
    AfterValidator(valid_unicode),
]
# Names of queues, regions, skills, tiers: plain ASCII, short.
Name = Annotated[
    str,
    StringConstraints(
        min_length=1,
        max_length=64,
        pattern=described(
            f"^{_NAME_BODY}$", "a name of letters, digits, _ . - (at least one letter or digit)"
        ),
    ),
]


@dataclass(frozen=True)
class Fault:
    """The first thing wrong with validated input: its JSON path, what was expected, and
    what was found (None when too large or nested to echo back)."""

    path: str
    expected: str
    found: Any


def first_fault(failure: ValidationError, root: str) -> Fault:
    """The first error of a pydantic validation, its path from `root` (`$.identity.exp`;
    a mapping's key that is wrong, `$.messages["xx"] (key)`)."""
    error = failure.errors(include_url=False)[0]
    loc = tuple(error["loc"])
    key = bool(loc) and loc[-1] == "[key]"
    path = json_path(root, loc[:-1] if key else loc) + (" (key)" if key else "")
    found = error.get("input")
    length = _length_fault(error)
    if length is not None:
        return Fault(path, *length)
    if error["type"] == "extra_forbidden":
        expected = "no such field (a known one)"
    elif error["type"] in _OBJECT_EXPECTED:
        expected = "an object"
    elif error["type"] == "string_pattern_mismatch":
        expected = pattern_words(str(error["ctx"]["pattern"]))
    elif error["type"] in _API_WORDS:
        expected = _API_WORDS[error["type"]]
    else:
        expected = _without_pydantic_prefix(error["msg"])
    return Fault(path, expected, found if _small(found) else None)


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def json_path(root: str, loc: tuple[str | int, ...]) -> str:
    """`root` and the steps to a value, as JSONPath writes them: `.name` for a plain key,
    `[0]` for an index, `["es-MX"]` for any other key (`""`, one with dots or dashes)."""
    steps = []
    for part in loc:
        if isinstance(part, int):
            steps.append(f"[{part}]")
        elif _PLAIN_KEY.fullmatch(part):
            steps.append(f".{part}")
        else:
            steps.append(f"[{json.dumps(part)}]")
    return root + "".join(steps)


# pydantic's wording of an error of these types, said as the API says things.
_MOMENT = "a time with its UTC offset, like 2026-12-07T09:00:00+01:00"
_API_WORDS = {
    "missing": "this field (it is required)",
    "timezone_aware": _MOMENT,
    "datetime_type": _MOMENT,
    "datetime_parsing": _MOMENT,
    "datetime_from_date_parsing": _MOMENT,
}


# pydantic's types of error for a field that needed an object (`{"id": …}`): it says "a
# valid dictionary or instance of ChatCustomer", the name of a class the caller never sees.
_OBJECT_EXPECTED = frozenset({"model_type", "model_attributes_type", "dict_type"})


# pydantic's length errors: "String should have at most 200 characters", or "Value should
# have at most 4000 items after validation, not 4001" when the limit comes after a
# validator (`Text`, `Prose`). Said as the API says things, for every such field.
_LENGTH_LIMITS = {
    "string_too_long": ("at most", "max_length"),
    "too_long": ("at most", "max_length"),
    "string_too_short": ("at least", "min_length"),
    "too_short": ("at least", "min_length"),
}


def _length_fault(error: Any) -> tuple[str, Any] | None:
    """("at most 4000 characters", 4001) for a length error (items for a list): the
    limit, and what was found, its length when too large to echo back (characters are
    code points, as `len` counts them)."""
    limit = _LENGTH_LIMITS.get(error["type"])
    value = error.get("input")
    if limit is None or not hasattr(value, "__len__"):
        return None
    bound, key = limit
    count = error["ctx"][key]
    unit = ("character" if isinstance(value, str) else "item") + ("" if count == 1 else "s")
    return f"{bound} {count} {unit}", value if _small(value) else len(value)


# What pydantic puts before the message of a validator's ValueError or AssertionError:
# "Value error, a language tag babel knows" is, to a client, "a language tag babel knows".
# pydantic's words before what it expected ("Input should be greater than 0"): the
# API's message says "expected" itself.
_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ", "Input should be ")


def _without_pydantic_prefix(message: str) -> str:
    for prefix in _PYDANTIC_PREFIXES:
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


def _small(value: Any) -> bool:
    """Echo scalars back, but not large or nested input (nor a float that is no number)."""
    if isinstance(value, str):
        return len(value) <= 200 and value.isprintable()
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int | bool) or value is None
