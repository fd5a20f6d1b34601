"""The mail room: raw RFC 5322 messages (email, or a scanned letter) become contacts; their attachments are
kept here and handed on by reference."""

import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr, parsedate_to_datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response, status

from onestop.contracts.events.common import AssuranceLevel, Channel, NeedKind
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
from onestop.intake.service import IntakeService
from onestop.servicekit.auth import Principal, require

router = APIRouter(tags=["contacts"])
Staff = Annotated[Principal, Depends(require("cases:read"))]

REFERENCE = re.compile(rf"\b{REFERENCE_PATTERN}\b")
ALLOWED_ATTACHMENTS = {"image/jpeg", "image/png", "image/heic", "application/pdf", "text/plain"}


async def views(request: Request) -> IntakeViews:
    return request.app.state.views  # type: ignore[no-any-return]


Views = Annotated[IntakeViews, Depends(views)]


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
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        if media_type not in ALLOWED_ATTACHMENTS:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, f"attachments of type {media_type} are not accepted"
            )
        if len(content) > service.settings.intake_max_attachment_bytes:
            raise HTTPException(
                status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, f"attachment {part.get_filename()} is too large"
            )
        attachment_id = await service.keep_attachment(media_type, part.get_filename(), content)
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
async def attachment(attachment_id: UUID, views: Views, _: Staff) -> Response:
    found = await views.attachment(attachment_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no attachment {attachment_id}")
    return Response(found.content, media_type=found.media_type)
