"""Open311 responses in XML stay well-formed whatever the data holds, and posted fields are checked."""

import io
from xml.etree import ElementTree

import pytest
from starlette.datastructures import FormData, UploadFile

from onestop.intake.open311_format import Open311Error, checked_fields, error_response, render


def test_xml_leaves_out_what_xml_cannot_carry() -> None:
    rows = [{"description": "Bins\x00\x01\x1b\ufffe\ud800 again\n\tand é 🚮", "notes": ["a\x0bb"], "lat": 52.2}]
    response = render("xml", "service_requests", "request", rows)
    [request] = ElementTree.fromstring(response.body)
    assert request.findtext("description") == "Bins again\n\tand é 🚮"
    assert request.findtext("notes/note") == "ab"
    error = error_response("xml", 404, "no service with code \x01\x7f")
    assert ElementTree.fromstring(error.body).findtext("error/description") == "no service with code \x7f"


def test_posted_fields_within_their_lengths_and_without_control_characters_pass() -> None:
    form = FormData([("service_code", "584"), ("description", "Graffiti.\nAgain."), ("attribute[size]", "small")])
    assert checked_fields(form) == {
        "service_code": "584",
        "description": "Graffiti.\nAgain.",
        "attribute[size]": "small",
    }


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("first_name", "P" * 101, "first_name must be at most 100 characters"),
        ("attribute[size]", "s" * 501, "attribute[size] must be at most 500 characters"),
        ("address_string", "1 High St\n", "address_string must not contain control characters"),
        ("description", "Graffiti\x00", "description must not contain control characters"),
    ],
)
def test_a_field_too_long_or_with_control_characters_is_400(field: str, value: str, reason: str) -> None:
    with pytest.raises(Open311Error, match=reason.replace("[", r"\[").replace("]", r"\]")) as refused:
        checked_fields(FormData([(field, value)]))
    assert refused.value.code == 400


def test_a_file_is_not_a_field() -> None:
    with pytest.raises(Open311Error, match="media_url"):
        checked_fields(FormData([("media", UploadFile(io.BytesIO(b"x"), filename="bin.png"))]))
