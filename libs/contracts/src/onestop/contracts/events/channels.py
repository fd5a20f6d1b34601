"""Channel operations: the call distributor's and the one-stop shop's queues."""

from typing import ClassVar
from uuid import UUID

from pydantic import Field

from onestop.contracts import topics
from onestop.contracts.events.base import Event
from onestop.contracts.events.common import UtcDatetime


class CallOffered(Event):
    """A call reached a contact-centre queue."""

    type: ClassVar[str] = "onestop.call.offered"
    topic: ClassVar[topics.Topic] = topics.TELEPHONY
    aggregate_field: ClassVar[str] = "call_id"

    call_id: UUID
    queue: str = Field(max_length=120)
    offered_at: UtcDatetime


class CallAnswered(Event):
    """An agent answered a queued call after `wait_seconds`."""

    type: ClassVar[str] = "onestop.call.answered"
    topic: ClassVar[topics.Topic] = topics.TELEPHONY
    aggregate_field: ClassVar[str] = "call_id"

    call_id: UUID
    queue: str = Field(max_length=120)
    answered_at: UtcDatetime
    wait_seconds: float = Field(ge=0)
    agent_id: str | None = Field(default=None, max_length=120)


class CallAbandoned(Event):
    """The caller hung up after `wait_seconds` before anyone answered."""

    type: ClassVar[str] = "onestop.call.abandoned"
    topic: ClassVar[topics.Topic] = topics.TELEPHONY
    aggregate_field: ClassVar[str] = "call_id"

    call_id: UUID
    queue: str = Field(max_length=120)
    abandoned_at: UtcDatetime
    wait_seconds: float = Field(ge=0)


class TicketIssued(Event):
    """A visitor to the one-stop shop took a queue ticket."""

    type: ClassVar[str] = "onestop.ticket.issued"
    topic: ClassVar[topics.Topic] = topics.RECEPTION
    aggregate_field: ClassVar[str] = "ticket_id"

    ticket_id: UUID
    site: str = Field(max_length=120)
    issued_at: UtcDatetime
    booked_appointment: bool = False
    service_area: str | None = Field(default=None, max_length=120)


class TicketServed(Event):
    """A visitor was called to a desk after `wait_seconds`."""

    type: ClassVar[str] = "onestop.ticket.served"
    topic: ClassVar[topics.Topic] = topics.RECEPTION
    aggregate_field: ClassVar[str] = "ticket_id"

    ticket_id: UUID
    site: str = Field(max_length=120)
    served_at: UtcDatetime
    wait_seconds: float = Field(ge=0)
    booked_appointment: bool = False
    desk: str | None = Field(default=None, max_length=60)
