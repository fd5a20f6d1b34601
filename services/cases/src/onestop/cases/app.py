"""Wiring: the FastAPI app whose lifespan runs the consumers, the outbox relay and the escalation clock."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI

from onestop.cases.api import router
from onestop.cases.handlers import CaseService
from onestop.cases.settings import CasesSettings
from onestop.contracts import topics
from onestop.servicekit.database import MigrationSource
from onestop.servicekit.health import health_router
from onestop.servicekit.messaging import subscribe
from onestop.servicekit.runtime import database_check, service_runtime
from onestop.servicekit.telemetry import instrument_fastapi, setup_telemetry

MIGRATIONS = MigrationSource("cases", Path(__file__).parent / "migrations")
CONSUMED = [topics.ROUTING, topics.BACK_OFFICE, topics.CONTACTS, topics.CUSTOMERS]


def create_app(
    settings: CasesSettings | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    run_escalation_clock: bool = True,
) -> FastAPI:
    settings = settings or CasesSettings()
    setup_telemetry(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service_runtime(settings, MIGRATIONS) as runtime:
            cases = CaseService(runtime.pool, settings, clock, on_commit=runtime.relay.wake)
            app.state.cases = cases
            subscribe(runtime.broker, settings, CONSUMED, cases.handle)
            if run_escalation_clock:
                runtime.run_in_background(_escalation_clock(cases, settings, runtime.stop))
            await runtime.broker.start()
            yield

    app = FastAPI(
        title="onestop cases",
        description="Every need a customer raises becomes a case, tracked from hand-off to outcome.",
        version="1",
        lifespan=lifespan,
    )
    app.include_router(router)

    app.include_router(health_router("cases", {"database": database_check(lambda: app.state.cases.pool)}))
    instrument_fastapi(app)
    return app


async def _escalation_clock(cases: CaseService, settings: CasesSettings, stop: asyncio.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.cases_escalation_interval_seconds)
        if stop.is_set():
            return
        try:
            await cases.sweep_escalations()
        except Exception:  # the next tick tries again; a failed sweep must not stop the clock
            import logging

            logging.getLogger(__name__).exception("escalation sweep failed")
