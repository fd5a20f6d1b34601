"""Rebuild every figure from offset zero: replay the whole log into a fresh schema, then swap it in."""

import asyncio
from datetime import UTC, datetime

import asyncpg

from onestop.analytics.adapters.log_reader import LogReader, read_to_end
from onestop.analytics.app import MIGRATIONS
from onestop.analytics.settings import AnalyticsSettings
from onestop.servicekit.database import SERVICEKIT_MIGRATIONS, open_service_database


async def rebuild_into(pool: asyncpg.Pool, settings: AnalyticsSettings, schema: str) -> int:
    """Replay the log from the beginning into `schema` (made afresh); returns the events applied."""
    async with pool.acquire() as connection:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await connection.execute("SELECT create_fact_tables($1)", schema)
    reader = LogReader(
        pool, settings.kafka_bootstrap_servers, settings.topic_namespace, schema, settings.analytics_batch_size
    )
    await reader.start()
    try:
        return await read_to_end(reader)
    finally:
        await reader.stop()


async def swap_in(pool: asyncpg.Pool, schema: str) -> None:
    """Make `schema` the live facts (stop the service first: it holds statements on the old tables)."""
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute("ALTER SCHEMA facts RENAME TO facts_replaced")
        await connection.execute(f'ALTER SCHEMA "{schema}" RENAME TO facts')
        await connection.execute("DROP SCHEMA facts_replaced CASCADE")


async def rebuild(settings: AnalyticsSettings) -> int:
    pool = await open_service_database(
        settings.database_url, settings.database_name, [SERVICEKIT_MIGRATIONS, MIGRATIONS]
    )
    try:
        schema = f"facts_rebuild_{datetime.now(UTC):%Y%m%d%H%M%S}"
        applied = await rebuild_into(pool, settings, schema)
        await swap_in(pool, schema)
        return applied
    finally:
        await pool.close()


def main() -> None:
    applied = asyncio.run(rebuild(AnalyticsSettings()))
    print(f"rebuilt analytics from offset zero: {applied} events")
