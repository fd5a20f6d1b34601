"""Shared fixtures: real Kafka and PostgreSQL for integration tests, isolated per test.

Where the infrastructure comes from, in order:
  1. environment variables KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL (external infrastructure);
  2. testcontainers, when a Docker engine answers;
  3. local processes started by onestop.localinfra (what `make infra-up` runs), reused if running.
Each test gets its own topic namespace and its own database, so tests never see each other's data.
"""

import contextlib
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from onestop.servicekit.database import drop_database, ensure_database
from onestop.servicekit.personal_data import new_kek
from onestop.servicekit.settings import with_database
from onestop.servicekit.topics_admin import delete_namespace_topics

# Personal data is always sealed: the services under test, and their processes, share a key-encryption key.
os.environ.setdefault("PERSONAL_DATA_KEK", new_kek())
# Tests that follow a journey's trace need every journey traced; services and their processes inherit this.
os.environ.setdefault("OTEL_TRACES_SAMPLE_RATIO", "1")
# Secrets have no defaults: the session makes its own, which the services it starts as processes inherit.
for _secret in ("ONESTOP_AUTH_SECRET", "NOTIFY_WEBHOOK_SECRET", "NOTIFY_SURVEY_SECRET", "CASES_SEARCH_KEY"):
    os.environ.setdefault(_secret, secrets.token_urlsafe(32))
os.environ.setdefault("INTAKE_OPEN311_API_KEYS", f"{secrets.token_urlsafe(32)}:test-site")
# Services the tests start use the server the tests were given, not the roles `make infra-up` made for each.
for _service in ("INTAKE", "ROUTING", "CASES", "NOTIFY", "ANALYTICS"):
    os.environ.pop(f"{_service}_DATABASE_URL", None)


def _docker_answers() -> bool:
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    if configured := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield configured
    elif _docker_answers():
        from testcontainers.kafka import KafkaContainer  # type: ignore[import-untyped]

        with KafkaContainer("apache/kafka:4.1.1").with_kraft() as container:
            yield container.get_bootstrap_server()
    else:
        from onestop.localinfra import kafka

        yield kafka.start()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if configured := os.environ.get("DATABASE_URL"):
        yield configured
    elif _docker_answers():
        from testcontainers.postgres import PostgresContainer  # type: ignore[import-untyped]

        with PostgresContainer("postgres:17", driver=None) as container:
            yield container.get_connection_url()
    else:
        from onestop.localinfra import postgres

        yield postgres.start()


@pytest.fixture
async def namespace(kafka_bootstrap: str) -> AsyncIterator[str]:
    """A topic and consumer-group prefix of this test's own; its topics are deleted afterwards."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    yield prefix
    with contextlib.suppress(Exception):  # a broker the test itself stopped; nothing to tidy
        await delete_namespace_topics(kafka_bootstrap, prefix)


@pytest.fixture
async def database_url(postgres_url: str) -> AsyncIterator[str]:
    """A fresh, empty database of this test's own, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    await ensure_database(postgres_url, name)
    yield with_database(postgres_url, name)
    await drop_database(postgres_url, name)
