"""Attachments uploaded on their own (a photo taken for a report, a scan, a file staff add for a customer):
checked, kept here, and answered with the address a contact's need then names. A contact that names it makes
it its sender's, so erasing them erases it (`Attachments.belong_to`).

The type is read from the file's first bytes, not taken from what the sender declares: a file whose bytes
are not one of the accepted types, or are another type than declared, is refused with 415.
"""

import asyncio
import contextlib
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, UploadFile, status

from onestop.intake.adapters.repositories import IntakeRepositories
from onestop.intake.api import Service
from onestop.servicekit.auth import Principal, require
from onestop.servicekit.unit_of_work import UnitsOfWork

log = logging.getLogger(__name__)

router = APIRouter(tags=["attachments"])
Uploader = Annotated[Principal, Depends(require("contacts:write"))]

# The accepted types by their magic bytes: photos and scanned or generated documents.
SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)
ACCEPTED = ", ".join(media_type for _, media_type in SIGNATURES)
# Room for the multipart framing around a file of the largest size kept (INTAKE_MAX_ATTACHMENT_BYTES).
MAX_UPLOAD_BODY = 11 * 1024 * 1024
READ_CHUNK = 1024 * 1024


def media_type_of(content: bytes) -> str | None:
    """The accepted type `content` is, by its first bytes; None for any other."""
    return next((media_type for magic, media_type in SIGNATURES if content.startswith(magic)), None)


async def _read_within(upload: UploadFile, limit: int) -> bytes:
    """The file, or 413 as soon as it proves larger than `limit`."""
    content = bytearray()
    while chunk := await upload.read(READ_CHUNK):
        content += chunk
        if len(content) > limit:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE, f"the file is larger than the {limit // (1024 * 1024)} MiB allowed"
            )
    return bytes(content)


@router.post(
    "/attachments",
    status_code=201,
    summary=f"Upload a file to attach to a contact's need ({ACCEPTED}; 10 MiB at most)",
    max_body_size=MAX_UPLOAD_BODY,
)
async def upload_attachment(file: UploadFile, service: Service, caller: Uploader) -> dict[str, Any]:
    """Answers the attachment as a contact's need names it: `url`, `media_type`, `size_bytes`, `filename`."""
    content = await _read_within(file, service.settings.intake_max_attachment_bytes)
    if not content:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "the file is empty")
    found = media_type_of(content)
    if found is None:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"the file is not one of the accepted types ({ACCEPTED})"
        )
    declared = (file.content_type or "").split(";")[0].strip().lower()
    if declared not in ("", "application/octet-stream", found):
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"the file was declared {declared[:127]} but its content is {found}"
        )
    filename = _clean_filename(file.filename)
    attachment_id = await service.keep_attachment(found, filename, content)
    return {
        "id": attachment_id,
        "url": f"{service.settings.intake_public_base_url}/attachments/{attachment_id}",
        "media_type": found,
        "size_bytes": len(content),
        "filename": filename,
    }


def _clean_filename(filename: str | None) -> str | None:
    """The name without any folder or control characters, at most 255 characters; None if nothing is left."""
    if not filename:
        return None
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(character for character in name if character.isprintable())
    return name.strip()[:255] or None


async def drop_unclaimed_uploads(
    units: UnitsOfWork[IntakeRepositories], older_than_hours: float, stop: asyncio.Event
) -> None:
    """Now and then, drop uploads that no contact named in time, so an upload that was never sent on (a form
    abandoned after its photo went up) is not kept for ever with no one to erase it with."""
    while not stop.is_set():
        async with units.begin() as uow:
            dropped = await uow.repos.attachments.drop_unclaimed(older_than_hours)
        if dropped:
            log.info("dropped %d uploads no contact named within %s hours", dropped, older_than_hours)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=max(older_than_hours * 3600 / 24, 60))
