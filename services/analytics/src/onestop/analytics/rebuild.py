"""Rebuild every figure from offset zero: replay the whole log through the live handlers into a fresh
schema, then swap it in (`python -m onestop.analytics rebuild`; stop the service first)."""

import asyncio
from datetime import UTC, datetime
from typing import Any

import asyncpg

from onestop.analytics.adapters.fact_schemas import make_fact_schema, open_pool_in, swap_in
from onestop.analytics.adapters.facts import facts_in
from onestop.analytics.app import MIGRATIONS
from onestop.analytics.handlers import CONSUMER_GROUP, HANDLERS, TOPICS, write_buffered_facts
from onestop.analytics.settings import AnalyticsSettings
from onestop.servicekit.database import SERVICEKIT_MIGRATIONS, open_service_database
from onestop.servicekit.event_consumer import EventConsumer
from onestop.servicekit.log_reading import behind, open_from_beginning


async def rebuild_into(pool: asyncpg.Pool, settings: AnalyticsSettings, schema: str) -> int:
    """Replay the log from the beginning into `schema` (made afresh); returns the records replayed."""
    await make_fact_schema(pool, schema)
    schema_pool = await open_pool_in(settings, schema)
    try:
        # The live consumer, batch for batch: same handlers, same inbox name, same dead letters.
        consumer = EventConsumer(
            schema_pool,
            settings,
            TOPICS,
            HANDLERS,
            facts_in(schema),
            group=CONSUMER_GROUP,
            before_commit=write_buffered_facts,
            open_personal_data=False,
            trace_events=False,  # a replay belongs to no journey: no spans added to old traces
            max_records=settings.analytics_batch_size,
        )
        return await replay(consumer, settings)
    finally:
        await schema_pool.close()


async def replay(consumer: EventConsumer[Any], settings: AnalyticsSettings) -> int:
    """Feed `consumer` the log of its topics from the beginning up to the end as it was when called."""
    reader, partitions = await open_from_beginning(
        settings.kafka_bootstrap_servers, consumer.topic_names, max_poll_records=settings.analytics_batch_size
    )
    replayed = 0
    try:
        ends = await reader.end_offsets(partitions)
        while await behind(reader, ends):
            fetched = await reader.getmany(timeout_ms=500, max_records=settings.analytics_batch_size)
            records = [record for partition_records in fetched.values() for record in partition_records]
            if records:
                await consumer.handle_batch(records)
                replayed += len(records)
    finally:
        await reader.stop()
    return replayed


async def rebuild(settings: AnalyticsSettings) -> int:
    pool = await open_service_database(
        settings.database_url, settings.database_name, [SERVICEKIT_MIGRATIONS, MIGRATIONS]
    )
    try:
        schema = f"facts_rebuild_{datetime.now(UTC):%Y%m%d%H%M%S}"
        replayed = await rebuild_into(pool, settings, schema)
        await swap_in(pool, schema, CONSUMER_GROUP)
        return replayed
    finally:
        await pool.close()


def main() -> None:
    replayed = asyncio.run(rebuild(AnalyticsSettings()))
    print(f"rebuilt analytics from offset zero: {replayed} events")
