"""The blind index: what a case is found by, and how a typed query is read."""

from datetime import UTC, datetime
from uuid import uuid4

from onestop.cases.domain.search_terms import BlindIndex, parse_query, phone_token, tokens_of_case, words_of
from onestop.contracts.events.cases import CaseRaised
from onestop.contracts.events.common import Channel, CustomerDetails, Location, NeedKind


def raised(**fields: object) -> CaseRaised:
    defaults: dict[str, object] = {
        "case_id": uuid4(),
        "reference": "OS-AAAA-BBBB",
        "raised_at": datetime(2026, 11, 3, 10, 2, tzinfo=UTC),
        "contact_id": uuid4(),
        "need_id": uuid4(),
        "channel": Channel.TELEPHONE,
        "kind": NeedKind.REPORT_PROBLEM,
        "service_code": "524",
        "service_area": "waste",
    }
    return CaseRaised(**(defaults | fields))


def test_a_case_is_found_by_name_contact_details_postcode_address_and_description_words() -> None:
    case = raised(
        customer=CustomerDetails(
            name="Mrs Ada O'Brien", email=" Ada@Example.org", phone="07700 900123", address="12 Elm Road, NN1 1AB"
        ),
        location=Location(address="Corner of Abington Street, NN1 2AB"),
        description="The bin was missed again on Elm Road",
    )
    tokens = set(tokens_of_case(case))
    assert {"w:ada", "w:o'brien", "w:elm", "w:road", "w:abington", "w:missed", "w:bin"} <= tokens
    assert {"e:ada@example.org", "t:447700900123", "p:nn11ab", "p:nn12ab"} <= tokens
    assert "w:the" not in tokens, "stopwords narrow nothing"


def test_an_erased_customers_case_has_nothing_to_be_found_by() -> None:
    assert tokens_of_case(raised(customer=CustomerDetails(customer_id=uuid4()), description="")) == []


def test_a_phone_number_is_one_token_however_it_is_written() -> None:
    assert phone_token("07700 900123") == phone_token("+44 7700 900123") == phone_token("0044 (7700) 900-123")


def test_queries_are_read_as_a_reference_an_email_a_phone_a_postcode_or_words() -> None:
    assert parse_query("os-7kq4").reference_prefix == "OS-7KQ4"
    assert parse_query("OS7KQ4M2XD").reference_prefix == "OS-7KQ4-M2XD"
    assert parse_query("Ada@example.ORG").tokens == ("e:ada@example.org",)
    assert parse_query("+44 7700 900123").tokens == ("t:447700900123",)
    assert parse_query("nn1 1ab").tokens == ("p:nn11ab",)
    assert parse_query("Elm Road bin").tokens == ("w:elm", "w:road", "w:bin")
    assert parse_query("the of").is_empty


def test_words_are_lower_cased_once_each_without_possessives() -> None:
    assert words_of("Smith's bins, SMITH bins") == ["smith", "bins"]


def test_terms_depend_on_the_key() -> None:
    one, other = BlindIndex("a-long-random-key-1"), BlindIndex("a-long-random-key-2")
    assert one.term("w:smith") == one.term("w:smith") != other.term("w:smith")
    assert -(2**63) <= one.term("w:smith") < 2**63
