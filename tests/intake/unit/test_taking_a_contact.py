"""Taking a contact, without a database: refusals, idempotent retries with stable ids, customer events."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from onestop.contracts.events.common import AssuranceLevel, Channel, CustomerDetails, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.contracts.events.customers import CustomerIdentified
from onestop.intake.domain.service_request import ServiceRequest
from onestop.intake.service import ContactRefused, ContactSubmission, IdempotencyMismatch, take_contact
from onestop.servicekit.unit_of_work import InMemoryUnitOfWork
from tests.intake.unit.fakes import FakeRepositories

TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def a_contact(service_code: str = "587", kind: NeedKind = NeedKind.REPORT_PROBLEM) -> ContactReceived:
    return ContactReceived(
        contact_id=uuid4(),
        channel=Channel.WEB,
        received_at=datetime.now(UTC),
        customer=CustomerDetails(name="Pat Resident", email="pat@example.org"),
        needs=(Need(need_id=uuid4(), kind=kind, service_code=service_code, description="Fly-tip"),),
    )


def submission(contact: ContactReceived | None = None, **fields: object) -> ContactSubmission:
    defaults: dict[str, object] = {
        "contact": contact or a_contact(),
        "assurance": AssuranceLevel.NONE,
        "client": "desk-17",
        "source": "/onestop/intake",
        "request_fingerprint": "request-1",
        "traceparent": TRACE,
    }
    return ContactSubmission(**{**defaults, **fields})  # type: ignore[arg-type]


async def test_a_contact_and_who_its_customer_is_go_to_kafka_together_with_the_callers_trace() -> None:
    uow = InMemoryUnitOfWork(FakeRepositories())

    taken = await take_contact(submission(), uow)

    envelope, identified = taken.publish
    assert isinstance(envelope.data, ContactReceived) and envelope.traceparent == TRACE
    assert taken.answer.status_code == 201 and taken.answer.body["contact_id"] == str(envelope.data.contact_id)
    assert uow.emitted == [], "nothing waits for the outbox: it is all in the contact's Kafka transaction"
    assert isinstance(identified.data, CustomerIdentified) and identified.data.new_customer
    assert identified.causationid == envelope.id
    assert envelope.data.customer is not None
    assert str(envelope.data.customer.customer_id) == taken.answer.body["customer_id"]


async def test_a_need_beyond_the_callers_assurance_is_refused() -> None:
    uow = InMemoryUnitOfWork(FakeRepositories())

    with pytest.raises(ContactRefused, match="verified to level high"):
        await take_contact(submission(a_contact("69", NeedKind.APPLICATION)), uow)
    assert uow.emitted == []


async def test_a_retry_with_the_same_key_gets_the_first_answer_and_publishes_nothing() -> None:
    repos = FakeRepositories()
    first = await take_contact(submission(idempotency_key="call-42"), InMemoryUnitOfWork(repos))

    retry_uow = InMemoryUnitOfWork(repos)
    retry = await take_contact(submission(idempotency_key="call-42"), retry_uow)

    assert retry.answer == first.answer
    assert list(retry.publish) == [] and retry_uow.emitted == []


async def test_the_same_key_for_a_different_request_is_a_mismatch() -> None:
    repos = FakeRepositories()
    await take_contact(submission(idempotency_key="call-42"), InMemoryUnitOfWork(repos))

    with pytest.raises(IdempotencyMismatch):
        await take_contact(
            submission(idempotency_key="call-42", request_fingerprint="another"), InMemoryUnitOfWork(repos)
        )


async def test_with_a_key_the_contact_needs_envelope_and_new_customer_get_the_same_ids_every_time() -> None:
    # Were Kafka to commit and the database not, the retry must republish the very same event.
    attempts = [
        await take_contact(submission(a_contact(), idempotency_key="call-42"), InMemoryUnitOfWork(FakeRepositories()))
        for _ in range(2)
    ]

    first, second = (attempt.publish[0] for attempt in attempts)
    assert first.id == second.id
    assert first.data == second.data.model_copy(update={"received_at": first.data.received_at})  # type: ignore[union-attr]
    assert attempts[0].answer == attempts[1].answer


async def test_without_a_key_every_contact_is_new() -> None:
    contact = a_contact()
    first = await take_contact(submission(contact), InMemoryUnitOfWork(FakeRepositories()))
    second = await take_contact(submission(contact), InMemoryUnitOfWork(FakeRepositories()))

    assert first.publish[0].id != second.publish[0].id


async def test_an_open311_request_is_recorded_under_the_contact_it_became() -> None:
    repos = FakeRepositories()
    request = ServiceRequest("fixmystreet", "587", "Flytipping", "Garages off Kettering Road", 52.24, -0.90, None)

    taken = await take_contact(submission(service_request=request, idempotency_key="fms-1"), InMemoryUnitOfWork(repos))

    [(recorded, contact)] = repos.open311_requests.added
    assert recorded == request
    assert contact == taken.publish[0].data
