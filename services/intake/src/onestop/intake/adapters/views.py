"""What intake's APIs read: attachments and Open311 service requests, straight from PostgreSQL."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg


@dataclass(frozen=True)
class StoredAttachment:
    media_type: str
    content: bytes
    service_areas: frozenset[str]  # of the cases it came with


@dataclass(frozen=True)
class RequestQuery:
    """Open311 request filters: by ids, or by a period with optional service codes and statuses."""

    ids: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    service_codes: list[str] | None = None
    statuses: list[str] | None = None


class IntakeViews:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def attachment(self, attachment_id: UUID) -> StoredAttachment | None:
        row = await self.pool.fetchrow(
            """SELECT media_type, content,
                      ARRAY(SELECT service_area FROM attachment_areas WHERE attachment_id = $1) AS areas
               FROM attachments WHERE attachment_id = $1""",
            attachment_id,
        )
        return StoredAttachment(row["media_type"], row["content"], frozenset(row["areas"])) if row else None

    async def token(self, token: UUID) -> dict[str, Any] | None:
        """The request behind an Open311 token: its `service_request_id` is None until the case is raised."""
        row = await self.pool.fetchrow("SELECT service_request_id FROM open311_requests WHERE token = $1", token)
        return dict(row) if row else None

    async def service_request(self, service_request_id: str) -> dict[str, Any] | None:
        row = await self.pool.fetchrow(
            "SELECT * FROM open311_requests WHERE service_request_id = $1", service_request_id
        )
        return dict(row) if row else None

    async def service_requests(self, query: RequestQuery, limit: int = 1000) -> list[dict[str, Any]]:
        """Requests with a case reference, newest first."""
        clauses = ["service_request_id IS NOT NULL"]
        args: list[Any] = []
        if query.ids is not None:
            args.append(query.ids)
            clauses.append(f"service_request_id = ANY(${len(args)}::text[])")
        if query.start is not None and query.end is not None:
            args += [query.start, query.end]
            clauses.append(f"requested_at BETWEEN ${len(args) - 1} AND ${len(args)}")
        if query.service_codes:
            args.append(query.service_codes)
            clauses.append(f"service_code = ANY(${len(args)}::text[])")
        if query.statuses:
            args.append(query.statuses)
            clauses.append(f"status = ANY(${len(args)}::text[])")
        args.append(limit)
        rows = await self.pool.fetch(
            f"SELECT * FROM open311_requests WHERE {' AND '.join(clauses)}"
            f" ORDER BY requested_at DESC LIMIT ${len(args)}",
            *args,
        )
        return [dict(row) for row in rows]
