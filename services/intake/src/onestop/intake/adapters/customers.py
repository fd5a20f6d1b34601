"""Customer records in PostgreSQL, matched by the identification rule."""

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from onestop.intake.domain.identification import CustomerRecord, Identity, Match, best_matches, to_merge
from onestop.servicekit.database import Connection
from onestop.servicekit.write_buffer import WriteBuffer


@dataclass(frozen=True)
class _Kept:
    record: CustomerRecord
    created_at: datetime | None  # None: created in this batch, after every record read
    merged: bool = False


class _BatchView:
    """The customer records a batch read ahead for its identities, with the batch's own changes."""

    def __init__(self, identities: set[Identity]) -> None:
        self.identities = identities  # every record any of these could match was read
        self.records: dict[UUID, _Kept] = {}

    def candidates(self) -> list[CustomerRecord]:
        """Every record not merged away, oldest first: the identification rule picks among them."""
        kept = [k for k in self.records.values() if not k.merged]
        read, created = [k for k in kept if k.created_at is not None], [k for k in kept if k.created_at is None]
        return [k.record for k in sorted(read, key=lambda k: k.created_at) + created]  # type: ignore[arg-type, return-value]

    def change(self, customer_id: UUID, **changes: object) -> None:
        if customer_id in self.records:
            self.records[customer_id] = replace(self.records[customer_id], **changes)  # type: ignore[arg-type]


class Customers:
    """Within a batch of contacts, the records their identities could match are read ahead in one round trip
    (`read_ahead`), and what identification writes is held back to the commit (`writes`, flushed by the
    repositories): each contact then sees the records as read, with the batch's changes, as the database
    would show them. An identity not read ahead sends the held writes and asks the database, and so does
    every question after it."""

    def __init__(self, connection: Connection, writes: WriteBuffer) -> None:
        self.connection = connection
        self.writes = writes
        self.batch: _BatchView | None = None

    async def read_ahead(self, identities: list[Identity]) -> None:
        if not identities:
            return
        rows = await self.connection.fetch(
            """SELECT customer_id, email, phone, uprn, name, postcode, created_at FROM customers
               WHERE merged_into IS NULL AND email = ANY($1::text[])
               UNION SELECT customer_id, email, phone, uprn, name, postcode, created_at FROM customers
               WHERE merged_into IS NULL AND phone = ANY($2::text[])
               UNION SELECT customer_id, email, phone, uprn, name, postcode, created_at FROM customers
               WHERE merged_into IS NULL AND uprn = ANY($3::text[])
               UNION SELECT c.customer_id, c.email, c.phone, c.uprn, c.name, c.postcode, c.created_at
               FROM unnest($4::text[], $5::text[]) AS q(name, postcode)
               JOIN customers c ON c.name = q.name AND c.postcode = q.postcode AND c.merged_into IS NULL""",
            [i.email for i in identities if i.email],
            [i.phone for i in identities if i.phone],
            [i.uprn for i in identities if i.uprn],
            [i.name for i in identities if i.name and i.postcode],
            [i.postcode for i in identities if i.name and i.postcode],
        )
        self.batch = _BatchView(set(identities))
        for row in rows:
            identity = Identity(row["email"], row["phone"], row["uprn"], row["name"], row["postcode"])
            self.batch.records[row["customer_id"]] = _Kept(
                CustomerRecord(row["customer_id"], identity), row["created_at"]
            )

    async def _from_here_on_ask_the_database(self) -> None:
        await self.writes.flush()
        self.batch = None

    async def candidates(self, identity: Identity) -> list[CustomerRecord]:
        if self.batch is not None and identity in self.batch.identities:
            return self.batch.candidates()
        await self._from_here_on_ask_the_database()
        rows = await self.connection.fetch(
            """SELECT customer_id, email, phone, uprn, name, postcode FROM customers
               WHERE merged_into IS NULL
                 AND (email = $1 OR phone = $2 OR uprn = $3 OR (name = $4 AND postcode = $5))
               ORDER BY created_at""",
            identity.email,
            identity.phone,
            identity.uprn,
            identity.name,
            identity.postcode,
        )
        return [
            CustomerRecord(
                row["customer_id"], Identity(row["email"], row["phone"], row["uprn"], row["name"], row["postcode"])
            )
            for row in rows
        ]

    async def identify(
        self, identity: Identity, new_customer_id: UUID, *, verified: bool
    ) -> tuple[UUID, Match | None, list[UUID]]:
        """(customer id, the match or None for a new record under `new_customer_id`, records merged into it now).

        Only a `verified` customer's details merge records; an unverified contact goes to the best match."""
        matches = best_matches(identity, await self.candidates(identity))
        if not matches:
            self.writes.add(
                "INSERT INTO customers (customer_id, email, phone, uprn, name, postcode)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                new_customer_id,
                identity.email,
                identity.phone,
                identity.uprn,
                identity.name,
                identity.postcode,
                key=new_customer_id,
            )
            if self.batch is not None:
                self.batch.records[new_customer_id] = _Kept(CustomerRecord(new_customer_id, identity), None)
            return new_customer_id, None, []
        best = matches[0]
        merged = to_merge(matches, verified)
        for other in merged:
            self.writes.add(
                "UPDATE customers SET merged_into = $1 WHERE customer_id = $2", best.customer_id, other, key=other
            )
            if self.batch is not None:
                self.batch.change(other, merged=True)
        if not verified and len(matches) > 1:
            # Unverified details pointing at two people: giving one of them the other's phone would merge
            # them by the back door, so nothing is learnt.
            return best.customer_id, best, merged
        # What we learn now fills the gaps in the surviving record. Only a real gap is written: an UPDATE that
        # changes nothing would still lock the row, and a customer's every contact would queue behind the last.
        self.writes.add(
            """UPDATE customers SET email = COALESCE(email, $2), phone = COALESCE(phone, $3),
                   uprn = COALESCE(uprn, $4), name = COALESCE(name, $5), postcode = COALESCE(postcode, $6)
               WHERE customer_id = $1
                 AND ((email IS NULL AND $2::text IS NOT NULL) OR (phone IS NULL AND $3::text IS NOT NULL)
                   OR (uprn IS NULL AND $4::text IS NOT NULL) OR (name IS NULL AND $5::text IS NOT NULL)
                   OR (postcode IS NULL AND $6::text IS NOT NULL))""",
            best.customer_id,
            identity.email,
            identity.phone,
            identity.uprn,
            identity.name,
            identity.postcode,
            key=best.customer_id,
        )
        if self.batch is not None and best.customer_id in self.batch.records:
            known = self.batch.records[best.customer_id].record.identity
            learnt = Identity(*(getattr(known, f) or getattr(identity, f) for f in _FIELDS))
            self.batch.change(best.customer_id, record=CustomerRecord(best.customer_id, learnt))
        return best.customer_id, best, merged

    async def unmerge(self, merged_customer_id: UUID) -> UUID | None:
        """Undo a merge: the record stands on its own again. The record it was merged into, or None if it wasn't."""
        await self._from_here_on_ask_the_database()
        return await self.connection.fetchval(  # type: ignore[no-any-return]
            """UPDATE customers SET merged_into = NULL FROM customers AS before
               WHERE customers.customer_id = $1 AND before.customer_id = customers.customer_id
                 AND customers.merged_into IS NOT NULL
               RETURNING before.merged_into""",
            merged_customer_id,
        )

    async def erase(self, customer_id: UUID) -> None:
        """The customer's matching keys go; their id stays only as a tombstone for merges."""
        await self._from_here_on_ask_the_database()
        await self.connection.execute(
            "UPDATE customers SET email = NULL, phone = NULL, uprn = NULL, name = NULL, postcode = NULL"
            " WHERE customer_id = $1 OR merged_into = $1",
            customer_id,
        )


_FIELDS = ("email", "phone", "uprn", "name", "postcode")
