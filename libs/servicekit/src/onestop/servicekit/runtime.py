"""What every service runs, once: database and migrations, topics, the consumers, the outbox relay, the
lag gauge and any clock of its own, each supervised, and the FastAPI app around them.

    def create_app(settings=None):
        settings = settings or CasesSettings()

        async def start(runtime: Runtime, app: FastAPI) -> None:
            runtime.consume([topics.ROUTING], {NeedRouted: on_need_routed}, CaseRepositories)
            runtime.run_in_background("escalation clock", clock)

        return service_app(settings, MIGRATIONS, start, title=..., description=..., routers=[router])
"""

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg
import uvicorn
from fastapi import APIRouter, Depends, FastAPI

from onestop.contracts import topics
from onestop.contracts.events.base import Event
from onestop.contracts.topics import Topic
from onestop.servicekit.auth import process_auth_settings
from onestop.servicekit.consumer_lag import BrokerLag, ConsumerLagGauge
from onestop.servicekit.database import SERVICEKIT_MIGRATIONS, Connection, MigrationSource, open_service_database
from onestop.servicekit.event_consumer import EventConsumer, Handler
from onestop.servicekit.health import Check, health_router
from onestop.servicekit.inputs import MAX_BODY_BYTES, handle_bad_input, plain_parameters
from onestop.servicekit.kafka_security import use_credentials_of
from onestop.servicekit.messaging import dead_letter_topic_of
from onestop.servicekit.outbox import OutboxRelay
from onestop.servicekit.personal_data import CustomerKeyring, personal_data_protection
from onestop.servicekit.ratelimit import process_trusted_proxies
from onestop.servicekit.settings import ServiceSettings
from onestop.servicekit.supervision import Supervised, Work
from onestop.servicekit.telemetry import instrument_fastapi, setup_telemetry
from onestop.servicekit.topics_admin import ensure_topics
from onestop.servicekit.unit_of_work import UnitsOfWork

R = TypeVar("R")


@dataclass
class Runtime:
    settings: ServiceSettings
    pool: asyncpg.Pool
    relay: OutboxRelay
    keyring: CustomerKeyring | None
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    supervised: list[Supervised] = field(default_factory=list)
    consumers: list[EventConsumer[Any]] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def consume(
        self,
        topics: Iterable[Topic],
        handlers: Mapping[type[Event], Handler[R]],
        repositories: Callable[[Connection], R],
        *,
        group: str | None = None,
        **options: Any,
    ) -> EventConsumer[R]:
        """Run a consumer group whose handlers each take one event type, in batches (see EventConsumer)."""
        consumer = EventConsumer(
            self.pool,
            self.settings,
            topics,
            handlers,
            repositories,
            group=group,
            on_commit=self.relay.hand_over,
            **options,
        )
        self.consumers.append(consumer)
        self.run_in_background(f"consumer {consumer.group_id}", consumer.run)
        return consumer

    def units(
        self, repositories: Callable[[Connection], R], *, before_commit: Callable[[R], Awaitable[None]] | None = None
    ) -> UnitsOfWork[R]:
        """Units of work for API commands and clocks: their events reach the outbox, then the relay."""
        return UnitsOfWork(
            self.pool,
            repositories,
            source=self.settings.source,
            namespace=self.settings.topic_namespace,
            on_commit=self.relay.hand_over,
            before_commit=before_commit,
        )

    def run_in_background(self, name: str, work: Work) -> Supervised:
        """Run `work(stop)` until the service stops, restarted if it dies, and reported by /health."""
        supervised = Supervised(name, work)
        self.supervised.append(supervised)
        if self._tasks:  # already started: start this one now
            self._tasks.append(supervised.start(self.stop))
        return supervised

    def start(self) -> None:
        self._tasks = [supervised.start(self.stop) for supervised in self.supervised]

    def health_checks(self) -> dict[str, Check]:
        async def database() -> None:
            async with self.pool.acquire() as connection:
                await connection.fetchval("SELECT 1")

        checks: dict[str, Check] = {"database": database}
        if self.keyring is not None:
            checks[self.keyring.follower.name] = self.keyring.follower.check
        checks.update({supervised.name: supervised.check for supervised in self.supervised})
        return checks

    async def close(self) -> None:
        self.stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def service_runtime(
    settings: ServiceSettings, migrations: MigrationSource, *, personal_data: bool = True
) -> AsyncIterator[Runtime]:
    """`personal_data=False` for a service that never seals or opens anyone's personal data: it runs no
    keyring, so it does not follow the key topic."""
    use_credentials_of(settings.service_name)  # the broker's ACLs give each service only its own rights
    protection = personal_data_protection(settings) if personal_data else contextlib.nullcontext(None)
    async with protection as keyring:
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
        runtime = Runtime(settings, pool, relay, keyring)
        runtime.run_in_background("outbox relay", relay.run)
        broker_lag = BrokerLag(settings.kafka_bootstrap_servers)
        lag = ConsumerLagGauge(lambda: broker_lag.measure(settings.consumer_group()), close=broker_lag.stop)
        runtime.run_in_background("consumer lag gauge", lag.run)
        try:
            yield runtime
        finally:
            await runtime.close()
            await relay.stop()
            await pool.close()


def service_app(
    settings: ServiceSettings,
    migrations: MigrationSource,
    start: Callable[[Runtime, FastAPI], Awaitable[None]],
    *,
    title: str,
    description: str,
    routers: Iterable[APIRouter] = (),
    personal_data: bool = True,
) -> FastAPI:
    """The one way to build a service: its FastAPI app, whose lifespan opens the runtime, lets `start`
    register the service's consumers and clocks (and put its use cases on `app.state`), then runs them.
    `personal_data=False` for a service that never seals or opens personal data (see `service_runtime`)."""
    process_auth_settings()  # every request needs them: a missing secret stops the service now, not then
    setup_telemetry(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service_runtime(settings, migrations, personal_data=personal_data) as runtime:
            app.state.runtime = runtime
            await start(runtime, app)
            runtime.start()
            if getattr(app.state, "freeze_startup_objects", False):
                # What start-up made lives as long as the process. Frozen, the collector's full passes leave it
                # alone: they walked all of it, pausing the whole service for about 80 ms every few seconds
                # under load (the p99 of intake's answers) and taking 6% of its CPU.
                gc.freeze()
            yield

    # Bodies past the limit get 413 before they are parsed: by Content-Length up front, or by counting a
    # chunked body as it arrives. Routes that take uploads set a larger `max_body_size` of their own.
    app = FastAPI(
        title=title,
        description=description,
        version="1",
        lifespan=lifespan,
        max_body_size=MAX_BODY_BYTES,
        dependencies=[Depends(plain_parameters)],
        # Spans and metrics come from the OpenTelemetry instrumentor (`instrument_fastapi`) that every trace
        # and dashboard is built on; FastAPI's own telemetry would wrap each request a second time.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    handle_bad_input(app)
    for router in routers:
        app.include_router(router)
    app.include_router(health_router(settings.service_name, lambda: app.state.runtime.health_checks()))
    instrument_fastapi(app)
    return app


def serve(app: FastAPI, host: str, port: int) -> None:
    """Run a service's app under uvicorn. uvicorn believes `X-Forwarded-For` and `X-Forwarded-Proto` only from
    the trusted proxies the rate limits trust (none by default), rather than from any local address. The
    objects start-up makes are frozen out of garbage collection (a process of its own: tests that start
    many apps in one process do not freeze what they will throw away)."""
    app.state.freeze_startup_objects = True
    uvicorn.run(app, host=host, port=port, log_config=None, forwarded_allow_ips=process_trusted_proxies().listed)
