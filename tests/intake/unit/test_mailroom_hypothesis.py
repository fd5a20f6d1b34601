"""The mail room reads whatever arrives: a message becomes a letter and a contact, or is refused with the
reason (MessageRefused); no other error escapes, so no message is a server error."""

from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, given, settings

from onestop.contracts.events.common import Channel
from onestop.intake.mailroom import MessageRefused, contact_of, read_message
from tests.fuzz.emails import emails, raw_messages

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
LIMIT = 1000  # bytes per attachment


def read_or_refuse(raw: bytes) -> None:
    refused: MessageRefused | None = None
    try:
        contact_of(read_message(raw, max_attachment_bytes=LIMIT), [], received_at=NOW)
    except MessageRefused as exc:
        refused = exc
    if refused is not None:
        assert refused.reason and refused.status_code in (413, 422)


@given(raw_messages)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_bytes_are_read_or_refused_with_a_reason(raw: bytes) -> None:
    read_or_refuse(raw)


@given(emails())
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_email_a_client_can_write_is_read_or_refused_with_a_reason(raw: bytes) -> None:
    read_or_refuse(raw)


def an_email(**headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Pat Resident <pat@example.org>"
    message["Subject"] = "Bins"
    for name, value in headers.items():
        del message[name]
        message[name] = value
    message.set_content("The bin was not emptied.")
    return message


def test_a_plain_email_becomes_a_letter_and_a_contact() -> None:
    letter = read_message(an_email(Date="Mon, 02 Mar 2026 09:30:00 +0000").as_bytes(), max_attachment_bytes=LIMIT)
    assert (letter.sender_name, letter.sender_address, letter.channel) == (
        "Pat Resident",
        "pat@example.org",
        Channel.EMAIL,
    )
    assert letter.sent_at == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    contact = contact_of(letter, [], received_at=NOW)
    assert contact.received_at == letter.sent_at
    assert contact.needs[0].description == "Bins\n\nThe bin was not emptied."


def test_control_characters_in_a_letter_are_taken_out_not_refused() -> None:
    message = an_email(Subject="Bins\x07 again")
    message.set_content("not\x00 emptied\x1b", charset="utf-8")
    letter = read_message(message.as_bytes(), max_attachment_bytes=LIMIT)
    assert letter.subject == "Bins again"
    assert letter.text.strip() == "not emptied"


def test_a_date_without_a_zone_is_utc_and_one_out_of_range_is_refused() -> None:
    naive = read_message(an_email(Date="Mon, 02 Mar 2026 09:30:00 -0000").as_bytes(), max_attachment_bytes=LIMIT)
    assert naive.sent_at == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    with pytest.raises(MessageRefused, match="Date"):
        read_message(an_email(Date="Fri, 31 Dec 9999 23:59:59 -2359").as_bytes(), max_attachment_bytes=LIMIT)


def test_an_unreadable_date_is_as_good_as_none() -> None:
    assert read_message(an_email(Date="yesterday").as_bytes(), max_attachment_bytes=LIMIT).sent_at is None


def test_text_in_an_unknown_charset_is_refused() -> None:
    raw = an_email().as_bytes().replace(b'charset="utf-8"', b'charset="x-no-such-charset"')
    with pytest.raises(MessageRefused, match="charset"):
        read_message(raw, max_attachment_bytes=LIMIT)


def test_a_sender_without_a_plain_address_is_refused() -> None:
    message = an_email()
    message.replace_header("From", "Pat <not-an-address>")
    with pytest.raises(MessageRefused, match="From"):
        read_message(message.as_bytes(), max_attachment_bytes=LIMIT)


def test_an_attachment_too_large_is_413() -> None:
    message = an_email()
    message.add_attachment(b"0" * (LIMIT + 1), maintype="image", subtype="png", filename="bin.png")
    with pytest.raises(MessageRefused) as refused:
        read_message(message.as_bytes(), max_attachment_bytes=LIMIT)
    assert refused.value.status_code == 413


@pytest.mark.parametrize("sender", [b":;<x@y.z>", b"a, :<b>", b"g: <", b"0:<"])
def test_a_from_header_the_email_library_trips_over_is_refused(sender: bytes) -> None:
    with pytest.raises(MessageRefused, match="cannot be read"):
        read_message(b"From: " + sender + b"\r\n\r\nThe bin again.", max_attachment_bytes=LIMIT)
