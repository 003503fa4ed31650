"""Card numbers found in free text and masked to their last four digits; the airline's own
numbers (tickets, bookings, phones, flights, dates, amounts) left as written. Pure text
work: `router.redaction`, and the logging filter's second pass (`MaskingFilter`)."""

from __future__ import annotations

import logging

import pytest
from stdnum import luhn

from router.redaction import CARD_NUMBER, Redactor, redact
from router.reports.privacy import MaskingFilter

VISA = "4242424242424242"
MASTERCARD = "5555555555554444"
AMEX = "378282246310005"
MASKED_VISA = "•••• •••• •••• 4242"


def ticket(airline: str, serial: str) -> str:
    """A 13-digit ticket number (an airline's code and 10 digits, the last chosen here)
    that passes Luhn, as one ticket in ten does."""
    body = airline + serial
    assert len(body) == 12
    return body + luhn.calc_check_digit(body)


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("4242 4242 4242 4242", MASKED_VISA),
        ("4242-4242-4242-4242", MASKED_VISA),
        (VISA, MASKED_VISA),
        ("5555 5555 5555 4444", "•••• •••• •••• 4444"),
        (MASTERCARD, "•••• •••• •••• 4444"),
        ("2223 0031 2200 3222", "•••• •••• •••• 3222"),  # Mastercard's 2-series
        ("3782 822463 10005", "•••• •••• •••• 0005"),  # Amex as printed: 4-6-5
        ("3782-822463-10005", "•••• •••• •••• 0005"),
        (AMEX, "•••• •••• •••• 0005"),
        ("6011 1111 1111 1117", "•••• •••• •••• 1117"),  # Discover
        ("3530 1113 3330 0000", "•••• •••• •••• 0000"),  # JCB
        ("6200 0000 0000 0005", "•••• •••• •••• 0005"),  # UnionPay
        ("3056 9309 0259 04", "•••• •••• •••• 5904"),  # Diners, 14 digits
    ],
)
def test_test_cards_of_each_scheme_are_masked_to_their_last_four(written: str, masked: str) -> None:
    found = redact(f"please charge {written} for the bag")
    assert found.text == f"please charge {masked} for the bag"
    assert found.found == (CARD_NUMBER,) and found.kinds == [CARD_NUMBER]


@pytest.mark.parametrize(
    "text",
    [
        "4242 4242 4242 4241",  # fails Luhn
        "5555555555554440",
        "3782 822463 10006",
        "1234 5678 9012 3456",  # no scheme's prefix (and fails Luhn)
        ticket("075", "123456789"),  # Iberia: 13 digits, Luhn-valid
        ticket("421", "234567890"),  # an airline code starting with 4, as Visa's
        ticket("125", "241234567"),
        "075-" + ticket("075", "241234567")[3:],  # airline code, dash, serial
        "075 " + ticket("075", "241234567")[3:] + " 3",  # and its check digit
        "+44 20 7946 0958",
        "0044 20 7946 0958",
        "+1 (415) 555-0123",
        "+86 139 1234 5678",
        "booking ABC123, or 4KX9QZ",
        "booking 123456 on BA117 / IB3166",
        "2025-03-15 2025-03-20",  # two dates
        "15-03-2025 20-03-2025",
        "EUR 1 234.56 and 75.00",
        "356938035643809",  # an IMEI: Luhn-valid, 15 digits, not Amex's
    ],
)
def test_airline_numbers_and_luhn_failures_are_left_as_written(text: str) -> None:
    assert redact(text) == (text, ())


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("我的卡号是4242 4242 4242 4242，谢谢", "我的卡号是•••• •••• •••• 4242，谢谢"),
        # full-width digits and separators of a Japanese or Chinese input method
        (
            "カード番号は４２４２　４２４２　４２４２　４２４２です",
            "カード番号は•••• •••• •••• ４２４２です",
        ),
        ("卡号５５５５－５５５５－５５５５－４４４４", "卡号•••• •••• •••• ４４４４"),
        ("رقم بطاقتي ٤٢٤٢ ٤٢٤٢ ٤٢٤٢ ٤٢٤٢ شكرا", "رقم بطاقتي •••• •••• •••• ٤٢٤٢ شكرا"),
        ("شماره کارت ۴۲۴۲۴۲۴۲۴۲۴۲۴۲۴۲", "شماره کارت •••• •••• •••• ۴۲۴۲"),  # Persian digits
        ("मेरा कार्ड ४२४२ ४२४२ ४२४२ ४२४२ है", "मेरा कार्ड •••• •••• •••• ४२४२ है"),
    ],
)
def test_a_card_number_inside_other_scripts_is_masked_in_the_writer_s_digits(
    text: str, masked: str
) -> None:
    assert redact(text) == (masked, (CARD_NUMBER,))


def test_a_card_number_beside_other_numbers_keeps_them() -> None:
    """A booking's digits before it and a second card are no part of the one masked; each
    card counts once (its expiry and CVV: tests/router/test_redaction_cvv.py)."""
    text = f"booking 123456 card {VISA} 12/27 cvv 123 or 5555 5555 5555 4444 123"
    found = redact(text)
    assert found.text == (
        "booking 123456 card •••• •••• •••• 4242 ••/•• cvv ••• or •••• •••• •••• 4444 •••"
    )
    assert found.found.count(CARD_NUMBER) == 2
    assert redact(f"card 1234 {VISA.replace('4242', '4242 ', 3)}").text == "card 1234 " + (
        MASKED_VISA
    )


def test_a_number_longer_than_any_card_is_no_card() -> None:
    text = "reference 42424242424242424242"  # 20 digits
    assert redact(text) == (text, ())


def test_the_redactor_counts_each_number_it_masks() -> None:
    counted: list[str] = []
    kept = Redactor(counted.append).redact(f"{VISA} and {AMEX}")
    assert counted == [CARD_NUMBER, CARD_NUMBER]
    assert VISA not in kept.text and AMEX not in kept.text
    Redactor(counted.append).redact("nothing to hide: 0751234567890")
    assert counted == [CARD_NUMBER, CARD_NUMBER]


def test_the_logging_filter_masks_card_numbers_in_every_line() -> None:
    """The second line of defence: a number that reached a log line another way."""
    record = logging.LogRecord(
        "test", logging.INFO, __file__, 1, "paid with %s by +442079460958", (VISA,), None
    )
    assert MaskingFilter().filter(record)
    assert record.getMessage() == f"paid with {MASKED_VISA} by •••••••••••58"
