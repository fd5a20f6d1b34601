"""A customer's email address is one plain address: lists, display names and line breaks are refused."""

import pytest

from onestop.intake.domain.email_address import one_email_address


@pytest.mark.parametrize("given", ["ali@example.org", " ali.khan+bins@mail.example.co.uk ", "o'neil@example.org"])
def test_one_plain_address_is_taken_as_given(given: str) -> None:
    assert one_email_address(given) == given.strip()


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("ali@example.org\r\nBcc: everyone@example.org", "must be on one line"),
        ("ali@example.org\nX-Spam: no", "must be on one line"),
        ("ali@example.org, bea@example.org", "not a list"),
        ("ali@example.org;bea@example.org", "not a list"),
        ("Ali Khan <ali@example.org>", "without a name"),
        ('"Ali" ali@example.org', "without a name"),
        ("<ali@example.org>", "without a name"),
        ("ali", "is not an email address"),
        ("ali@localhost", "is not an email address"),
        ("ali..khan@example.org", "is not an email address"),
        ("ali@-example.org", "is not an email address"),
        ("a" * 65 + "@example.org", "is not an email address"),
        ("ali@" + "a" * 250 + ".org", "at most 254 characters"),
    ],
)
def test_anything_else_is_refused_with_the_reason(given: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        one_email_address(given)
