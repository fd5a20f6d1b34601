"""PostgreSQL: a service's own database, its connection pool and its numbered SQL migrations.

Migrations are plain files named `NNNN_what.sql`, applied in order at start-up, each in its own
transaction, recorded with a checksum. An applied file must never change (the checksum says if it
did); fix forward with a new file. An advisory lock stops two instances migrating at once.
"""

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias
from uuid import UUID

import asyncpg

from onestop.servicekit.settings import with_database

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    # A connection, whether opened directly or borrowed from a pool.
    Connection: TypeAlias = asyncpg.Connection[Any] | PoolConnectionProxy[Any]
else:
    Connection = asyncpg.Connection

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_MIGRATION_LOCK = 7_301_001  # any constant shared by every instance


@dataclass(frozen=True)
class Migration:
    component: str
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


class MigrationChanged(RuntimeError):
    """An already-applied migration file was edited."""


async def ensure_database(server_url: str, database: str) -> None:
    """Create the database if it does not exist (CREATE DATABASE cannot run in a transaction).

    A database that exists is only connected to: a service's own role may own its database, made for it
    beforehand, without the right to create databases or to connect to any other."""
    try:
        existing = await asyncpg.connect(with_database(server_url, database))
    except asyncpg.InvalidCatalogNameError:
        pass  # no such database yet
    else:
        await existing.close()
        return
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(f'CREATE DATABASE "{database}"')
    except asyncpg.DuplicateDatabaseError:
        pass  # another instance won the race
    finally:
        await connection.close()


async def drop_database(server_url: str, database: str) -> None:
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await connection.close()


async def create_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size, reset=_nothing_to_reset)
    assert pool is not None
    return pool


async def _nothing_to_reset(connection: "asyncpg.Connection[Any]") -> None:
    """Our services leave no session state on a pooled connection (no SET, LISTEN or open cursor, and every
    session advisory lock is released where it is taken), so the round trip asyncpg's default reset query
    costs on every release buys nothing. An open transaction is still rolled back by the pool itself."""


# Values written into the text of a statement, so that it can share a round trip with BEGIN or COMMIT (a
# statement with parameters travels alone). Text and bytes are hex-encoded: nothing in them can end a
# literal, whatever the server's string settings.
def bytea_literal(value: bytes | None) -> str:
    return "NULL" if value is None else f"decode('{value.hex()}', 'hex')"


def text_literal(value: str) -> str:
    return f"convert_from({bytea_literal(value.encode())}, 'UTF8')"


def uuid_literal(value: UUID) -> str:
    return f"'{UUID(str(value))}'::uuid"


async def open_service_database(server_url: str, database: str, migrations: list["MigrationSource"]) -> asyncpg.Pool:
    """Create the service's database if needed, apply its migrations and return a pool on it."""
    await ensure_database(server_url, database)
    pool = await create_pool(with_database(server_url, database))
    await apply_migrations(pool, migrations)
    return pool


@dataclass(frozen=True)
class MigrationSource:
    """A folder of migrations that belong to one component (a service, or servicekit's own tables)."""

    component: str
    directory: Path

    def migrations(self) -> list[Migration]:
        found = []
        for path in sorted(self.directory.glob("*.sql")):
            match = _MIGRATION_NAME.match(path.name)
            if not match:
                raise ValueError(f"migration file {path} is not named NNNN_lower_case.sql")
            found.append(Migration(self.component, int(match.group(1)), path.name, path.read_text()))
        versions = [m.version for m in found]
        if len(set(versions)) != len(versions):
            raise ValueError(f"duplicate migration numbers in {self.directory}")
        return found


SERVICEKIT_MIGRATIONS = MigrationSource("servicekit", Path(__file__).parent / "migrations")


async def apply_migrations(pool: asyncpg.Pool, sources: list[MigrationSource]) -> list[Migration]:
    """Apply what is new, in order; returns what was applied this time."""
    applied_now: list[Migration] = []
    async with pool.acquire() as connection:
        await connection.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        try:
            await connection.execute(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    component  text        NOT NULL,
                    version    integer     NOT NULL,
                    name       text        NOT NULL,
                    checksum   text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (component, version)
                )
                """
            )
            rows = await connection.fetch("SELECT component, version, name, checksum FROM schema_migrations")
            done = {(row["component"], row["version"]): row for row in rows}
            for source in sources:
                for migration in source.migrations():
                    previous = done.get((migration.component, migration.version))
                    if previous is not None:
                        if previous["checksum"] != migration.checksum:
                            raise MigrationChanged(
                                f"{migration.component} migration {migration.name} was changed after it was "
                                "applied; add a new migration instead"
                            )
                        continue
                    async with connection.transaction():
                        await connection.execute(migration.sql)
                        await connection.execute(
                            "INSERT INTO schema_migrations (component, version, name, checksum)"
                            " VALUES ($1, $2, $3, $4)",
                            migration.component,
                            migration.version,
                            migration.name,
                            migration.checksum,
                        )
                    applied_now.append(migration)
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
    return applied_now
