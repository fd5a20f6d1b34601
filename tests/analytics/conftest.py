"""The analytics service in-process against the real broker and a database of the test's own."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from onestop.analytics.app import create_app
from onestop.analytics.settings import AnalyticsSettings
from onestop.servicekit.database import drop_database


@dataclass
class RunningAnalytics:
    client: httpx.AsyncClient
    settings: AnalyticsSettings
    app: Any


@pytest.fixture
async def analytics(kafka_bootstrap: str, postgres_url: str, namespace: str) -> AsyncIterator[RunningAnalytics]:
    settings = AnalyticsSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        database_url=postgres_url,
        topic_namespace=namespace,
        database=f"test_analytics_{uuid.uuid4().hex[:10]}",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield RunningAnalytics(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://analytics"), settings, app
        )
    await drop_database(postgres_url, settings.database_name)
