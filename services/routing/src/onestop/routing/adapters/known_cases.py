"""The known-cases table: the cases routing remembers, and the few it looks up for each need."""

import math
from datetime import datetime
from typing import Protocol
from uuid import UUID

import asyncpg

from onestop.contracts.events.cases import CaseOutcome
from onestop.contracts.events.common import Channel, Location, NeedKind
from onestop.routing.domain.known_case import KnownCase
from onestop.servicekit.database import Connection


class KnownCases(Protocol):
    async def remember(self, case: KnownCase) -> None:
        """Keep `case`; a case already known is left as it is."""

    async def close(self, case_id: UUID, closed_at: datetime, outcome: CaseOutcome) -> None: ...

    async def reopen(self, case_id: UUID) -> None: ...

    async def erase(self, data_subject: UUID) -> None:
        """The subject's cases stay known, with no customer and no property."""

    async def get(self, case_id: UUID) -> KnownCase | None: ...

    async def by_reference(self, reference: str) -> KnownCase | None: ...

    async def of_customer(self, customer_id: UUID, service_code: str) -> list[KnownCase]:
        """The customer's cases for the service, open or closed, newest first."""

    async def open_near(
        self, service_code: str, location: Location, radius_metres: float, opened_since: datetime
    ) -> list[KnownCase]:
        """Open cases of the service opened since `opened_since` that could be at `location`, oldest first.
        Candidates only: the exact test of "the same place" is decide()'s."""


class PostgresKnownCases:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def remember(self, case: KnownCase) -> None:
        await self.connection.execute(
            """INSERT INTO known_cases (case_id, reference, contact_id, need_id, customer_id, service_code,
                   service_area, kind, channel, opened_at, closed_at, latitude, longitude, uprn, usrn, data_subject)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
               ON CONFLICT (case_id) DO NOTHING""",
            case.case_id,
            case.reference,
            case.contact_id,
            case.need_id,
            case.customer_id,
            case.service_code,
            case.service_area,
            case.kind.value,
            case.channel.value,
            case.opened_at,
            case.closed_at,
            case.latitude,
            case.longitude,
            case.uprn,
            case.usrn,
            case.data_subject,
        )

    async def erase(self, data_subject: UUID) -> None:
        await self.connection.execute(
            "UPDATE known_cases SET customer_id = NULL, uprn = NULL WHERE customer_id = $1 OR data_subject = $1",
            data_subject,
        )

    async def close(self, case_id: UUID, closed_at: datetime, outcome: CaseOutcome) -> None:
        await self.connection.execute(
            "UPDATE known_cases SET closed_at = $2, outcome = $3 WHERE case_id = $1", case_id, closed_at, outcome.value
        )

    async def reopen(self, case_id: UUID) -> None:
        await self.connection.execute(
            "UPDATE known_cases SET closed_at = NULL, outcome = NULL WHERE case_id = $1", case_id
        )

    async def get(self, case_id: UUID) -> KnownCase | None:
        row = await self.connection.fetchrow("SELECT * FROM known_cases WHERE case_id = $1", case_id)
        return _known(row) if row else None

    async def by_reference(self, reference: str) -> KnownCase | None:
        row = await self.connection.fetchrow("SELECT * FROM known_cases WHERE reference = $1", reference)
        return _known(row) if row else None

    async def of_customer(self, customer_id: UUID, service_code: str) -> list[KnownCase]:
        rows = await self.connection.fetch(
            "SELECT * FROM known_cases WHERE customer_id = $1 AND service_code = $2 ORDER BY opened_at DESC",
            customer_id,
            service_code,
        )
        return [_known(row) for row in rows]

    async def open_near(
        self, service_code: str, location: Location, radius_metres: float, opened_since: datetime
    ) -> list[KnownCase]:
        # A box a little larger than the radius, or the same UPRN or street: the candidates stay few however
        # many cases are open. Each is asked apart, each through its own index, so that the plan does not
        # hang on the table's statistics (a table too new to have any was read whole).
        box: tuple[float | None, ...] = (None, None, None, None)
        if location.latitude is not None and location.longitude is not None:
            reach = radius_metres * 1.01
            degrees_lat = reach / 111_000
            degrees_lon = reach / (111_000 * max(math.cos(math.radians(location.latitude)), 0.01))
            box = (
                location.latitude - degrees_lat,
                location.latitude + degrees_lat,
                location.longitude - degrees_lon,
                location.longitude + degrees_lon,
            )
        rows = await self.connection.fetch(
            """SELECT * FROM known_cases
               WHERE service_code = $1 AND closed_at IS NULL AND opened_at >= $2
                 AND latitude BETWEEN $3 AND $4 AND longitude BETWEEN $5 AND $6
               UNION
               SELECT * FROM known_cases
               WHERE service_code = $1 AND closed_at IS NULL AND opened_at >= $2 AND uprn = $7
               UNION
               SELECT * FROM known_cases
               WHERE service_code = $1 AND closed_at IS NULL AND opened_at >= $2 AND usrn = $8
               ORDER BY opened_at""",
            service_code,
            opened_since,
            *box,
            location.uprn,
            location.usrn,
        )
        return [_known(row) for row in rows]


def _known(row: asyncpg.Record) -> KnownCase:
    return KnownCase(
        case_id=row["case_id"],
        reference=row["reference"],
        contact_id=row["contact_id"],
        need_id=row["need_id"],
        customer_id=row["customer_id"],
        service_code=row["service_code"],
        service_area=row["service_area"],
        kind=NeedKind(row["kind"]),
        channel=Channel(row["channel"]),
        opened_at=row["opened_at"],
        closed_at=row["closed_at"],
        outcome=CaseOutcome(row["outcome"]) if row["outcome"] else None,
        latitude=row["latitude"],
        longitude=row["longitude"],
        uprn=row["uprn"],
        usrn=row["usrn"],
        data_subject=row["data_subject"],
    )
