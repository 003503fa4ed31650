"""Reading who calls from an INVITE (pure logic; the SIP path is in test_sip_peers.py)."""

from __future__ import annotations

from router.identity import ANONYMOUS_PREFIX
from telephony.callerid import asserted_user, caller_customer_id

INVITE = (
    "INVITE sip:100@10.0.0.1 SIP/2.0\r\n"
    'From: "Anonymous" <sip:anonymous@anonymous.invalid>;tag=1\r\n'
    "{header}"
    "Content-Length: 0\r\n\r\n"
    "P-Asserted-Identity: <sip:body@not.a.header>\r\n"
)


def test_the_first_asserted_identity_is_read_from_the_headers_only() -> None:
    assert asserted_user(INVITE.format(header="P-Asserted-Identity: <tel:+34600111222>\r\n")) == (
        "+34600111222"
    )
    both = 'p-asserted-identity: "Ana" <sip:+4930123@gw;user=phone>, <tel:+4930123>\r\n'
    assert asserted_user(INVITE.format(header=both)) == "+4930123"
    assert asserted_user(INVITE.format(header="")) == ""


def test_the_asserted_identity_then_from_then_an_anonymous_id_of_the_call() -> None:
    assert caller_customer_id("anonymous", "+34600111222") == "+34600111222"
    assert caller_customer_id("+15550001", "") == "+15550001"
    assert caller_customer_id("+15550001", "+15550002") == "+15550002"
    withheld = [caller_customer_id(user) for user in ("Anonymous", "restricted", "", " unknown ")]
    assert all(customer.startswith(ANONYMOUS_PREFIX) for customer in withheld)
    assert len(set(withheld)) == len(withheld)
