"""Customer records in PostgreSQL, matched by the identification rule."""

from uuid import UUID

from onestop.intake.domain.identification import CustomerRecord, Identity, Match, best_matches, to_merge
from onestop.servicekit.database import Connection


class Customers:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def candidates(self, identity: Identity) -> list[CustomerRecord]:
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
            await self.connection.execute(
                "INSERT INTO customers (customer_id, email, phone, uprn, name, postcode)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                new_customer_id,
                identity.email,
                identity.phone,
                identity.uprn,
                identity.name,
                identity.postcode,
            )
            return new_customer_id, None, []
        best = matches[0]
        merged = to_merge(matches, verified)
        for other in merged:
            await self.connection.execute(
                "UPDATE customers SET merged_into = $1 WHERE customer_id = $2", best.customer_id, other
            )
        if not verified and len(matches) > 1:
            # Unverified details pointing at two people: giving one of them the other's phone would merge
            # them by the back door, so nothing is learnt.
            return best.customer_id, best, merged
        # What we learn now fills the gaps in the surviving record. Only a real gap is written: an UPDATE that
        # changes nothing would still lock the row, and a customer's every contact would queue behind the last.
        await self.connection.execute(
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
        )
        return best.customer_id, best, merged

    async def unmerge(self, merged_customer_id: UUID) -> UUID | None:
        """Undo a merge: the record stands on its own again. The record it was merged into, or None if it wasn't."""
        return await self.connection.fetchval(  # type: ignore[no-any-return]
            """UPDATE customers SET merged_into = NULL FROM customers AS before
               WHERE customers.customer_id = $1 AND before.customer_id = customers.customer_id
                 AND customers.merged_into IS NOT NULL
               RETURNING before.merged_into""",
            merged_customer_id,
        )

    async def erase(self, customer_id: UUID) -> None:
        """The customer's matching keys go; their id stays only as a tombstone for merges."""
        await self.connection.execute(
            "UPDATE customers SET email = NULL, phone = NULL, uprn = NULL, name = NULL, postcode = NULL"
            " WHERE customer_id = $1 OR merged_into = $1",
            customer_id,
        )
