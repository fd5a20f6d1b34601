"""What each event adds to the facts, with an in-memory buffer in place of the database."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from onestop.analytics.domain.facts import (
    AssessmentFact,
    CallAbandonmentFact,
    CallAnswerFact,
    CallOfferFact,
    CaseFact,
    ClosureFact,
    ComplaintStageFact,
    ContactFact,
    DuplicateFact,
    Fact,
    FeedbackFact,
    FirstContactResolutionFact,
    HandOffModelFact,
    NeedFact,
    NotificationSentFact,
    ReopeningFact,
    SlaDueFact,
    TicketIssueFact,
    TicketServiceFact,
)
from onestop.analytics.handlers import (
    HANDLERS,
    TOPICS,
    on_call_abandoned,
    on_call_answered,
    on_call_offered,
    on_case_closed,
    on_case_escalated,
    on_case_handed_off,
    on_case_raised,
    on_case_reopened,
    on_case_resolved,
    on_contact_assessed,
    on_contact_received,
    on_duplicate_report_linked,
    on_feedback_received,
    on_need_routed,
    on_notification_sent,
    on_ticket_issued,
    on_ticket_served,
    write_buffered_facts,
)
from onestop.contracts.events.cases import (
    CaseClosed,
    CaseEscalated,
    CaseHandedOff,
    CaseOutcome,
    CaseRaised,
    CaseReopened,
    CaseResolved,
    ComplaintStage,
    EscalationReason,
)
from onestop.contracts.events.channels import CallAbandoned, CallAnswered, CallOffered, TicketIssued, TicketServed
from onestop.contracts.events.common import Actor, Channel, ContactMethod, HandOffModel, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.contracts.events.notifications import FeedbackReceived, NotificationSent
from onestop.contracts.events.routing import AvoidableCategory, ContactAssessed, DuplicateReportLinked, NeedRouted
from onestop.servicekit.unit_of_work import InMemoryUnitOfWork

AT = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
STAFF = Actor(kind="agent", id="officer-1")


class FakeFacts:
    """The batch's buffer, kept in a list."""

    def __init__(self) -> None:
        self.added: list[Fact] = []
        self.written: list[Fact] = []

    def add(self, *facts: Fact) -> None:
        self.added.extend(facts)

    async def write(self) -> None:
        self.written, self.added = self.written + self.added, []


def unit() -> InMemoryUnitOfWork[FakeFacts]:
    return InMemoryUnitOfWork(repos=FakeFacts())


async def test_a_contact_becomes_a_contact_fact_with_its_channel_and_one_need_fact_per_need() -> None:
    uow = unit()
    needs = (
        Need(need_id=uuid4(), kind=NeedKind.REPORT_PROBLEM, service_code="524"),
        Need(need_id=uuid4(), kind=NeedKind.INFORMATION, service_code="58"),
    )
    contact = ContactReceived(contact_id=uuid4(), channel=Channel.TELEPHONE, received_at=AT, needs=needs)

    await on_contact_received(contact, uow)

    assert uow.repos.added == [
        ContactFact(contact.contact_id, "telephone", False, AT, 2),
        NeedFact(contact.contact_id, needs[0].need_id, "524", "report_problem", AT, "telephone"),
        NeedFact(contact.contact_id, needs[1].need_id, "58", "information", AT, "telephone"),
    ]
    assert uow.emitted == []


async def test_a_web_contact_counts_as_self_service() -> None:
    uow = unit()
    need = Need(need_id=uuid4(), kind=NeedKind.REPORT_PROBLEM, service_code="524")
    await on_contact_received(
        ContactReceived(contact_id=uuid4(), channel=Channel.WEB, received_at=AT, needs=(need,)), uow
    )
    [contact, _] = uow.repos.added
    assert isinstance(contact, ContactFact) and contact.self_service


async def test_an_assessment_marks_the_need_avoidable_with_its_category() -> None:
    uow = unit()
    contact_id, need_id = uuid4(), uuid4()
    await on_contact_assessed(
        ContactAssessed(
            contact_id=contact_id,
            need_id=need_id,
            assessed_at=AT,
            channel=Channel.TELEPHONE,
            service_area="waste",
            service_code="524",
            avoidable=True,
            category=AvoidableCategory.PROGRESS_CHASING,
            related_case_id=(chased := uuid4()),
            explanation="chasing a missed bin",
        ),
        uow,
    )
    assert uow.repos.added == [
        AssessmentFact(
            contact_id,
            need_id,
            AT,
            "telephone",
            "waste",
            "524",
            True,
            "progress_chasing",
            "chasing a missed bin",
            related_case_id=chased,
        )
    ]


async def test_an_unavoidable_assessment_has_no_category() -> None:
    uow = unit()
    await on_contact_assessed(
        ContactAssessed(
            contact_id=uuid4(),
            need_id=uuid4(),
            assessed_at=AT,
            channel=Channel.WEB,
            service_area="waste",
            avoidable=False,
        ),
        uow,
    )
    [assessment] = uow.repos.added
    assert isinstance(assessment, AssessmentFact)
    assert (assessment.avoidable, assessment.category) == (False, None)


async def test_a_linked_duplicate_is_recorded_against_its_case() -> None:
    uow = unit()
    event = DuplicateReportLinked(contact_id=uuid4(), need_id=uuid4(), case_id=uuid4(), linked_at=AT)
    await on_duplicate_report_linked(event, uow)
    assert uow.repos.added == [DuplicateFact(event.contact_id, event.need_id, event.case_id, AT)]


async def test_a_raised_case_is_recorded_with_its_service_and_channel() -> None:
    uow = unit()
    event = CaseRaised(
        case_id=uuid4(),
        reference="WST-000123",
        raised_at=AT,
        contact_id=uuid4(),
        need_id=uuid4(),
        channel=Channel.APP,
        kind=NeedKind.REPORT_PROBLEM,
        service_code="524",
        service_area="waste",
    )
    await on_case_raised(event, uow)
    assert uow.repos.added == [
        CaseFact(event.case_id, event.contact_id, "WST-000123", "524", "waste", "app", "report_problem", AT)
    ]


async def test_a_hand_off_records_when_the_service_level_falls_due() -> None:
    uow = unit()
    due = AT + timedelta(days=5)
    event = CaseHandedOff(
        case_id=uuid4(),
        reference="WST-000123",
        handed_off_at=AT,
        hand_off_model=HandOffModel.FIRE_AND_FORGET,
        service_code="524",
        service_area="waste",
        team="waste-crew",
        sla_due_at=due,
    )
    await on_case_handed_off(event, uow)
    assert uow.repos.added == [SlaDueFact(event.case_id, due), HandOffModelFact(event.case_id, "fire_and_forget")]


async def test_routing_records_the_hand_off_model_of_every_case_one_and_done_included() -> None:
    uow = unit()
    contact_id, need = uuid4(), Need(need_id=uuid4(), kind=NeedKind.SERVICE_REQUEST, service_code="524")
    event = NeedRouted(
        contact_id=contact_id,
        case_id=uuid4(),
        need=need,
        channel=Channel.TELEPHONE,
        received_at=AT,
        routed_at=AT,
        service_code="524",
        service_area="waste",
        team="contact-centre",
        hand_off_model=HandOffModel.ONE_AND_DONE,
        sla_working_days=0,
        rule_id="bins-info",
        rules_version="1",
    )
    await on_need_routed(event, uow)
    assert uow.repos.added == [HandOffModelFact(event.case_id, "one_and_done")]


async def test_only_a_resolution_at_first_contact_counts_as_one() -> None:
    first, later = unit(), unit()
    case_id = uuid4()
    resolved = {"case_id": case_id, "resolved_at": AT, "outcome": "answered", "resolved_by": STAFF}
    await on_case_resolved(CaseResolved(**resolved, at_first_contact=True), first)
    await on_case_resolved(CaseResolved(**resolved), later)
    assert first.repos.added == [FirstContactResolutionFact(case_id)]
    assert later.repos.added == []


async def test_a_closed_case_records_its_closure_and_whether_it_met_its_standard() -> None:
    uow = unit()
    event = CaseClosed(
        case_id=uuid4(), closed_at=AT, outcome=CaseOutcome.RESOLVED, service_area="waste", within_sla=True
    )
    await on_case_closed(event, uow)
    assert uow.repos.added == [ClosureFact(event.case_id, AT, "resolved", True)]


async def test_a_reopened_case_undoes_its_closure() -> None:
    uow = unit()
    event = CaseReopened(case_id=uuid4(), reopened_at=AT, reason="the bin was missed again", reopened_by=STAFF)
    await on_case_reopened(event, uow)
    assert uow.repos.added == [ReopeningFact(event.case_id, event.reopened_at)]


def escalation(reason: EscalationReason, stage: ComplaintStage | None = None) -> CaseEscalated:
    return CaseEscalated(
        case_id=uuid4(),
        escalated_at=AT,
        reason=reason,
        escalated_to=("complaints_officer",),
        service_area="waste",
        days_open=3,
        complaint_stage=stage,
        due_at=AT + timedelta(days=10),
    )


async def test_a_complaint_escalation_records_the_stage_it_started() -> None:
    uow = unit()
    event = escalation(EscalationReason.COMPLAINT_STAGE, ComplaintStage.STAGE_1)
    await on_case_escalated(event, uow)
    assert uow.repos.added == [ComplaintStageFact(event.case_id, "stage_1", AT, AT + timedelta(days=10))]


async def test_a_complaint_without_a_stage_counts_as_informal() -> None:
    uow = unit()
    await on_case_escalated(escalation(EscalationReason.COMPLAINT_STAGE), uow)
    [stage] = uow.repos.added
    assert isinstance(stage, ComplaintStageFact) and stage.stage == "informal"


async def test_escalations_that_are_not_complaints_add_no_fact() -> None:
    uow = unit()
    for reason in EscalationReason:
        if reason is not EscalationReason.COMPLAINT_STAGE:
            await on_case_escalated(escalation(reason), uow)
    assert uow.repos.added == []


async def test_a_call_is_recorded_as_offered_then_answered_or_abandoned() -> None:
    uow = unit()
    answered, abandoned = uuid4(), uuid4()
    await on_call_offered(CallOffered(call_id=answered, queue="main", offered_at=AT), uow)
    await on_call_answered(CallAnswered(call_id=answered, queue="main", answered_at=AT, wait_seconds=12.5), uow)
    await on_call_abandoned(CallAbandoned(call_id=abandoned, queue="main", abandoned_at=AT, wait_seconds=90), uow)
    assert uow.repos.added == [
        CallOfferFact(answered, "main", AT),
        CallAnswerFact(answered, "main", AT, 12.5),
        CallAbandonmentFact(abandoned, "main", AT, 90.0),
    ]


async def test_a_reception_ticket_is_recorded_as_issued_then_served() -> None:
    uow = unit()
    ticket = uuid4()
    await on_ticket_issued(TicketIssued(ticket_id=ticket, site="Town Hall", issued_at=AT, booked_appointment=True), uow)
    await on_ticket_served(
        TicketServed(ticket_id=ticket, site="Town Hall", served_at=AT, wait_seconds=300, booked_appointment=True), uow
    )
    assert uow.repos.added == [
        TicketIssueFact(ticket, "Town Hall", AT, True),
        TicketServiceFact(ticket, "Town Hall", AT, 300.0, True),
    ]


async def test_a_sent_notification_is_recorded_against_its_case() -> None:
    uow = unit()
    event = NotificationSent(notification_id=uuid4(), sent_at=AT, method=ContactMethod.EMAIL, case_id=uuid4())
    await on_notification_sent(event, uow)
    assert uow.repos.added == [NotificationSentFact(event.notification_id, event.case_id, AT)]


async def test_feedback_records_satisfaction_and_score() -> None:
    uow = unit()
    event = FeedbackReceived(
        survey_id=uuid4(), case_id=uuid4(), received_at=AT, service_area="waste", satisfied=False, score=2
    )
    await on_feedback_received(event, uow)
    assert uow.repos.added == [FeedbackFact(event.survey_id, event.case_id, "waste", AT, False, 2)]


async def test_the_buffer_is_written_once_the_batch_is_handled() -> None:
    uow = unit()
    await on_case_reopened(CaseReopened(case_id=uuid4(), reopened_at=AT, reason="again", reopened_by=STAFF), uow)
    await write_buffered_facts(uow.repos)
    assert (len(uow.repos.written), uow.repos.added) == (1, [])


def test_every_event_analytics_counts_comes_from_a_topic_it_consumes() -> None:
    assert {event_type.topic for event_type in HANDLERS} == set(TOPICS)
