"""The transactional outbox: the database and Kafka never disagree.

A service appends its events to `outbox` in the same transaction as the state change they describe.
The relay publishes unpublished rows to Kafka in `position` order and then marks them published. A
crash after publishing but before marking republishes the same event ids, which consumers drop
through their inbox; nothing is lost and no effect happens twice.
"""

import asyncio
import json
import logging
from collections.abc import Iterable
from uuid import UUID

import asyncpg
from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]

from onestop.contracts import EventEnvelope, encode_envelope
from onestop.servicekit.database import Connection
from onestop.servicekit.kafka_security import kafka_options
from onestop.servicekit.personal_data import seal_envelope
from onestop.servicekit.telemetry import current_traceparent

log = logging.getLogger(__name__)

_RELAY_LOCK = 7_301_002  # only one relay per database publishes, so order per key holds


async def append(connection: Connection, envelopes: Iterable[EventEnvelope], namespace: str = "") -> None:
    """Queue events for publishing; call inside the transaction that records their effect."""
    rows = []
    traceparent = current_traceparent()
    for envelope in envelopes:
        if envelope.traceparent is None and traceparent is not None:
            envelope = envelope.model_copy(update={"traceparent": traceparent})
        envelope = await seal_envelope(envelope)
        record = encode_envelope(envelope)
        headers = json.dumps(record.headers_dict())
        rows.append((envelope.id, envelope.data.topic.qualified(namespace), record.key, record.value, headers))
    await connection.executemany(
        "INSERT INTO outbox (event_id, topic, message_key, value, headers) VALUES ($1, $2, $3, $4, $5::jsonb)"
        " ON CONFLICT (event_id) DO NOTHING",
        rows,
    )


async def append_record(
    connection: Connection, event_id: UUID, topic: str, key: bytes | None, value: bytes, headers: dict[str, str]
) -> None:
    """Queue a record that is not an event of ours (a dead letter keeps the original bytes)."""
    await connection.execute(
        "INSERT INTO outbox (event_id, topic, message_key, value, headers) VALUES ($1, $2, $3, $4, $5::jsonb)"
        " ON CONFLICT (event_id) DO NOTHING",
        event_id,
        topic,
        key,
        value,
        json.dumps(headers),
    )


class OutboxRelay:
    """Publishes the outbox to Kafka; run one per service instance, only one at a time does work."""

    def __init__(self, pool: asyncpg.Pool, bootstrap: str, *, batch_size: int = 500, idle_wait: float = 0.5) -> None:
        self.pool = pool
        self.bootstrap = bootstrap
        self.batch_size = batch_size
        self.idle_wait = idle_wait
        self._producer: AIOKafkaProducer | None = None
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Tell the relay there is something new, so it doesn't wait for its next poll."""
        self._wake.set()

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=2,
            **kafka_options(),
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until `stop` is set; transient failures back off and retry.

        Woken by every commit of this instance; otherwise it looks every `idle_wait` seconds, for rows another
        instance committed while this one held the relay lock."""
        failures = 0
        while not stop.is_set():
            self._wake.clear()  # a commit from now on wakes the next round
            try:
                published = await self.publish_pending()
                failures = 0
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, Exception) as exc:
                failures += 1
                delay = min(0.2 * 2 ** min(failures, 5), 5.0)
                log.warning("outbox relay failed (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                continue
            if published is None:  # another instance's relay is publishing: look again shortly
                await asyncio.sleep(0.01)
                continue
            if published >= self.batch_size:
                continue  # there may be more
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.idle_wait)
            except TimeoutError:
                pass

    async def publish_pending(self) -> int | None:
        """Publish one batch of unpublished rows in order; how many were published, or None when another
        relay holds the lock."""
        assert self._producer is not None, "start() the relay first"
        async with self.pool.acquire() as connection:
            locked = await connection.fetchval("SELECT pg_try_advisory_lock($1)", _RELAY_LOCK)
            if not locked:
                return None
            try:
                rows = await connection.fetch(
                    "SELECT position, topic, message_key, value, headers FROM outbox"
                    " WHERE published_at IS NULL ORDER BY position LIMIT $1",
                    self.batch_size,
                )
                if not rows:
                    return 0
                sends = []
                for row in rows:
                    headers = [(name, value.encode()) for name, value in json.loads(row["headers"]).items()]
                    sends.append(
                        await self._producer.send(
                            row["topic"], value=row["value"], key=row["message_key"], headers=headers
                        )
                    )
                await asyncio.gather(*sends)
                await connection.execute(
                    "UPDATE outbox SET published_at = now() WHERE position = ANY($1::bigint[])",
                    [row["position"] for row in rows],
                )
                return len(rows)
            finally:
                await connection.execute("SELECT pg_advisory_unlock($1)", _RELAY_LOCK)
