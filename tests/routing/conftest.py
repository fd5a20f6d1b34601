"""The routing service running in-process against the real broker and a database of the test's own."""

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from onestop.routing.app import create_app
from onestop.routing.settings import RoutingSettings
from onestop.servicekit.database import drop_database


@dataclass
class RunningRouting:
    client: httpx.AsyncClient
    settings: RoutingSettings
    app: Any


@pytest.fixture
async def start_routing(kafka_bootstrap: str, postgres_url: str, namespace: str) -> AsyncIterator[Callable[..., Any]]:
    lifespans: list[Any] = []
    databases: list[str] = []

    async def start(**overrides: Any) -> RunningRouting:
        settings = RoutingSettings(
            kafka_bootstrap_servers=kafka_bootstrap,
            database_url=postgres_url,
            topic_namespace=namespace,
            database=f"test_routing_{uuid.uuid4().hex[:10]}",
            **overrides,
        )
        databases.append(settings.database_name)
        app = create_app(settings)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        lifespans.append(lifespan)
        return RunningRouting(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://routing"), settings, app
        )

    yield start
    for lifespan in reversed(lifespans):
        await lifespan.__aexit__(None, None, None)
    for database in databases:
        await drop_database(postgres_url, database)


@pytest.fixture
async def routing(start_routing: Callable[..., Any]) -> RunningRouting:
    return await start_routing()  # type: ignore[no-any-return]
