"""Who is calling: a caller's customer id from what their INVITE says.

A carrier or a PBX that withholds the number sends `From: "Anonymous"
<sip:anonymous@anonymous.invalid>` (RFC 3323) and, to a peer it trusts, the caller's
identity in `P-Asserted-Identity` (RFC 3325): that identity names the customer. Without
one, a withheld number names nobody: the call gets an anonymous id of its own, as a chat
without a signed identity does, so that withheld callers never share a history or a case.

The node has no trust domain: PAI is read from any sender, as From is (docs/telephony.md,
"Left out or weak"); only who may reach the SIP port limits who can name a customer.
"""

from __future__ import annotations

import re

from router.identity import anonymous

# User parts that say the number is withheld, not who calls (RFC 3323's `anonymous`, and
# what carriers and PBXs write instead).
WITHHELD = frozenset({"", "anonymous", "restricted", "unknown", "unavailable", "private"})
_ASSERTED = re.compile(r"^p-asserted-identity\s*:(.*)$", re.IGNORECASE | re.MULTILINE)
_SIP_USER = re.compile(r"sips?:([^@;>]+)@", re.IGNORECASE)
_TEL_NUMBER = re.compile(r"tel:([^;>,\s]+)", re.IGNORECASE)


def asserted_user(message: str) -> str:
    """The user part of the first identity a request's P-Asserted-Identity headers name
    (a `sip:` user or a `tel:` number); '' without one."""
    head = message.replace("\r\n", "\n").split("\n\n", 1)[0]
    for value in _ASSERTED.findall(head):
        for pattern in (_SIP_USER, _TEL_NUMBER):
            match = pattern.search(value)
            if match:
                return match.group(1).strip()
    return ""


def caller_customer_id(from_user: str, asserted: str = "") -> str:
    """The asserted identity, else From's user part, unless withheld: then an anonymous
    id for this call alone."""
    for candidate in (asserted, from_user):
        if candidate.strip().lower() not in WITHHELD:
            return candidate.strip()
    return anonymous().customer_id
