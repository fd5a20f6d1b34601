"""The cases handlers with in-memory repositories: what each consumed event does to a case, and emits."""

from datetime import timedelta
from functools import partial
from typing import Any
from uuid import UUID, uuid4

import pytest

from onestop.cases import handlers
from onestop.cases.domain.case import ComplaintPolicy
from onestop.cases.domain.sla import WorkingCalendar
from onestop.contracts import EventEnvelope
from onestop.contracts.events.back_office import HandOffAccepted, HandOffRejected, WorkCompleted
from onestop.contracts.events.base import Event
from onestop.contracts.events.cases import (
    CaseAccepted,
    CaseChased,
    CaseClosed,
    CaseEscalated,
    CaseHandedOff,
    CaseRaised,
    CaseReassigned,
    CaseResolved,
    ComplaintStage,
    EscalationReason,
    ReporterLinked,
)
from onestop.contracts.events.common import Channel, CustomerDetails, HandOffModel, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.contracts.events.customers import CustomerErased, CustomersMerged
from onestop.contracts.events.routing import AvoidableCategory, ContactAssessed, DuplicateReportLinked, NeedRouted
from onestop.servicekit.messaging import UnprocessableEvent
from tests.cases.factories import MONDAY_MORNING, routed
from tests.cases.unit.fakes import InMemoryCaseRepositories, unit_of_work

TRIAGE = "customer-services-triage"
HANDLERS: dict[type[Event], Any] = {
    NeedRouted: partial(handlers.on_need_routed, calendar=WorkingCalendar(), complaints=ComplaintPolicy()),
    DuplicateReportLinked: handlers.on_duplicate_report_linked,
    ContactAssessed: handlers.on_contact_assessed,
    HandOffAccepted: handlers.on_hand_off_accepted,
    WorkCompleted: handlers.on_work_completed,
    HandOffRejected: partial(handlers.on_hand_off_rejected, triage_team=TRIAGE),
    ContactReceived: handlers.on_contact_received,
    CustomersMerged: handlers.on_customers_merged,
    CustomerErased: handlers.on_customer_erased,
}


async def handle(repos: InMemoryCaseRepositories, event: Event) -> list[EventEnvelope]:
    """Run the event's handler as the runtime would; what it emitted."""
    uow = unit_of_work(repos, EventEnvelope.wrap(event, source="/test"))
    await HANDLERS[type(event)](event, uow)
    return uow.emitted


def types(envelopes: list[EventEnvelope]) -> list[type[Event]]:
    return [type(envelope.data) for envelope in envelopes]


async def a_handed_off_case(repos: InMemoryCaseRepositories, **kwargs: Any) -> NeedRouted:
    decision = routed(**kwargs)
    await handle(repos, decision)
    return decision


def accepted(case_id: UUID, service_areas: tuple[str, ...] = ("street_cleaning",)) -> HandOffAccepted:
    return HandOffAccepted(
        case_id=case_id,
        system="waste-lob",
        service_areas=service_areas,
        work_item_id="W-1",
        accepted_at=MONDAY_MORNING,
    )


async def test_a_routed_need_raises_a_case_and_hands_it_off() -> None:
    repos = InMemoryCaseRepositories()
    decision = routed()
    emitted = await handle(repos, decision)
    assert types(emitted) == [CaseRaised, CaseHandedOff]
    assert emitted[0].data.case_id == decision.case_id  # type: ignore[attr-defined]
    assert (await repos.cases.get(decision.case_id)).team == "street-scene"


async def test_what_a_handler_emits_is_caused_by_the_event_it_handled() -> None:
    repos = InMemoryCaseRepositories()
    cause = EventEnvelope.wrap(routed(), source="/test")
    uow = unit_of_work(repos, cause)
    await HANDLERS[NeedRouted](cause.data, uow)
    assert {(e.causationid, e.correlationid) for e in uow.emitted} == {(cause.id, cause.correlationid)}


async def test_a_need_resolved_at_first_contact_is_raised_resolved_and_closed() -> None:
    emitted = await handle(InMemoryCaseRepositories(), routed(model=HandOffModel.ONE_AND_DONE))
    assert types(emitted) == [CaseRaised, CaseResolved, CaseClosed]


async def test_a_complaint_starts_at_the_informal_stage() -> None:
    emitted = await handle(InMemoryCaseRepositories(), routed(kind=NeedKind.COMPLAINT))
    assert types(emitted) == [CaseRaised, CaseHandedOff, CaseEscalated]
    assert emitted[2].data.complaint_stage is ComplaintStage.INFORMAL  # type: ignore[attr-defined]


async def test_a_complaint_routed_late_starts_when_it_was_made() -> None:
    late = routed(kind=NeedKind.COMPLAINT).model_copy(update={"routed_at": MONDAY_MORNING + timedelta(days=3)})
    emitted = await handle(InMemoryCaseRepositories(), late)
    stage = emitted[2].data
    assert isinstance(stage, CaseEscalated) and stage.escalated_at == MONDAY_MORNING
    informal_days = ComplaintPolicy().working_days[ComplaintStage.INFORMAL]
    assert stage.due_at == WorkingCalendar().due_by(MONDAY_MORNING, informal_days)


async def test_a_decision_delivered_again_raises_nothing_more() -> None:
    repos = InMemoryCaseRepositories()
    decision = await a_handed_off_case(repos)
    assert await handle(repos, decision) == []
    assert len(repos.cases.histories[decision.case_id]) == 2


async def test_a_duplicate_linked_before_its_case_exists_is_kept_and_applied_when_the_case_is_raised() -> None:
    repos = InMemoryCaseRepositories()
    decision = routed()
    reporter = uuid4()
    link = DuplicateReportLinked(
        contact_id=reporter, need_id=uuid4(), case_id=decision.case_id, linked_at=decision.routed_at
    )
    assert await handle(repos, link) == []
    assert decision.case_id in repos.pending_links.kept

    emitted = await handle(repos, decision)
    assert types(emitted) == [CaseRaised, CaseHandedOff, ReporterLinked]
    assert emitted[2].data.contact_id == reporter  # type: ignore[attr-defined]
    assert repos.pending_links.kept == {}


async def test_a_duplicate_of_a_raised_case_links_its_reporter_once() -> None:
    repos = InMemoryCaseRepositories()
    decision = await a_handed_off_case(repos)
    link = DuplicateReportLinked(
        contact_id=uuid4(), need_id=uuid4(), case_id=decision.case_id, linked_at=decision.routed_at
    )
    assert types(await handle(repos, link)) == [ReporterLinked]
    assert await handle(repos, link) == []


async def test_a_linked_reporter_is_linked_with_their_contact_details_whenever_the_case_is_raised() -> None:
    repos = InMemoryCaseRepositories()
    decision = routed()

    def link(customer: CustomerDetails) -> DuplicateReportLinked:
        return DuplicateReportLinked(
            contact_id=uuid4(),
            need_id=uuid4(),
            case_id=decision.case_id,
            linked_at=decision.routed_at,
            customer=customer,
        )

    early, late = (CustomerDetails(customer_id=uuid4(), email=f"{who}@example.org") for who in ("early", "late"))
    emitted = await handle(repos, link(early))  # before the case is raised here: kept until it is
    emitted += await handle(repos, decision)
    emitted += await handle(repos, link(late))
    told = [e.data.customer for e in emitted if isinstance(e.data, ReporterLinked)]
    assert told == [early, late]


async def test_a_back_office_completion_resolves_and_closes_the_case() -> None:
    repos = InMemoryCaseRepositories()
    decision = await a_handed_off_case(repos)
    assert types(await handle(repos, accepted(decision.case_id))) == [CaseAccepted]
    completed = WorkCompleted(
        case_id=decision.case_id,
        system="waste-lob",
        service_areas=("street_cleaning",),
        work_item_id="W-1",
        completed_at=MONDAY_MORNING + timedelta(hours=5),
        outcome="Cleared",
    )
    assert types(await handle(repos, completed)) == [CaseResolved, CaseClosed]
    assert not (await repos.cases.get(decision.case_id)).is_open


async def test_a_rejected_hand_off_without_a_suggestion_goes_to_triage() -> None:
    repos = InMemoryCaseRepositories()
    decision = await a_handed_off_case(repos)
    rejected = HandOffRejected(
        case_id=decision.case_id,
        system="waste-lob",
        service_areas=("street_cleaning",),
        rejected_at=MONDAY_MORNING,
        reason="Not ours",
    )
    emitted = await handle(repos, rejected)
    assert types(emitted) == [CaseReassigned]
    assert emitted[0].data.team == TRIAGE and emitted[0].data.rerouted  # type: ignore[attr-defined]


async def test_a_rule_the_case_refuses_makes_the_event_unprocessable_and_stores_nothing() -> None:
    repos = InMemoryCaseRepositories()
    unknown = uuid4()
    with pytest.raises(UnprocessableEvent) as refused:
        await handle(repos, accepted(unknown))
    assert str(unknown) in refused.value.reason and "does not exist" in refused.value.reason
    assert repos.cases.histories == {}

    decision = await a_handed_off_case(repos)
    await handle(repos, accepted(decision.case_id))
    with pytest.raises(UnprocessableEvent, match="already accepted"):
        await handle(repos, accepted(decision.case_id))


@pytest.mark.parametrize(
    ("service_areas", "reason"),
    [(("housing",), "serves housing, not street_cleaning"), ((), "serves no stated service area")],
)
async def test_a_back_office_report_outside_the_systems_areas_is_unprocessable(
    service_areas: tuple[str, ...], reason: str
) -> None:
    repos = InMemoryCaseRepositories()
    decision = await a_handed_off_case(repos)
    before = len(repos.cases.histories[decision.case_id])
    with pytest.raises(UnprocessableEvent, match=reason):
        await handle(repos, accepted(decision.case_id, service_areas))
    assert len(repos.cases.histories[decision.case_id]) == before


def assessment(case_id: UUID | None, category: AvoidableCategory | None) -> ContactAssessed:
    return ContactAssessed(
        contact_id=uuid4(),
        need_id=uuid4(),
        assessed_at=MONDAY_MORNING,
        channel=Channel.TELEPHONE,
        service_area="street_cleaning",
        avoidable=category is not None,
        category=category,
        related_case_id=case_id,
    )


async def test_a_chase_on_an_advocated_case_is_recorded_and_alerts_the_advocate() -> None:
    repos = InMemoryCaseRepositories()
    decision = await a_handed_off_case(repos, model=HandOffModel.CUSTOMER_ADVOCATE)
    emitted = await handle(repos, assessment(decision.case_id, AvoidableCategory.PROGRESS_CHASING))
    assert types(emitted) == [CaseChased, CaseEscalated]
    assert emitted[1].data.reason is EscalationReason.CHASED  # type: ignore[attr-defined]


async def test_an_assessment_that_is_not_a_chase_is_ignored() -> None:
    repos = InMemoryCaseRepositories()
    decision = await a_handed_off_case(repos)
    assert await handle(repos, assessment(decision.case_id, AvoidableCategory.WRONGLY_ROUTED)) == []
    assert await handle(repos, assessment(None, AvoidableCategory.PROGRESS_CHASING)) == []
    assert len(repos.cases.histories[decision.case_id]) == 2


async def test_the_customer_view_follows_contacts_merges_and_erasure() -> None:
    repos = InMemoryCaseRepositories()
    customer, other = uuid4(), uuid4()
    contact = ContactReceived(
        contact_id=uuid4(),
        channel=Channel.WEB,
        received_at=MONDAY_MORNING,
        customer=CustomerDetails(customer_id=customer, name="A Resident"),
        needs=(Need(need_id=uuid4(), kind=NeedKind.REPORT_PROBLEM, service_code="587", description="Sofa"),),
    )
    await handle(repos, contact)
    await handle(
        repos, CustomersMerged(surviving_customer_id=customer, merged_customer_id=other, merged_at=MONDAY_MORNING)
    )
    assert repos.customers.contacts == {customer: [contact.contact_id]}
    assert repos.customers.merged_into == {other: customer}

    await handle(repos, CustomerErased(customer_id=customer, erased_at=MONDAY_MORNING, legal_basis="UK GDPR 17"))
    assert repos.customers.contacts == {} and repos.customers.merged_into == {}
