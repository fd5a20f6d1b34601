"""The inbox: a consumed event has its effect once, however often Kafka delivers it."""

from collections.abc import Sequence
from uuid import UUID

from onestop.servicekit.database import Connection, text_literal, uuid_literal


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


async def begin_with_first_deliveries(connection: Connection, consumer: str, event_ids: Sequence[UUID]) -> set[UUID]:
    """Begin a transaction and record a batch in it, in one round trip (the statement goes as text); returns
    the ids `consumer` had not handled before. The caller commits or rolls back."""
    if not event_ids:
        await connection.execute("BEGIN")
        return set()
    name = text_literal(consumer)
    values = ", ".join(f"({name}, {uuid_literal(event_id)})" for event_id in event_ids)
    status = await connection.execute(
        f"BEGIN; INSERT INTO inbox (consumer, event_id) VALUES {values} ON CONFLICT DO NOTHING"
    )
    ids = set(event_ids)
    if int(status.rsplit(" ", 1)[1]) == len(ids):
        return ids  # the usual case: every one is new
    # Some were handled before: those this transaction inserted are the new ones.
    rows = await connection.fetch(
        "SELECT event_id FROM inbox WHERE consumer = $1 AND event_id = ANY($2::uuid[])"
        " AND xmin = pg_current_xact_id()::xid",
        consumer,
        list(ids),
    )
    return {row["event_id"] for row in rows}
