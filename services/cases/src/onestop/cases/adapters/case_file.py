"""The case file's reads: a case's events from the event store, opened, so that staff see what the customer
told us for as long as their key lives (and nothing of it once they are erased)."""

import json
from collections.abc import Collection
from uuid import UUID

import asyncpg

from onestop.cases.adapters import event_store
from onestop.contracts import EventEnvelope, decode_record
from onestop.contracts.events.cases import CaseRaised
from onestop.servicekit.personal_data import open_envelope


class CaseFiles:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def history(self, case_id: UUID) -> list[EventEnvelope]:
        async with self.pool.acquire() as connection:
            stored = await event_store.load(connection, case_id)
        return [await open_envelope(envelope) for envelope in stored]

    async def raised(self, case_ids: Collection[UUID]) -> dict[UUID, CaseRaised]:
        """Each case's first event, opened: what a list of cases shows of who and what each is about."""
        rows = await self.pool.fetch(
            "SELECT case_id, data, headers FROM events WHERE case_id = ANY($1::uuid[]) AND version = 1",
            list(case_ids),
        )
        found = {}
        for row in rows:
            envelope = await open_envelope(decode_record(row["data"], json.loads(row["headers"])))
            if isinstance(envelope.data, CaseRaised):
                found[row["case_id"]] = envelope.data
        return found
