"""What every service's lifespan does, once: database and migrations, topics, the outbox relay, the broker.

async with service_runtime(settings, MIGRATIONS) as runtime:
    subscribe(runtime.broker, settings, topics, handler)
    runtime.run_in_background(some_clock(runtime.stop))
    await runtime.broker.start()
    yield
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from faststream.kafka import KafkaBroker

from onestop.contracts import topics
from onestop.servicekit.consumer_lag import BrokerLag, ConsumerLagGauge
from onestop.servicekit.database import SERVICEKIT_MIGRATIONS, MigrationSource, open_service_database
from onestop.servicekit.messaging import dead_letter_topic_of, make_broker
from onestop.servicekit.outbox import OutboxRelay
from onestop.servicekit.personal_data import personal_data_protection
from onestop.servicekit.settings import ServiceSettings
from onestop.servicekit.topics_admin import ensure_topics


@dataclass
class Runtime:
    pool: asyncpg.Pool
    relay: OutboxRelay
    broker: KafkaBroker
    stop: asyncio.Event
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    def run_in_background(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run until the service stops (the coroutine should watch `stop`)."""
        self.tasks.append(asyncio.create_task(work))


@contextlib.asynccontextmanager
async def service_runtime(settings: ServiceSettings, migrations: MigrationSource) -> AsyncIterator[Runtime]:
    async with personal_data_protection(settings):
        pool = await open_service_database(
            settings.database_url, settings.database_name, [SERVICEKIT_MIGRATIONS, migrations]
        )
        await ensure_topics(
            settings.kafka_bootstrap_servers,
            settings.topic_namespace,
            [*topics.ALL_TOPICS, dead_letter_topic_of(settings)],
        )
        relay = OutboxRelay(pool, settings.kafka_bootstrap_servers)
        await relay.start()
        runtime = Runtime(pool, relay, make_broker(settings), asyncio.Event())
        runtime.run_in_background(relay.run(runtime.stop))
        broker_lag = BrokerLag(settings.kafka_bootstrap_servers)
        lag = ConsumerLagGauge(lambda: broker_lag.measure(settings.consumer_group()), close=broker_lag.stop)
        runtime.run_in_background(lag.run(runtime.stop))
        try:
            yield runtime
        finally:
            runtime.stop.set()
            await runtime.broker.stop()
            await asyncio.gather(*runtime.tasks, return_exceptions=True)
            await relay.stop()
            await pool.close()


def database_check(pool: Callable[[], asyncpg.Pool]) -> Callable[[], Awaitable[None]]:
    """A health check that the service's database answers."""

    async def check() -> None:
        async with pool().acquire() as connection:
            await connection.fetchval("SELECT 1")

    return check
