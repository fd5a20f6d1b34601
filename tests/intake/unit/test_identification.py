"""The written match rule: strongest evidence first, a threshold, and merges."""

from uuid import uuid4

from onestop.intake.domain.identification import (
    CustomerRecord,
    best_matches,
    identity_of,
    normalise_email,
    normalise_phone,
    to_merge,
)


def record(**fields: str | None) -> CustomerRecord:
    return CustomerRecord(
        uuid4(),
        identity_of(
            fields.get("email"), fields.get("phone"), fields.get("uprn"), fields.get("name"), fields.get("address")
        ),
    )


def test_emails_and_phones_are_normalised() -> None:
    assert normalise_email(" Jo.Bloggs+council@GMAIL.com ") == "jobloggs@gmail.com"
    assert normalise_email("Jo.Bloggs@council.gov.uk") == "jo.bloggs@council.gov.uk"
    assert normalise_phone("01604 837 837") == normalise_phone("+44 1604 837837") == "+441604837837"


def test_the_strongest_evidence_decides() -> None:
    by_email = record(email="jo@example.org")
    by_phone = record(phone="07700 900123")
    candidate = identity_of("JO@example.org", "07700900123", None, "Jo Bloggs", None)
    matches = best_matches(candidate, [by_phone, by_email])
    assert [(m.customer_id, m.method, m.confidence) for m in matches] == [
        (by_email.customer_id, "email", 0.95),
        (by_phone.customer_id, "phone", 0.90),
    ]


def test_uprn_needs_the_full_name_and_name_needs_the_postcode() -> None:
    home = record(uprn="100031234567", name="Mr Sam Patel", address="1 High St, Northampton NN1 1DE")
    assert best_matches(identity_of(None, None, "100031234567", "Sam Patel", None), [home])[0].method == "uprn_and_name"
    assert best_matches(identity_of(None, None, "100031234567", "Priya Jones", None), [home]) == []
    assert best_matches(identity_of(None, None, None, "Sam Patel", "NN1 1DE"), [home])[0].method == "name_and_postcode"
    assert best_matches(identity_of(None, None, None, "Sam Patel", "NN2 1AA"), [home]) == []


def test_household_members_sharing_a_uprn_and_surname_are_different_people() -> None:
    sam = record(uprn="100031234567", name="Sam Patel")
    assert best_matches(identity_of(None, None, "100031234567", "Priya Patel", None), [sam]) == []


def test_only_a_verified_customer_merges_records() -> None:
    by_email, by_phone = record(email="jo@example.org"), record(phone="07700 900123")
    matches = best_matches(identity_of("jo@example.org", "07700900123", None, None, None), [by_email, by_phone])
    assert to_merge(matches, verified=True) == [by_phone.customer_id]
    assert to_merge(matches, verified=False) == []


def test_nothing_to_go_on_is_empty() -> None:
    assert identity_of(None, None, None, "Sam Patel", None).is_empty
