"""Helpers for tests against the real broker and database: read a topic, wait for a condition."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer  # type: ignore[import-untyped]

from onestop.contracts import EventEnvelope, decode_record

T = TypeVar("T")


async def read_records(bootstrap: str, topic: str, count: int, within: float = 30) -> list[Any]:
    """The first `count` records of `topic` (all partitions, from the beginning), or TimeoutError."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
        isolation_level="read_committed",
    )
    await consumer.start()
    records: list[Any] = []
    try:
        async with asyncio.timeout(within):
            while len(records) < count:
                batch = await consumer.getmany(timeout_ms=200)
                for partition_records in batch.values():
                    records.extend(partition_records)
    finally:
        await consumer.stop()
    return records


async def read_events(bootstrap: str, topic: str, count: int, within: float = 30) -> list[EventEnvelope]:
    """The first `count` events of `topic`, decoded, in offset order within each partition."""
    records = await read_records(bootstrap, topic, count, within)
    return [decode_record(r.value, r.headers) for r in sorted(records, key=lambda r: (r.partition, r.offset))]


async def eventually(check: Callable[[], Awaitable[T | None]], within: float = 30, every: float = 0.1) -> T:
    """Poll `check` until it returns something truthy; TimeoutError after `within` seconds."""
    async with asyncio.timeout(within):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(every)


async def publish_events(bootstrap: str, namespace: str, *envelopes: EventEnvelope) -> None:
    """Publish events as another service would: CloudEvents binary mode, keyed by aggregate, acks=all."""
    from aiokafka import AIOKafkaProducer

    from onestop.contracts import encode_envelope

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for envelope in envelopes:
            record = encode_envelope(envelope)
            await producer.send_and_wait(
                envelope.data.topic.qualified(namespace),
                value=record.value,
                key=record.key,
                headers=list(record.headers),
            )
    finally:
        await producer.stop()


def bearer(*scopes: str, service_areas: list[str] | None = None) -> dict[str, str]:
    """An Authorization header with a development token holding `scopes`."""
    from onestop.servicekit.auth import mint_token

    return {"Authorization": f"Bearer {mint_token('test-client', list(scopes), service_areas=service_areas)}"}
