"""The mail room: raw RFC 5322 messages (email, or a scanned letter) become contacts; their attachments are
kept here and handed on by reference.

Reading a message is a pure function, `read_message`: whatever bytes arrive, it gives back a `Letter` or
raises `MessageRefused` with the reason the sender's system is told (422, or 413 for an attachment too large).
A letter's text is taken as it comes, less the control characters a scanner or a mail client left in it.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.errors import MessageError
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr, parsedate_to_datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response, status
from pydantic import ValidationError

from onestop.contracts.events.common import AssuranceLevel, Channel, ContactMethod, NeedKind
from onestop.intake.adapters.views import IntakeViews
from onestop.intake.api import (
    REFERENCE_PATTERN,
    AttachmentIn,
    ContactIn,
    CustomerIn,
    NeedIn,
    Service,
    Submitter,
    build_contact,
    take_or_explain,
)
from onestop.intake.domain.email_address import one_email_address
from onestop.intake.service import IntakeService
from onestop.servicekit.auth import Principal, require
from onestop.servicekit.inputs import within_bounds, without_control_characters

router = APIRouter(tags=["contacts"])
Staff = Annotated[Principal, Depends(require("cases:read"))]

REFERENCE = re.compile(rf"\b{REFERENCE_PATTERN}\b")
ALLOWED_ATTACHMENTS = {"image/jpeg", "image/png", "image/heic", "application/pdf", "text/plain"}
# A message with a few attachments of INTAKE_MAX_ATTACHMENT_BYTES each, base64 making them a third larger;
# more is refused with 413 before it is read.
MAX_MESSAGE_BYTES = 40 * 1024 * 1024
# What the email library may raise on a message it cannot make sense of: its own errors, unknown charsets,
# undecodable text, and the IndexError and AttributeError its header parser trips into on malformed addresses
# (`From: g: <`). Each is the sender's 422, not a server error.
UNREADABLE = (MessageError, LookupError, ValueError, IndexError, AttributeError)


async def views(request: Request) -> IntakeViews:
    return request.app.state.views  # type: ignore[no-any-return]


Views = Annotated[IntakeViews, Depends(views)]


class MessageRefused(Exception):
    """The message cannot become a contact; `reason` goes back to the sender's system."""

    def __init__(self, reason: str, status_code: int = status.HTTP_422_UNPROCESSABLE_CONTENT) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code


@dataclass(frozen=True)
class Enclosure:
    """An attachment, to be kept here and handed on by reference."""

    media_type: str
    filename: str | None
    content: bytes


@dataclass(frozen=True)
class Letter:
    """What a message says, cleaned: the sender, what they wrote, and what they enclosed."""

    sender_name: str | None
    sender_address: str | None  # a letter's writer may have no email address
    postal_address: str | None  # where a scanned letter came from, as the mail room read it
    channel: Channel
    subject: str
    text: str
    reference: str | None  # a case reference in the subject or threading headers: the message is about it
    message_id: str
    sent_at: datetime | None  # its Date header, when it has one that can be read
    enclosures: tuple[Enclosure, ...]


def read_message(raw: bytes, *, max_attachment_bytes: int) -> Letter:
    """The letter in `raw`, or MessageRefused saying why there is none."""
    if not raw.strip():
        raise MessageRefused("the body must be a raw RFC 5322 message")
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        return _letter_of(message, max_attachment_bytes)
    except UNREADABLE as exc:
        raise MessageRefused(f"the message cannot be read: {type(exc).__name__}") from exc


def _letter_of(message: Any, max_attachment_bytes: int) -> Letter:
    if not isinstance(message, EmailMessage):
        raise MessageRefused("the body must be a raw RFC 5322 message")
    channel = Channel.POST if _header(message, "X-Onestop-Channel").lower() == "post" else Channel.EMAIL
    sender = _header(message, "From")
    if not sender and channel == Channel.EMAIL:
        raise MessageRefused("the message has no From header")
    name, given = parseaddr(sender)
    address: str | None = None
    if channel == Channel.EMAIL or "@" in given:
        try:
            address = one_email_address(given)
        except ValueError as exc:
            raise MessageRefused(f"the From header's address {exc}") from exc
    else:  # a scanned letter is signed with a name only: the reply goes to its postal address
        name = name or sender.strip().strip('"')
    subject = _header(message, "Subject")
    threading = " ".join(_header(message, h) for h in ("Subject", "In-Reply-To", "References"))
    reference = REFERENCE.search(threading)
    return Letter(
        sender_name=_one_line(name, 200) or None,
        sender_address=address,
        postal_address=_one_line(_header(message, "X-Onestop-Postal-Address"), 500) or None,
        channel=channel,
        subject=_one_line(subject, 1000),
        text=without_control_characters(_text_of(message)),
        reference=reference.group(0) if reference else None,
        message_id=_one_line(_header(message, "Message-ID"), 200),
        sent_at=_sent_at(_header(message, "Date")),
        enclosures=tuple(_enclosures(message, max_attachment_bytes)),
    )


def _header(message: EmailMessage, name: str) -> str:
    value = message.get(name)
    return "" if value is None else str(value)


def _one_line(text: str, longest: int) -> str:
    return " ".join(without_control_characters(text, one_line=True).split())[:longest]


def _text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    try:
        content = body.get_content()
    except LookupError as exc:
        raise MessageRefused(
            f"the message's text is in a charset we do not know: {body.get_content_charset()}"
        ) from exc
    return content if isinstance(content, str) else ""


def _sent_at(date: str) -> datetime | None:
    """When the message says it was sent; None when it does not say in a form that can be read."""
    if not date:
        return None
    try:
        sent = parsedate_to_datetime(date)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if sent.tzinfo is None:  # "-0000": UTC, its sender's own zone unknown (RFC 5322, 3.3)
        sent = sent.replace(tzinfo=UTC)
    try:
        return within_bounds(sent)
    except ValueError as exc:
        raise MessageRefused(f"the Date header {exc}") from exc


def _enclosures(message: EmailMessage, max_attachment_bytes: int) -> list[Enclosure]:
    enclosures = []
    for part in message.iter_attachments():
        media_type = part.get_content_type()
        if media_type not in ALLOWED_ATTACHMENTS:
            raise MessageRefused(f"attachments of type {_one_line(media_type, 127)} are not accepted")
        filename = _one_line(part.get_filename() or "", 255) or None
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        if len(content) > max_attachment_bytes:
            raise MessageRefused(
                f"attachment {filename or '(unnamed)'} is too large", status.HTTP_413_CONTENT_TOO_LARGE
            )
        enclosures.append(Enclosure(media_type, filename, content))
    return enclosures


def contact_of(letter: Letter, attachments: list[AttachmentIn], *, received_at: datetime) -> ContactIn:
    """The contact the letter makes, with its attachments already kept; MessageRefused if it cannot make one."""
    try:
        return ContactIn(
            channel=letter.channel,
            needs=[
                NeedIn(
                    kind=NeedKind.SERVICE_REQUEST if letter.reference is None else NeedKind.INFORMATION,
                    description=f"{letter.subject}\n\n{letter.text}".strip()[:10_000],
                    about_reference=letter.reference,
                    attachments=attachments,
                )
            ],
            customer=CustomerIn(
                name=letter.sender_name,
                email=letter.sender_address,
                address=letter.postal_address,
                preferred_contact_method=ContactMethod.EMAIL if letter.sender_address else ContactMethod.LETTER,
            )
            if letter.sender_name or letter.sender_address or letter.postal_address
            else None,  # an unsigned letter
            channel_details={"message_id": letter.message_id},
            received_at=letter.sent_at or received_at,
        )
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
        raise MessageRefused(reasons) from exc


@router.post(
    "/mailroom/messages",
    status_code=201,
    summary="A raw RFC 5322 message from the mail room (email, or a scanned letter)",
    openapi_extra={"requestBody": {"content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}}}},
    max_body_size=MAX_MESSAGE_BYTES,
)
async def mail_room(
    request: Request,
    response: Response,
    service: Service,
    caller: Submitter,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:
    # The caller is known before the body is read: the dependencies above ran first.
    raw = await request.body()
    now = datetime.now(UTC)
    try:
        letter = read_message(raw, max_attachment_bytes=service.settings.intake_max_attachment_bytes)
        contact_of(letter, [], received_at=now)  # refused now, not after its attachments are kept
        body = contact_of(letter, await _keep_attachments(service, letter), received_at=now)
    except MessageRefused as exc:
        raise HTTPException(exc.status_code, exc.reason) from exc
    answer = await take_or_explain(
        service,
        contact=build_contact(body),
        assurance=AssuranceLevel.NONE,
        client=caller.subject,
        idempotency_key=idempotency_key or letter.message_id or None,
        request_fingerprint=raw.decode(errors="replace"),
    )
    response.status_code = answer.status_code
    return answer.body


async def _keep_attachments(service: IntakeService, letter: Letter) -> list[AttachmentIn]:
    kept = []
    for enclosure in letter.enclosures:
        attachment_id = await service.keep_attachment(enclosure.media_type, enclosure.filename, enclosure.content)
        kept.append(
            AttachmentIn(
                url=f"{service.settings.intake_public_base_url}/attachments/{attachment_id}",
                media_type=enclosure.media_type,
                size_bytes=len(enclosure.content),
                filename=enclosure.filename,
            )
        )
    return kept


@router.get("/attachments/{attachment_id}", summary="An attachment that came with a contact")
async def attachment(attachment_id: UUID, views: Views, caller: Staff) -> Response:
    found = await views.attachment(attachment_id)
    # Staff of some service areas only see the attachments of those areas' cases (learned once a case is
    # raised); to them any other is not found, as another area's case is in the cases service.
    if found is None or (caller.service_areas and not found.service_areas & set(caller.service_areas)):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no attachment {attachment_id}")
    return Response(found.content, media_type=found.media_type)
