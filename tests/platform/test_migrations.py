"""Numbered SQL migrations applied to the real PostgreSQL: in order, once, and never edited."""

from pathlib import Path

import asyncpg
import pytest

from onestop.servicekit.database import (
    SERVICEKIT_MIGRATIONS,
    MigrationChanged,
    MigrationSource,
    apply_migrations,
    create_pool,
)

pytestmark = pytest.mark.integration


def a_service_migrations(folder: Path) -> MigrationSource:
    folder.mkdir()
    (folder / "0001_cases.sql").write_text("CREATE TABLE cases (id uuid PRIMARY KEY, status text NOT NULL);")
    (folder / "0002_case_reference.sql").write_text("ALTER TABLE cases ADD COLUMN reference text;")
    return MigrationSource("cases", folder)


async def test_migrations_apply_in_order_once(database_url: str, tmp_path: Path) -> None:
    source = a_service_migrations(tmp_path / "migrations")
    pool = await create_pool(database_url)
    try:
        first = await apply_migrations(pool, [SERVICEKIT_MIGRATIONS, source])
        again = await apply_migrations(pool, [SERVICEKIT_MIGRATIONS, source])
        columns = await pool.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'cases' ORDER BY ordinal_position"
        )
        tables = {r["tablename"] for r in await pool.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
        recorded = await pool.fetch("SELECT component, version FROM schema_migrations ORDER BY component, version")
    finally:
        await pool.close()

    assert [m.name for m in first] == ["0001_outbox_and_inbox.sql", "0001_cases.sql", "0002_case_reference.sql"]
    assert again == []
    assert [c["column_name"] for c in columns] == ["id", "status", "reference"]
    assert {"outbox", "inbox", "cases", "schema_migrations"} <= tables
    assert [(r["component"], r["version"]) for r in recorded] == [("cases", 1), ("cases", 2), ("servicekit", 1)]


async def test_an_edited_migration_is_refused(database_url: str, tmp_path: Path) -> None:
    source = a_service_migrations(tmp_path / "migrations")
    pool = await create_pool(database_url)
    try:
        await apply_migrations(pool, [source])
        (source.directory / "0001_cases.sql").write_text("CREATE TABLE cases (id uuid PRIMARY KEY);")
        with pytest.raises(MigrationChanged, match="0001_cases.sql"):
            await apply_migrations(pool, [source])
    finally:
        await pool.close()


async def test_a_failing_migration_leaves_nothing_half_done(database_url: str, tmp_path: Path) -> None:
    source = a_service_migrations(tmp_path / "migrations")
    (source.directory / "0003_broken.sql").write_text("CREATE TABLE notes (id int); SELECT no_such_function();")
    pool = await create_pool(database_url)
    try:
        with pytest.raises(asyncpg.UndefinedFunctionError):
            await apply_migrations(pool, [source])
        notes = await pool.fetchval("SELECT to_regclass('notes')")
        versions = await pool.fetch("SELECT version FROM schema_migrations WHERE component = 'cases'")
    finally:
        await pool.close()
    assert notes is None
    assert sorted(r["version"] for r in versions) == [1, 2]
