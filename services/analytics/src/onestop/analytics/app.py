"""Wiring: the log reader and the API and dashboard, under the FastAPI lifespan."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from onestop.analytics.adapters.log_reader import LogReader
from onestop.analytics.api import router
from onestop.analytics.settings import AnalyticsSettings
from onestop.contracts import topics
from onestop.servicekit.consumer_lag import ConsumerLagGauge
from onestop.servicekit.database import SERVICEKIT_MIGRATIONS, MigrationSource, open_service_database
from onestop.servicekit.health import health_router
from onestop.servicekit.telemetry import instrument_fastapi, setup_telemetry
from onestop.servicekit.topics_admin import ensure_topics

MIGRATIONS = MigrationSource("analytics", Path(__file__).parent / "migrations")


def create_app(settings: AnalyticsSettings | None = None) -> FastAPI:
    settings = settings or AnalyticsSettings()
    setup_telemetry(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await open_service_database(
            settings.database_url, settings.database_name, [SERVICEKIT_MIGRATIONS, MIGRATIONS]
        )
        await ensure_topics(
            settings.kafka_bootstrap_servers,
            settings.topic_namespace,
            [*topics.ALL_TOPICS, topics.dead_letter_topic("analytics")],
        )
        reader = LogReader(
            pool, settings.kafka_bootstrap_servers, settings.topic_namespace, "facts", settings.analytics_batch_size
        )
        await reader.start()
        app.state.pool, app.state.settings, app.state.reader = pool, settings, reader
        stop = asyncio.Event()
        reading = asyncio.create_task(reader.run(stop))
        reporting_lag = asyncio.create_task(ConsumerLagGauge(reader.lags).run(stop))
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(reading, reporting_lag, return_exceptions=True)
            await reader.stop()
            await pool.close()

    app = FastAPI(
        title="onestop analytics",
        version="1",
        lifespan=lifespan,
        description="NI14 and customer-service measures, derived from the log alone.",
    )
    app.include_router(router)

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/dashboard")

    async def database_answers() -> None:
        async with app.state.pool.acquire() as connection:
            await connection.fetchval("SELECT 1")

    app.include_router(health_router("analytics", {"database": database_answers}))
    instrument_fastapi(app)
    return app
