"""Attachments that came by email or post, kept in PostgreSQL and handed on by reference."""

import re
from collections.abc import Iterable
from uuid import UUID, uuid4

from onestop.servicekit.database import Connection

_OURS = re.compile(r"/attachments/([0-9a-fA-F-]{36})$")


def attachment_ids_in(urls: Iterable[str | None]) -> list[UUID]:
    """The attachments kept here that `urls` point at (intake's own `/attachments/<id>` addresses)."""
    return [UUID(found.group(1)) for url in urls if url and (found := _OURS.search(url))]


class Attachments:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def add(self, media_type: str, filename: str | None, content: bytes) -> UUID:
        attachment_id = uuid4()
        await self.connection.execute(
            "INSERT INTO attachments (attachment_id, media_type, filename, size_bytes, content)"
            " VALUES ($1, $2, $3, $4, $5)",
            attachment_id,
            media_type,
            filename,
            len(content),
            content,
        )
        return attachment_id

    async def belong_to(self, data_subject: UUID, attachment_ids: list[UUID]) -> None:
        """The attachments came with a contact of `data_subject`: erasing them erases these. One that already
        belongs to someone stays theirs: a contact naming another's attachment does not make it its sender's."""
        if attachment_ids:
            await self.connection.execute(
                "UPDATE attachments SET data_subject = $1"
                " WHERE attachment_id = ANY($2::uuid[]) AND data_subject IS NULL",
                data_subject,
                attachment_ids,
            )

    async def serve_area(self, attachment_ids: list[UUID], service_area: str) -> None:
        """A case of `service_area` came with these attachments: that area's staff may read them. Ids that name
        no attachment kept here (one erased since, or another site's) are passed over."""
        if attachment_ids:
            await self.connection.execute(
                "INSERT INTO attachment_areas (attachment_id, service_area)"
                " SELECT attachment_id, $2 FROM attachments WHERE attachment_id = ANY($1::uuid[])"
                " ON CONFLICT DO NOTHING",
                attachment_ids,
                service_area,
            )

    async def drop_unclaimed(self, older_than_hours: float) -> int:
        """Uploads no contact named within `older_than_hours`: nobody's, and never to be anybody's."""
        result = await self.connection.execute(
            "DELETE FROM attachments WHERE data_subject IS NULL AND created_at < now() - make_interval(secs => $1)",
            older_than_hours * 3600,
        )
        return int(result.split()[-1])

    async def erase(self, data_subject: UUID) -> None:
        await self.connection.execute("DELETE FROM attachments WHERE data_subject = $1", data_subject)
