"""Duplicate reports linked to a case that has not been raised here yet, kept until it is."""

import json
from uuid import UUID

from onestop.contracts import EventEnvelope, decode_record, encode_envelope
from onestop.contracts.events.routing import DuplicateReportLinked
from onestop.servicekit.database import Connection


class PendingLinks:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def lock(self, case_id: UUID) -> None:
        """Serialise keeping a link for `case_id` with raising that case (until the transaction ends), so a
        case raised by another instance at the same moment either is seen by the link or sees it."""
        await self.connection.execute("SELECT pg_advisory_xact_lock(hashtextextended($1::uuid::text, 0))", case_id)

    async def keep(self, envelope: EventEnvelope) -> None:
        """Keep a DuplicateReportLinked (as it travelled) until its case is raised."""
        link = envelope.data
        assert isinstance(link, DuplicateReportLinked)
        record = encode_envelope(envelope)
        await self.connection.execute(
            "INSERT INTO pending_links (case_id, contact_id, event, headers) VALUES ($1, $2, $3, $4::jsonb)"
            " ON CONFLICT DO NOTHING",
            link.case_id,
            link.contact_id,
            record.value,
            json.dumps(record.headers_dict()),
        )

    async def take(self, case_id: UUID) -> list[DuplicateReportLinked]:
        """The links kept for `case_id`, removed from keeping."""
        await self.lock(case_id)
        rows = await self.connection.fetch(
            "DELETE FROM pending_links WHERE case_id = $1 RETURNING event, headers", case_id
        )
        links = []
        for row in rows:
            link = decode_record(row["event"], json.loads(row["headers"])).data
            assert isinstance(link, DuplicateReportLinked)
            links.append(link)
        return links
