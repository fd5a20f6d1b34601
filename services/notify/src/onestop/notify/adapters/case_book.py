"""The cases, contacts and reporters notify follows, in PostgreSQL."""

import json
from collections.abc import Collection
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from onestop.contracts.events.common import unidentified_subject_for
from onestop.notify.domain.model import FollowedCase, Reporter
from onestop.servicekit.database import Connection


def _customer_json(customer: dict[str, Any] | None) -> str | None:
    return json.dumps(customer) if customer else None


def _customer(value: str | None) -> dict[str, Any] | None:
    return json.loads(value) if value else None


def _case(row: asyncpg.Record) -> FollowedCase:
    return FollowedCase(
        case_id=row["case_id"],
        contact_id=row["contact_id"],
        reference=row["reference"],
        service_code=row["service_code"],
        service_area=row["service_area"],
        customer_id=row["customer_id"],
        customer=_customer(row["customer"]),
        ward=row["ward"],
        # A case kept before its subject was: the same subject its events were sealed under.
        data_subject=row["data_subject"] or row["customer_id"] or unidentified_subject_for(row["contact_id"]),
        sla_due_at=row["sla_due_at"],
        outcome=row["outcome"],
        declined=row["declined"],
        closed_at=row["closed_at"],
    )


class CaseBook:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def record_contact(self, contact_id: UUID, needs: int, councillor: str | None) -> None:
        await self.connection.execute(
            "INSERT INTO contacts (contact_id, needs, councillor) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            contact_id,
            needs,
            councillor,
        )

    async def councillor_of(self, contact_id: UUID) -> str | None:
        councillor: str | None = await self.connection.fetchval(
            "SELECT councillor FROM contacts WHERE contact_id = $1", contact_id
        )
        return councillor

    async def record_case(self, case: FollowedCase) -> FollowedCase:
        """Keep a case; returns the case as kept (what was kept first, should it be raised again)."""
        row = await self.connection.fetchrow(
            """INSERT INTO cases (case_id, contact_id, reference, service_code, service_area, customer_id,
                   customer, ward, data_subject)
               VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9) ON CONFLICT DO NOTHING RETURNING *""",
            case.case_id,
            case.contact_id,
            case.reference,
            case.service_code,
            case.service_area,
            case.customer_id,
            _customer_json(case.customer),
            case.ward,
            case.data_subject,
        )
        kept = _case(row) if row else await self.get(case.case_id)
        assert kept is not None, "a case that conflicted is kept"
        return kept

    async def get(self, case_id: UUID) -> FollowedCase | None:
        row = await self.connection.fetchrow("SELECT * FROM cases WHERE case_id = $1", case_id)
        return _case(row) if row else None

    async def of_contacts(self, contact_ids: Collection[UUID]) -> dict[UUID, list[FollowedCase]]:
        """Each contact's cases, in order of reference, in one round trip."""
        rows = await self.connection.fetch(
            "SELECT * FROM cases WHERE contact_id = ANY($1::uuid[]) ORDER BY reference", list(contact_ids)
        )
        cases: dict[UUID, list[FollowedCase]] = {contact_id: [] for contact_id in contact_ids}
        for row in rows:
            cases[row["contact_id"]].append(_case(row))
        return cases

    async def set_sla_due(self, case_id: UUID, due: datetime) -> None:
        await self.connection.execute("UPDATE cases SET sla_due_at = $2 WHERE case_id = $1", case_id, due)

    async def set_outcome(self, case_id: UUID, outcome: str | None) -> None:
        await self.connection.execute("UPDATE cases SET outcome = $2 WHERE case_id = $1", case_id, outcome)

    async def decline(self, case_id: UUID, reason: str | None) -> None:
        await self.connection.execute(
            "UPDATE cases SET outcome = $2, declined = true WHERE case_id = $1", case_id, reason
        )

    async def close(self, case_id: UUID, closed_at: datetime) -> FollowedCase | None:
        row = await self.connection.fetchrow(
            "UPDATE cases SET closed_at = $2 WHERE case_id = $1 RETURNING *", case_id, closed_at
        )
        return _case(row) if row else None

    async def reopen(self, case_id: UUID) -> FollowedCase | None:
        """Open again: the next closure says its own outcome."""
        row = await self.connection.fetchrow(
            "UPDATE cases SET closed_at = NULL, outcome = NULL, declined = false WHERE case_id = $1 RETURNING *",
            case_id,
        )
        return _case(row) if row else None

    async def add_reporter(self, reporter: Reporter) -> None:
        await self.connection.execute(
            """INSERT INTO reporters (case_id, contact_id, customer_id, customer) VALUES ($1, $2, $3, $4::jsonb)
               ON CONFLICT DO NOTHING""",
            reporter.case_id,
            reporter.contact_id,
            reporter.customer_id,
            _customer_json(reporter.customer),
        )

    async def reporter(self, case_id: UUID, contact_id: UUID) -> Reporter | None:
        row = await self.connection.fetchrow(
            "SELECT * FROM reporters WHERE case_id = $1 AND contact_id = $2", case_id, contact_id
        )
        if row is None:
            return None
        return Reporter(row["case_id"], row["contact_id"], row["customer_id"], _customer(row["customer"]))

    async def reporters_of(self, case_id: UUID) -> list[UUID]:
        """The contacts that reported the case again, oldest link first."""
        rows = await self.connection.fetch("SELECT contact_id FROM reporters WHERE case_id = $1", case_id)
        return [row["contact_id"] for row in rows]

    async def forget_customer(self, customer_id: UUID) -> None:
        """Erasure: the contact details go, and the outcome they were told (free text); what statistics need stays."""
        await self.connection.execute(
            "UPDATE cases SET customer = NULL, outcome = NULL WHERE customer_id = $1 OR data_subject = $1", customer_id
        )
        await self.connection.execute("UPDATE reporters SET customer = NULL WHERE customer_id = $1", customer_id)
