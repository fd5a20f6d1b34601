"""Cases: the life of every need from raised to closed, as the cases service records it."""

from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field

from onestop.contracts import topics
from onestop.contracts.events.base import Event
from onestop.contracts.events.common import (
    Actor,
    Attachment,
    CaseReference,
    Channel,
    CustomerDetails,
    HandOffModel,
    Location,
    NeedKind,
    Priority,
    Sealed,
    ServiceCode,
    UtcDatetime,
    ValueObject,
    subject_of_contact,
)

# Every case event that may carry personal data names whose it is: the case's customer, or the subject of
# its contact when the customer was never identified (`subject_of_contact`). Its key seals the event.
DataSubject = Annotated[
    UUID | None,
    Field(description="Whose key seals the personal data in this event: the case's customer, or its contact's"),
]


class ComplaintStage(StrEnum):
    INFORMAL = "informal"  # resolved locally by a team leader
    STAGE_1 = "stage_1"  # investigated by a complaint owner, at least an operational manager
    STAGE_2 = "stage_2"  # answered by a director


class EscalationReason(StrEnum):
    AGED_30_DAYS = "aged_30_days"  # referred to the senior manager and portfolio holder
    AGED_60_DAYS = "aged_60_days"  # breaches the corporate standard
    SLA_BREACHED = "sla_breached"
    COMPLAINT_STAGE = "complaint_stage"
    CHASED = "chased"  # the customer chased an open case; its advocate is alerted


class CaseOutcome(StrEnum):
    RESOLVED = "resolved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class ComplaintDetails(ValueObject):
    lead_service_area: str = Field(max_length=120)
    services_involved: tuple[str, ...] = ()
    about_contractor: str | None = Field(default=None, max_length=200)
    via_councillor: str | None = Field(default=None, max_length=200)
    sealed: Sealed = None

    personal_fields: ClassVar[tuple[str, ...]] = ("about_contractor", "via_councillor")


class CaseRaised(Event):
    """A need became a case with its own reference; every later case event follows on the same key."""

    type: ClassVar[str] = "onestop.case.raised"
    topic: ClassVar[topics.Topic] = topics.CASES
    aggregate_field: ClassVar[str] = "case_id"

    case_id: UUID
    reference: CaseReference
    raised_at: UtcDatetime
    contact_id: UUID
    need_id: UUID
    channel: Channel
    kind: NeedKind
    service_code: ServiceCode
    service_area: str = Field(max_length=120)
    description: str = Field(default="", max_length=10_000)
    location: Location | None = None
    customer: CustomerDetails | None = None
    priority: Priority = Priority.NORMAL
    complaint: ComplaintDetails | None = None
    attachments: tuple[Attachment, ...] = Field(default=(), description="Photos and files the customer sent")
    sealed: Sealed = None

    personal_fields: ClassVar[tuple[str, ...]] = ("description",)

    def personal_subject(self) -> UUID:
        return subject_of_contact(self.contact_id, self.customer)


class CaseHandedOff(Event):
    """The case went to a back-office team under a hand-off model, with its service-level due time."""

    type: ClassVar[str] = "onestop.case.handed-off"
    topic: ClassVar[topics.Topic] = topics.CASES
    aggregate_field: ClassVar[str] = "case_id"

    case_id: UUID
    reference: CaseReference
    handed_off_at: UtcDatetime
    hand_off_model: HandOffModel
    service_code: ServiceCode
    service_area: str = Field(max_length=120)
    team: str = Field(max_length=120)
    sla_due_at: UtcDatetime
    priority: Priority = Priority.NORMAL
    summary: str = Field(default="", max_length=10_000)
    location: Location | None = None
    rule_id: str | None = Field(default=None, max_length=120)
    attachments: tuple[Attachment, ...] = Field(default=(), description="Photos and files the customer sent")
    data_subject: DataSubject = None
    sealed: Sealed = None

    personal_fields: ClassVar[tuple[str, ...]] = ("summary",)


class CaseReassigned(Event):
    """Ownership moved to another team or person; a re-route counts as a wrongly routed contact."""

    type: ClassVar[str] = "onestop.case.reassigned"
    topic: ClassVar[topics.Topic] = topics.CASES
    aggregate_field: ClassVar[str] = "case_id"

    case_id: UUID
    reassigned_at: UtcDatetime
    team: str = Field(max_length=120)
    owner: str | None = Field(default=None, max_length=120)
    previous_team: str | None = Field(default=None, max_length=120)
    reason: str = Field(default="", max_length=500)
    rerouted: bool = False
    data_subject: DataSubject = None
    sealed: Sealed = None

    personal_fields: ClassVar[tuple[str, ...]] = ("reason",)


class CaseAccepted(Event):
    """The back office took the work on; from now on it owns delivery."""

    type: ClassVar[str] = "onestop.case.accepted"
    topic: ClassVar[topics.Topic] = topics.CASES
    aggregate_field: ClassVar[str] = "case_id"

    case_id: UUID
    accepted_at: UtcDatetime
    system: str = Field(max_length=120)
    work_item_id: str = Field(max_length=120)
    expected_by: UtcDatetime | None = None


class CaseProgressUpdated(Event):
    """Work moved on; `public` notes may be shown to the customer."""

    type: ClassVar[str] = "onestop.case.progress-updated"
    topic: ClassVar[topics.Topic] = topics.CASES
    aggregate_field: ClassVar[str] = "case_id"

    case_id: UUID
    updated_at: UtcDatetime
    note: str | None = Field(max_length=2000)
    public: bool = True
    expected_by: UtcDatetime | None = None
    data_subject: DataSubject = None
    sealed: Sealed = None

    personal_fields: ClassVar[tuple[str, ...]] = ("note",)


class CaseResolved(Event):
    """The service or information was delivered."""

    type: ClassVar[str] = "onestop.case.resolved"
    topic: ClassVar[topics.Topic] = topics.CASES
    aggregate_field: ClassVar[str] = "case_id"

    case_id: UUID
    resolved_at: UtcDatetime
    outcome: str | None = Field(max_length=2000)
    resolved_by: Actor
    at_first_contact: bool = False
    data_subject: DataSubject = None
    sealed: Sealed = None

    personal_fields: ClassVar[tuple[str, ...]] = ("outcome",)


class CaseDeclined(Event):
    """The request will not be met, with the reason given to the customer; never left looking open."""

    type: ClassVar[str] = "onestop.case.declined"
    topic: ClassVar[topics.Topic] = topics.CASES
    aggregate_field: ClassVar[str] = "case_id"

    case_id: UUID
    declined_at: UtcDatetime
    reason: str | None = Field(min_length=1, max_length=2000)
    declined_by: Actor
    policy_reference: str | None = Field(default=None, max_length=200)
    data_subject: DataSubject = None
    sealed: Sealed = None

    personal_fields: ClassVar[tuple[str, ...]] = ("reason",)


class CaseClosed(Event):
    """The case is finished and the customer has been told; it may be reopened within a window."""

    type: ClassVar[str] = "onestop.case.closed"
    topic: ClassVar[topics.Topic] = topics.CASES
    aggregate_field: ClassVar[str] = "case_id"

    case_id: UUID
    closed_at: UtcDatetime
    outcome: CaseOutcome
    service_area: str = Field(max_length=120)
    within_sla: bool | None = Field(
        default=None, description="Closed by its due time; absent when it had none (resolved at first contact)"
    )


class CaseReopened(Event):
    """A closed case came back to life, e.g. the repair failed again."""

    type: ClassVar[str] = "onestop.case.reopened"
    topic: ClassVar[topics.Topic] = topics.CASES
    aggregate_field: ClassVar[str] = "case_id"

    case_id: UUID
    reopened_at: UtcDatetime
    reason: str | None = Field(min_length=1, max_length=2000)
    reopened_by: Actor
    data_subject: DataSubject = None
    sealed: Sealed = None

    personal_fields: ClassVar[tuple[str, ...]] = ("reason",)


class NoteAdded(Event):
    """Someone wrote on the case; internal notes are never shown to the customer."""

    type: ClassVar[str] = "onestop.case.note-added"
    topic: ClassVar[topics.Topic] = topics.CASES
    aggregate_field: ClassVar[str] = "case_id"

    case_id: UUID
    note_id: UUID
    added_at: UtcDatetime
    author: Actor
    text: str | None = Field(min_length=1, max_length=10_000)
    internal: bool = True
    data_subject: DataSubject = None
    sealed: Sealed = None

    personal_fields: ClassVar[tuple[str, ...]] = ("text",)


class CaseEscalated(Event):
    """The case was referred upwards: by age (30 or 60 days), SLA breach, complaint stage or a chase."""

    type: ClassVar[str] = "onestop.case.escalated"
    topic: ClassVar[topics.Topic] = topics.CASES
    aggregate_field: ClassVar[str] = "case_id"

    case_id: UUID
    escalated_at: UtcDatetime
    reason: EscalationReason
    escalated_to: tuple[str, ...] = Field(description="Roles told, e.g. senior_manager, portfolio_holder")
    service_area: str = Field(max_length=120)
    days_open: int = Field(ge=0)
    complaint_stage: ComplaintStage | None = None
    owner_role: str | None = Field(default=None, max_length=120)
    due_at: UtcDatetime | None = None


class ComplaintDetailsRecorded(Event):
    """What the complaint spans: the services involved (several: the corporate complaints manager leads it),
    a contractor it is about, a councillor it came through. Replaces what was recorded before."""

    type: ClassVar[str] = "onestop.case.complaint-details-recorded"
    topic: ClassVar[topics.Topic] = topics.CASES
    aggregate_field: ClassVar[str] = "case_id"

    case_id: UUID
    recorded_at: UtcDatetime
    service_area: str = Field(max_length=120)
    complaint: ComplaintDetails
    data_subject: DataSubject = None


class ComplaintReferredToOmbudsman(Event):
    """After stage 2, the complainant took the complaint to the nation's ombudsman (LGSCO, SPSO, PSOW, NIPSO)."""

    type: ClassVar[str] = "onestop.case.complaint-referred-to-ombudsman"
    topic: ClassVar[topics.Topic] = topics.CASES
    aggregate_field: ClassVar[str] = "case_id"

    case_id: UUID
    referred_at: UtcDatetime
    ombudsman: str = Field(max_length=20)
    service_area: str = Field(max_length=120)
    ombudsman_reference: str | None = Field(default=None, max_length=60, description="The ombudsman's own reference")


class ReporterLinked(Event):
    """Another person reported the same problem; they are told of this case's progress too."""

    type: ClassVar[str] = "onestop.case.reporter-linked"
    topic: ClassVar[topics.Topic] = topics.CASES
    aggregate_field: ClassVar[str] = "case_id"

    case_id: UUID
    linked_at: UtcDatetime
    contact_id: UUID
    need_id: UUID
    customer: CustomerDetails | None = None

    def personal_subject(self) -> UUID:
        return subject_of_contact(self.contact_id, self.customer)


class CaseChased(Event):
    """The customer contacted us about this open case (avoidable contact); the advocate is alerted."""

    type: ClassVar[str] = "onestop.case.chased"
    topic: ClassVar[topics.Topic] = topics.CASES
    aggregate_field: ClassVar[str] = "case_id"

    case_id: UUID
    chased_at: UtcDatetime
    contact_id: UUID
    channel: Channel
