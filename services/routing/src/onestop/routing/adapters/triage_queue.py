"""The triage queue table: needs waiting for a person to choose their service, with the contact they came in."""

import json
from datetime import datetime
from typing import Protocol
from uuid import UUID

from onestop.contracts import EventEnvelope, decode_record, encode_envelope
from onestop.contracts.personal_data import without_personal_data
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

    async def erase(self, data_subject: UUID) -> None:
        """The subject's needs stay queued, to be placed, with nothing of theirs in the contacts kept."""


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
            """INSERT INTO triage_queue (contact_id, need_id, event, headers, reason, best_guess, confidence, queued_at,
                   data_subject)
               VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING""",
            contact_id,
            need_id,
            record.value,
            json.dumps(record.headers_dict()),
            reason,
            best_guess,
            confidence,
            queued_at,
            contact.data.personal_subject(),
        )

    async def take(self, contact_id: UUID, need_id: UUID) -> EventEnvelope | None:
        row = await self.connection.fetchrow(
            "DELETE FROM triage_queue WHERE contact_id = $1 AND need_id = $2 RETURNING event, headers",
            contact_id,
            need_id,
        )
        return await open_envelope(decode_record(row["event"], json.loads(row["headers"]))) if row else None

    async def erase(self, data_subject: UUID) -> None:
        rows = await self.connection.fetch(
            "SELECT contact_id, need_id, event, headers FROM triage_queue WHERE data_subject = $1", data_subject
        )
        for row in rows:
            kept = decode_record(row["event"], json.loads(row["headers"]))
            record = encode_envelope(kept.model_copy(update={"data": without_personal_data(kept.data)}))
            await self.connection.execute(
                "UPDATE triage_queue SET event = $3, headers = $4::jsonb WHERE contact_id = $1 AND need_id = $2",
                row["contact_id"],
                row["need_id"],
                record.value,
                json.dumps(record.headers_dict()),
            )
