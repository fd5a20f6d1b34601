"""PostgreSQL TLS settings travel in DATABASE_URL and reach every connection a service opens."""

import asyncpg
import pytest

from onestop.servicekit.database import open_service_database
from onestop.servicekit.settings import ServiceSettings


def test_a_service_database_url_keeps_the_tls_options() -> None:
    settings = ServiceSettings(
        service_name="cases",
        database_url="postgresql://onestop:secret@db.example:5432/postgres?sslmode=verify-full&sslrootcert=/ca.pem",
    )
    assert settings.service_database_url == (
        "postgresql://onestop:secret@db.example:5432/onestop_cases?sslmode=verify-full&sslrootcert=/ca.pem"
    )


@pytest.mark.integration
async def test_requiring_tls_of_a_server_without_it_is_refused(postgres_url: str) -> None:
    """The local server has no TLS, so `sslmode=require` must fail rather than fall back to plaintext."""
    separator = "&" if "?" in postgres_url else "?"
    with pytest.raises((ConnectionError, asyncpg.PostgresError, OSError)):
        await open_service_database(f"{postgres_url}{separator}sslmode=require", "onestop_tls_probe", [])
    # `prefer` is the same server's answer when TLS is merely welcome.
    pool = await open_service_database(f"{postgres_url}{separator}sslmode=prefer", "onestop_tls_probe", [])
    try:
        assert await pool.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") is False
    finally:
        await pool.close()
    connection = await asyncpg.connect(postgres_url)
    try:
        await connection.execute('DROP DATABASE IF EXISTS "onestop_tls_probe" WITH (FORCE)')
    finally:
        await connection.close()
