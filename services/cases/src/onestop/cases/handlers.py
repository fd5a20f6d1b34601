"""What the cases service does with each event it consumes: one handler per event type.

The consumer runtime gives each handler a unit of work (inbox, transaction and outbox are its business);
a handler loads the case through `uow.repos`, lets the `Case` aggregate decide, and stores and emits what
happened. A rule the case refuses makes the event unprocessable: it is dead-lettered with the reason.
"""

from uuid import UUID

from onestop.cases.adapters.repositories import CaseRepositories
from onestop.cases.changes import Decision, change_case
from onestop.cases.domain.case import Case, CaseRuleBroken, ComplaintPolicy
from onestop.cases.domain.sla import WorkingCalendar
from onestop.contracts.events.back_office import HandOffAccepted, HandOffRejected, ProgressReported, WorkCompleted
from onestop.contracts.events.base import Event
from onestop.contracts.events.contacts import ContactReceived
from onestop.contracts.events.customers import CustomerErased, CustomersMerged, CustomersUnmerged
from onestop.contracts.events.routing import AvoidableCategory, ContactAssessed, DuplicateReportLinked, NeedRouted
from onestop.servicekit.messaging import UnprocessableEvent
from onestop.servicekit.unit_of_work import UnitOfWork


async def _change(uow: UnitOfWork[CaseRepositories], event: Event, case_id: UUID, decide: Decision) -> None:
    try:
        await change_case(uow, case_id, decide)
    except CaseRuleBroken as exc:
        raise UnprocessableEvent(f"{event.type} for case {case_id}: {exc.reason}") from exc


# --- from routing ------------------------------------------------------------------------------------


async def on_need_routed(
    decision: NeedRouted,
    uow: UnitOfWork[CaseRepositories],
    *,
    calendar: WorkingCalendar,
    complaints: ComplaintPolicy,
) -> None:
    """A routed need raises its case (handed off, or resolved at first contact)."""

    def raise_case(case: Case) -> list[Event]:
        if case.exists:
            return []  # the same decision delivered again: the case is already raised
        events = Case.raise_from(decision, calendar)
        raised = Case.from_history(decision.case_id, events)
        return events + raised.start_complaint(decision.received_at, calendar, complaints)

    await _change(uow, decision, decision.case_id, raise_case)


async def on_duplicate_report_linked(link: DuplicateReportLinked, uow: UnitOfWork[CaseRepositories]) -> None:
    """Another report of a case's problem: its reporter is linked, or kept until the case is raised here."""
    await uow.repos.pending_links.lock(link.case_id)
    case = await uow.repos.cases.get(link.case_id)
    if not case.exists:
        assert uow.cause is not None, "a consumed event has its envelope"
        await uow.repos.pending_links.keep(uow.cause)
        return
    await _change(
        uow,
        link,
        link.case_id,
        lambda case: case.link_reporter(link.contact_id, link.need_id, link.customer, link.linked_at),
    )


async def on_contact_assessed(assessment: ContactAssessed, uow: UnitOfWork[CaseRepositories]) -> None:
    """A customer chasing an open case: the chase is recorded; any other assessment is not ours."""
    case_id = assessment.related_case_id
    if assessment.category is not AvoidableCategory.PROGRESS_CHASING or case_id is None:
        return
    await _change(
        uow,
        assessment,
        case_id,
        lambda case: case.record_chase(assessment.contact_id, assessment.channel, assessment.assessed_at),
    )


# --- from back-office systems ------------------------------------------------------------------------

BackOfficeReport = HandOffAccepted | HandOffRejected | ProgressReported | WorkCompleted


def _within_its_areas(report: BackOfficeReport, decide: Decision) -> Decision:
    """A system reports only on cases of the service areas it says it serves: a report about a case of
    another area, or from a system that names no area, is dead-lettered with the reason."""

    def fenced(case: Case) -> list[Event]:
        if case.exists and case.service_area not in report.service_areas:
            serves = ", ".join(report.service_areas) or "no stated service area"
            raise UnprocessableEvent(
                f"{report.type} for case {report.case_id}: {report.system} serves {serves}, not {case.service_area}"
            )
        return decide(case)

    return fenced


async def on_hand_off_accepted(report: HandOffAccepted, uow: UnitOfWork[CaseRepositories]) -> None:
    await _change(uow, report, report.case_id, _within_its_areas(report, lambda case: case.accept(report)))


async def on_progress_reported(report: ProgressReported, uow: UnitOfWork[CaseRepositories]) -> None:
    await _change(uow, report, report.case_id, _within_its_areas(report, lambda case: case.progress_from(report)))


async def on_work_completed(report: WorkCompleted, uow: UnitOfWork[CaseRepositories]) -> None:
    await _change(uow, report, report.case_id, _within_its_areas(report, lambda case: case.complete(report)))


async def on_hand_off_rejected(report: HandOffRejected, uow: UnitOfWork[CaseRepositories], *, triage_team: str) -> None:
    """Not the back office's work: the case is re-routed to the team it suggests, or to triage."""
    decide = _within_its_areas(report, lambda case: case.reject_hand_off(report, triage_team))
    await _change(uow, report, report.case_id, decide)


# --- the single customer view ------------------------------------------------------------------------


async def on_contact_received(contact: ContactReceived, uow: UnitOfWork[CaseRepositories]) -> None:
    await uow.repos.customers.add_contact(contact)


async def on_customers_merged(merge: CustomersMerged, uow: UnitOfWork[CaseRepositories]) -> None:
    await uow.repos.customers.merge(merge.surviving_customer_id, merge.merged_customer_id)


async def on_customers_unmerged(unmerge: CustomersUnmerged, uow: UnitOfWork[CaseRepositories]) -> None:
    await uow.repos.customers.unmerge(unmerge.merged_customer_id)


async def on_customer_erased(erasure: CustomerErased, uow: UnitOfWork[CaseRepositories]) -> None:
    await uow.repos.customers.forget(erasure.customer_id)
