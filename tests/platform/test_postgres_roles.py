"""Least privilege on PostgreSQL: the local server wants a password from everyone, and each service connects as
a role of its own that owns its database and can reach no other. A private server of the test's own, from a
fresh state dir, stands in for `make infra-up` on a new machine."""

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from onestop.analytics.app import MIGRATIONS as ANALYTICS
from onestop.cases.app import MIGRATIONS as CASES
from onestop.intake.app import MIGRATIONS as INTAKE
from onestop.intake.settings import IntakeSettings
from onestop.localinfra import postgres
from onestop.notify.app import MIGRATIONS as NOTIFY
from onestop.routing.app import MIGRATIONS as ROUTING
from onestop.servicekit.database import SERVICEKIT_MIGRATIONS, ensure_database, open_service_database

MIGRATIONS = {"intake": INTAKE, "routing": ROUTING, "cases": CASES, "notify": NOTIFY, "analytics": ANALYTICS}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def private_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[int]:
    """A PostgreSQL of this test's own, initialised afresh in a state dir of its own; stopped afterwards."""
    monkeypatch.setenv("ONESTOP_STATE_DIR", str(tmp_path / "state"))
    port = free_port()
    try:
        await asyncio.to_thread(postgres.start, port)
        yield port
    finally:
        await asyncio.to_thread(postgres.stop)


@pytest.mark.integration
async def test_every_connection_needs_the_password(private_server: int) -> None:
    port = private_server
    for user in ("postgres", "onestop_intake"):
        with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError):
            await asyncpg.connect(f"postgresql://{user}@127.0.0.1:{port}/postgres")
        with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError):
            await asyncpg.connect(f"postgresql://{user}:guessed@127.0.0.1:{port}/postgres")
    superuser = await asyncpg.connect(postgres.dsn(port))
    try:
        assert await superuser.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert "trust" not in await superuser.fetchval("SELECT string_agg(auth_method, ',') FROM pg_hba_file_rules")
    finally:
        await superuser.close()


@pytest.mark.integration
async def test_each_service_owns_its_database_and_can_reach_no_other(private_server: int) -> None:
    port = private_server
    urls = await asyncio.to_thread(postgres.ensure_service_roles, port)
    assert set(urls) == set(MIGRATIONS)

    # Each service starts as it does from `.env`: as its role, into its database, applying its migrations.
    for service, url in urls.items():
        pool = await open_service_database(url, f"onestop_{service}", [SERVICEKIT_MIGRATIONS, MIGRATIONS[service]])
        try:
            assert await pool.fetchval("SELECT current_user") == f"onestop_{service}"
            assert not await pool.fetchval("SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user")
            assert await pool.fetchval("SELECT count(*) FROM schema_migrations") > 0
        finally:
            await pool.close()

    routing = urls["routing"].rsplit("/", 1)[0]
    for database in ("onestop_intake", "onestop_cases", "postgres"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await asyncpg.connect(f"{routing}/{database}")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await ensure_database(urls["routing"], "onestop_routing_elsewhere")

    # Made once: running it again (another `make infra-up`) keeps every role and database working.
    assert await asyncio.to_thread(postgres.ensure_service_roles, port) == urls
    again = await asyncpg.connect(urls["intake"])
    try:
        assert await again.fetchval("SELECT count(*) FROM schema_migrations") > 0
    finally:
        await again.close()


def test_a_service_connects_as_its_own_role_unless_the_environment_says_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own, shared = "postgresql://onestop_intake:pw@db:5432/onestop_intake", "postgresql://postgres:pw@db:5432/postgres"
    env_file = tmp_path / ".env"
    env_file.write_text(f"DATABASE_URL={shared}\nINTAKE_DATABASE_URL={own}\n")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("INTAKE_DATABASE_URL", raising=False)
    assert IntakeSettings(_env_file=env_file).service_database_url == own
    # An exported DATABASE_URL (tests, an outside server) wins over `.env`, as every setting does.
    monkeypatch.setenv("DATABASE_URL", "postgresql://tester:pw@elsewhere:5432/postgres")
    assert IntakeSettings(_env_file=env_file).database_url == "postgresql://tester:pw@elsewhere:5432/postgres"
    # And what a test passes in wins over both.
    assert IntakeSettings(_env_file=env_file, database_url=shared).database_url == shared
