"""Customer records in PostgreSQL, matched by the identification rule."""

from uuid import UUID

from onestop.intake.domain.identification import CustomerRecord, Identity, Match, best_matches
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

    async def identify(self, identity: Identity, new_customer_id: UUID) -> tuple[UUID, Match | None, list[UUID]]:
        """(customer id, the match or None for a new record under `new_customer_id`, records merged into it now)."""
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
        merged = sorted({m.customer_id for m in matches if m.confidence >= 0.9} - {best.customer_id}, key=str)
        for other in merged:
            await self.connection.execute(
                "UPDATE customers SET merged_into = $1 WHERE customer_id = $2", best.customer_id, other
            )
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

    async def erase(self, customer_id: UUID) -> None:
        """The customer's matching keys go; their id stays only as a tombstone for merges."""
        await self.connection.execute(
            "UPDATE customers SET email = NULL, phone = NULL, uprn = NULL, name = NULL, postcode = NULL"
            " WHERE customer_id = $1 OR merged_into = $1",
            customer_id,
        )
