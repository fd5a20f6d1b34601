"""The triage queue table: needs waiting for a person to choose their service, with the contact they came in."""

import json
from datetime import datetime
from typing import Protocol
from uuid import UUID

from onestop.contracts import EventEnvelope, decode_record, encode_envelope
from onestop.servicekit.database import Connection
from onestop.servicekit.personal_data import open_envelope, seal_envelope


class TriageQueue(Protocol):
    async def add(
        self,
        contact_id: UUID,
        need_id: UUID,
        *,
        contact: EventEnvelope,
        reason: str,
        best_guess: str | None,
        confidence: float,
        queued_at: datetime,
    ) -> None:
        """Queue the need with the ContactReceived it came in (`contact`); queued twice, it is kept once."""

    async def take(self, contact_id: UUID, need_id: UUID) -> EventEnvelope | None:
        """Remove the need from the queue and give back the contact it came in, or None if it is not queued."""


class PostgresTriageQueue:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def add(
        self,
        contact_id: UUID,
        need_id: UUID,
        *,
        contact: EventEnvelope,
        reason: str,
        best_guess: str | None,
        confidence: float,
        queued_at: datetime,
    ) -> None:
        # The contact is kept whole, so the decision made later is caused by it; sealed, like the log, so
        # erasing the customer leaves nothing of theirs readable here.
        record = encode_envelope(await seal_envelope(contact))
        await self.connection.execute(
            """INSERT INTO triage_queue (contact_id, need_id, event, headers, reason, best_guess, confidence, queued_at)
               VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8) ON CONFLICT DO NOTHING""",
            contact_id,
            need_id,
            record.value,
            json.dumps(record.headers_dict()),
            reason,
            best_guess,
            confidence,
            queued_at,
        )

    async def take(self, contact_id: UUID, need_id: UUID) -> EventEnvelope | None:
        row = await self.connection.fetchrow(
            "DELETE FROM triage_queue WHERE contact_id = $1 AND need_id = $2 RETURNING event, headers",
            contact_id,
            need_id,
        )
        return await open_envelope(decode_record(row["event"], json.loads(row["headers"]))) if row else None
