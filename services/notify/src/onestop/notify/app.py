"""Wiring: consumers, the sender, the follow-up clock and the outbox relay, under the FastAPI lifespan."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI

from onestop.contracts import topics
from onestop.contracts.service_catalogue import service_catalogue
from onestop.notify.adapters.channels import Channels, GovUkNotify, SignedWebhook, SmtpEmail
from onestop.notify.api import router
from onestop.notify.domain.templates import Templates
from onestop.notify.handlers import NotifyService
from onestop.notify.settings import NotifySettings
from onestop.servicekit.database import MigrationSource
from onestop.servicekit.health import health_router
from onestop.servicekit.messaging import subscribe
from onestop.servicekit.runtime import database_check, service_runtime
from onestop.servicekit.telemetry import instrument_fastapi, setup_telemetry

MIGRATIONS = MigrationSource("notify", Path(__file__).parent / "migrations")
log = logging.getLogger(__name__)


def channels_for(settings: NotifySettings) -> Channels:
    email = SmtpEmail(settings.notify_smtp_host, settings.notify_smtp_port, settings.notify_from_address)
    govuk = (
        GovUkNotify(settings.notify_govuk_base_url, settings.notify_govuk_api_key)
        if settings.notify_govuk_base_url
        else None
    )
    return Channels(email, govuk, SignedWebhook(settings.notify_webhook_secret))


def create_app(
    settings: NotifySettings | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    run_sender: bool = True,
) -> FastAPI:
    settings = settings or NotifySettings()
    setup_telemetry(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service_runtime(settings, MIGRATIONS) as runtime:
            notify = NotifyService(
                runtime.pool,
                settings,
                service_catalogue(),
                Templates(),
                channels_for(settings),
                clock,
                runtime.relay.wake,
            )
            app.state.notify = notify
            await notify.settle_interrupted()
            subscribe(runtime.broker, settings, [topics.CASES, topics.CONTACTS, topics.CUSTOMERS], notify.handle)
            if run_sender:
                runtime.run_in_background(
                    _every(settings.notify_sender_interval_seconds, notify.send_due, runtime.stop)
                )
                runtime.run_in_background(_every(60, notify.send_due_follow_ups, runtime.stop))
            await runtime.broker.start()
            yield

    app = FastAPI(
        title="onestop notify",
        version="1",
        lifespan=lifespan,
        description="Closing the loop: acknowledgements, progress, outcomes, alerts and feedback surveys.",
    )
    app.include_router(router)

    app.include_router(health_router("notify", {"database": database_check(lambda: app.state.notify.pool)}))
    instrument_fastapi(app)
    return app


async def _every(seconds: float, work: Callable[[], Awaitable[int]], stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            busy = await work()
        except Exception:
            log.exception("%s failed; trying again", getattr(work, "__name__", "work"))
            busy = 0
        if not busy:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=seconds)
