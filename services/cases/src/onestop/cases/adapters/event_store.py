"""The event store in PostgreSQL: append with optimistic concurrency, load a case's history in order."""

import json
from collections.abc import Sequence
from uuid import UUID

import asyncpg

from onestop.contracts import EventEnvelope, decode_record, encode_envelope
from onestop.servicekit.database import Connection
from onestop.servicekit.messaging import RetryableConflict
from onestop.servicekit.personal_data import seal_envelope


class ConcurrencyConflict(RetryableConflict):
    """Someone else appended to this case first; reload and try again."""


async def load(connection: Connection, case_id: UUID) -> list[EventEnvelope]:
    rows = await connection.fetch("SELECT data, headers FROM events WHERE case_id = $1 ORDER BY version", case_id)
    return [decode_record(row["data"], json.loads(row["headers"])) for row in rows]


async def append(
    connection: Connection, case_id: UUID, expected_version: int, envelopes: Sequence[EventEnvelope]
) -> list[EventEnvelope]:
    """Append after `expected_version`; ConcurrencyConflict if the case has moved on. Returns what was stored."""
    stored = []
    rows = []
    for offset, envelope in enumerate(envelopes, start=1):
        envelope = await seal_envelope(envelope)
        record = encode_envelope(envelope)
        rows.append(
            (
                case_id,
                expected_version + offset,
                envelope.id,
                envelope.type,
                record.value,
                json.dumps(record.headers_dict()),
            )
        )
        stored.append(envelope)
    try:
        await connection.executemany(
            "INSERT INTO events (case_id, version, event_id, event_type, data, headers)"
            " VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
            rows,
        )
    except asyncpg.UniqueViolationError as exc:
        raise ConcurrencyConflict(f"case {case_id} changed since version {expected_version}") from exc
    return stored


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
