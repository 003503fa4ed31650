"""Who is calling: a caller's customer id from what their INVITE says.

A carrier or a PBX that withholds the number sends `From: "Anonymous"
<sip:anonymous@anonymous.invalid>` (RFC 3323) and, to a peer it trusts, the caller's
identity in `P-Asserted-Identity` (RFC 3325): that identity names the customer. Without
one, a withheld number names nobody: the call gets an anonymous id of its own, as a chat
without a signed identity does, so that withheld callers never share a history or a case.

Whom PAI is believed from is `[sip] trusted_peers` (RFC 3325's trust domain: the
carriers' SBCs, a PBX): from a sender outside those addresses and networks the identity
is From's alone. Empty (the default), PAI is read from any sender, as From is: then only
who may reach the SIP port limits who can name a customer. Behind Kamailio the worker
sees the front door's address, so Kamailio names the INVITE's own sender in
SOURCE_HEADER (replacing any the sender wrote), and the worker believes that header only
in a packet from the front door (docs/telephony.md, step 4 of "How a call flows").
"""

from __future__ import annotations

import ipaddress
import re

from router.identity import anonymous

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# The header Kamailio puts on each caller's INVITE it relays to a worker: the address the
# INVITE came to it from (`$si`); one the caller sent is removed first.
SOURCE_HEADER = "X-Switchboard-Source"
_SOURCE = re.compile(r"^x-switchboard-source\s*:\s*(\S+)\s*$", re.IGNORECASE | re.MULTILINE)

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


def address_of(source: str) -> tuple[IpAddress | None, int | None]:
    """The IP address and port of a transport address as pjsip and Kamailio write it
    (`192.0.2.7:5060`, `[2001:db8::7]:5060`, or either address without a port); (None,
    None) for anything else."""
    text = source.strip()
    port = ""
    if text.startswith("["):
        text, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":")
    elif text.count(":") == 1:
        text, port = text.split(":")
    try:
        address: IpAddress = ipaddress.ip_address(text)
    except ValueError:
        return None, None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # an IPv4 peer on a dual-stack socket
    return address, int(port) if port.isdigit() else None


def sender(message: str, source: str, front_door: str = "") -> IpAddress | None:
    """Who sent an INVITE: the packet's source address (`source`, as pjsip gives it);
    for a packet from the front door (`front_door`, its `ip:port`; an unspecified ip,
    0.0.0.0 or ::, matches the port alone) the address Kamailio names in SOURCE_HEADER.
    None when that cannot be read."""
    address, port = address_of(source)
    door, door_port = address_of(front_door) if front_door else (None, None)
    if door is not None and port == door_port and (address == door or door.is_unspecified):
        head = message.replace("\r\n", "\n").split("\n\n", 1)[0]
        named = _SOURCE.findall(head)
        return address_of(named[-1])[0] if named else None
    return address


def trusted(address: IpAddress | None, peers: tuple[Network, ...]) -> bool:
    """Whether an identity asserted by `address` is believed: by anyone when no peers are
    configured (`[sip] trusted_peers` empty), else only within one of them."""
    if not peers:
        return True
    return address is not None and any(address in network for network in peers)
