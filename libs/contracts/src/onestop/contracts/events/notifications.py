"""Notifications and feedback: closing the loop with customers, councillors and staff."""

from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field

from onestop.contracts import topics
from onestop.contracts.events.base import Event
from onestop.contracts.events.common import ContactMethod, Sealed, UtcDatetime, ValueObject

DataSubject = Annotated[
    UUID | None,
    Field(description="Whose key seals what this event holds of a person: the recipient's, or the case's customer's"),
]


class RecipientRole(StrEnum):
    CUSTOMER = "customer"
    REPORTER = "reporter"  # linked to a case as a duplicate report
    COUNCILLOR = "councillor"
    WARD_SUBSCRIBER = "ward_subscriber"
    STAFF = "staff"


class Recipient(ValueObject):
    """Who is told. A customer's or reporter's address is sealed with their own key; anyone else's (a ward
    follower's, a councillor's) with the key of the event's `data_subject`."""

    role: RecipientRole
    id: str = Field(min_length=1, max_length=120)
    address: str | None = Field(default=None, max_length=500, description="Email, phone or postal address")
    sealed: Sealed = None

    personal_fields: ClassVar[tuple[str, ...]] = ("address",)

    def personal_subject(self) -> UUID | None:
        if self.role not in (RecipientRole.CUSTOMER, RecipientRole.REPORTER):
            return None
        try:
            return UUID(self.id)
        except ValueError:
            return None


class SurveyKind(StrEnum):
    ON_CLOSE = "on_close"
    REPAIR_FOLLOW_UP = "repair_follow_up"  # six weeks after a repair closes


class NotificationRequested(Event):
    """A message is due to someone because of an event; its key makes sending happen once."""

    type: ClassVar[str] = "onestop.notification.requested"
    topic: ClassVar[topics.Topic] = topics.NOTIFICATIONS
    aggregate_field: ClassVar[str] = "notification_id"

    notification_id: UUID
    requested_at: UtcDatetime
    recipient: Recipient
    method: ContactMethod
    template: str = Field(max_length=120)
    language: str = Field(default="en", max_length=8)
    case_id: UUID | None = None
    trigger_event_id: UUID
    data_subject: DataSubject = None


class NotificationSent(Event):
    """The provider accepted the message."""

    type: ClassVar[str] = "onestop.notification.sent"
    topic: ClassVar[topics.Topic] = topics.NOTIFICATIONS
    aggregate_field: ClassVar[str] = "notification_id"

    notification_id: UUID
    sent_at: UtcDatetime
    method: ContactMethod
    case_id: UUID | None = None
    provider_reference: str | None = Field(default=None, max_length=200)


class NotificationFailed(Event):
    """Sending failed; a permanent failure may fall back to another method."""

    type: ClassVar[str] = "onestop.notification.failed"
    topic: ClassVar[topics.Topic] = topics.NOTIFICATIONS
    aggregate_field: ClassVar[str] = "notification_id"

    notification_id: UUID
    failed_at: UtcDatetime
    method: ContactMethod
    reason: str = Field(
        default="", max_length=2000, description="What went wrong; a provider's error can hold an address"
    )
    permanent: bool
    case_id: UUID | None = None
    fallback_method: ContactMethod | None = None
    data_subject: DataSubject = None
    sealed: Sealed = None

    personal_fields: ClassVar[tuple[str, ...]] = ("reason",)


class FeedbackRequested(Event):
    """A customer in the sample was asked how we did."""

    type: ClassVar[str] = "onestop.feedback.requested"
    topic: ClassVar[topics.Topic] = topics.FEEDBACK
    aggregate_field: ClassVar[str] = "case_id"

    survey_id: UUID
    case_id: UUID
    requested_at: UtcDatetime
    survey: SurveyKind
    service_area: str = Field(max_length=120)
    recipient: Recipient


class FeedbackReceived(Event):
    """A customer answered a survey."""

    type: ClassVar[str] = "onestop.feedback.received"
    topic: ClassVar[topics.Topic] = topics.FEEDBACK
    aggregate_field: ClassVar[str] = "case_id"

    survey_id: UUID
    case_id: UUID
    received_at: UtcDatetime
    service_area: str = Field(max_length=120)
    satisfied: bool
    score: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=5000)
    data_subject: DataSubject = None
    sealed: Sealed = None

    personal_fields: ClassVar[tuple[str, ...]] = ("comment",)
