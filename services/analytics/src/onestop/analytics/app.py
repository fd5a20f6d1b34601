"""Wiring: the facts consumer, the API and the dashboard, on the shared service runtime."""

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from onestop.analytics.adapters.facts import facts_in
from onestop.analytics.api import router
from onestop.analytics.handlers import CONSUMER_GROUP, HANDLERS, TOPICS, write_buffered_facts
from onestop.analytics.settings import AnalyticsSettings
from onestop.servicekit.database import MigrationSource
from onestop.servicekit.runtime import Runtime, service_app

MIGRATIONS = MigrationSource("analytics", Path(__file__).parent / "migrations")


def create_app(settings: AnalyticsSettings | None = None) -> FastAPI:
    settings = settings or AnalyticsSettings()

    async def start(runtime: Runtime, app: FastAPI) -> None:
        runtime.consume(
            TOPICS,
            HANDLERS,
            facts_in("facts"),
            group=CONSUMER_GROUP,
            before_commit=write_buffered_facts,
            open_personal_data=False,  # figures never need anyone's name or address
            max_records=settings.analytics_batch_size,
            # The figures may be a second behind: woken once a second, not by every event of every topic.
            gather_ms=settings.analytics_gather_ms,
        )
        app.state.pool, app.state.settings = runtime.pool, settings

    app = service_app(
        settings,
        MIGRATIONS,
        start,
        title="onestop analytics",
        description="NI14 and customer-service measures, derived from the log alone.",
        routers=[router],
        personal_data=False,  # it publishes nothing of its own, and figures never need anyone's details
    )

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/dashboard")

    return app
