"""What the API reads: the read models and a case's history, straight from the database.

Reads for staff take `within_areas`, the service areas the caller is limited to (None: every area), and
filter by it in SQL, so that totals and pages count only what the caller may see.
"""

import json
from collections.abc import Collection
from typing import Any
from uuid import UUID

import asyncpg

from onestop.contracts import decode_record
from onestop.contracts.events.cases import CaseProgressUpdated

# The steps of a case its customer is shown when tracking it; the rest (notes, reassignments, escalations)
# are the council's own business.
PUBLIC_STEPS = {
    f"onestop.case.{step}"
    for step in ("raised", "handed-off", "accepted", "progress-updated", "resolved", "declined", "closed", "reopened")
}
OPEN_STATUSES = ("raised", "handed_off", "accepted", "in_progress")
FINISHED_STATUSES = ("closed", "resolved", "declined")
Row = dict[str, Any]


class CaseViews:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def summary(self, case_id: UUID) -> Row | None:
        row = await self.pool.fetchrow("SELECT * FROM case_summary WHERE case_id = $1", case_id)
        return None if row is None else dict(row)

    async def history(self, case_id: UUID) -> list[Row]:
        rows = await self.pool.fetch(
            "SELECT event_id, event_type, recorded_at FROM events WHERE case_id = $1 ORDER BY version", case_id
        )
        return [dict(row) for row in rows]

    async def cases(
        self,
        *,
        within_areas: Collection[str] | None,
        service_area: str | None,
        team: str | None,
        status: str | None,
        open_only: bool,
        limit: int,
        offset: int,
        reference: str | None = None,
    ) -> tuple[int, list[Row]]:
        """How many cases match, and the page of them from `offset`, oldest first. A report linked to a case
        already in hand finds that case by its own reference."""
        clauses: list[str] = []
        args: list[object] = []
        if within_areas is not None:
            args.append(list(within_areas))
            clauses.append(f"service_area = ANY(${len(args)}::text[])")
        if reference is not None:
            args.append(reference.upper())
            linked = f"SELECT case_id FROM linked_reports WHERE reference = ${len(args)}"
            clauses.append(f"(reference = ${len(args)} OR case_id = ({linked}))")
        for column, value in (("service_area", service_area), ("team", team), ("status", status)):
            if value is not None:
                args.append(value)
                clauses.append(f"{column} = ${len(args)}")
        if open_only:
            args.append(list(FINISHED_STATUSES))
            clauses.append(f"status <> ALL(${len(args)}::text[])")
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        async with self.pool.acquire() as connection:
            total = await connection.fetchval(f"SELECT count(*) FROM case_summary {where}", *args)
            rows = await connection.fetch(
                f"SELECT * FROM case_summary {where} ORDER BY raised_at LIMIT ${len(args) + 1} OFFSET ${len(args) + 2}",
                *args,
                limit,
                offset,
            )
        return total, [dict(row) for row in rows]

    async def open_cases(
        self, *, within_areas: Collection[str] | None, service_area: str | None, team: str | None
    ) -> list[Row]:
        """Open cases for a work list, oldest first."""
        rows = await self.pool.fetch(
            """SELECT case_id, reference, service_area, team, status, raised_at, sla_due_at FROM case_summary
               WHERE status = ANY($1::text[])
                 AND ($2::text IS NULL OR service_area = $2) AND ($3::text IS NULL OR team = $3)
                 AND ($4::text[] IS NULL OR service_area = ANY($4::text[]))
               ORDER BY raised_at""",
            list(OPEN_STATUSES),
            service_area,
            team,
            None if within_areas is None else list(within_areas),
        )
        return [dict(row) for row in rows]

    async def customer(
        self, customer_id: UUID, *, within_areas: Collection[str] | None
    ) -> tuple[list[UUID], list[Row], list[Row]]:
        """The customer's records (theirs and every one merged into it), their contacts and their cases.

        Limited to areas, it holds their cases of those areas and only the contacts that raised them."""
        areas = None if within_areas is None else list(within_areas)
        async with self.pool.acquire() as connection:
            merged = await connection.fetch(
                "SELECT merged_id FROM customer_merges WHERE surviving_id = $1", customer_id
            )
            ids = [customer_id, *(row["merged_id"] for row in merged)]
            contacts = await connection.fetch(
                """SELECT * FROM customer_contacts c WHERE customer_id = ANY($1::uuid[])
                     AND ($2::text[] IS NULL OR EXISTS (
                         SELECT 1 FROM case_summary s
                         WHERE s.customer_id = ANY($1::uuid[]) AND s.contact_id = c.contact_id
                           AND s.service_area = ANY($2::text[])))
                   ORDER BY received_at""",
                ids,
                areas,
            )
            cases = await connection.fetch(
                """SELECT * FROM case_summary WHERE customer_id = ANY($1::uuid[])
                     AND ($2::text[] IS NULL OR service_area = ANY($2::text[]))
                   ORDER BY raised_at""",
                ids,
                areas,
            )
        return ids, [dict(row) for row in contacts], [dict(row) for row in cases]

    async def complaints_report(self, *, within_areas: Collection[str] | None) -> Row:
        """Complaints counted by stage reached, by what they span, and by referral to the ombudsman."""
        areas = None if within_areas is None else list(within_areas)
        async with self.pool.acquire() as connection:
            totals = await connection.fetchrow(
                """SELECT count(*) AS complaints,
                          count(*) FILTER (WHERE status = ANY($2::text[])) AS open,
                          count(*) FILTER (WHERE cardinality(complaint_services) > 1) AS multi_service,
                          count(*) FILTER (WHERE complaint_about_contractor) AS about_contractor,
                          count(*) FILTER (WHERE complaint_via_councillor) AS via_councillor
                   FROM case_summary
                   WHERE kind = 'complaint' AND ($1::text[] IS NULL OR service_area = ANY($1::text[]))""",
                areas,
                list(OPEN_STATUSES),
            )
            groups: dict[str, dict[str, int]] = {}
            for column in ("complaint_stage", "ombudsman"):
                rows = await connection.fetch(
                    f"""SELECT {column} AS name, count(*) AS complaints FROM case_summary
                        WHERE kind = 'complaint' AND {column} IS NOT NULL
                          AND ($1::text[] IS NULL OR service_area = ANY($1::text[]))
                        GROUP BY {column} ORDER BY {column}""",
                    areas,
                )
                groups[column] = {row["name"]: row["complaints"] for row in rows}
        return dict(totals or {}) | {
            "by_stage": groups["complaint_stage"],
            "referred_to_ombudsman": groups["ombudsman"],
        }

    async def tracking(self, reference: str) -> Row | None:
        """What the public may see of a request: no personal data. A report linked to a case already open
        is tracked by its own reference to that case."""
        row = await self.pool.fetchrow(
            """SELECT reference, status, service_area, raised_at, expected_by, closed_at, outcome, public_note
               FROM case_summary
               WHERE reference = $1
                  OR case_id = (SELECT case_id FROM linked_reports WHERE reference = $1)""",
            reference.upper(),
        )
        if row is None:
            return None
        # The history is the case's, under its own reference: a linked report has none of its own.
        return dict(row) | {"history": await self.public_history(row["reference"])}

    async def public_history(self, reference: str) -> list[Row]:
        """The steps the customer is shown, oldest first: what happened and when, never who or why."""
        rows = await self.pool.fetch(
            """SELECT e.event_type, e.recorded_at, e.data, e.headers FROM events e
               JOIN case_summary s USING (case_id) WHERE s.reference = $1 ORDER BY e.version""",
            reference.upper(),
        )
        steps = []
        for row in rows:
            if row["event_type"] not in PUBLIC_STEPS:
                continue
            if row["event_type"] == CaseProgressUpdated.type:
                progress = decode_record(row["data"], json.loads(row["headers"])).data
                if not getattr(progress, "public", False):
                    continue  # an internal note is not the customer's to see
            steps.append({"step": row["event_type"].removeprefix("onestop.case."), "at": row["recorded_at"]})
        return steps
