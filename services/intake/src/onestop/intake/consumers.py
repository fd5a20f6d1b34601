"""What intake learns from other services: case progress for Open311 clients (every case of an Open311-listed
service, whatever channel raised it), and erasures.

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
    ReporterLinked,
)
from onestop.contracts.events.common import Channel
from onestop.contracts.events.customers import CustomerErased
from onestop.contracts.identifiers import case_id_for, case_reference_for
from onestop.contracts.service_catalogue import service_catalogue
from onestop.intake.adapters.attachments import attachment_ids_in
from onestop.intake.adapters.repositories import CaseProgressRepositories
from onestop.intake.domain.service_request import listed_on_open311
from onestop.servicekit.event_consumer import Handler
from onestop.servicekit.unit_of_work import UnitOfWork

Unit = UnitOfWork[CaseProgressRepositories]


async def on_case_raised(event: CaseRaised, uow: Unit) -> None:
    attached = attachment_ids_in(attachment.url for attachment in event.attachments)
    await uow.repos.attachments.serve_area(attached, event.service_area)
    if event.channel == Channel.OPEN311:
        uow.repos.open311_requests.case_raised(event.case_id, event.raised_at, event.reference)
        return
    service = service_catalogue().service(event.service_code)
    if service is not None and listed_on_open311(event.service_code):
        uow.repos.open311_requests.add_from_another_channel(event, service.name)


async def on_case_handed_off(event: CaseHandedOff, uow: Unit) -> None:
    uow.repos.open311_requests.handed_off(event.case_id, event.handed_off_at, event.team, event.sla_due_at)


async def on_case_progress_updated(event: CaseProgressUpdated, uow: Unit) -> None:
    if event.public:  # internal progress is never shown to an Open311 client
        uow.repos.open311_requests.progress_noted(event.case_id, event.updated_at, event.note, event.expected_by)


async def on_case_resolved(event: CaseResolved, uow: Unit) -> None:
    uow.repos.open311_requests.outcome_noted(event.case_id, event.resolved_at, event.outcome)


async def on_case_declined(event: CaseDeclined, uow: Unit) -> None:
    uow.repos.open311_requests.outcome_noted(event.case_id, event.declined_at, event.reason)


async def on_case_closed(event: CaseClosed, uow: Unit) -> None:
    uow.repos.open311_requests.closed(event.case_id, event.closed_at)


async def on_case_reopened(event: CaseReopened, uow: Unit) -> None:
    uow.repos.open311_requests.reopened(event.case_id, event.reopened_at)


async def on_reporter_linked(event: ReporterLinked, uow: Unit) -> None:
    reference = case_reference_for(case_id_for(event.contact_id, event.need_id))
    uow.repos.open311_requests.linked(event.case_id, event.linked_at, event.need_id, reference)


async def on_customer_erased(event: CustomerErased, uow: Unit) -> None:
    await uow.repos.customers.erase(event.customer_id)
    uow.repos.open311_requests.erase(event.customer_id)
    await uow.repos.attachments.erase(event.customer_id)


HANDLERS: Mapping[type[Event], Handler[CaseProgressRepositories]] = {
    CaseRaised: on_case_raised,
    CaseHandedOff: on_case_handed_off,
    CaseProgressUpdated: on_case_progress_updated,
    CaseResolved: on_case_resolved,
    CaseDeclined: on_case_declined,
    CaseClosed: on_case_closed,
    CaseReopened: on_case_reopened,
    ReporterLinked: on_reporter_linked,
    CustomerErased: on_customer_erased,
}
