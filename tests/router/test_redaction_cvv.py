"""A card's expiry and security code are masked with its number (PCI DSS forbids keeping
the CVV at all), and a card number split across lines, or by dots or slashes, is found;
the airline's ordinary numbers stay as written however they are split. Pure text work:
`router.redaction`, and the logging filter's pass (`MaskingFilter`)."""

from __future__ import annotations

import logging

import pytest
from stdnum import luhn

from router.redaction import (
    CARD_EXPIRY,
    CARD_NUMBER,
    SECURITY_CODE,
    Redactor,
    printed_as_a_card,
    redact,
)
from router.reports.privacy import MaskingFilter

VISA = "4242 4242 4242 4242"
CARD = "•••• •••• •••• 4242"
ALL = (CARD_NUMBER, CARD_EXPIRY, SECURITY_CODE)


def ticket(airline: str, serial: str) -> str:
    """A 13-digit ticket number that passes Luhn, as one ticket in ten does."""
    body = airline + serial
    return body + luhn.calc_check_digit(body)


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        (f"{VISA} exp 12/27 cvv 123", f"{CARD} exp ••/•• cvv •••"),
        (f"{VISA} 12/27 123", f"{CARD} ••/•• •••"),  # the next short groups, no word
        (f"{VISA}, 12/2027, 1234", f"{CARD}, ••/••••, ••••"),
        (f"{VISA}\n12-27\n123", f"{CARD}\n••-••\n•••"),
        (f"{VISA} 123 12/27", f"{CARD} ••• ••/••"),  # either order
        (
            f"my card is {VISA}, it expires at the end of 3/28 and the security code is 123.",
            f"my card is {CARD}, it expires at the end of •/•• and the security code is •••.",
        ),
        (f"{VISA} exp 1227 cvc:123", f"{CARD} exp •••• cvc:•••"),  # MMYY after its word
        (f"card {VISA} code 1234", f"card {CARD} code ••••"),
        (f"CVV2 123 card {VISA} valid thru 12/27", f"CVV2 ••• card {CARD} valid thru ••/••"),
        # es, fr, de, pt, it
        (
            f"mi tarjeta {VISA} vence 03/28 código de seguridad 456",
            f"mi tarjeta {CARD} vence ••/•• código de seguridad •••",
        ),
        (
            f"ma carte {VISA} date d'expiration 03/28 cryptogramme 456",
            f"ma carte {CARD} date d'expiration ••/•• cryptogramme •••",
        ),
        (
            f"Karte {VISA} gültig bis 03/28, Prüfnummer: 456",
            f"Karte {CARD} gültig bis ••/••, Prüfnummer: •••",
        ),
        (
            f"cartão {VISA} validade 03/28 codigo de seguranca 456",  # no accents typed
            f"cartão {CARD} validade ••/•• codigo de seguranca •••",
        ),
        (
            f"carta {VISA} scadenza 03/28 codice di sicurezza 456",
            f"carta {CARD} scadenza ••/•• codice di sicurezza •••",
        ),
        # zh: no spaces between words, full-width punctuation
        (f"卡号{VISA}，有效期12/27，安全码123", f"卡号{CARD}，有效期••/••，安全码•••"),
        (f"卡号{VISA}，后三位是456", f"卡号{CARD}，后三位是•••"),
        (
            f"カード{VISA} 有効期限 12/27 セキュリティコード 123",
            f"カード{CARD} 有効期限 ••/•• セキュリティコード •••",
        ),
        # digits of another script, masked as written
        ("بطاقتي ٤٢٤٢ ٤٢٤٢ ٤٢٤٢ ٤٢٤٢ ١٢/٢٧ ١٢٣", "بطاقتي •••• •••• •••• ٤٢٤٢ ••/•• •••"),
    ],
)
def test_the_expiry_and_security_code_with_a_card_number_are_masked(
    written: str, masked: str
) -> None:
    found = redact(written)
    assert found.text == masked
    assert CARD_NUMBER in found.kinds and len(found.kinds) > 1


def test_each_thing_masked_counts_by_kind() -> None:
    counted: list[str] = []
    kept = Redactor(counted.append).redact(f"{VISA} 12/27 cvv 123")
    assert (kept.text, kept.found) == (f"{CARD} ••/•• cvv •••", ALL)
    assert counted == list(ALL) and kept.kinds == sorted(ALL)


@pytest.mark.parametrize(
    "text",
    [
        f"{VISA} for 150 EUR",  # an amount after words that name no card detail
        f"{VISA} 12.50 EUR",  # an amount
        f"{VISA} flight IB3166 on 12/27",
        f"{VISA} seat 12A",
        f"{VISA} ticket {ticket('075', '241234567')}",
        f"{VISA} booking 2025-12-27",  # a date of three parts is no expiry
        f"{VISA} 2025-12-27",
        f"{VISA} 12/27/2025",
        f"{VISA} 13/27",  # no month 13
        f"booking 4521 then card {VISA}",  # what comes before the card
    ],
)
def test_what_follows_a_card_and_is_no_card_detail_stays(text: str) -> None:
    kept = redact(text)
    assert kept.found == (CARD_NUMBER,)
    assert kept.text == text.replace(VISA, CARD)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("cvv 123", "cvv •••"),
        ("My CVC is 1234", "My CVC is ••••"),
        ("código de seguridad: 123", "código de seguridad: •••"),
        ("安全码123谢谢", "安全码•••谢谢"),
        ("보안 코드 123", "보안 코드 •••"),
    ],
)
def test_a_code_after_a_word_that_names_only_a_security_code_is_masked_alone(
    text: str, masked: str
) -> None:
    """A customer who sends the CVV in the message after the card's names it so."""
    assert redact(text) == (masked, (SECURITY_CODE,))


@pytest.mark.parametrize(
    "text",
    [
        "123",  # a short number alone: a count, a flight, a time; never masked alone
        "1234",
        "exp 12/27",  # an expiry without a card number is nothing to hide
        "code 1234",  # "code" names many things (a promo code, an error code)
        "PIN 1234",
        "the error code is 404",
        "we decided 123 things",  # "cid" in a word names nothing
        "flight 1234 on 12/27",
        "cvv 12345",  # no security code has five digits
        "what is a cvv? I will pay at the airport, counter 123",  # too far from the word
    ],
)
def test_without_a_card_number_only_a_named_security_code_is_masked(text: str) -> None:
    assert redact(text) == (text, ())


@pytest.mark.parametrize(
    "written",
    [
        "4242\n4242\n4242\n4242",
        "4242\r\n4242\r\n4242\r\n4242",
        "4242.4242.4242.4242",
        "4242/4242/4242/4242",
        "4242 / 4242 / 4242 / 4242",
        "4242  4242  4242  4242",  # two spaces
        "4242\t4242\t4242\t4242",
        "4242 4242\n4242 4242",  # wrapped in the middle
        "4242_4242_4242_4242",
        "４２４２．４２４２．４２４２．４２４２",  # full-width, as a CJK input method types
    ],
)
def test_a_card_number_split_by_lines_dots_or_slashes_is_masked(written: str) -> None:
    last_four = "".join(char for char in written if char.isdecimal())[-4:]
    found = redact(f"card:\n{written}\nthanks")
    assert found == (f"card:\n•••• •••• •••• {last_four}\nthanks", (CARD_NUMBER,))


def test_an_amex_and_a_diners_number_on_lines_are_masked() -> None:
    assert redact("3782\n822463\n10005") == ("•••• •••• •••• 0005", (CARD_NUMBER,))
    assert redact("3056.930902.5904") == ("•••• •••• •••• 5904", (CARD_NUMBER,))
    assert redact("3782.822463.10005 exp 12/27") == (
        "•••• •••• •••• 0005 exp ••/••",
        (CARD_NUMBER, CARD_EXPIRY),
    )


@pytest.mark.parametrize(
    "text",
    [
        # A 16-digit phone number that starts as Visa's and fails Luhn, however split.
        "+49 1512 3456 7890 12",
        "+49.1512.3456.7890.12",
        "4915\n1234\n5678\n9012",
        "4915/1234/5678/9012",
        # Ticket numbers (13 digits, Luhn-valid) split by lines, dots or slashes.
        ticket("075", "241234567"),
        "075\n" + ticket("075", "241234567")[3:],
        ".".join(ticket("125", "241234567")[i : i + 4] for i in range(0, 13, 4)),
        "\n".join(ticket("421", "234567890")[i : i + 4] for i in range(0, 13, 4)),
        # Flight numbers, dates, times, phones, amounts, addresses, lists of numbers.
        "IB 3166\nIB3167\nBA117 / BA 118",
        "12/27/2025",
        "2025/12/27",
        "27.12.2025\n28.12.2025",
        "2025-12-27\n2025-12-28\n2025-12-29\n2025-12-30",
        "1230\n1430\n1630\n1830",  # times on lines: no scheme's prefix
        "+44 (0)20 7946 0958\n+34 91 123 45 67",
        "+1.415.555.0123",
        "EUR 1.234.567,89",
        "192.168.100.200",
        "Flights:\n4521\n4522\n4523\n4524",  # Visa's prefix, fails Luhn
        "4242, 4242, 4242, 4242",  # a comma makes a list, not a card
    ],
)
def test_ordinary_numbers_however_split_are_left_as_written(text: str) -> None:
    assert redact(text) == (text, ())


def test_the_phone_and_the_flight_list_are_left_by_the_luhn_check_alone() -> None:
    """Proof the cases above test the rule that keeps them: digits of Visa's prefix and
    length, printed as a card prints them, failing Luhn."""
    for digits in ("4915123456789012", "4521452245234524"):
        assert not luhn.is_valid(digits)
    assert printed_as_a_card([4, 4, 4, 4]) and printed_as_a_card([4, 6, 5])
    assert not printed_as_a_card([2, 4, 4, 4, 2]) and not printed_as_a_card([3, 10])


def test_numbers_split_unlike_a_card_are_no_card_even_when_luhn_valid() -> None:
    """Line breaks, dots and slashes split a card only in its own groups: the same
    Luhn-valid digits as a date-like or phone-like split stay."""
    for text in ("42.424242.42424242", "424/242/424/242/4242", "42\n4242\n4242\n4242\n42"):
        assert redact(text) == (text, ())
    assert redact("42 4242 4242 4242 42") == (CARD, (CARD_NUMBER,))  # single spaces: as before


def test_masking_masked_text_again_changes_nothing() -> None:
    once = redact(f"{VISA} exp 12/27 cvv 123, security code of card {VISA}").text
    assert redact(once) == (once, ())


def test_the_logging_filter_masks_the_security_code_too() -> None:
    record = logging.LogRecord(
        "test", logging.INFO, __file__, 1, "paid with %s", (f"{VISA} 12/27 123",), None
    )
    assert MaskingFilter().filter(record)
    assert record.getMessage() == f"paid with {CARD} ••/•• •••"
