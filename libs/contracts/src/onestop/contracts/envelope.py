"""The CloudEvents 1.0 envelope every onestop event travels in."""

from datetime import UTC, datetime
from typing import Literal, Self
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field

from onestop.contracts.events.base import Event
from onestop.contracts.events.common import UtcDatetime

TRACEPARENT_PATTERN = r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"


class EventEnvelope(BaseModel):
    """CloudEvents context attributes plus onestop's extensions around one event.

    `subject` is the aggregate id (contact, case, ...) and doubles as the Kafka message key.
    `correlationid` is shared by every event of one customer journey; `causationid` is the id of the
    event that caused this one; `traceparent` carries the W3C trace context.
    """

    model_config = ConfigDict(frozen=True)

    id: UUID = Field(default_factory=uuid4)
    source: str = Field(min_length=1, description="URI-reference of the producer, e.g. /onestop/intake")
    type: str
    specversion: Literal["1.0"] = "1.0"
    time: UtcDatetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str
    correlationid: UUID
    causationid: UUID | None = None
    traceparent: str | None = Field(default=None, pattern=TRACEPARENT_PATTERN)
    data: Event

    @classmethod
    def wrap(
        cls,
        event: Event,
        *,
        source: str,
        caused_by: "EventEnvelope | None" = None,
        correlation_id: UUID | None = None,
        traceparent: str | None = None,
        event_id: UUID | None = None,
        time: datetime | None = None,
    ) -> Self:
        """Put `event` in an envelope; an event caused by another inherits its correlation id."""
        if correlation_id is None:
            correlation_id = caused_by.correlationid if caused_by else uuid4()
        return cls(
            id=event_id or uuid4(),
            source=source,
            type=event.type,
            time=time or datetime.now(UTC),
            subject=event.aggregate_id,
            dataschema=event.dataschema(),
            correlationid=correlation_id,
            causationid=caused_by.id if caused_by else None,
            traceparent=traceparent if traceparent is not None else (caused_by.traceparent if caused_by else None),
            data=event,
        )

    @property
    def key(self) -> str:
        return self.subject
