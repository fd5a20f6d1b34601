"""Event store append: the cases service's store against plain asyncpg INSERTs of the same rows."""

import json
import time
import uuid
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg

from bench.stats import Timing
from onestop.cases.adapters import event_store
from onestop.contracts import EventEnvelope, encode_envelope
from onestop.contracts.events.cases import NoteAdded
from onestop.contracts.events.common import Actor
from onestop.servicekit.database import drop_database, ensure_database
from onestop.servicekit.personal_data import CustomerKeyring, install_keyring, new_kek
from onestop.servicekit.settings import with_database
from onestop.servicekit.topics_admin import delete_namespace_topics
from onestop.servicekit.write_buffer import WriteBuffer

SCHEMA = """CREATE TABLE events (position bigserial PRIMARY KEY, case_id uuid NOT NULL, version integer NOT NULL,
    event_id uuid NOT NULL UNIQUE, event_type text NOT NULL, data bytea NOT NULL, headers jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(), UNIQUE (case_id, version))"""
AUTHOR = Actor(kind="agent", id="bench")
CUSTOMER = uuid4()  # every note is about one customer: their key is made once, then each append seals with it


def envelopes(case_id: uuid.UUID, count: int) -> list[EventEnvelope]:
    now = datetime.now(UTC)
    return [
        EventEnvelope.wrap(
            NoteAdded(
                case_id=case_id,
                note_id=uuid4(),
                added_at=now,
                author=AUTHOR,
                text="Spoke to the resident; crew booked.",
                data_subject=CUSTOMER,
            ),
            source="/bench",
        )
        for _ in range(count)
    ]


async def run(server_url: str, bootstrap: str, appends: int, batch: int) -> dict[str, object]:
    """The cases event store's appends, personal data sealed as in production, beside raw inserts."""
    database = f"bench_store_{uuid4().hex[:8]}"
    await ensure_database(server_url, database)
    pool = await asyncpg.create_pool(with_database(server_url, database), min_size=1, max_size=2)
    assert pool is not None
    namespace = f"bench{uuid4().hex[:8]}."
    keyring = CustomerKeyring(bootstrap, new_kek(), namespace)
    await keyring.start()
    install_keyring(keyring)
    try:
        await keyring.key_for_sealing(CUSTOMER)
        async with pool.acquire() as connection:
            await connection.execute(SCHEMA)
        onestop, raw = Timing(), Timing()
        for _ in range(appends):
            case_id = uuid4()
            batch_envelopes = envelopes(case_id, batch)
            async with pool.acquire() as connection:
                started = time.perf_counter()
                async with connection.transaction():
                    writes = WriteBuffer(connection)
                    await event_store.append(writes, case_id, 0, batch_envelopes)
                    await event_store.flush(writes)
                elapsed = time.perf_counter() - started
            onestop.seconds += elapsed
            onestop.count += batch
            onestop.latencies_ms.append(elapsed * 1000)

            # The raw limit: the same rows, already encoded, in the same transaction size.
            case_id = uuid4()
            rows = []
            for version, envelope in enumerate(envelopes(case_id, batch), start=1):
                record = encode_envelope(envelope)
                rows.append(
                    (case_id, version, envelope.id, envelope.type, record.value, json.dumps(record.headers_dict()))
                )
            async with pool.acquire() as connection:
                started = time.perf_counter()
                async with connection.transaction():
                    await connection.executemany(
                        "INSERT INTO events (case_id, version, event_id, event_type, data, headers)"
                        " VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
                        rows,
                    )
                elapsed = time.perf_counter() - started
            raw.seconds += elapsed
            raw.count += batch
            raw.latencies_ms.append(elapsed * 1000)
        return {
            "onestop_event_store": onestop.summary(),
            "raw_asyncpg_inserts": raw.summary(),
            "ratio_to_raw": round(onestop.per_second / raw.per_second, 3) if raw.per_second else None,
            "events_per_append": batch,
        }
    finally:
        install_keyring(None)
        await keyring.stop()
        await delete_namespace_topics(bootstrap, namespace)
        await pool.close()
        await drop_database(server_url, database)
