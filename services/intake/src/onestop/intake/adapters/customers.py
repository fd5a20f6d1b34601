"""Customer records in PostgreSQL, matched by the identification rule."""

from dataclasses import dataclass, replace
from uuid import UUID

from onestop.intake.domain.identification import CustomerRecord, Identity, Match, best_matches, to_merge
from onestop.servicekit.database import Connection
from onestop.servicekit.write_buffer import WriteBuffer


@dataclass(frozen=True)
class _Kept:
    record: CustomerRecord
    order: tuple[int, object]  # records read by when they were made, then those this batch made, in turn
    merged: bool = False


def _matching_keys(identity: Identity) -> list[tuple[str, object]]:
    """What the customer search matches a record by: its email, phone or UPRN, or its name with its postcode."""
    keys: list[tuple[str, object]] = [
        (field, value)
        for field, value in (("email", identity.email), ("phone", identity.phone), ("uprn", identity.uprn))
        if value
    ]
    if identity.name and identity.postcode:
        keys.append(("name and postcode", (identity.name, identity.postcode)))
    return keys


class _BatchView:
    """The customer records a batch read ahead for its identities, with the batch's own changes, indexed by
    what the customer search matches on."""

    def __init__(self, identities: set[Identity]) -> None:
        self.identities = identities  # every record any of these could match was read
        self.records: dict[UUID, _Kept] = {}
        self._by_key: dict[tuple[str, object], set[UUID]] = {}

    def put(self, kept: _Kept) -> None:
        self.records[kept.record.customer_id] = kept
        for key in _matching_keys(kept.record.identity):  # details are only ever added, so old keys still hold
            self._by_key.setdefault(key, set()).add(kept.record.customer_id)

    def candidates(self, identity: Identity) -> list[CustomerRecord]:
        """The records not merged away that the search would find for `identity`, oldest first."""
        ids = set().union(*(self._by_key.get(key, ()) for key in _matching_keys(identity)))
        found = [self.records[customer_id] for customer_id in ids if not self.records[customer_id].merged]
        return [kept.record for kept in sorted(found, key=lambda kept: kept.order)]

    def change(self, customer_id: UUID, **changes: object) -> None:
        if customer_id in self.records:
            self.put(replace(self.records[customer_id], **changes))  # type: ignore[arg-type]


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
            self.batch.put(_Kept(CustomerRecord(row["customer_id"], identity), (0, row["created_at"])))

    async def _from_here_on_ask_the_database(self) -> None:
        await self.writes.flush()
        self.batch = None

    async def candidates(self, identity: Identity) -> list[CustomerRecord]:
        if self.batch is not None and identity in self.batch.identities:
            return self.batch.candidates(identity)
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
                made = (1, len(self.batch.records))
                self.batch.put(_Kept(CustomerRecord(new_customer_id, identity), made))
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
