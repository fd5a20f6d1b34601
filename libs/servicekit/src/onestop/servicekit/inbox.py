"""The inbox: a consumed event has its effect once, however often Kafka delivers it."""

from collections.abc import Sequence
from uuid import UUID

from onestop.servicekit.database import Connection


async def first_delivery(connection: Connection, consumer: str, event_id: UUID) -> bool:
    """Record that `consumer` handled `event_id`; False if it already had.

    Call inside the transaction that applies the event's effect, so the record and the effect
    commit together or not at all.
    """
    inserted = await connection.fetchval(
        "INSERT INTO inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true",
        consumer,
        event_id,
    )
    return bool(inserted)


async def first_deliveries(connection: Connection, consumer: str, event_ids: Sequence[UUID]) -> set[UUID]:
    """Record a whole batch in one statement; returns the ids `consumer` had not handled before."""
    rows = await connection.fetch(
        "INSERT INTO inbox (consumer, event_id) SELECT $1, unnest($2::uuid[])"
        " ON CONFLICT DO NOTHING RETURNING event_id",
        consumer,
        list(event_ids),
    )
    return {row["event_id"] for row in rows}
