"""The channel feeds: the call distributor's and the one-stop shop queue's events, for the channel measures."""

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field

from onestop.contracts.events.channels import CallAbandoned, CallAnswered, CallOffered, TicketIssued, TicketServed
from onestop.intake.api import Service
from onestop.intake.group_commit import NotRecorded
from onestop.intake.service import IntakeService
from onestop.servicekit.auth import Principal, require
from onestop.servicekit.inputs import CleanLine, Timestamp

router = APIRouter(tags=["contacts"])
Feeds = Annotated[Principal, Depends(require("feeds:write"))]
# No one waits a week in a queue: a longer wait is a feed's fault, and would skew every average it joins.
WAIT_LONGEST = 7 * 24 * 3600


class CallEvent(BaseModel):
    event: Literal["offered", "answered", "abandoned"]
    call_id: UUID
    queue: CleanLine = Field(min_length=1, max_length=120)
    at: Timestamp
    wait_seconds: float | None = Field(default=None, ge=0, le=WAIT_LONGEST)
    agent_id: CleanLine | None = Field(default=None, max_length=120)


class TicketEvent(BaseModel):
    event: Literal["issued", "served"]
    ticket_id: UUID
    site: CleanLine = Field(min_length=1, max_length=120)
    at: Timestamp
    wait_seconds: float | None = Field(default=None, ge=0, le=WAIT_LONGEST)
    booked_appointment: bool = False
    service_area: CleanLine | None = Field(default=None, max_length=120)
    desk: CleanLine | None = Field(default=None, max_length=60)


async def _publish_feed(service: IntakeService, event: Any) -> dict[str, str]:
    try:
        envelope = await service.record_channel_event(event)
    except NotRecorded as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "the event could not be recorded; please retry"
        ) from exc
    return {"event_id": str(envelope.id), "type": envelope.type}


def _need_wait(body: CallEvent | TicketEvent) -> float:
    if body.wait_seconds is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"a {body.event} event needs wait_seconds")
    return body.wait_seconds


@router.post(
    "/feeds/telephony", status_code=202, summary="From the call distributor: a call offered, answered or abandoned"
)
async def telephony(body: CallEvent, service: Service, _: Feeds) -> dict[str, str]:
    if body.event == "offered":
        event: Any = CallOffered(call_id=body.call_id, queue=body.queue, offered_at=body.at)
    elif body.event == "answered":
        event = CallAnswered(
            call_id=body.call_id,
            queue=body.queue,
            answered_at=body.at,
            wait_seconds=_need_wait(body),
            agent_id=body.agent_id,
        )
    else:
        event = CallAbandoned(
            call_id=body.call_id, queue=body.queue, abandoned_at=body.at, wait_seconds=_need_wait(body)
        )
    return await _publish_feed(service, event)


@router.post("/feeds/reception", status_code=202, summary="From the one-stop shop's queue: a ticket issued or served")
async def reception(body: TicketEvent, service: Service, _: Feeds) -> dict[str, str]:
    if body.event == "issued":
        event: Any = TicketIssued(
            ticket_id=body.ticket_id,
            site=body.site,
            issued_at=body.at,
            booked_appointment=body.booked_appointment,
            service_area=body.service_area,
        )
    else:
        event = TicketServed(
            ticket_id=body.ticket_id,
            site=body.site,
            served_at=body.at,
            wait_seconds=_need_wait(body),
            booked_appointment=body.booked_appointment,
            desk=body.desk,
        )
    return await _publish_feed(service, event)
