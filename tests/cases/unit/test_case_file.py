"""The case file staff read: built from the case's opened events; what an erased customer told us is empty."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from onestop.cases.case_file import case_file
from onestop.contracts import EventEnvelope
from onestop.contracts.events.cases import CaseProgressUpdated, CaseRaised, NoteAdded
from onestop.contracts.events.common import Actor, Attachment, Channel, CustomerDetails, Location, NeedKind

RAISED_AT = datetime(2026, 11, 3, 10, 2, tzinfo=UTC)


def summary(**fields: Any) -> dict[str, Any]:
    return {
        "case_id": uuid4(),
        "customer_id": uuid4(),
        "service_area": "waste",
        "team": "waste-services",
        "hand_off_model": "fire_and_forget",
        "owner": None,
        "status": "handed_off",
        "sla_due_at": RAISED_AT + timedelta(days=2),
        "expected_by": None,
        "escalations": [],
    } | fields


def history(customer: CustomerDetails, description: str, note: str | None) -> list[EventEnvelope]:
    case_id = uuid4()
    events = [
        CaseRaised(
            case_id=case_id,
            reference="OS-AAAA-BBBB",
            raised_at=RAISED_AT,
            contact_id=uuid4(),
            need_id=uuid4(),
            channel=Channel.APP,
            kind=NeedKind.REPORT_PROBLEM,
            service_code="524",
            service_area="waste",
            description=description,
            customer=customer,
            location=Location(address="Bin store, 4 Elm Road NN1 1AB" if description else None, usrn="12345678"),
            attachments=(
                Attachment(
                    url="http://intake/attachments/0b6f3c1e-52d4-4c8a-9e57-3f1a2d9c7b40",
                    media_type="image/jpeg",
                    size_bytes=2048,
                    filename="bins.jpg",
                ),
            ),
        ),
        NoteAdded(case_id=case_id, note_id=uuid4(), added_at=RAISED_AT, author=Actor(kind="agent", id="a1"), text=note),
        CaseProgressUpdated(case_id=case_id, updated_at=RAISED_AT, note=note, public=True),
    ]
    return [EventEnvelope.wrap(event, source="/tests") for event in events]


def test_the_case_in_full_has_what_where_who_attachments_notes_and_sla() -> None:
    customer = CustomerDetails(customer_id=uuid4(), name="Ada Lovelace", email="ada@example.org", phone="0770")
    full = case_file(summary(), history(customer, "Missed bin", "Crew booked"), RAISED_AT + timedelta(days=3))
    assert full["description"] == "Missed bin"
    assert full["location"]["postcode"] == "NN1 1AB" and full["location"]["usrn"] == "12345678"
    assert (full["customer"]["name"], full["customer"]["email"]) == ("Ada Lovelace", "ada@example.org")
    [attachment] = full["attachments"]
    assert attachment["id"] == "0b6f3c1e-52d4-4c8a-9e57-3f1a2d9c7b40" and attachment["filename"] == "bins.jpg"
    assert [(n["source"], n["text"], n["public"]) for n in full["notes"]] == [
        ("staff", "Crew booked", False),
        ("back_office", "Crew booked", True),
    ]
    assert full["hand_off"]["team_name"] == "Waste Services" and full["hand_off"]["model_name"] == "Fire & Forget"
    assert full["sla"]["breached"], "open past its due time"
    assert full["history"][0]["text"] == "Raised from an app contact on 3 Nov 2026 at 10:02"


def test_an_erased_customers_case_file_keeps_the_case_and_shows_nothing_of_them() -> None:
    erased = CustomerDetails(customer_id=uuid4())  # what opening gives once their key is gone
    full = case_file(summary(customer_id=None), history(erased, "", None), RAISED_AT)
    assert full["description"] == "" and full["location"]["address"] is None
    assert full["customer"]["name"] is None and full["customer"]["customer_id"] is None
    assert [n["text"] for n in full["notes"]] == [None]
    assert full["sla"]["breached"] is False and len(full["events"]) == 3
