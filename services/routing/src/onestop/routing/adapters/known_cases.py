"""The known-cases table: the cases routing remembers, and the few it looks up for each need."""

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import asyncpg

from onestop.contracts.events.cases import CaseOutcome
from onestop.contracts.events.common import Channel, Location, NeedKind
from onestop.routing.domain.known_case import KnownCase
from onestop.servicekit.database import Connection
from onestop.servicekit.write_buffer import WriteBuffer


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

    async def read_ahead(
        self, case_ids: Iterable[UUID], customer_ids: Iterable[UUID], places: Iterable["Place"]
    ) -> None:
        """Read at once what a batch will ask: these cases, every case of these customers, these searches."""

    async def flush(self) -> None:
        """Write what was held back; the unit of work calls it before it commits."""


@dataclass(frozen=True)
class Place:
    """Where a duplicate search will look: the arguments of one `open_near`, known before the batch runs."""

    service_code: str
    location: Location
    radius_metres: float
    opened_since: datetime

    @property
    def area(self) -> tuple[object, ...]:
        """The search without its window: a later window is answered by what an earlier one read."""
        spot = self.location
        return (self.service_code, spot.latitude, spot.longitude, spot.uprn, spot.usrn, self.radius_metres)

    def box(self) -> tuple[float | None, ...]:
        """A box a little larger than the radius (none without coordinates)."""
        spot = self.location
        if spot.latitude is None or spot.longitude is None:
            return (None, None, None, None)
        reach = self.radius_metres * 1.01
        degrees_lat = reach / 111_000
        degrees_lon = reach / (111_000 * max(math.cos(math.radians(spot.latitude)), 0.01))
        return (
            spot.latitude - degrees_lat,
            spot.latitude + degrees_lat,
            spot.longitude - degrees_lon,
            spot.longitude + degrees_lon,
        )

    def holds(self, case: KnownCase) -> bool:
        """What the search's SQL asks, asked of one case."""
        if case.service_code != self.service_code or not case.is_open or case.opened_at < self.opened_since:
            return False
        south, north, west, east = self.box()
        if (
            south is not None
            and north is not None
            and west is not None
            and east is not None
            and case.latitude is not None
            and case.longitude is not None
            and south <= case.latitude <= north
            and west <= case.longitude <= east
        ):
            return True
        spot = self.location
        return (spot.uprn is not None and case.uprn == spot.uprn) or (spot.usrn is not None and case.usrn == spot.usrn)


# The duplicate search: open cases of the service in a box, at the property or on the street. Each arm is
# asked apart, each through its own index, so that the plan does not hang on the table's statistics (a
# table too new to have any was read whole).
_NEAR = """
    SELECT * FROM known_cases
    WHERE service_code = {service} AND closed_at IS NULL AND opened_at >= {since}
      AND latitude BETWEEN {south} AND {north} AND longitude BETWEEN {west} AND {east}
    UNION
    SELECT * FROM known_cases
    WHERE service_code = {service} AND closed_at IS NULL AND opened_at >= {since} AND uprn = {uprn}
    UNION
    SELECT * FROM known_cases
    WHERE service_code = {service} AND closed_at IS NULL AND opened_at >= {since} AND usrn = {usrn}"""


class _BatchView:
    """The known cases a batch has read or changed, as they stand now, indexed the ways the batch asks."""

    CELL = 0.01  # degrees: a grid cell for the duplicate search, much wider than its radius

    def __init__(self) -> None:
        self.cases: dict[UUID, KnownCase] = {}
        self.ids: set[UUID] = set()  # cases read by id, found or not
        self.customers: set[UUID] = set()  # customers all of whose cases were read
        self.areas: dict[tuple[object, ...], datetime] = {}  # duplicate searches read, from when
        self._by_reference: dict[str, UUID] = {}
        self._by_customer: dict[UUID, set[UUID]] = {}
        self._by_spot: dict[tuple[str, object, object], set[UUID]] = {}

    def knows(self, case_id: UUID) -> bool:
        return case_id in self.ids or case_id in self.cases

    def put(self, case: KnownCase) -> None:
        self.cases[case.case_id] = case
        self._by_reference[case.reference] = case.case_id
        if case.customer_id is not None:
            self._by_customer.setdefault(case.customer_id, set()).add(case.case_id)
        for spot in self._spots_of(case):
            self._by_spot.setdefault(spot, set()).add(case.case_id)

    def by_reference(self, reference: str) -> KnownCase | None:
        case_id = self._by_reference.get(reference)
        return self.cases[case_id] if case_id else None

    def of_customer(self, customer_id: UUID) -> list[KnownCase]:
        return [self.cases[case_id] for case_id in self._by_customer.get(customer_id, ())]

    def could_be_at(self, place: Place) -> list[KnownCase] | None:
        """The cases that could answer `place`'s search, or None when its box covers too many cells."""
        south, north, west, east = place.box()
        spots: list[tuple[str, object, object]] = []
        if south is not None and north is not None and west is not None and east is not None:
            rows = range(math.floor(south / self.CELL), math.floor(north / self.CELL) + 1)
            columns = range(math.floor(west / self.CELL), math.floor(east / self.CELL) + 1)
            if len(rows) * len(columns) > 16:
                return None
            spots += [(place.service_code, row, column) for row in rows for column in columns]
        if place.location.uprn is not None:
            spots.append((place.service_code, "uprn", place.location.uprn))
        if place.location.usrn is not None:
            spots.append((place.service_code, "usrn", place.location.usrn))
        ids = set().union(*(self._by_spot.get(spot, ()) for spot in spots))
        return [self.cases[case_id] for case_id in ids]

    def _spots_of(self, case: KnownCase) -> list[tuple[str, object, object]]:
        spots: list[tuple[str, object, object]] = []
        if case.latitude is not None and case.longitude is not None:
            spots.append(
                (case.service_code, math.floor(case.latitude / self.CELL), math.floor(case.longitude / self.CELL))
            )
        if case.uprn is not None:
            spots.append((case.service_code, "uprn", case.uprn))
        if case.usrn is not None:
            spots.append((case.service_code, "usrn", case.usrn))
        return spots


class PostgresKnownCases:
    """Known cases on one connection. Within a batch, what its events will ask is read ahead in one round
    trip (`read_ahead`) and its writes are held back to the commit (`flush`): the batch then sees the cases
    as read, with its own changes laid over them, as the database would show them. A question or a change
    the read ahead did not cover goes to the database after the held writes, and so does every question
    after it."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.writes = WriteBuffer(connection)
        self.batch = _BatchView()

    async def read_ahead(self, case_ids: Iterable[UUID], customer_ids: Iterable[UUID], places: Iterable[Place]) -> None:
        ids, customers, searches = list(set(case_ids)), list(set(customer_ids)), list(places)
        if not (ids or customers or searches):
            return
        near = _NEAR.format(
            service="q.service_code",
            since="q.since",
            south="q.south",
            north="q.north",
            west="q.west",
            east="q.east",
            uprn="q.uprn",
            usrn="q.usrn",
        )
        boxes = [place.box() for place in searches]
        rows = await self.connection.fetch(
            f"""SELECT * FROM known_cases WHERE case_id = ANY($1::uuid[])
                UNION ALL SELECT * FROM known_cases WHERE customer_id = ANY($2::uuid[])
                UNION ALL SELECT near.* FROM unnest($3::text[], $4::timestamptz[], $5::float8[], $6::float8[],
                    $7::float8[], $8::float8[], $9::text[], $10::text[])
                    AS q(service_code, since, south, north, west, east, uprn, usrn)
                CROSS JOIN LATERAL ({near}) AS near""",
            ids,
            customers,
            [place.service_code for place in searches],
            [place.opened_since for place in searches],
            *([box[i] for box in boxes] for i in range(4)),
            [place.location.uprn for place in searches],
            [place.location.usrn for place in searches],
        )
        for row in rows:
            if row["case_id"] not in self.batch.cases:  # a case the batch changed is as it left it
                self.batch.put(_known(row))
        self.batch.ids.update(ids)
        self.batch.customers.update(customers)
        for place in searches:
            since = self.batch.areas.get(place.area)
            self.batch.areas[place.area] = place.opened_since if since is None else min(since, place.opened_since)

    async def flush(self) -> None:
        await self.writes.flush()

    async def _from_here_on_ask_the_database(self) -> None:
        """Send what is held and forget what was read ahead: it may no longer be what the database holds."""
        await self.writes.flush()
        self.batch = _BatchView()

    async def remember(self, case: KnownCase) -> None:
        if not self.batch.knows(case.case_id):
            await self._from_here_on_ask_the_database()
        elif case.case_id in self.batch.cases:
            return  # a case already known is left as it is
        else:
            self.batch.put(case)
        self.writes.add(
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
            key=case.case_id,
        )

    async def _change(self, case_id: UUID, sql: str, *args: object, **changes: Any) -> None:
        if not self.batch.knows(case_id):
            await self._from_here_on_ask_the_database()
        elif (case := self.batch.cases.get(case_id)) is not None:
            self.batch.put(dataclasses.replace(case, **changes))
        else:
            return  # not a case routing knows
        self.writes.add(sql, case_id, *args, key=case_id)

    async def close(self, case_id: UUID, closed_at: datetime, outcome: CaseOutcome) -> None:
        await self._change(
            case_id,
            "UPDATE known_cases SET closed_at = $2, outcome = $3 WHERE case_id = $1",
            closed_at,
            outcome.value,
            closed_at=closed_at,
            outcome=outcome,
        )

    async def reopen(self, case_id: UUID) -> None:
        await self._change(
            case_id,
            "UPDATE known_cases SET closed_at = NULL, outcome = NULL WHERE case_id = $1",
            closed_at=None,
            outcome=None,
        )

    async def erase(self, data_subject: UUID) -> None:
        await self._from_here_on_ask_the_database()
        await self.connection.execute(
            "UPDATE known_cases SET customer_id = NULL, uprn = NULL WHERE customer_id = $1 OR data_subject = $1",
            data_subject,
        )

    async def get(self, case_id: UUID) -> KnownCase | None:
        if self.batch.knows(case_id):
            return self.batch.cases.get(case_id)
        await self.writes.flush()
        row = await self.connection.fetchrow("SELECT * FROM known_cases WHERE case_id = $1", case_id)
        return _known(row) if row else None

    async def by_reference(self, reference: str) -> KnownCase | None:
        known = self.batch.by_reference(reference)
        if known is not None:
            return known
        await self.writes.flush()
        row = await self.connection.fetchrow("SELECT * FROM known_cases WHERE reference = $1", reference)
        return _known(row) if row else None

    async def of_customer(self, customer_id: UUID, service_code: str) -> list[KnownCase]:
        if customer_id in self.batch.customers:
            theirs = [case for case in self.batch.of_customer(customer_id) if case.service_code == service_code]
            return sorted(theirs, key=lambda case: case.opened_at, reverse=True)
        await self.writes.flush()
        rows = await self.connection.fetch(
            "SELECT * FROM known_cases WHERE customer_id = $1 AND service_code = $2 ORDER BY opened_at DESC",
            customer_id,
            service_code,
        )
        return [_known(row) for row in rows]

    async def open_near(
        self, service_code: str, location: Location, radius_metres: float, opened_since: datetime
    ) -> list[KnownCase]:
        place = Place(service_code, location, radius_metres, opened_since)
        since = self.batch.areas.get(place.area)
        candidates = self.batch.could_be_at(place) if since is not None and since <= opened_since else None
        if candidates is not None:
            return sorted(filter(place.holds, candidates), key=lambda case: case.opened_at)
        await self.writes.flush()
        near = _NEAR.format(
            service="$1", since="$2", south="$3", north="$4", west="$5", east="$6", uprn="$7", usrn="$8"
        )
        rows = await self.connection.fetch(
            f"{near} ORDER BY opened_at", service_code, opened_since, *place.box(), location.uprn, location.usrn
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
