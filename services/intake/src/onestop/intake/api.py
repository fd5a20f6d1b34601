"""The contact API: a contact with one or more needs, from any channel's front-end."""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response, status
from pydantic import BaseModel, Field, ValidationError

from onestop.contracts.events.common import (
    Actor,
    AssuranceLevel,
    Attachment,
    Channel,
    ContactMethod,
    Location,
    NeedKind,
    Priority,
)
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.intake.group_commit import NotRecorded
from onestop.intake.service import Accepted, ContactRefused, IdempotencyMismatch, IntakeService, customer_details
from onestop.servicekit.auth import Principal, require
from onestop.servicekit.inputs import CleanLine, CleanText, Timestamp

router = APIRouter(tags=["contacts"])
Submitter = Annotated[Principal, Depends(require("contacts:write"))]
ASSERT_IDENTITY = "customers:assert"  # a client that signs customers in (My Account) says who they are

REFERENCE_PATTERN = r"OS-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}"


async def intake(request: Request) -> IntakeService:
    return request.app.state.intake  # type: ignore[no-any-return]


Service = Annotated[IntakeService, Depends(intake)]


class LocationIn(BaseModel):
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    address: CleanText | None = Field(default=None, max_length=500)
    uprn: str | None = Field(default=None, pattern=r"^[0-9]{1,12}$")
    usrn: str | None = Field(default=None, pattern=r"^[0-9]{1,8}$")
    ward: CleanLine | None = Field(default=None, max_length=120)


class AttachmentIn(BaseModel):
    url: CleanLine = Field(min_length=1, max_length=2000)
    media_type: str = Field(min_length=3, max_length=127, pattern=r"^[\w.+-]+/[\w.+-]+$")
    size_bytes: int = Field(ge=0, le=20 * 1024 * 1024, description="At most 20 MB")
    filename: CleanLine | None = Field(default=None, max_length=255)


class NeedIn(BaseModel):
    kind: NeedKind
    service_code: CleanLine | None = Field(
        default=None, max_length=32, description="LGSL code from the service catalogue; omit for free text"
    )
    description: CleanText = Field(default="", max_length=10_000)
    location: LocationIn | None = None
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=10)
    priority: Priority = Priority.NORMAL
    resolved_at_first_contact: bool = False
    resolution: CleanText | None = Field(default=None, max_length=2000)
    about_reference: str | None = Field(default=None, pattern=f"^{REFERENCE_PATTERN}$")
    preferred_reply_method: ContactMethod | None = None
    avoidable_reason: CleanLine | None = Field(default=None, max_length=64)


class CustomerIn(BaseModel):
    customer_id: UUID | None = Field(default=None, description="Known already, e.g. signed in to My Account")
    name: CleanLine | None = Field(default=None, max_length=200)
    email: CleanLine | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: CleanLine | None = Field(default=None, max_length=40)
    address: CleanText | None = Field(default=None, max_length=500)
    uprn: str | None = Field(default=None, pattern=r"^[0-9]{1,12}$")
    preferred_contact_method: ContactMethod = ContactMethod.EMAIL
    vulnerable: bool = False
    language: CleanLine = Field(default="en", min_length=2, max_length=8)
    assurance: AssuranceLevel = Field(default=AssuranceLevel.NONE, description="How the customer was verified")


class ActorIn(BaseModel):
    kind: Literal["agent", "councillor", "system", "customer"]
    id: CleanLine = Field(min_length=1, max_length=120)
    name: CleanLine | None = Field(default=None, max_length=200)
    team: CleanLine | None = Field(default=None, max_length=120)


class ContactIn(BaseModel):
    channel: Channel
    needs: list[NeedIn] = Field(min_length=1, max_length=20)
    customer: CustomerIn | None = None
    taken_by: ActorIn | None = None
    channel_details: dict[
        Annotated[CleanLine, Field(min_length=1, max_length=64)], Annotated[CleanText, Field(max_length=2000)]
    ] = Field(default_factory=dict, max_length=20)
    on_behalf_of_councillor: CleanLine | None = Field(default=None, max_length=200)
    received_at: Timestamp | None = Field(default=None, description="When the contact began; defaults to now")


def build_contact(body: ContactIn, contact_id: UUID | None = None) -> ContactReceived:
    """The contact as an event; anything the event's own rules refuse is the caller's 422."""
    try:
        return _contact_of(body, contact_id)
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, reasons) from exc


def _contact_of(body: ContactIn, contact_id: UUID | None) -> ContactReceived:
    customer = None
    if body.customer is not None:
        customer = customer_details(**body.customer.model_dump(exclude={"assurance"}))
    needs = tuple(
        Need(
            need_id=uuid4(),
            kind=n.kind,
            service_code=n.service_code,
            description=n.description,
            location=Location(**n.location.model_dump()) if n.location else None,
            attachments=tuple(Attachment(**a.model_dump()) for a in n.attachments),
            priority=n.priority,
            resolved_at_first_contact=n.resolved_at_first_contact,
            resolution=n.resolution,
            about_reference=n.about_reference,
            preferred_reply_method=n.preferred_reply_method,
            avoidable_reason=n.avoidable_reason,
        )
        for n in body.needs
    )
    return ContactReceived(
        contact_id=contact_id or uuid4(),
        channel=body.channel,
        received_at=body.received_at or datetime.now(UTC),
        needs=needs,
        customer=customer,
        taken_by=Actor(**body.taken_by.model_dump()) if body.taken_by else None,
        channel_details=body.channel_details,
        on_behalf_of_councillor=body.on_behalf_of_councillor,
    )


async def take_or_explain(service: IntakeService, **kwargs: Any) -> Accepted:
    try:
        return await service.take(**kwargs)
    except ContactRefused as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, exc.reason) from exc
    except IdempotencyMismatch as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "this Idempotency-Key was already used for a different request"
        ) from exc
    except NotRecorded as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "the contact could not be recorded just now; nothing was kept, please retry",
            headers={"Retry-After": "5"},
        ) from exc


@router.post("/customers/{customer_id}/unmerge", summary="Undo a wrong merge: the record is a person of its own again")
async def unmerge_customer(
    customer_id: UUID, service: Service, caller: Annotated[Principal, Depends(require("customers:admin"))]
) -> dict[str, Any]:
    try:
        undone = await service.unmerge(customer_id, by=caller.subject)
    except NotRecorded as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "the unmerge could not be recorded just now; please retry"
        ) from exc
    if undone is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"customer {customer_id} is not merged into another record")
    return undone.model_dump(mode="json")


@router.post("/contacts", status_code=201, summary="Submit a contact with one or more needs")
async def submit_contact(
    body: ContactIn,
    response: Response,
    service: Service,
    caller: Submitter,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:
    """Returns once Kafka holds the contact: each need's case id and reference, for the customer."""
    if body.customer and body.customer.customer_id is not None and ASSERT_IDENTITY not in caller.scopes:
        # Naming a customer record files the contact, and what it says, under that person's history.
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"customer.customer_id may be given only by clients with {ASSERT_IDENTITY}"
        )
    contact = build_contact(body)
    assurance = body.customer.assurance if body.customer else AssuranceLevel.NONE
    answer = await take_or_explain(
        service,
        contact=contact,
        assurance=assurance,
        client=caller.subject,
        idempotency_key=idempotency_key,
        request_fingerprint=body.model_dump(mode="json"),
    )
    response.status_code = answer.status_code
    return answer.body
