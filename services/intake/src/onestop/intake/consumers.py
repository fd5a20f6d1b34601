"""What intake learns from other services: case progress for Open311 clients, and erasures.

One handler per event type, run by the shared consumer runtime (which keeps the inbox). Each update sets
values, so a redelivered event changes nothing.
"""

from collections.abc import Mapping

from onestop.contracts.events.base import Event
from onestop.contracts.events.cases import (
    CaseClosed,
    CaseDeclined,
    CaseHandedOff,
    CaseProgressUpdated,
    CaseRaised,
    CaseReopened,
    CaseResolved,
)
from onestop.contracts.events.customers import CustomerErased
from onestop.intake.adapters.repositories import IntakeRepositories
from onestop.servicekit.event_consumer import Handler
from onestop.servicekit.unit_of_work import UnitOfWork

Unit = UnitOfWork[IntakeRepositories]


async def on_case_raised(event: CaseRaised, uow: Unit) -> None:
    await uow.repos.open311_requests.case_raised(event.case_id, event.raised_at, event.reference)


async def on_case_handed_off(event: CaseHandedOff, uow: Unit) -> None:
    await uow.repos.open311_requests.handed_off(event.case_id, event.handed_off_at, event.team, event.sla_due_at)


async def on_case_progress_updated(event: CaseProgressUpdated, uow: Unit) -> None:
    if event.public:  # internal progress is never shown to an Open311 client
        await uow.repos.open311_requests.progress_noted(event.case_id, event.updated_at, event.note, event.expected_by)


async def on_case_resolved(event: CaseResolved, uow: Unit) -> None:
    await uow.repos.open311_requests.outcome_noted(event.case_id, event.resolved_at, event.outcome)


async def on_case_declined(event: CaseDeclined, uow: Unit) -> None:
    await uow.repos.open311_requests.outcome_noted(event.case_id, event.declined_at, event.reason)


async def on_case_closed(event: CaseClosed, uow: Unit) -> None:
    await uow.repos.open311_requests.closed(event.case_id, event.closed_at)


async def on_case_reopened(event: CaseReopened, uow: Unit) -> None:
    await uow.repos.open311_requests.reopened(event.case_id, event.reopened_at)


async def on_customer_erased(event: CustomerErased, uow: Unit) -> None:
    await uow.repos.customers.erase(event.customer_id)
    await uow.repos.open311_requests.erase(event.customer_id)
    await uow.repos.attachments.erase(event.customer_id)


HANDLERS: Mapping[type[Event], Handler[IntakeRepositories]] = {
    CaseRaised: on_case_raised,
    CaseHandedOff: on_case_handed_off,
    CaseProgressUpdated: on_case_progress_updated,
    CaseResolved: on_case_resolved,
    CaseDeclined: on_case_declined,
    CaseClosed: on_case_closed,
    CaseReopened: on_case_reopened,
    CustomerErased: on_customer_erased,
}
