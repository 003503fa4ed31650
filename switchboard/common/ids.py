"""The API's rules for ids and names, in one place: the HTTP schemas validate bodies,
queries and path names with them, and the signed identity of a site's customer is held
to the same rules (`router.identity`).

- `Id`: users, agents, customers: printable, no whitespace or control characters, valid
  Unicode, 1-128 characters.
- `Name`: queues, regions, skills, tiers, sites: ASCII letters, digits, `_`, `.`, `-`,
  1-64 characters.
"""

from __future__ import annotations

import math
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
# The two rules as patterns, for readers of files (the roster) that hold to them too.
ID_PATTERN = r"^[^\s\x00-\x1f\x7f]{1,128}$"
NAME_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
# Ids of users, agents, customers: printable, no spaces, short.
Id = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^[^\s\x00-\x1f\x7f]+$"),
    AfterValidator(valid_unicode),
]
# Names of queues, regions, skills, tiers: plain ASCII, short.
Name = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


@dataclass(frozen=True)
class Fault:
    """The first thing wrong with validated input: its JSON path, what was expected, and
    what was found (None when too large or nested to echo back)."""

    path: str
    expected: str
    found: Any


def first_fault(failure: ValidationError, root: str) -> Fault:
    """The first error of a pydantic validation, its path from `root` (`$.identity.exp`)."""
    error = failure.errors(include_url=False)[0]
    path = root + "".join(
        f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]
    )
    found = error.get("input")
    length = _length_fault(error)
    if length is not None:
        return Fault(path, *length)
    if error["type"] == "extra_forbidden":
        expected = "no such field (a known one)"
    elif error["type"] in _OBJECT_EXPECTED:
        expected = "an object"
    else:
        expected = _without_pydantic_prefix(error["msg"])
    return Fault(path, expected, found if _small(found) else None)


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
