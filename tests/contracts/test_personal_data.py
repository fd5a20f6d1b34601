"""Which data in the catalogue is personal, and how an event is walked to seal it: every personal field of
every event travels sealed under its subject's key, and what statistics need stays in the clear."""

import base64
import json
from datetime import UTC, datetime
from typing import Any, get_args, get_origin
from uuid import UUID, uuid4

from pydantic import BaseModel

from onestop.contracts import CATALOGUE
from onestop.contracts.events.base import Sealable
from onestop.contracts.events.cases import CaseProgressUpdated, CaseRaised
from onestop.contracts.events.common import (
    Actor,
    Attachment,
    Channel,
    CustomerDetails,
    Location,
    NeedKind,
    subject_of_contact,
    unidentified_subject_for,
)
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.contracts.events.notifications import NotificationRequested, Recipient, RecipientRole
from onestop.contracts.events.routing import NeedRouted
from onestop.contracts.personal_data import (
    empty_value,
    map_personal,
    open_with,
    personal_subjects,
    seal_with,
    sealed_subjects,
    without_personal_data,
)

# Every model that holds personal data, field by field. Ids, services, channels, dates, wards, kinds,
# coordinates and the words the platform writes itself stay in the clear: the statistics need them.
PERSONAL_FIELDS = {
    "Location": ("address", "uprn"),
    "Attachment": ("url", "filename"),
    "CustomerDetails": ("name", "email", "phone", "address", "uprn", "vulnerable"),
    "Actor": ("name",),
    "Need": ("description", "resolution", "avoidable_reason"),
    "ContactReceived": ("channel_details", "on_behalf_of_councillor"),
    "ComplaintDetails": ("about_contractor", "via_councillor"),
    "CaseRaised": ("description",),
    "CaseHandedOff": ("summary",),
    "CaseReassigned": ("reason",),
    "CaseProgressUpdated": ("note",),
    "CaseResolved": ("outcome",),
    "CaseDeclined": ("reason",),
    "CaseReopened": ("reason",),
    "NoteAdded": ("text",),
    "HandOffRejected": ("reason",),
    "ProgressReported": ("note",),
    "WorkCompleted": ("outcome",),
    "Recipient": ("address",),
    "NotificationFailed": ("reason",),
    "FeedbackReceived": ("comment",),
}


def _models_within(model: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    if model in seen:
        return
    seen.add(model)
    for info in model.model_fields.values():
        stack: list[Any] = [info.annotation]
        while stack:
            kind = stack.pop()
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                _models_within(kind, seen)
            stack.extend(get_args(kind) if get_origin(kind) is not None else ())


def every_model() -> set[type[BaseModel]]:
    seen: set[type[BaseModel]] = set()
    for event in CATALOGUE.models():
        _models_within(event, seen)
    return seen


def test_every_personal_field_of_the_catalogue_is_declared_and_can_travel_sealed() -> None:
    holders = {m.__name__: m for m in every_model() if issubclass(m, Sealable) and m.personal_fields}
    assert {name: model.personal_fields for name, model in holders.items()} == PERSONAL_FIELDS
    for model in holders.values():
        assert "sealed" in model.model_fields, f"{model.__name__} has personal fields and nowhere to seal them"
        for name in model.personal_fields:
            info = model.model_fields[name]
            if info.is_required():  # empty on the wire: it must take None
                assert type(None) in get_args(info.annotation), f"{model.__name__}.{name} cannot be empty"


def _seal(subject: UUID, plaintext: bytes) -> str:
    return f"{subject}:{base64.b64encode(plaintext).decode()}"


def _open(subject: UUID, sealed: str) -> bytes | None:
    owner, _, blob = sealed.partition(":")
    return base64.b64decode(blob) if owner == str(subject) else None


def a_contact(customer_id: UUID | None) -> ContactReceived:
    return ContactReceived(
        contact_id=uuid4(),
        channel=Channel.EMAIL,
        received_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
        needs=(
            Need(
                need_id=uuid4(),
                kind=NeedKind.REPORT_PROBLEM,
                service_code="584",
                description="Dear council, the graffiti is back. Yours, Ada Byron",
                location=Location(
                    latitude=52.2, longitude=-0.9, address="12 Ockham Lane", uprn="1234", ward="Abington"
                ),
                attachments=(Attachment(url="https://files/ada-byron.jpg", media_type="image/jpeg", size_bytes=10),),
            ),
        ),
        customer=CustomerDetails(customer_id=customer_id, name="Ada Byron", email="ada@example.org", vulnerable=True),
        taken_by=Actor(kind="agent", id="agent-7", name="Charles Babbage"),
        channel_details={"message_id": "<1@ada.example.org>"},
    )


def test_a_sealed_contact_holds_nothing_personal_and_opens_whole() -> None:
    contact = a_contact(uuid4())
    sealed = map_personal(contact, seal_with(_seal))
    text = sealed.model_dump_json()
    for personal in ("Ada Byron", "ada@example.org", "12 Ockham Lane", "1234", "ada-byron.jpg", "Babbage", "<1@"):
        assert personal not in text, personal
    assert json.loads(text)["customer"]["vulnerable"] is False, "back at its default on the wire"
    assert '"ward":"Abington"' in text and '"service_code":"584"' in text and '"latitude":52.2' in text
    assert personal_subjects(sealed) == set()
    assert sealed_subjects(sealed) == {contact.customer.customer_id}  # type: ignore[union-attr]

    assert map_personal(sealed, open_with(_open)) == contact


def test_a_contact_of_someone_not_identified_is_sealed_under_its_own_subject() -> None:
    contact = a_contact(customer_id=None)
    subject = unidentified_subject_for(contact.contact_id)
    assert contact.personal_subject() == subject == subject_of_contact(contact.contact_id, None)
    assert personal_subjects(contact) == {subject}
    assert sealed_subjects(map_personal(contact, seal_with(_seal))) == {subject}


def test_what_follows_from_a_contact_is_sealed_under_the_same_subject() -> None:
    for customer_id in (uuid4(), None):
        contact = a_contact(customer_id)
        need = contact.needs[0]
        routed = NeedRouted(
            contact_id=contact.contact_id,
            case_id=uuid4(),
            need=need,
            customer=contact.customer,
            channel=contact.channel,
            received_at=contact.received_at,
            routed_at=contact.received_at,
            service_code="584",
            service_area="street_cleaning",
            team="cleansing",
            hand_off_model="fire_and_forget",
            sla_working_days=5,
            rule_id="r",
            rules_version="1",
        )
        raised = CaseRaised(
            case_id=routed.case_id,
            reference="OS-AAAA-BBBB",
            raised_at=contact.received_at,
            contact_id=contact.contact_id,
            need_id=need.need_id,
            channel=contact.channel,
            kind=need.kind,
            service_code="584",
            service_area="street_cleaning",
            description=need.description,
            customer=contact.customer,
        )
        assert contact.personal_subject() == routed.personal_subject() == raised.personal_subject()


def test_an_event_names_no_subject_until_it_is_given_one() -> None:
    note = CaseProgressUpdated(case_id=uuid4(), updated_at=datetime.now(UTC), note="Mrs Byron was out")
    assert personal_subjects(note) == {None}, "nothing could seal it: publishing it must refuse"
    subject = uuid4()
    assert personal_subjects(note.model_copy(update={"data_subject": subject})) == {subject}


def test_a_recipient_is_sealed_under_their_own_key_and_anyone_else_under_the_events() -> None:
    customer, case_customer = uuid4(), uuid4()

    def request(recipient: Recipient) -> NotificationRequested:
        return NotificationRequested(
            notification_id=uuid4(),
            requested_at=datetime.now(UTC),
            recipient=recipient,
            method="email",
            template="progress",
            trigger_event_id=uuid4(),
            data_subject=case_customer,
        )

    theirs = Recipient(role=RecipientRole.CUSTOMER, id=str(customer), address="ada@example.org")
    follower = Recipient(role=RecipientRole.WARD_SUBSCRIBER, id="resident-9", address="bob@example.org")
    assert personal_subjects(request(theirs)) == {customer}
    assert personal_subjects(request(follower)) == {case_customer}


def test_what_a_store_keeps_once_its_subject_is_erased_has_nothing_personal() -> None:
    sealed = map_personal(a_contact(uuid4()), seal_with(_seal))
    kept = without_personal_data(sealed)
    assert sealed_subjects(kept) == set() and personal_subjects(kept) == set()
    assert kept.needs[0].location is not None and kept.needs[0].location.ward == "Abington"
    assert kept.needs[0].attachments[0].url is None
    assert empty_value(kept.needs[0], "description") == kept.needs[0].description == ""
