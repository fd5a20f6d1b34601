"""Fact schemas for a rebuild: a fresh schema with an inbox of its own, replayed into, then swapped in.

The rebuild's consumer records what it handled in the inbox of the schema it fills (its connections look
there first), so replaying never touches the live inbox; the swap moves facts and inbox rows together.
"""

import asyncpg

from onestop.analytics.adapters.facts import checked
from onestop.servicekit.settings import ServiceSettings


async def make_fact_schema(pool: asyncpg.Pool, schema: str) -> None:
    """`schema` afresh: empty fact tables and an empty inbox."""
    s = checked(schema)
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute(f'DROP SCHEMA IF EXISTS "{s}" CASCADE')
        await connection.execute("SELECT create_fact_tables($1)", s)
        await connection.execute(f'CREATE TABLE "{s}".inbox (LIKE inbox INCLUDING ALL)')


async def open_pool_in(settings: ServiceSettings, schema: str) -> asyncpg.Pool:
    """A pool on the service's database whose unqualified names (the inbox) resolve in `schema` first."""
    s = checked(schema)
    connection = await asyncpg.connect(settings.service_database_url)
    try:
        search_path = await connection.fetchval("SELECT current_setting('search_path')")
    finally:
        await connection.close()
    pool = await asyncpg.create_pool(
        settings.service_database_url, min_size=1, max_size=2, server_settings={"search_path": f"{s}, {search_path}"}
    )
    assert pool is not None
    return pool


async def swap_in(pool: asyncpg.Pool, schema: str, consumer: str) -> None:
    """Make `schema` the live facts and its inbox `consumer`'s (stop the service first: it holds statements
    on the old tables)."""
    s = checked(schema)
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute("ALTER SCHEMA facts RENAME TO facts_replaced")
        await connection.execute(f'ALTER SCHEMA "{s}" RENAME TO facts')
        await connection.execute("DROP SCHEMA facts_replaced CASCADE")
        await connection.execute("DELETE FROM inbox WHERE consumer = $1", consumer)
        await connection.execute(
            "INSERT INTO inbox (consumer, event_id, processed_at)"
            " SELECT consumer, event_id, processed_at FROM facts.inbox WHERE consumer = $1",
            consumer,
        )
        await connection.execute("DROP TABLE facts.inbox")
