"""Cases as the use cases see them: a case loaded from its history, and what happened to it stored in the
event store with the read models kept in step, in the caller's transaction."""

from collections.abc import Collection, Sequence
from datetime import datetime
from uuid import UUID

from onestop.cases.adapters import event_store, projections
from onestop.cases.domain.case import Case
from onestop.cases.domain.search_terms import BlindIndex
from onestop.cases.domain.sla import AGED_30_DAYS, AGED_60_DAYS
from onestop.contracts import EventEnvelope
from onestop.servicekit.database import Connection
from onestop.servicekit.personal_data import open_envelope
from onestop.servicekit.write_buffer import WriteBuffer


class CaseStore:
    """Appends and projections are held in `writes` until the unit of work commits; the histories this store
    has read or appended are kept, so a batch with several events of one case reads it once."""

    def __init__(self, connection: Connection, writes: WriteBuffer, index: BlindIndex) -> None:
        self.connection = connection
        self.writes = writes
        self.index = index
        self._histories: dict[UUID, list[EventEnvelope]] = {}

    async def read_ahead(self, case_ids: Collection[UUID]) -> None:
        """Read the histories of these cases together, ahead of the handlers that will `get` them."""
        wanted = [case_id for case_id in case_ids if case_id not in self._histories]
        if wanted:
            self._histories.update(await event_store.load_many(self.connection, wanted))

    async def get(self, case_id: UUID) -> Case:
        """The case as its events left it (not raised yet if it has none); its version is their count."""
        history = self._histories.get(case_id)
        if history is None:
            history = self._histories[case_id] = await event_store.load(self.connection, case_id)
        return Case.from_history(case_id, (envelope.data for envelope in history))

    async def add(
        self, case_id: UUID, expected_version: int, envelopes: Sequence[EventEnvelope]
    ) -> list[EventEnvelope]:
        """Append after `expected_version` (ConcurrencyConflict, when written, if the case moved on) and
        project; returns the envelopes as stored, personal data sealed, for the outbox. The read models are
        projected from what the store holds, opened: a note shown for the case is readable there until its
        customer is erased (and one made after the erasure never is)."""
        stored = await event_store.append(self.writes, case_id, expected_version, envelopes)
        opened = [await open_envelope(envelope) for envelope in stored]
        projections.project(self.writes, opened, self.index)
        history = self._histories.get(case_id)
        if history is not None and len(history) == expected_version:
            history.extend(stored)
        else:
            self._histories.pop(case_id, None)  # appended to a version not read here: read it again
        return stored

    async def due_for_escalation(self, now: datetime) -> list[UUID]:
        """Open cases that have reached 30 or 60 days or passed their due time without that escalation, and
        complaints whose stage (before the last) is overdue."""
        rows = await self.connection.fetch(
            """SELECT case_id FROM case_summary
               WHERE status IN ('raised', 'handed_off', 'accepted', 'in_progress')
                 AND ((raised_at <= $1 AND NOT 'aged_30_days' = ANY(escalations))
                   OR (raised_at <= $2 AND NOT 'aged_60_days' = ANY(escalations))
                   OR (sla_due_at < $3 AND NOT 'sla_breached' = ANY(escalations))
                   OR (complaint_due < $3 AND complaint_stage IN ('informal', 'stage_1')))""",
            now - AGED_30_DAYS,
            now - AGED_60_DAYS,
            now,
        )
        return [row["case_id"] for row in rows]
