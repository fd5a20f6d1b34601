"""The event store in PostgreSQL: append with optimistic concurrency, load a case's history in order."""

import json
from collections.abc import Collection, Sequence
from uuid import UUID

import asyncpg

from onestop.contracts import EventEnvelope, decode_record, encode_envelope
from onestop.servicekit.database import Connection
from onestop.servicekit.messaging import RetryableConflict
from onestop.servicekit.personal_data import seal_envelope
from onestop.servicekit.write_buffer import WriteBuffer


class ConcurrencyConflict(RetryableConflict):
    """Someone else appended to this case first; reload and try again."""


async def load(connection: Connection, case_id: UUID) -> list[EventEnvelope]:
    rows = await connection.fetch("SELECT data, headers FROM events WHERE case_id = $1 ORDER BY version", case_id)
    return [decode_record(row["data"], json.loads(row["headers"])) for row in rows]


async def load_many(connection: Connection, case_ids: Collection[UUID]) -> dict[UUID, list[EventEnvelope]]:
    """Each case's history in order (an empty one for a case with no events), in one round trip."""
    histories: dict[UUID, list[EventEnvelope]] = {case_id: [] for case_id in case_ids}
    rows = await connection.fetch(
        "SELECT case_id, data, headers FROM events WHERE case_id = ANY($1::uuid[]) ORDER BY case_id, version",
        list(case_ids),
    )
    for row in rows:
        histories[row["case_id"]].append(decode_record(row["data"], json.loads(row["headers"])))
    return histories


INSERT = (
    "INSERT INTO events (case_id, version, event_id, event_type, data, headers) VALUES ($1, $2, $3, $4, $5, $6::jsonb)"
)


async def append(
    writes: WriteBuffer, case_id: UUID, expected_version: int, envelopes: Sequence[EventEnvelope]
) -> list[EventEnvelope]:
    """Append after `expected_version` when `writes` is flushed (see `flush`). Returns what is stored."""
    stored = []
    for offset, envelope in enumerate(envelopes, start=1):
        envelope = await seal_envelope(envelope)
        record = encode_envelope(envelope)
        headers = json.dumps(record.headers_dict())
        writes.add(
            INSERT, case_id, expected_version + offset, envelope.id, envelope.type, record.value, headers, key=case_id
        )
        stored.append(envelope)
    return stored


async def flush(writes: WriteBuffer) -> None:
    """Write what was appended (and whatever else `writes` holds); ConcurrencyConflict if a case moved on."""
    try:
        await writes.flush()
    except asyncpg.UniqueViolationError as exc:
        if exc.table_name != "events":
            raise
        raise ConcurrencyConflict(f"a case changed since it was read: {exc.detail}") from exc


async def all_events(connection: Connection, batch: int = 5000) -> list[EventEnvelope]:
    """Every event in the store, in the order it was recorded (for rebuilding read models)."""
    result: list[EventEnvelope] = []
    position = 0
    while True:
        rows = await connection.fetch(
            "SELECT position, data, headers FROM events WHERE position > $1 ORDER BY position LIMIT $2", position, batch
        )
        if not rows:
            return result
        result.extend(decode_record(row["data"], json.loads(row["headers"])) for row in rows)
        position = rows[-1]["position"]
