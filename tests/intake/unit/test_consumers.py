"""What intake does with other services' events: Open311 requests follow their case; erasure clears keys."""

from datetime import UTC, datetime
from uuid import uuid4

from onestop.contracts.events.cases import CaseProgressUpdated, ReporterLinked
from onestop.contracts.events.customers import CustomerErased
from onestop.contracts.identifiers import case_id_for, case_reference_for
from onestop.intake.consumers import HANDLERS, on_case_progress_updated, on_customer_erased, on_reporter_linked
from onestop.servicekit.unit_of_work import InMemoryUnitOfWork
from tests.intake.unit.fakes import FakeCaseProgressRepositories

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)


def progress(public: bool) -> CaseProgressUpdated:
    return CaseProgressUpdated(case_id=uuid4(), updated_at=NOW, note="Crew booked for Thursday", public=public)


async def test_public_progress_becomes_the_requests_status_notes() -> None:
    repos = FakeCaseProgressRepositories()
    event = progress(public=True)

    await on_case_progress_updated(event, InMemoryUnitOfWork(repos))

    assert repos.open311_requests.changes == [("progress_noted", event.case_id, NOW, (event.note, None))]


async def test_internal_progress_is_never_shown_to_an_open311_client() -> None:
    repos = FakeCaseProgressRepositories()

    await on_case_progress_updated(progress(public=False), InMemoryUnitOfWork(repos))

    assert repos.open311_requests.changes == []


async def test_an_erased_customers_matching_keys_requests_and_attachments_are_cleared() -> None:
    repos = FakeCaseProgressRepositories()
    customer_id = uuid4()
    erased = CustomerErased(customer_id=customer_id, erased_at=NOW, legal_basis="the customer asked")

    await on_customer_erased(erased, InMemoryUnitOfWork(repos))

    assert repos.customers.erased == [customer_id]
    assert repos.open311_requests.erased == [customer_id]
    assert repos.attachments.erased == [customer_id]


def test_every_case_event_that_changes_an_open311_request_has_a_handler() -> None:
    assert {t.__name__ for t in HANDLERS} == {
        "CaseRaised",
        "CaseHandedOff",
        "CaseProgressUpdated",
        "CaseResolved",
        "CaseDeclined",
        "CaseClosed",
        "CaseReopened",
        "ReporterLinked",
        "CustomerErased",
    }


async def test_a_duplicate_report_keeps_the_reference_it_was_given_and_follows_the_case_it_was_linked_to() -> None:
    repos = FakeCaseProgressRepositories()
    link = ReporterLinked(case_id=uuid4(), linked_at=NOW, contact_id=uuid4(), need_id=uuid4())

    await on_reporter_linked(link, InMemoryUnitOfWork(repos))

    own = case_reference_for(case_id_for(link.contact_id, link.need_id))
    assert repos.open311_requests.changes == [("linked", link.case_id, NOW, (link.need_id, own))]
