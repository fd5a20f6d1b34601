"""Routing: where each need goes and how, whether the contact was avoidable, and duplicates."""

from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from onestop.contracts import topics
from onestop.contracts.events.base import Event
from onestop.contracts.events.common import (
    Channel,
    CustomerDetails,
    HandOffModel,
    Priority,
    ServiceCode,
    UtcDatetime,
    subject_of_contact,
)
from onestop.contracts.events.contacts import Need


class AvoidableCategory(StrEnum):
    """NI14 kinds of avoidable contact, applied by code so every contact is judged the same way."""

    PROGRESS_CHASING = "progress_chasing"
    REPEAT_CONTACT = "repeat_contact"
    DUPLICATE_REPORT = "duplicate_report"
    WRONGLY_ROUTED = "wrongly_routed"
    CLARIFICATION = "clarification"
    COUNCIL_FAILURE = "council_failure"
    AGENT_REPORTED = "agent_reported"


class NeedRouted(Event):
    """A need was assigned a service area, team, hand-off model and service standard by a named rule."""

    type: ClassVar[str] = "onestop.need.routed"
    topic: ClassVar[topics.Topic] = topics.ROUTING
    aggregate_field: ClassVar[str] = "contact_id"

    contact_id: UUID
    case_id: UUID = Field(description="The case to raise: identifiers.case_id_for(contact_id, need.need_id)")
    need: Need = Field(description="The need as received, so consumers need not join with the contact")
    customer: CustomerDetails | None = None
    channel: Channel
    received_at: UtcDatetime
    routed_at: UtcDatetime
    service_code: ServiceCode = Field(description="The need's own code, or the one classification chose")
    service_area: str = Field(max_length=120)
    team: str = Field(max_length=120)
    hand_off_model: HandOffModel
    sla_working_days: int = Field(ge=0, le=365)
    priority: Priority = Priority.NORMAL
    rule_id: str = Field(max_length=120, description="The rule that matched, so the decision can be explained")
    rules_version: str = Field(max_length=64)
    classified_confidence: float | None = Field(
        default=None, ge=0, le=1, description="Set when the service type came from free-text classification"
    )

    def personal_subject(self) -> UUID:
        return subject_of_contact(self.contact_id, self.customer)


class NeedSentToTriage(Event):
    """A need could not be routed with confidence and waits for a person to choose its service."""

    type: ClassVar[str] = "onestop.need.sent-to-triage"
    topic: ClassVar[topics.Topic] = topics.ROUTING
    aggregate_field: ClassVar[str] = "contact_id"

    contact_id: UUID
    need_id: UUID
    sent_at: UtcDatetime
    reason: str = Field(max_length=500)
    best_guess_service_code: ServiceCode | None = None
    confidence: float | None = Field(default=None, ge=0, le=1)


class DuplicateReportLinked(Event):
    """A report matched an open case of the same problem; the reporter follows that case instead."""

    type: ClassVar[str] = "onestop.duplicate-report.linked"
    topic: ClassVar[topics.Topic] = topics.ROUTING
    aggregate_field: ClassVar[str] = "contact_id"

    contact_id: UUID
    need_id: UUID
    case_id: UUID
    linked_at: UtcDatetime
    customer_id: UUID | None = None
    distance_metres: float | None = Field(default=None, ge=0)
    customer: CustomerDetails | None = Field(
        default=None, description="The reporter, so the case can tell them of its progress as it tells its customer"
    )

    def personal_subject(self) -> UUID:
        return subject_of_contact(self.contact_id, self.customer)


class ContactAssessed(Event):
    """The NI14 verdict on a contact: avoidable or not, and why."""

    type: ClassVar[str] = "onestop.contact.assessed"
    topic: ClassVar[topics.Topic] = topics.ROUTING
    aggregate_field: ClassVar[str] = "contact_id"

    contact_id: UUID
    need_id: UUID
    assessed_at: UtcDatetime
    channel: Channel
    service_area: str = Field(max_length=120)
    service_code: ServiceCode | None = Field(
        default=None,
        description="The service the need was settled on: its own, the one read from its text, the one triage "
        "chose, or that of the case it is about",
    )
    avoidable: bool
    category: AvoidableCategory | None = None
    related_case_id: UUID | None = None
    explanation: str = Field(default="", max_length=500)


class RoutingRulesPublished(Event):
    """A new version of the routing rules took effect."""

    type: ClassVar[str] = "onestop.routing-rules.published"
    topic: ClassVar[topics.Topic] = topics.ROUTING_RULES
    aggregate_field: ClassVar[str] = "ruleset"

    ruleset: str = Field(max_length=120)
    rules_version: str = Field(max_length=64)
    published_at: UtcDatetime
    checksum: str = Field(max_length=128)
    rule_count: int = Field(ge=0)
