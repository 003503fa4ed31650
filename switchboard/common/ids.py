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
from typing import Annotated

from pydantic import AfterValidator, StringConstraints


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
# Ids of users, agents, customers: printable, no spaces, short.
Id = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^[^\s\x00-\x1f\x7f]+$"),
    AfterValidator(valid_unicode),
]
# Names of queues, regions, skills, tiers: plain ASCII, short.
Name = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
