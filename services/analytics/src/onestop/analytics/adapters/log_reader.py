"""Reads every topic of the log into facts, exactly once: the offsets are stored with the facts.

Each batch of records is applied in one transaction (one statement per kind of fact, see facts.py) that
also moves the stored offsets, so a crash replays the batch into facts that never saw it. A record that
cannot be decoded goes to `onestop.analytics.dlq` with its reason and the reader carries on.
"""

import asyncio
import logging
from datetime import UTC, datetime

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition  # type: ignore[import-untyped]
from opentelemetry import trace

from onestop.analytics.adapters.facts import apply_batch, checked
from onestop.contracts import UndecodableMessage, decode_record
from onestop.contracts import topics as contract_topics
from onestop.servicekit.consumer_lag import Lags
from onestop.servicekit.kafka_security import kafka_options
from onestop.servicekit.log_reading import behind, open_from_beginning
from onestop.servicekit.telemetry import context_from_traceparent

log = logging.getLogger(__name__)
_tracer = trace.get_tracer("onestop.analytics")


class LogReader:
    def __init__(
        self, pool: asyncpg.Pool, bootstrap: str, namespace: str, schema: str = "facts", batch_size: int = 1000
    ):
        self.pool, self.bootstrap, self.namespace = pool, bootstrap, namespace
        self.schema, self.batch_size = checked(schema), batch_size
        self.dead_letters = contract_topics.dead_letter_topic("analytics").qualified(namespace)
        self.consumer: AIOKafkaConsumer | None = None
        self.producer: AIOKafkaProducer | None = None
        self.applied = 0

    async def start(self) -> None:
        self.producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", **kafka_options())
        await self.producer.start()
        names = [
            topic.qualified(self.namespace)
            for topic in contract_topics.ALL_TOPICS
            if topic is not contract_topics.CUSTOMER_KEYS
        ]
        async with self.pool.acquire() as connection:
            stored = {
                TopicPartition(r["topic"], r["partition"]): r["next_offset"]
                for r in await connection.fetch(f"SELECT * FROM {self.schema}.consumed_offsets")
            }
        self.consumer, _ = await open_from_beginning(
            self.bootstrap, names, start_at=stored, max_poll_records=self.batch_size
        )

    async def stop(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()
        if self.producer is not None:
            await self.producer.stop()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.read_batch()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("analytics reader failed (%s); retrying", exc)
                await asyncio.sleep(1)

    async def read_batch(self, timeout_ms: int = 200) -> int:
        assert self.consumer is not None and self.producer is not None
        batches = await self.consumer.getmany(timeout_ms=timeout_ms, max_records=self.batch_size)
        if not batches:
            return 0
        envelopes = []
        for records in batches.values():
            for record in records:
                try:
                    envelopes.append(decode_record(record.value, record.headers))
                except UndecodableMessage as exc:
                    await self._dead_letter(record, exc.reason)
        # Each event read continues its journey's trace, so analytics shows in it too.
        spans = [
            _tracer.start_span(f"analytics apply {e.type}", context=context_from_traceparent(e.traceparent))
            for e in envelopes
        ]
        try:
            async with self.pool.acquire() as connection, connection.transaction():
                await apply_batch(connection, self.schema, envelopes)
                await connection.executemany(
                    f"""INSERT INTO {self.schema}.consumed_offsets VALUES ($1, $2, $3)
                        ON CONFLICT (topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset""",
                    [(p.topic, p.partition, records[-1].offset + 1) for p, records in batches.items()],
                )
        except BaseException:
            # Nothing of this batch was kept: read it again from the stored offsets.
            for partition, records in batches.items():
                self.consumer.seek(partition, records[0].offset)
            raise
        finally:
            for span in spans:
                span.end()
        count = len(envelopes)
        self.applied += count
        return count

    async def _dead_letter(self, record: object, reason: str) -> None:
        assert self.producer is not None
        headers = [(k, v) for k, v in (record.headers or ())]  # type: ignore[attr-defined]
        headers += [
            (contract_topics.DLQ_REASON, reason[:2000].encode()),
            (contract_topics.DLQ_ORIGINAL_TOPIC, record.topic.encode()),  # type: ignore[attr-defined]
            (contract_topics.DLQ_ORIGINAL_PARTITION, str(record.partition).encode()),  # type: ignore[attr-defined]
            (contract_topics.DLQ_ORIGINAL_OFFSET, str(record.offset).encode()),  # type: ignore[attr-defined]
            (contract_topics.DLQ_CONSUMER_GROUP, b"analytics"),
            (contract_topics.DLQ_FAILED_AT, datetime.now(UTC).isoformat().encode()),
        ]
        await self.producer.send_and_wait(self.dead_letters, value=record.value, key=record.key, headers=headers)  # type: ignore[attr-defined]

    async def lags(self) -> Lags:
        """Messages not yet applied, per topic (the reader has no consumer group; it reports as one)."""
        assert self.consumer is not None
        partitions = list(self.consumer.assignment())
        ends = await self.consumer.end_offsets(partitions)
        lags: Lags = {}
        for partition in partitions:
            key = (f"{self.namespace}onestop.analytics", partition.topic)
            lags[key] = lags.get(key, 0) + max(ends[partition] - await self.consumer.position(partition), 0)
        return lags

    async def caught_up(self) -> bool:
        """Has everything on the log, as of now, been applied?"""
        assert self.consumer is not None
        return not await behind(self.consumer, await self.consumer.end_offsets(list(self.consumer.assignment())))


async def read_to_end(reader: LogReader) -> int:
    """Apply the log from the stored offsets up to its end as of now (for rebuilds)."""
    assert reader.consumer is not None
    ends = await reader.consumer.end_offsets(list(reader.consumer.assignment()))
    while await behind(reader.consumer, ends):
        await reader.read_batch(timeout_ms=500)
    return reader.applied
