"""What each event adds to the facts: one handler per event type, live and in a rebuild alike.

A handler turns its event into fact rows and hands them to the batch's buffer as its last step, so a
handler that fails has buffered nothing; the buffer is written once the batch's handlers have run, in
the batch's transaction (`write_buffered_facts`, the consumer's before-commit step).
"""

from typing import Protocol

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
from onestop.contracts.events.base import Event
from onestop.contracts.events.cases import (
    CaseClosed,
    CaseEscalated,
    CaseHandedOff,
    CaseRaised,
    CaseReopened,
    CaseResolved,
    ComplaintStage,
    EscalationReason,
)
from onestop.contracts.events.channels import CallAbandoned, CallAnswered, CallOffered, TicketIssued, TicketServed
from onestop.contracts.events.contacts import ContactReceived
from onestop.contracts.events.notifications import FeedbackReceived, NotificationSent
from onestop.contracts.events.routing import ContactAssessed, DuplicateReportLinked, NeedRouted
from onestop.contracts.topics import Topic
from onestop.servicekit.event_consumer import Handler
from onestop.servicekit.unit_of_work import UnitOfWork


class FactBuffer(Protocol):
    """Holds a batch's facts until `write` stores them, one statement per kind of fact."""

    def add(self, *facts: Fact) -> None: ...

    async def write(self) -> None: ...


Facts = UnitOfWork[FactBuffer]


async def on_contact_received(event: ContactReceived, uow: Facts) -> None:
    channel = event.channel.value
    contact = ContactFact(event.contact_id, channel, event.channel.is_self_service, event.received_at, len(event.needs))
    needs = [
        NeedFact(event.contact_id, need.need_id, need.service_code, need.kind.value, event.received_at, channel)
        for need in event.needs
    ]
    uow.repos.add(contact, *needs)


async def on_contact_assessed(event: ContactAssessed, uow: Facts) -> None:
    uow.repos.add(
        AssessmentFact(
            event.contact_id,
            event.need_id,
            event.assessed_at,
            event.channel.value,
            event.service_area,
            event.service_code,
            event.avoidable,
            event.category.value if event.category else None,
            event.explanation,
            event.related_case_id,
        )
    )


async def on_duplicate_report_linked(event: DuplicateReportLinked, uow: Facts) -> None:
    uow.repos.add(DuplicateFact(event.contact_id, event.need_id, event.case_id, event.linked_at))


async def on_case_raised(event: CaseRaised, uow: Facts) -> None:
    uow.repos.add(
        CaseFact(
            event.case_id,
            event.contact_id,
            event.reference,
            event.service_code,
            event.service_area,
            event.channel.value,
            event.kind.value,
            event.raised_at,
        )
    )


async def on_need_routed(event: NeedRouted, uow: Facts) -> None:
    # Routing names the model of every case it routes, One & Done included (which is never handed off).
    uow.repos.add(HandOffModelFact(event.case_id, event.hand_off_model.value))


async def on_case_handed_off(event: CaseHandedOff, uow: Facts) -> None:
    uow.repos.add(
        SlaDueFact(event.case_id, event.sla_due_at), HandOffModelFact(event.case_id, event.hand_off_model.value)
    )


async def on_case_resolved(event: CaseResolved, uow: Facts) -> None:
    if event.at_first_contact:  # a resolution later on is known from the closure
        uow.repos.add(FirstContactResolutionFact(event.case_id))


async def on_case_closed(event: CaseClosed, uow: Facts) -> None:
    uow.repos.add(ClosureFact(event.case_id, event.closed_at, event.outcome.value, event.within_sla))


async def on_case_reopened(event: CaseReopened, uow: Facts) -> None:
    uow.repos.add(ReopeningFact(event.case_id, event.reopened_at))


async def on_case_escalated(event: CaseEscalated, uow: Facts) -> None:
    if event.reason is not EscalationReason.COMPLAINT_STAGE:
        return  # escalations by age, breach or chase are not complaints
    stage = event.complaint_stage or ComplaintStage.INFORMAL
    uow.repos.add(ComplaintStageFact(event.case_id, stage.value, event.escalated_at, event.due_at))


async def on_call_offered(event: CallOffered, uow: Facts) -> None:
    uow.repos.add(CallOfferFact(event.call_id, event.queue, event.offered_at))


async def on_call_answered(event: CallAnswered, uow: Facts) -> None:
    uow.repos.add(CallAnswerFact(event.call_id, event.queue, event.answered_at, event.wait_seconds))


async def on_call_abandoned(event: CallAbandoned, uow: Facts) -> None:
    uow.repos.add(CallAbandonmentFact(event.call_id, event.queue, event.abandoned_at, event.wait_seconds))


async def on_ticket_issued(event: TicketIssued, uow: Facts) -> None:
    uow.repos.add(TicketIssueFact(event.ticket_id, event.site, event.issued_at, event.booked_appointment))


async def on_ticket_served(event: TicketServed, uow: Facts) -> None:
    uow.repos.add(
        TicketServiceFact(event.ticket_id, event.site, event.served_at, event.wait_seconds, event.booked_appointment)
    )


async def on_notification_sent(event: NotificationSent, uow: Facts) -> None:
    uow.repos.add(NotificationSentFact(event.notification_id, event.case_id, event.sent_at))


async def on_feedback_received(event: FeedbackReceived, uow: Facts) -> None:
    uow.repos.add(
        FeedbackFact(
            event.survey_id, event.case_id, event.service_area, event.received_at, event.satisfied, event.score
        )
    )


HANDLERS: dict[type[Event], Handler[FactBuffer]] = {
    ContactReceived: on_contact_received,
    ContactAssessed: on_contact_assessed,
    DuplicateReportLinked: on_duplicate_report_linked,
    NeedRouted: on_need_routed,
    CaseRaised: on_case_raised,
    CaseHandedOff: on_case_handed_off,
    CaseResolved: on_case_resolved,
    CaseClosed: on_case_closed,
    CaseReopened: on_case_reopened,
    CaseEscalated: on_case_escalated,
    CallOffered: on_call_offered,
    CallAnswered: on_call_answered,
    CallAbandoned: on_call_abandoned,
    TicketIssued: on_ticket_issued,
    TicketServed: on_ticket_served,
    NotificationSent: on_notification_sent,
    FeedbackReceived: on_feedback_received,
}

# The consumer group, which also names the inbox rows and the dead-letter topic, live and in a rebuild.
CONSUMER_GROUP = "analytics"
# Only the topics that carry an event analytics counts.
TOPICS: list[Topic] = sorted({event_type.topic for event_type in HANDLERS}, key=lambda topic: topic.name)


async def write_buffered_facts(facts: FactBuffer) -> None:
    """The consumer's before-commit step: store what the batch's handlers buffered."""
    await facts.write()
