"""The analytics service in-process against the real broker and a database of the test's own."""

import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from onestop.analytics.app import create_app
from onestop.analytics.handlers import CONSUMER_GROUP, HANDLERS
from onestop.analytics.settings import AnalyticsSettings
from onestop.contracts.events.base import Event
from onestop.servicekit.database import drop_database
from tests.support import eventually


@dataclass
class RunningAnalytics:
    client: httpx.AsyncClient
    settings: AnalyticsSettings
    app: Any

    async def events_handled(self) -> int:
        """Events the facts consumer has been through (its inbox rows commit with their facts)."""
        count: int = await self.app.state.pool.fetchval(
            "SELECT count(*) FROM inbox WHERE consumer = $1", CONSUMER_GROUP
        )
        return count

    async def until_handled(self, events: Iterable[Event], within: float = 90) -> None:
        """Wait until every one of `events` that analytics counts is in the facts."""
        expected = sum(type(event) in HANDLERS for event in events)

        async def all_handled() -> bool:
            return await self.events_handled() >= expected

        await eventually(all_handled, within=within)


def analytics_settings(kafka_bootstrap: str, postgres_url: str, namespace: str) -> AnalyticsSettings:
    return AnalyticsSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        database_url=postgres_url,
        topic_namespace=namespace,
        database=f"test_analytics_{uuid.uuid4().hex[:10]}",
    )


@pytest.fixture
async def analytics(kafka_bootstrap: str, postgres_url: str, namespace: str) -> AsyncIterator[RunningAnalytics]:
    settings = analytics_settings(kafka_bootstrap, postgres_url, namespace)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield RunningAnalytics(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://analytics"), settings, app
        )
    await drop_database(postgres_url, settings.database_name)
