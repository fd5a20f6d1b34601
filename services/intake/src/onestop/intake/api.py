"""The contact API, the mail room and the channel feeds."""

import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr, parsedate_to_datetime
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response, status
from pydantic import BaseModel, Field, ValidationError

from onestop.contracts import EventEnvelope
from onestop.contracts.events.channels import CallAbandoned, CallAnswered, CallOffered, TicketIssued, TicketServed
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
from onestop.contracts.identifiers import case_id_for, case_reference_for
from onestop.contracts.service_catalogue import service_catalogue
from onestop.intake.handlers import (
    Accepted,
    ContactRefused,
    IdempotencyMismatch,
    IntakeService,
    KafkaUnavailable,
    customer_details,
)
from onestop.servicekit.auth import Principal, require
from onestop.servicekit.messaging import publish

router = APIRouter()
Submitter = Annotated[Principal, Depends(require("contacts:write"))]
Feeds = Annotated[Principal, Depends(require("feeds:write"))]
Staff = Annotated[Principal, Depends(require("cases:read"))]

REFERENCE_PATTERN = r"OS-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}"
REFERENCE = re.compile(rf"\b{REFERENCE_PATTERN}\b")
ALLOWED_ATTACHMENTS = {"image/jpeg", "image/png", "image/heic", "application/pdf", "text/plain"}


def intake(request: Request) -> IntakeService:
    return request.app.state.intake  # type: ignore[no-any-return]


Service = Annotated[IntakeService, Depends(intake)]


class LocationIn(BaseModel):
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = Field(default=None, max_length=500)
    uprn: str | None = Field(default=None, pattern=r"^[0-9]{1,12}$")
    usrn: str | None = Field(default=None, pattern=r"^[0-9]{1,8}$")
    ward: str | None = Field(default=None, max_length=120)


class AttachmentIn(BaseModel):
    url: str = Field(min_length=1, max_length=2000)
    media_type: str = Field(min_length=3, max_length=127, pattern=r"^[\w.+-]+/[\w.+-]+$")
    size_bytes: int = Field(ge=0, le=20 * 1024 * 1024, description="At most 20 MB")
    filename: str | None = Field(default=None, max_length=255)


class NeedIn(BaseModel):
    kind: NeedKind
    service_code: str | None = Field(
        default=None, description="LGSL code from the service catalogue; omit for free text"
    )
    description: str = Field(default="", max_length=10_000)
    location: LocationIn | None = None
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=10)
    priority: Priority = Priority.NORMAL
    resolved_at_first_contact: bool = False
    resolution: str | None = Field(default=None, max_length=2000)
    about_reference: str | None = Field(default=None, pattern=f"^{REFERENCE_PATTERN}$")
    preferred_reply_method: ContactMethod | None = None
    avoidable_reason: str | None = Field(default=None, max_length=64)


class CustomerIn(BaseModel):
    customer_id: UUID | None = Field(default=None, description="Known already, e.g. signed in to My Account")
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=500)
    uprn: str | None = Field(default=None, pattern=r"^[0-9]{1,12}$")
    preferred_contact_method: ContactMethod = ContactMethod.EMAIL
    vulnerable: bool = False
    language: str = Field(default="en", min_length=2, max_length=8)
    assurance: AssuranceLevel = Field(default=AssuranceLevel.NONE, description="How the customer was verified")


class ContactIn(BaseModel):
    channel: Channel
    needs: list[NeedIn] = Field(min_length=1, max_length=20)
    customer: CustomerIn | None = None
    taken_by: Actor | None = None
    channel_details: dict[str, str] = Field(default_factory=dict)
    on_behalf_of_councillor: str | None = Field(default=None, max_length=200)
    received_at: datetime | None = Field(default=None, description="When the contact began; defaults to now")


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
    received = body.received_at or datetime.now(UTC)
    if received.tzinfo is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "received_at must include a timezone")
    return ContactReceived(
        contact_id=contact_id or uuid4(),
        channel=body.channel,
        received_at=received,
        needs=needs,
        customer=customer,
        taken_by=body.taken_by,
        channel_details=body.channel_details,
        on_behalf_of_councillor=body.on_behalf_of_councillor,
    )


def receipt(contact: ContactReceived) -> Accepted:
    catalogue = service_catalogue()
    needs = []
    for need in contact.needs:
        case_id = case_id_for(contact.contact_id, need.need_id)
        service = catalogue.service(need.service_code) if need.service_code else None
        needs.append(
            {
                "need_id": str(need.need_id),
                "case_id": str(case_id),
                "reference": case_reference_for(case_id),
                "service": service.name if service else None,
                "standard_working_days": service.standard_working_days if service else None,
            }
        )
    return Accepted(
        201,
        {
            "contact_id": str(contact.contact_id),
            "customer_id": str(contact.customer.customer_id)
            if contact.customer and contact.customer.customer_id
            else None,
            "needs": needs,
        },
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
    except KafkaUnavailable as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "the contact could not be recorded just now; nothing was kept, please retry",
            headers={"Retry-After": "5"},
        ) from exc


@router.post("/contacts", status_code=201, summary="Submit a contact with one or more needs")
async def submit_contact(
    body: ContactIn,
    response: Response,
    service: Service,
    caller: Submitter,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:
    """Returns once Kafka holds the contact: each need's case id and reference, for the customer."""
    contact = build_contact(body)
    assurance = body.customer.assurance if body.customer else AssuranceLevel.NONE
    answer = await take_or_explain(
        service,
        contact=contact,
        assurance=assurance,
        respond=receipt,
        client=caller.subject,
        idempotency_key=idempotency_key,
        request_fingerprint=body.model_dump(mode="json"),
    )
    response.status_code = answer.status_code
    return answer.body


# --- the mail room -----------------------------------------------------------------------------------


@router.post(
    "/mailroom/messages",
    status_code=201,
    summary="A raw RFC 5322 message from the mail room (email, or a scanned letter)",
    openapi_extra={"requestBody": {"content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}}}},
)
async def mail_room(
    request: Request,
    response: Response,
    service: Service,
    caller: Submitter,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "the body must be a raw RFC 5322 message")
    message = BytesParser(policy=policy.default).parsebytes(raw)
    if not isinstance(message, EmailMessage) or message["From"] is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "the message has no From header")
    name, address = parseaddr(str(message["From"]))
    if "@" not in address:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "the From header has no email address")
    channel = Channel.POST if str(message.get("X-Onestop-Channel", "")).lower() == "post" else Channel.EMAIL
    subject = str(message.get("Subject", ""))
    threading = " ".join(str(message.get(h, "")) for h in ("Subject", "In-Reply-To", "References"))
    reference = REFERENCE.search(threading)
    body_part = message.get_body(preferencelist=("plain", "html"))
    text = body_part.get_content() if body_part is not None else ""
    attachments = await _store_attachments(service, message)
    received = datetime.now(UTC)
    if message["Date"]:
        try:
            received = parsedate_to_datetime(str(message["Date"])).astimezone(UTC)
        except (TypeError, ValueError):
            pass
    need = NeedIn(
        kind=NeedKind.SERVICE_REQUEST if reference is None else NeedKind.INFORMATION,
        description=f"{subject}\n\n{text}".strip()[:10_000],
        about_reference=reference.group(0) if reference else None,
        attachments=attachments,
    )
    body = ContactIn(
        channel=channel,
        needs=[need],
        customer=CustomerIn(name=name or None, email=address),
        channel_details={"message_id": str(message.get("Message-ID", ""))[:200]},
        received_at=received,
    )
    contact = build_contact(body)
    answer = await take_or_explain(
        service,
        contact=contact,
        assurance=AssuranceLevel.NONE,
        respond=receipt,
        client=caller.subject,
        idempotency_key=idempotency_key or str(message.get("Message-ID") or "") or None,
        request_fingerprint=raw.decode(errors="replace"),
    )
    response.status_code = answer.status_code
    return answer.body


async def _store_attachments(service: IntakeService, message: EmailMessage) -> list[AttachmentIn]:
    stored = []
    for part in message.iter_attachments():
        media_type = part.get_content_type()
        content = part.get_payload(decode=True) or b""
        if media_type not in ALLOWED_ATTACHMENTS:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, f"attachments of type {media_type} are not accepted"
            )
        if len(content) > service.settings.intake_max_attachment_bytes:
            raise HTTPException(
                status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, f"attachment {part.get_filename()} is too large"
            )
        attachment_id = uuid4()
        async with service.pool.acquire() as connection:
            await connection.execute(
                "INSERT INTO attachments (attachment_id, media_type, filename, size_bytes, content)"
                " VALUES ($1, $2, $3, $4, $5)",
                attachment_id,
                media_type,
                part.get_filename(),
                len(content),
                content,
            )
        stored.append(
            AttachmentIn(
                url=f"{service.settings.intake_public_base_url}/attachments/{attachment_id}",
                media_type=media_type,
                size_bytes=len(content),
                filename=part.get_filename(),
            )
        )
    return stored


@router.get("/attachments/{attachment_id}", summary="An attachment that came with a contact")
async def attachment(attachment_id: UUID, service: Service, _: Staff) -> Response:
    async with service.pool.acquire() as connection:
        row = await connection.fetchrow(
            "SELECT media_type, content FROM attachments WHERE attachment_id = $1", attachment_id
        )
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no attachment {attachment_id}")
    return Response(row["content"], media_type=row["media_type"])


# --- channel feeds ------------------------------------------------------------------------------------


class CallEvent(BaseModel):
    event: Literal["offered", "answered", "abandoned"]
    call_id: UUID
    queue: str = Field(min_length=1, max_length=120)
    at: datetime
    wait_seconds: float | None = Field(default=None, ge=0)
    agent_id: str | None = Field(default=None, max_length=120)


class TicketEvent(BaseModel):
    event: Literal["issued", "served"]
    ticket_id: UUID
    site: str = Field(min_length=1, max_length=120)
    at: datetime
    wait_seconds: float | None = Field(default=None, ge=0)
    booked_appointment: bool = False
    service_area: str | None = Field(default=None, max_length=120)
    desk: str | None = Field(default=None, max_length=60)


async def _publish_feed(service: IntakeService, event: Any) -> dict[str, str]:
    envelope = EventEnvelope.wrap(event, source=f"{service.settings.source}/feeds")
    try:
        await publish(service.broker, envelope, service.settings.topic_namespace)
    except Exception as exc:
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
