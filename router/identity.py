"""Who a chat's customer is, as the embedding site vouches for it: a signed identity.

A site that embeds `/chat` signs its signed-in customer with its secret, as chat
widgets commonly do (an HMAC of the identity): `<payload>.<signature>`, where payload is
the base64url of a JSON object `{"sub": customer id, "exp": unix time, "tier"?,
"region"?, "name"?}` and signature the hex HMAC-SHA256 of the payload with the site's
secret. A chat without one is anonymous: its customer id is made up, and tier, priority
and region are never taken from what the browser sends.

The claims are held to the API's own rules (`switchboard.common.ids`, as every request
body is): `sub` an id (not one of the anonymous chats' `anon-` ids), `exp` a finite
number, `tier` and `region` names, the region one of the deployment's (the site's
`regions`), `name` a string. A claim that breaks them is refused (400 naming it, e.g.
`$.identity.exp`); claims the server does not know (`iat`, `iss`...) are ignored.

An identity is a bearer credential for its customer: whoever holds it starts chats as
them until `exp`. So `exp` may lie at most MAX_LIFETIME_S ahead: a day, as long as a
page the site signed when it served it may stay open before its customer starts a chat
(sites commonly sign for minutes). One further ahead, which could be replayed for
years, is refused (400 on `$.identity.exp`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from router.desk import ChatSite
from router.errors import InvalidInput
from switchboard.common.ids import Id, Name, Text, finite, first_fault

MAX_TOKEN_CHARS = 4096
MAX_CUSTOMER_ID = 128  # the API's id rule (switchboard/common/ids.py), prefix included
MAX_LIFETIME_S = 24 * 3600.0  # how far ahead a signed identity's `exp` may be


@dataclass(frozen=True)
class Identity:
    customer_id: str
    verified: bool
    tier: str = "standard"
    region: str | None = None
    name: str = ""


ANONYMOUS_PREFIX = "anon-"  # a chat without a signed identity: its id is its own


def _not_anonymous(customer_id: str) -> str:
    if customer_id.startswith(ANONYMOUS_PREFIX):
        raise ValueError(f"a customer id not starting with {ANONYMOUS_PREFIX} (anonymous chats')")
    return customer_id


class Claims(BaseModel):
    """What a site signs of its customer; other claims are ignored."""

    model_config = ConfigDict(extra="ignore")

    sub: Annotated[Id, AfterValidator(_not_anonymous)]
    exp: Annotated[float, Field(strict=True), AfterValidator(finite)]  # unix time, seconds
    tier: Name | None = None
    region: Name | None = None
    name: Annotated[Text, Field(max_length=1000)] | None = None


def anonymous() -> Identity:
    return Identity(f"{ANONYMOUS_PREFIX}{secrets.token_hex(8)}", verified=False)


def sign(secret: str, payload: dict[str, Any]) -> str:
    """The token a site gives its chat window (what the site's backend computes)."""
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    digest = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{digest}"


def verify(
    token: str,
    site: ChatSite,
    now_s: float | None = None,
    max_lifetime_s: float = MAX_LIFETIME_S,
) -> Identity:
    """The identity in `token` if `site` signed it, it has not expired and it expires
    within `max_lifetime_s`; InvalidInput naming what is wrong otherwise."""
    where = "$.identity"
    body, _, digest = token.partition(".")
    if not body or not digest or len(token) > MAX_TOKEN_CHARS:
        raise InvalidInput(where, "a signed identity <payload>.<signature>", None)
    expected = hmac.new(site.secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    # As bytes: compare_digest refuses a str holding other than ASCII (a TypeError).
    if not site.secret or not hmac.compare_digest(expected.encode(), digest.encode()):
        raise InvalidInput(where, f"an identity signed by site {site.name}", "a bad signature")
    try:
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, binascii.Error):
        raise InvalidInput(where, "a base64url JSON payload", None) from None
    if not isinstance(payload, dict):
        raise InvalidInput(where, "a payload with the customer id in sub", None)
    claims = _claims(payload, where)
    now = time.time() if now_s is None else now_s
    if claims.exp < now:
        raise InvalidInput(where, "an identity that has not expired", "expired")
    if claims.region is not None and site.regions and claims.region not in site.regions:
        raise InvalidInput(f"{where}.region", f"one of {', '.join(site.regions)}", claims.region)
    if claims.exp > now + max_lifetime_s:
        raise InvalidInput(
            f"{where}.exp",
            f"an expiry at most {_duration(max_lifetime_s)} ahead (sign each page anew)",
            f"{_duration(claims.exp - now)} ahead",
        )
    customer_id = site.customer_prefix + claims.sub
    if len(customer_id) > MAX_CUSTOMER_ID:
        raise InvalidInput(
            f"{where}.sub",
            f"an id of at most {MAX_CUSTOMER_ID - len(site.customer_prefix)} characters",
            len(claims.sub),
        )
    return Identity(
        customer_id=customer_id,
        verified=True,
        tier=claims.tier or "standard",
        region=claims.region,
        name=(claims.name or "")[:80],
    )


def _duration(seconds: float) -> str:
    """`86400` -> '24 h', `600` -> '10 min', `1e308` -> 'more than 1000 years'."""
    if seconds >= 1000 * 365 * 86400:
        return "more than 1000 years"
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.0f} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{max(1, round(seconds / 60))} min"


def _claims(payload: dict[str, Any], where: str) -> Claims:
    """The payload's claims, or InvalidInput naming the first bad one (`$.identity.exp`)."""
    try:
        return Claims.model_validate(payload)
    except ValidationError as failure:
        fault = first_fault(failure, where)
        raise InvalidInput(fault.path, fault.expected, fault.found) from None
