"""What intake learns from other services: case progress for Open311 clients, and erasures."""

import asyncpg

from onestop.contracts import EventEnvelope
from onestop.contracts.events.cases import (
    CaseClosed,
    CaseDeclined,
    CaseHandedOff,
    CaseProgressUpdated,
    CaseRaised,
    CaseReopened,
    CaseResolved,
)
from onestop.contracts.events.customers import CustomerErased
from onestop.intake.adapters import customers


class CaseProgress:
    """Keeps each Open311 request's status in step with its case. Each update sets values, so a
    redelivered event changes nothing; events of one case arrive in order (they share a key)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def handle(self, envelope: EventEnvelope) -> None:
        event = envelope.data
        match event:
            case CaseRaised():
                await self._set(event.case_id, event.raised_at, "service_request_id = $3", event.reference)
            case CaseHandedOff():
                await self._set(
                    event.case_id, event.handed_off_at, "agency = $3, expected_at = $4", event.team, event.sla_due_at
                )
            case CaseProgressUpdated(public=True):
                await self._set(
                    event.case_id,
                    event.updated_at,
                    "status_notes = $3, expected_at = COALESCE($4, expected_at)",
                    event.note,
                    event.expected_by,
                )
            case CaseResolved():
                await self._set(event.case_id, event.resolved_at, "status_notes = $3", event.outcome)
            case CaseDeclined():
                await self._set(event.case_id, event.declined_at, "status_notes = $3", event.reason)
            case CaseClosed():
                await self._set(event.case_id, event.closed_at, "status = 'closed'")
            case CaseReopened():
                await self._set(event.case_id, event.reopened_at, "status = 'open'")
            case CustomerErased():
                async with self.pool.acquire() as connection:
                    await customers.erase(connection, event.customer_id)

    async def _set(self, case_id: object, at: object, assignments: str, *values: object) -> None:
        async with self.pool.acquire() as connection:
            await connection.execute(
                f"UPDATE open311_requests SET {assignments}, updated_at = GREATEST(updated_at, $2) WHERE case_id = $1",
                case_id,
                at,
                *values,
            )
