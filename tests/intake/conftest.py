"""The intake service running in-process against the real broker and a database of the test's own."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer  # type: ignore[import-untyped]

from onestop.contracts import EventEnvelope, decode_record
from onestop.intake.app import create_app
from onestop.intake.settings import IntakeSettings
from onestop.servicekit.database import drop_database


@dataclass
class RunningIntake:
    client: httpx.AsyncClient
    settings: IntakeSettings
    app: Any

    @property
    def pool(self) -> asyncpg.Pool:
        return self.app.state.runtime.pool  # type: ignore[no-any-return]

    def topic(self, topic: Any) -> str:
        return str(topic.qualified(self.settings.topic_namespace))


@pytest.fixture
async def start_intake(kafka_bootstrap: str, postgres_url: str, namespace: str) -> AsyncIterator[Callable[..., Any]]:
    lifespans: list[Any] = []
    databases: list[str] = []

    async def start(**overrides: Any) -> RunningIntake:
        settings = IntakeSettings(
            kafka_bootstrap_servers=kafka_bootstrap,
            database_url=postgres_url,
            topic_namespace=namespace,
            database=f"test_intake_{uuid.uuid4().hex[:10]}",
            **overrides,
        )
        databases.append(settings.database_name)
        app = create_app(settings)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        lifespans.append(lifespan)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake")
        return RunningIntake(client, settings, app)

    yield start
    for lifespan in reversed(lifespans):
        await lifespan.__aexit__(None, None, None)
    for database in databases:
        await drop_database(postgres_url, database)


@pytest.fixture
async def intake(start_intake: Callable[..., Any]) -> RunningIntake:
    return await start_intake()  # type: ignore[no-any-return]


async def committed_events(bootstrap: str, topic: str, within: float = 30) -> list[EventEnvelope]:
    """Every event a read_committed consumer sees on `topic` now, as every onestop consumer reads: what
    aborted (or never committed) Kafka transactions wrote is not among them."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await consumer.start()
    records: list[Any] = []
    try:
        async with asyncio.timeout(within):
            while not consumer.assignment():
                for partition_records in (await consumer.getmany(timeout_ms=100)).values():
                    records.extend(partition_records)
            assigned = list(consumer.assignment())
            end = await consumer.end_offsets(assigned)  # the last stable offsets: every transaction has ended
            while any([await consumer.position(tp) < end[tp] for tp in assigned]):
                for partition_records in (await consumer.getmany(timeout_ms=100)).values():
                    records.extend(partition_records)
    finally:
        await consumer.stop()
    return [decode_record(r.value, r.headers) for r in sorted(records, key=lambda r: (r.partition, r.offset))]
