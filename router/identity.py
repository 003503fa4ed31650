"""Who a chat's customer is, as the embedding site vouches for it: a signed identity.

A site that embeds `/chat` signs its signed-in customer with its secret, as chat
widgets commonly do (an HMAC of the identity): `<payload>.<signature>`, where payload is
the base64url of a JSON object `{"sub": customer id, "exp": unix time, "tier"?,
"region"?, "name"?}` and signature the hex HMAC-SHA256 of the payload with the site's
secret. A chat without one is anonymous: its customer id is made up, and tier, priority
and region are never taken from what the browser sends.
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
from typing import Any

from router.desk import ChatSite
from router.errors import InvalidInput

MAX_TOKEN_CHARS = 4096


@dataclass(frozen=True)
class Identity:
    customer_id: str
    verified: bool
    tier: str = "standard"
    region: str | None = None
    name: str = ""


ANONYMOUS_PREFIX = "anon-"  # a chat without a signed identity: its id is its own


def anonymous() -> Identity:
    return Identity(f"{ANONYMOUS_PREFIX}{secrets.token_hex(8)}", verified=False)


def sign(secret: str, payload: dict[str, Any]) -> str:
    """The token a site gives its chat window (what the site's backend computes)."""
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    digest = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{digest}"


def verify(token: str, site: ChatSite, now_s: float | None = None) -> Identity:
    """The identity in `token` if `site` signed it and it has not expired; InvalidInput
    naming what is wrong otherwise."""
    where = "$.identity"
    body, _, digest = token.partition(".")
    if not body or not digest or len(token) > MAX_TOKEN_CHARS:
        raise InvalidInput(where, "a signed identity <payload>.<signature>", None)
    expected = hmac.new(site.secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    if not site.secret or not hmac.compare_digest(expected, digest):
        raise InvalidInput(where, f"an identity signed by site {site.name}", "a bad signature")
    try:
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, binascii.Error):
        raise InvalidInput(where, "a base64url JSON payload", None) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("sub"), str):
        raise InvalidInput(where, "a payload with the customer id in sub", None)
    if float(payload.get("exp", 0)) < (time.time() if now_s is None else now_s):
        raise InvalidInput(where, "an identity that has not expired", "expired")
    return Identity(
        customer_id=payload["sub"][:128],
        verified=True,
        tier=str(payload.get("tier") or "standard")[:32],
        region=payload.get("region") if isinstance(payload.get("region"), str) else None,
        name=str(payload.get("name") or "")[:80],
    )
