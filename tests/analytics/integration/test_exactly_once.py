"""Exactly once through crashes and rebuilds: a redelivered batch rewrites no fact, and a rebuild hands the
service facts and an inbox that agree, so it carries on without counting anything twice."""

import contextlib
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition  # type: ignore[import-untyped]
from aiokafka.admin import AIOKafkaAdminClient  # type: ignore[import-untyped]

from onestop.analytics.app import create_app
from onestop.analytics.handlers import CONSUMER_GROUP
from onestop.analytics.rebuild import rebuild
from onestop.analytics.settings import AnalyticsSettings
from onestop.contracts import EventEnvelope
from onestop.contracts.events.common import Channel, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.servicekit.database import drop_database
from onestop.servicekit.topics_admin import ensure_topics
from tests.analytics.conftest import RunningAnalytics, analytics_settings
from tests.analytics.synthetic_month import synthetic_month
from tests.support import eventually, publish_events

pytestmark = pytest.mark.integration

Rows = dict[str, list[tuple[str, ...]]]


@contextlib.asynccontextmanager
async def running(settings: AnalyticsSettings) -> AsyncIterator[RunningAnalytics]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield RunningAnalytics(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://analytics"), settings, app
        )


@pytest.fixture
async def settings(kafka_bootstrap: str, postgres_url: str, namespace: str) -> AsyncIterator[AnalyticsSettings]:
    settings = analytics_settings(kafka_bootstrap, postgres_url, namespace)
    await ensure_topics(kafka_bootstrap, namespace)  # the log exists before the service first starts
    yield settings
    await drop_database(postgres_url, settings.database_name)


async def committed_offsets(bootstrap: str, group: str) -> dict[TopicPartition, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return {partition: meta.offset for partition, meta in (await admin.list_consumer_group_offsets(group)).items()}
    finally:
        await admin.close()


async def lose_offset_commits(bootstrap: str, group: str, partitions: Iterable[TopicPartition]) -> None:
    """The fault: the group's offsets go back to the start of the log, as if every offset commit had been lost
    in a crash just after its batch's transaction committed."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(partitions))
        await consumer.commit(dict.fromkeys(partitions, 0))
    finally:
        await consumer.stop()


async def fact_rows(settings: AnalyticsSettings, with_versions: bool) -> Rows:
    """Every fact row; with its row version (xmin), which changes when a row is written again, even unchanged."""
    connection = await asyncpg.connect(settings.service_database_url)
    try:
        tables = [
            row["table_name"]
            for row in await connection.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'facts' ORDER BY 1"
            )
        ]
        version = "xmin::text" if with_versions else "''"
        return {
            table: [
                tuple(row)
                for row in await connection.fetch(f"SELECT f::text, {version} FROM facts.{table} f ORDER BY 1")
            ]
            for table in tables
        }
    finally:
        await connection.close()


async def test_a_batch_redelivered_after_a_crash_adds_nothing(settings: AnalyticsSettings) -> None:
    month = synthetic_month(seed=5)
    bootstrap, group = settings.kafka_bootstrap_servers, settings.consumer_group(CONSUMER_GROUP)
    await publish_events(bootstrap, settings.topic_namespace, *month.envelopes())
    async with running(settings) as first:
        await first.until_handled(month.events)
        handled = await first.events_handled()
    done = await committed_offsets(bootstrap, group)
    assert done, "the group committed its offsets"
    before = await fact_rows(settings, with_versions=True)
    await lose_offset_commits(bootstrap, group, done)

    async with running(settings) as second:

        async def redelivered_to_the_end() -> bool:
            return await committed_offsets(bootstrap, group) == done

        await eventually(redelivered_to_the_end, within=90)
        assert await second.events_handled() == handled
    assert await fact_rows(settings, with_versions=True) == before, "no fact row was written again"


async def test_a_rebuild_swaps_in_the_same_facts_and_the_service_carries_on_from_them(
    settings: AnalyticsSettings,
) -> None:
    month = synthetic_month(seed=6)
    await publish_events(settings.kafka_bootstrap_servers, settings.topic_namespace, *month.envelopes())
    async with running(settings) as live:
        await live.until_handled(month.events)
        handled = await live.events_handled()
    live_facts = await fact_rows(settings, with_versions=False)

    assert await rebuild(settings) >= handled  # the service is stopped, as a rebuild asks
    assert await fact_rows(settings, with_versions=False) == live_facts

    later = ContactReceived(
        contact_id=uuid4(),
        channel=Channel.WEB,
        received_at=datetime.now(UTC),
        needs=(Need(need_id=uuid4(), kind=NeedKind.REPORT_PROBLEM, service_code="524"),),
    )
    await publish_events(
        settings.kafka_bootstrap_servers, settings.topic_namespace, EventEnvelope.wrap(later, source="/test")
    )
    async with running(settings) as resumed:
        await resumed.until_handled([*month.events, later])
        # The rebuild's inbox became the live one, and the group resumed where it had stopped.
        assert await resumed.events_handled() == handled + 1, "only the new contact was handled"
    contacts = (await fact_rows(settings, with_versions=False))["contacts"]
    assert len(contacts) == len(live_facts["contacts"]) + 1


async def test_analytics_runs_without_a_keyring(analytics: RunningAnalytics) -> None:
    """Figures never need anyone's details, so analytics holds no customer keys and does not follow their
    topic (a follower in every service reads every new customer's key)."""
    assert analytics.app.state.runtime.keyring is None
    health = (await analytics.client.get("/health")).json()
    assert health["status"] == "ok"
    assert not [name for name in health["checks"] if "key" in name]
