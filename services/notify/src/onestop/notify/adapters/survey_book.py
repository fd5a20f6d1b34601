"""Feedback surveys in PostgreSQL: planned on close, asked once, answered once."""

from datetime import datetime
from uuid import UUID

from onestop.contracts.events.notifications import SurveyKind
from onestop.servicekit.database import Connection


class SurveyBook:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def plan(self, survey_id: UUID, case_id: UUID, kind: SurveyKind, service_area: str, due_at: datetime) -> None:
        """A survey to ask later (a repair's follow-up); nothing if the case has one of this kind."""
        await self.connection.execute(
            """INSERT INTO surveys (survey_id, case_id, kind, service_area, due_at) VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT DO NOTHING""",
            survey_id,
            case_id,
            kind.value,
            service_area,
            due_at,
        )

    async def mark_requested(
        self, survey_id: UUID, case_id: UUID, kind: SurveyKind, service_area: str, due_at: datetime
    ) -> UUID:
        """Record the survey as asked; returns its id (the one planned before, if it was)."""
        requested: UUID = await self.connection.fetchval(
            """INSERT INTO surveys (survey_id, case_id, kind, service_area, due_at, requested)
               VALUES ($1, $2, $3, $4, $5, true)
               ON CONFLICT (case_id, kind) DO UPDATE SET requested = true
               RETURNING survey_id""",
            survey_id,
            case_id,
            kind.value,
            service_area,
            due_at,
        )
        return requested

    async def claim_due_follow_ups(self, now: datetime) -> list[tuple[UUID, UUID]]:
        """(survey id, case id) of repair follow-ups due and not yet asked; locked until the unit commits."""
        rows = await self.connection.fetch(
            """SELECT survey_id, case_id FROM surveys WHERE kind = 'repair_follow_up' AND NOT requested
               AND due_at <= $1 FOR UPDATE SKIP LOCKED""",
            now,
        )
        return [(row["survey_id"], row["case_id"]) for row in rows]

    async def answered(self, survey_id: UUID) -> bool | None:
        """Whether the survey has its answer; None if there is no such survey."""
        answered: bool | None = await self.connection.fetchval(
            "SELECT answered FROM surveys WHERE survey_id = $1", survey_id
        )
        return answered

    async def answer(self, survey_id: UUID) -> tuple[UUID, str] | None:
        """Record the answer; (case id, service area), or None if unknown or answered before."""
        row = await self.connection.fetchrow(
            "UPDATE surveys SET answered = true WHERE survey_id = $1 AND NOT answered RETURNING case_id, service_area",
            survey_id,
        )
        return (row["case_id"], row["service_area"]) if row else None
