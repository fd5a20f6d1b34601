"""Attachments that came by email or post, kept in PostgreSQL and handed on by reference."""

from uuid import UUID, uuid4

from onestop.servicekit.database import Connection


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
