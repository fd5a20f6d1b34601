"""Wiring: consumers, the outbox relay and the rules watcher, under the FastAPI lifespan."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI

from onestop.contracts import topics
from onestop.contracts.service_catalogue import service_catalogue
from onestop.routing.api import router
from onestop.routing.domain.classifier import KeywordClassifier
from onestop.routing.handlers import RoutingService, RulesFile
from onestop.routing.settings import RoutingSettings
from onestop.servicekit.database import MigrationSource
from onestop.servicekit.health import health_router
from onestop.servicekit.messaging import subscribe
from onestop.servicekit.runtime import database_check, service_runtime
from onestop.servicekit.telemetry import instrument_fastapi, setup_telemetry

MIGRATIONS = MigrationSource("routing", Path(__file__).parent / "migrations")
log = logging.getLogger(__name__)


def create_app(
    settings: RoutingSettings | None = None, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> FastAPI:
    settings = settings or RoutingSettings()
    setup_telemetry(settings)
    catalogue = service_catalogue()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service_runtime(settings, MIGRATIONS) as runtime:
            classifier = KeywordClassifier.from_yaml(settings.routing_keywords_file.read_text())
            rules = RulesFile(settings.routing_rules_file, catalogue)
            routing = RoutingService(runtime.pool, settings, catalogue, rules, classifier, clock, runtime.relay.wake)
            app.state.routing = routing
            await routing.publish_rules_if_new()
            subscribe(runtime.broker, settings, [topics.CONTACTS, topics.CASES], routing.handle)
            runtime.run_in_background(_watch_rules(routing, settings, runtime.stop))
            await runtime.broker.start()
            yield

    app = FastAPI(
        title="onestop routing",
        version="1",
        lifespan=lifespan,
        description="Where each need goes and how: rules as data, duplicates, chasers and NI14.",
    )
    app.include_router(router)

    app.include_router(health_router("routing", {"database": database_check(lambda: app.state.routing.pool)}))
    instrument_fastapi(app)
    return app


async def _watch_rules(routing: RoutingService, settings: RoutingSettings, stop: asyncio.Event) -> None:
    """Reload the rules when their file changes, and publish each new version."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.routing_rules_poll_seconds)
        try:
            if routing.rules.reload_if_changed():
                await routing.publish_rules_if_new()
        except Exception:
            log.exception("checking the routing rules failed")
