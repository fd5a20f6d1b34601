"""The facts analytics keeps from the log: plain rows, stamped with event time so late events count in
the right period. A fact either records something new (a contact, a call offered) or changes what is
known of a case (its closure, its reopening), which is why their order within a case matters."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True)
class ContactFact:
    contact_id: UUID
    channel: str
    self_service: bool
    received_at: datetime
    needs: int


@dataclass(frozen=True)
class NeedFact:
    contact_id: UUID
    need_id: UUID
    service_code: str | None
    kind: str
    received_at: datetime
    channel: str


@dataclass(frozen=True)
class AssessmentFact:
    """The NI14 verdict on one need; a later assessment of the same need replaces it."""

    contact_id: UUID
    need_id: UUID
    assessed_at: datetime
    channel: str
    service_area: str
    service_code: str | None  # the service the need was settled on
    avoidable: bool
    category: str | None
    explanation: str
    related_case_id: UUID | None = None  # the case a chase or a repeat was about


@dataclass(frozen=True)
class DuplicateFact:
    """A report absorbed by a case already open; it counts when its contact came in."""

    contact_id: UUID
    need_id: UUID
    case_id: UUID
    linked_at: datetime


@dataclass(frozen=True)
class CaseFact:
    case_id: UUID
    contact_id: UUID
    reference: str
    service_code: str
    service_area: str
    channel: str
    kind: str
    raised_at: datetime


@dataclass(frozen=True)
class HandOffModelFact:
    """How the front office hands the case over (One & Done, Fire & Forget, Customer Advocate): routing's
    decision, confirmed by the hand-off; the latest one counts."""

    case_id: UUID
    hand_off_model: str


@dataclass(frozen=True)
class SlaDueFact:
    case_id: UUID
    sla_due_at: datetime


@dataclass(frozen=True)
class FirstContactResolutionFact:
    case_id: UUID


@dataclass(frozen=True)
class ClosureFact:
    case_id: UUID
    closed_at: datetime
    outcome: str
    within_sla: bool | None


@dataclass(frozen=True)
class ReopeningFact:
    """Undoes the case's closure: it counts as open again until it is next closed; the reopening itself
    is counted."""

    case_id: UUID
    reopened_at: datetime


@dataclass(frozen=True)
class ComplaintStageFact:
    case_id: UUID
    stage: str
    started_at: datetime
    due_at: datetime | None


@dataclass(frozen=True)
class CallOfferFact:
    call_id: UUID
    queue: str
    offered_at: datetime


@dataclass(frozen=True)
class CallAnswerFact:
    call_id: UUID
    queue: str
    answered_at: datetime
    wait_seconds: float


@dataclass(frozen=True)
class CallAbandonmentFact:
    call_id: UUID
    queue: str
    abandoned_at: datetime
    wait_seconds: float


@dataclass(frozen=True)
class TicketIssueFact:
    ticket_id: UUID
    site: str
    issued_at: datetime
    booked: bool


@dataclass(frozen=True)
class TicketServiceFact:
    ticket_id: UUID
    site: str
    served_at: datetime
    wait_seconds: float
    booked: bool


@dataclass(frozen=True)
class NotificationSentFact:
    notification_id: UUID
    case_id: UUID | None
    sent_at: datetime


@dataclass(frozen=True)
class FeedbackFact:
    survey_id: UUID
    case_id: UUID
    service_area: str
    received_at: datetime
    satisfied: bool
    score: int


Fact = (
    ContactFact
    | NeedFact
    | AssessmentFact
    | DuplicateFact
    | CaseFact
    | HandOffModelFact
    | SlaDueFact
    | FirstContactResolutionFact
    | ClosureFact
    | ReopeningFact
    | ComplaintStageFact
    | CallOfferFact
    | CallAnswerFact
    | CallAbandonmentFact
    | TicketIssueFact
    | TicketServiceFact
    | NotificationSentFact
    | FeedbackFact
)
