"""Contacts: what came in, on which channel, with which needs."""

from typing import ClassVar
from uuid import UUID

from pydantic import Field

from onestop.contracts import topics
from onestop.contracts.events.base import Event
from onestop.contracts.events.common import (
    Actor,
    Attachment,
    CaseReference,
    Channel,
    ContactMethod,
    CustomerDetails,
    Location,
    NeedKind,
    Priority,
    Sealed,
    ServiceCode,
    UtcDatetime,
    ValueObject,
    subject_of_contact,
)


class Need(ValueObject):
    """One thing the customer wants. A contact carries one or more, each handled on its own."""

    need_id: UUID
    kind: NeedKind
    service_code: ServiceCode | None = Field(
        default=None, description="LGSL service code; absent when only free text came in (routing classifies)"
    )
    description: str = Field(default="", max_length=10_000)
    location: Location | None = None
    attachments: tuple[Attachment, ...] = ()
    priority: Priority = Priority.NORMAL
    resolved_at_first_contact: bool = False
    resolution: str | None = Field(default=None, max_length=2000, description="What was done on the spot")
    about_reference: CaseReference | None = Field(
        default=None, description="The customer is asking about this existing case"
    )
    preferred_reply_method: ContactMethod | None = None
    avoidable_reason: str | None = Field(
        default=None, max_length=64, description="Agent's own reading of why the contact was avoidable"
    )
    sealed: Sealed = None

    # What the customer wrote or said, what was done for them, the agent's reading: free text that can name anyone.
    personal_fields: ClassVar[tuple[str, ...]] = ("description", "resolution", "avoidable_reason")


class ContactReceived(Event):
    """A contact arrived on a channel with one or more needs; the start of every journey."""

    type: ClassVar[str] = "onestop.contact.received"
    topic: ClassVar[topics.Topic] = topics.CONTACTS
    aggregate_field: ClassVar[str] = "contact_id"

    contact_id: UUID
    channel: Channel
    received_at: UtcDatetime
    needs: tuple[Need, ...] = Field(min_length=1)
    customer: CustomerDetails | None = Field(default=None, description="Absent for anonymous contacts")
    taken_by: Actor | None = None
    channel_details: dict[str, str] = Field(
        default_factory=dict, description="Channel metadata, e.g. Open311 client id, email message id"
    )
    on_behalf_of_councillor: str | None = Field(default=None, max_length=200)
    sealed: Sealed = None

    # A message id or device id identifies a sender; a councillor is named.
    personal_fields: ClassVar[tuple[str, ...]] = ("channel_details", "on_behalf_of_councillor")

    def personal_subject(self) -> UUID:
        return subject_of_contact(self.contact_id, self.customer)
