"""Wiring: the consumers, the sender and the follow-up clock on the shared runtime, and the API around them."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI

from onestop.contracts import topics
from onestop.contracts.service_catalogue import service_catalogue
from onestop.notify.adapters.channels import Channels, GovUkNotify, SignedWebhook, SmtpEmail
from onestop.notify.adapters.repositories import NotifyRepositories
from onestop.notify.addressing import Addressing
from onestop.notify.api import router
from onestop.notify.domain.templates import Templates
from onestop.notify.handlers import NotifyHandlers
from onestop.notify.sending import Sender
from onestop.notify.settings import NotifySettings
from onestop.notify.survey_pages import router as survey_router
from onestop.notify.surveys import FollowUpClock, Surveys
from onestop.servicekit.database import MigrationSource
from onestop.servicekit.runtime import Runtime, service_app

MIGRATIONS = MigrationSource("notify", Path(__file__).parent / "migrations")


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
    """`run_sender=False` queues notifications without sending them (and without the follow-up clock)."""
    notify_settings = settings or NotifySettings()

    async def start(runtime: Runtime, app: FastAPI) -> None:
        catalogue = service_catalogue()
        units = runtime.units(NotifyRepositories, before_commit=NotifyRepositories.flush)
        addressing = Addressing(notify_settings, catalogue, clock)
        surveys = Surveys(notify_settings, catalogue, addressing, clock)
        handlers = NotifyHandlers(notify_settings, addressing, surveys, clock)
        runtime.consume(
            [topics.CASES, topics.CONTACTS, topics.CUSTOMERS],
            handlers.by_event_type(),
            NotifyRepositories,
            prepare=NotifyRepositories.read_ahead,
            before_commit=NotifyRepositories.flush,
            gather_ms=notify_settings.notify_gather_ms,
        )
        templates = Templates()
        sender = Sender(units, notify_settings, templates, channels_for(notify_settings), addressing, clock)
        follow_ups = FollowUpClock(units, surveys)
        if run_sender:
            runtime.run_in_background("sender", sender.run)
            runtime.run_in_background("feedback follow-up clock", follow_ups.run)
        app.state.units, app.state.surveys, app.state.templates = units, surveys, templates
        app.state.sender, app.state.follow_ups = sender, follow_ups

    return service_app(
        notify_settings,
        MIGRATIONS,
        start,
        title="onestop notify",
        description="Closing the loop: acknowledgements, progress, outcomes, alerts and feedback surveys.",
        routers=[router, survey_router],
    )
