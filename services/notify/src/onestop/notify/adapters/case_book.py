"""The cases, contacts and reporters notify follows, in PostgreSQL.

Writes that return nothing are held in the unit of work's `WriteBuffer`, keyed by the case or contact they
change, and sent together when it flushes. The cases this book has read or recorded are kept for the unit of
work, in step with the held writes, so a batch reads each case once (`read_ahead`: all of them in one round
trip). Every other read flushes first, so that it sees what this transaction wrote.
"""

import dataclasses
import json
from collections.abc import Collection, Hashable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg

from onestop.contracts.events.common import unidentified_subject_for
from onestop.notify.domain.model import FollowedCase, Reporter
from onestop.servicekit.database import Connection
from onestop.servicekit.write_buffer import WriteBuffer

INSERT_CASE = """INSERT INTO cases (case_id, contact_id, reference, service_code, service_area, customer_id,
                     customer, ward, data_subject)
                 VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9) ON CONFLICT DO NOTHING"""


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


def _case_row(case: FollowedCase) -> tuple[object, ...]:
    """The values of `INSERT_CASE` for a case."""
    return (
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


def _as_inserted(case: FollowedCase) -> FollowedCase:
    """The case as reading the row `INSERT_CASE` made of it would give it."""
    return dataclasses.replace(
        case,
        customer=_customer(_customer_json(case.customer)),
        data_subject=case.data_subject or case.customer_id or unidentified_subject_for(case.contact_id),
        sla_due_at=None,
        outcome=None,
        declined=False,
        closed_at=None,
    )


def _as_stored(moment: datetime) -> datetime:
    """A time as PostgreSQL gives it back: in UTC."""
    return moment.astimezone(UTC)


def _case_key(case_id: UUID) -> Hashable:
    return ("case", case_id)


def _contact_key(contact_id: UUID) -> Hashable:
    return ("contact", contact_id)


class CaseBook:
    def __init__(self, connection: Connection, writes: WriteBuffer) -> None:
        self.connection = connection
        self.writes = writes
        self._cases: dict[UUID, FollowedCase | None] = {}  # None: known not to be kept

    async def read_ahead(self, case_ids: Collection[UUID]) -> None:
        """Read these cases together, ahead of the handlers that will record or `get` them."""
        wanted = [case_id for case_id in case_ids if case_id not in self._cases]
        if not wanted:
            return
        await self.writes.flush()
        rows = await self.connection.fetch("SELECT * FROM cases WHERE case_id = ANY($1::uuid[])", wanted)
        found = {row["case_id"]: _case(row) for row in rows}
        for case_id in wanted:
            self._cases[case_id] = found.get(case_id)

    async def record_contact(self, contact_id: UUID, needs: int, councillor: str | None) -> None:
        self.writes.add(
            "INSERT INTO contacts (contact_id, needs, councillor) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            contact_id,
            needs,
            councillor,
            key=_contact_key(contact_id),
        )

    async def councillor_of(self, contact_id: UUID) -> str | None:
        await self.writes.flush()
        councillor: str | None = await self.connection.fetchval(
            "SELECT councillor FROM contacts WHERE contact_id = $1", contact_id
        )
        return councillor

    async def record_case(self, case: FollowedCase) -> FollowedCase:
        """Keep a case; returns the case as kept (what was kept first, should it be raised again)."""
        if case.case_id not in self._cases:
            return await self._record_case_now(case)
        kept = self._cases[case.case_id]
        if kept is None:
            self.writes.add(INSERT_CASE, *_case_row(case), key=_case_key(case.case_id))
            kept = self._cases[case.case_id] = _as_inserted(case)
        return kept

    async def _record_case_now(self, case: FollowedCase) -> FollowedCase:
        """A case not read here before: the database says whether it is kept already."""
        await self.writes.flush()
        row = await self.connection.fetchrow(f"{INSERT_CASE} RETURNING *", *_case_row(case))
        kept = _case(row) if row else await self.get(case.case_id)
        assert kept is not None, "a case that conflicted is kept"
        self._cases[case.case_id] = kept
        return kept

    async def get(self, case_id: UUID) -> FollowedCase | None:
        if case_id not in self._cases:
            await self.writes.flush()
            row = await self.connection.fetchrow("SELECT * FROM cases WHERE case_id = $1", case_id)
            self._cases[case_id] = _case(row) if row else None
        return self._cases[case_id]

    async def of_contacts(self, contact_ids: Collection[UUID]) -> dict[UUID, list[FollowedCase]]:
        """Each contact's cases, in order of reference, in one round trip."""
        await self.writes.flush()
        rows = await self.connection.fetch(
            "SELECT * FROM cases WHERE contact_id = ANY($1::uuid[]) ORDER BY reference", list(contact_ids)
        )
        cases: dict[UUID, list[FollowedCase]] = {contact_id: [] for contact_id in contact_ids}
        for row in rows:
            cases[row["contact_id"]].append(_case(row))
        return cases

    async def set_sla_due(self, case_id: UUID, due: datetime) -> None:
        self.writes.add("UPDATE cases SET sla_due_at = $2 WHERE case_id = $1", case_id, due, key=_case_key(case_id))
        self._change(case_id, sla_due_at=_as_stored(due))

    async def set_outcome(self, case_id: UUID, outcome: str | None) -> None:
        self.writes.add("UPDATE cases SET outcome = $2 WHERE case_id = $1", case_id, outcome, key=_case_key(case_id))
        self._change(case_id, outcome=outcome)

    async def decline(self, case_id: UUID, reason: str | None) -> None:
        self.writes.add(
            "UPDATE cases SET outcome = $2, declined = true WHERE case_id = $1",
            case_id,
            reason,
            key=_case_key(case_id),
        )
        self._change(case_id, outcome=reason, declined=True)

    def _change(self, case_id: UUID, **changes: Any) -> None:
        """Keep a case read here in step with a write held for it (one known not to be kept stays so)."""
        kept = self._cases.get(case_id)
        if kept is not None:
            self._cases[case_id] = dataclasses.replace(kept, **changes)

    async def close(self, case_id: UUID, closed_at: datetime) -> FollowedCase | None:
        await self.writes.flush()
        row = await self.connection.fetchrow(
            "UPDATE cases SET closed_at = $2 WHERE case_id = $1 RETURNING *", case_id, closed_at
        )
        self._cases[case_id] = _case(row) if row else None
        return self._cases[case_id]

    async def reopen(self, case_id: UUID) -> FollowedCase | None:
        """Open again: the next closure says its own outcome."""
        await self.writes.flush()
        row = await self.connection.fetchrow(
            "UPDATE cases SET closed_at = NULL, outcome = NULL, declined = false WHERE case_id = $1 RETURNING *",
            case_id,
        )
        self._cases[case_id] = _case(row) if row else None
        return self._cases[case_id]

    async def add_reporter(self, reporter: Reporter) -> None:
        self.writes.add(
            """INSERT INTO reporters (case_id, contact_id, customer_id, customer) VALUES ($1, $2, $3, $4::jsonb)
               ON CONFLICT DO NOTHING""",
            reporter.case_id,
            reporter.contact_id,
            reporter.customer_id,
            _customer_json(reporter.customer),
            key=_case_key(reporter.case_id),
        )

    async def reporter(self, case_id: UUID, contact_id: UUID) -> Reporter | None:
        await self.writes.flush()
        row = await self.connection.fetchrow(
            "SELECT * FROM reporters WHERE case_id = $1 AND contact_id = $2", case_id, contact_id
        )
        if row is None:
            return None
        return Reporter(row["case_id"], row["contact_id"], row["customer_id"], _customer(row["customer"]))

    async def reporters_of(self, case_id: UUID) -> list[UUID]:
        """The contacts that reported the case again (each is told apart, so in no particular order)."""
        await self.writes.flush()
        rows = await self.connection.fetch("SELECT contact_id FROM reporters WHERE case_id = $1", case_id)
        return [row["contact_id"] for row in rows]

    async def forget_customer(self, customer_id: UUID) -> None:
        """Erasure: the contact details go, and the outcome they were told (free text); what statistics need stays.
        Rare: the cases read here are read again afterwards rather than kept in step."""
        await self.writes.flush()
        await self.connection.execute(
            "UPDATE cases SET customer = NULL, outcome = NULL WHERE customer_id = $1 OR data_subject = $1", customer_id
        )
        await self.connection.execute("UPDATE reporters SET customer = NULL WHERE customer_id = $1", customer_id)
        self._cases.clear()
