"""The transactional outbox: the database and Kafka never disagree.

A service appends its events to `outbox` in the same transaction as the state change they describe.
The relay publishes unpublished rows to Kafka in order and then marks them published. A crash after
publishing but before marking republishes the same event ids, which consumers drop through their inbox;
nothing is lost and no effect happens twice.
"""

import asyncio
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]

from onestop.contracts import EventEnvelope, encode_envelope
from onestop.servicekit.database import Connection, bytea_literal, text_literal, uuid_literal
from onestop.servicekit.kafka_security import kafka_options
from onestop.servicekit.personal_data import seal_envelope
from onestop.servicekit.telemetry import current_traceparent

log = logging.getLogger(__name__)

_RELAY_LOCK = 7_301_002  # only one relay per database publishes, so order per key holds
_NEWS_CHANNEL = "onestop_outbox"  # an instance that does not lead tells the leader it committed rows


@dataclass(frozen=True)
class OutboxRow:
    """A row of the outbox as the relay sends it."""

    event_id: UUID
    topic: str
    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @property
    def kafka_headers(self) -> list[tuple[str, bytes]]:
        return [(name, value.encode()) for name, value in self.headers.items()]


async def append(connection: Connection, envelopes: Iterable[EventEnvelope], namespace: str = "") -> list[OutboxRow]:
    """Queue events for publishing; call inside the transaction that records their effect. Returns the rows
    added (an event already queued is not queued again), to hand to the relay once the transaction commits."""
    return await _insert(connection, await _rows_of(envelopes, namespace))


async def append_and_commit(
    connection: Connection, envelopes: Iterable[EventEnvelope], namespace: str = ""
) -> list[OutboxRow]:
    """Queue events and commit the transaction the caller began, in one round trip to the database: the
    statement goes as text, each value hex-encoded. Returns the rows to hand to the relay. An event already
    queued (which a batch the inbox found new does not emit) would be published again, and dropped by its
    consumers' inboxes."""
    rows = await _rows_of(envelopes, namespace)
    if not rows:
        await connection.execute("COMMIT")
        return []
    values = ", ".join(
        f"({uuid_literal(row.event_id)}, {text_literal(row.topic)}, {bytea_literal(row.key)},"
        f" {bytea_literal(row.value)}, {text_literal(json.dumps(row.headers))}::jsonb)"
        for row in rows
    )
    await connection.execute(
        f"INSERT INTO outbox (event_id, topic, message_key, value, headers) VALUES {values}"
        " ON CONFLICT (event_id) DO NOTHING; COMMIT"
    )
    return rows


async def append_record(
    connection: Connection, event_id: UUID, topic: str, key: bytes | None, value: bytes, headers: dict[str, str]
) -> list[OutboxRow]:
    """Queue a record that is not an event of ours (a dead letter keeps the original bytes)."""
    return await _insert(connection, [OutboxRow(event_id, topic, key, value, headers)])


async def _rows_of(envelopes: Iterable[EventEnvelope], namespace: str) -> list[OutboxRow]:
    rows = []
    traceparent = current_traceparent()
    for envelope in envelopes:
        if envelope.traceparent is None and traceparent is not None:
            envelope = envelope.model_copy(update={"traceparent": traceparent})
        envelope = await seal_envelope(envelope)
        record = encode_envelope(envelope)
        rows.append(
            OutboxRow(
                envelope.id, envelope.data.topic.qualified(namespace), record.key, record.value, record.headers_dict()
            )
        )
    return rows


async def _insert(connection: Connection, rows: Sequence[OutboxRow]) -> list[OutboxRow]:
    if not rows:
        return []
    added = await connection.fetch(
        "INSERT INTO outbox (event_id, topic, message_key, value, headers)"
        " SELECT * FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::bytea[], $5::jsonb[])"
        " ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
        [row.event_id for row in rows],
        [row.topic for row in rows],
        [row.key for row in rows],
        [row.value for row in rows],
        [json.dumps(row.headers) for row in rows],
    )
    inserted = {row["event_id"] for row in added}
    return [row for row in rows if row.event_id in inserted]


class OutboxRelay:
    """Publishes the outbox to Kafka. Of a service's instances one leads and only it publishes, so order per
    key holds: it holds a session advisory lock on a connection of its own for as long as it runs.

    A commit of this instance hands the rows it added to the relay (`hand_over`), and the leader sends them
    without selecting them again: one statement a round, which marks what the last round sent as published
    and finds any older row another instance committed (it goes first). The leader reads the whole table
    when it starts leading, after a failure, when `wake` says rows were committed without being handed
    over, when another instance says it committed rows (NOTIFY), and when it has been idle `idle_wait`
    seconds. An instance that does not lead tells the leader of its commits and tries to lead again every
    `idle_wait` seconds.
    """

    def __init__(self, pool: asyncpg.Pool, bootstrap: str, *, batch_size: int = 500, idle_wait: float = 0.5) -> None:
        self.pool = pool
        self.bootstrap = bootstrap
        self.batch_size = batch_size
        self.idle_wait = idle_wait
        self.leading = False
        self._producer: AIOKafkaProducer | None = None
        self._wake = asyncio.Event()
        self._handed: list[OutboxRow] = []
        self._sent: list[UUID] = []  # sent and acknowledged, marked published by the next round
        self._look_in_table = True
        self._try_to_lead = True
        self._news = False  # committed rows the leader, in another instance, has not been told of

    def hand_over(self, rows: Sequence[OutboxRow]) -> None:
        """Rows a transaction of this instance added and committed, in commit order."""
        if not rows:
            return
        self._handed.extend(rows)
        if len(self._handed) > 10 * self.batch_size:  # not being published (no relay running): the table has them
            self._handed.clear()
            self._look_in_table = True
        self._news = True
        self._wake.set()

    def wake(self) -> None:
        """Rows were committed without being handed over: look in the table."""
        self._look_in_table = True
        self._news = True
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
        """Relay until `stop` is set; outages (database or broker) back off and retry."""
        failures = 0
        while not stop.is_set():
            try:
                async with self.pool.acquire() as connection:
                    try:
                        await self._serve(connection, stop)
                    finally:
                        await self._step_down(connection)
                return
            except Exception as exc:
                failures += 1
                delay = min(0.2 * 2 ** min(failures, 5), 5.0)
                log.warning("outbox relay failed (%s); retrying in %.1fs", exc, delay)
                try:
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                except TimeoutError:
                    pass

    async def _serve(self, connection: Connection, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()  # what is handed over from now on wakes the next round
            if not self.leading and self._try_to_lead:
                self._try_to_lead = False
                if await connection.fetchval("SELECT pg_try_advisory_lock($1)", _RELAY_LOCK):
                    self.leading = True
                    self._look_in_table = True  # what was committed before, by any instance
                    await connection.add_listener(_NEWS_CHANNEL, self._told_of_news)
            if self.leading:
                await self._publish_round(connection)
                if self._handed or self._look_in_table:
                    continue  # more to publish
            elif self._news:
                self._news = False
                self._handed.clear()  # the leader finds them in the table
                await connection.execute("SELECT pg_notify($1, '')", _NEWS_CHANNEL)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.idle_wait)
            except TimeoutError:
                # Mark what was sent; rows no one told of, or a leader gone: look again.
                self._look_in_table = True
                self._try_to_lead = True

    async def _publish_round(self, connection: Connection) -> None:
        sent, self._sent = self._sent, []
        if self._look_in_table:
            self._look_in_table = False
            rows = await self._unpublished(connection, marking=sent)
            if len(rows) == self.batch_size:
                self._look_in_table = True  # there may be more
            selected = {row.event_id for row in rows}
            self._handed = [row for row in self._handed if row.event_id not in selected]
        elif self._handed:
            handed, self._handed = self._handed[: self.batch_size], self._handed[self.batch_size :]
            # Rows another instance committed before these and has not told of yet go first.
            older = await self._unpublished(connection, marking=sent, before=handed)
            rows = older + handed
        else:
            self._sent = sent  # nothing new: marked by the next round, or the one after `idle_wait`
            return
        if rows:
            await self.publish(rows)
            self._sent = [row.event_id for row in rows]

    async def _unpublished(
        self, connection: Connection, *, marking: list[UUID], before: list[OutboxRow] | None = None
    ) -> list[OutboxRow]:
        """Marks `marking` published and, in the same statement, reads unpublished rows in order (when `before`
        is given, only those queued before the last of it, and not in it)."""
        excluded = marking + [row.event_id for row in before or ()]
        rows = await connection.fetch(
            "WITH marked AS (UPDATE outbox SET published_at = now() WHERE event_id = ANY($1::uuid[]))"
            " SELECT event_id, topic, message_key, value, headers FROM outbox"
            " WHERE published_at IS NULL AND NOT event_id = ANY($2::uuid[])"
            " AND (NOT $3 OR position < (SELECT max(position) FROM outbox WHERE event_id = ANY($4::uuid[])))"
            " ORDER BY position LIMIT $5",
            marking,
            excluded,
            before is not None,
            [row.event_id for row in before or ()],
            self.batch_size,
        )
        return [
            OutboxRow(row["event_id"], row["topic"], row["message_key"], row["value"], json.loads(row["headers"]))
            for row in rows
        ]

    async def publish(self, rows: Sequence[OutboxRow]) -> None:
        """Send `rows` in order, all in flight at once, and wait until Kafka has acknowledged every one."""
        assert self._producer is not None, "start() the relay first"
        sends = [
            await self._producer.send(row.topic, value=row.value, key=row.key, headers=row.kafka_headers)
            for row in rows
        ]
        await asyncio.gather(*sends)

    @staticmethod
    async def _mark_published(connection: Connection, event_ids: list[UUID]) -> None:
        await connection.execute("UPDATE outbox SET published_at = now() WHERE event_id = ANY($1::uuid[])", event_ids)

    async def publish_pending(self) -> int | None:
        """Publish one batch of unpublished rows in order, as a relay that is not running (tools and tests); how
        many were published, or None when another relay leads."""
        async with self.pool.acquire() as connection:
            if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", _RELAY_LOCK):
                return None
            try:
                rows = await self._unpublished(connection, marking=[])
                if rows:
                    await self.publish(rows)
                    await self._mark_published(connection, [row.event_id for row in rows])
                return len(rows)
            finally:
                await connection.execute("SELECT pg_advisory_unlock($1)", _RELAY_LOCK)

    def _told_of_news(self, *_: Any) -> None:
        self._look_in_table = True
        self._wake.set()

    async def _step_down(self, connection: Connection) -> None:
        """Give up leading before the connection goes back to the pool: a pooled connection must not keep the
        lock. If it cannot be given up, the connection is closed, which gives it up too."""
        self._handed.clear()  # committed: whoever leads next finds them in the table
        self._news = False
        self._look_in_table = True
        self._try_to_lead = True
        sent, self._sent = self._sent, []
        if not self.leading:
            return
        self.leading = False
        try:
            if sent:
                await self._mark_published(connection, sent)  # else they are sent again, which the inbox drops
            await connection.remove_listener(_NEWS_CHANNEL, self._told_of_news)
            await asyncio.wait_for(connection.execute("SELECT pg_advisory_unlock($1)", _RELAY_LOCK), timeout=5)
        except Exception:
            connection.terminate()
