"""Wiring: the intake API, its group commit to Kafka, and the case-progress consumer, on the shared runtime."""

import functools
import uuid
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from onestop.contracts import topics
from onestop.intake import api, attachment_uploads, feeds, mailroom, open311
from onestop.intake.adapters.kafka_transactions import AlternatingTransactions
from onestop.intake.adapters.repositories import CaseProgressRepositories, IntakeRepositories
from onestop.intake.adapters.views import IntakeViews
from onestop.intake.consumers import HANDLERS
from onestop.intake.group_commit import GroupCommit
from onestop.intake.open311_format import error_response
from onestop.intake.service import IntakeService
from onestop.intake.settings import IntakeSettings
from onestop.servicekit.database import MigrationSource
from onestop.servicekit.inputs import explain_invalid_request
from onestop.servicekit.runtime import Runtime, service_app

MIGRATIONS = MigrationSource("intake", Path(__file__).parent / "migrations")


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()

    async def start(runtime: Runtime, app: FastAPI) -> None:
        runtime.consume(
            [topics.CASES, topics.CUSTOMERS],
            HANDLERS,
            CaseProgressRepositories,
            before_commit=CaseProgressRepositories.flush,
            gather_ms=settings.intake_progress_gather_ms,
        )
        kafka = AlternatingTransactions(
            settings.kafka_bootstrap_servers,
            # Unique per process: two instances must never fence each other.
            f"onestop-intake-{uuid.uuid4()}",
            client_id="onestop-intake",
            producers=settings.intake_group_commit_batches_in_flight,
            # A batch's transaction never lasts past its publish timeout; one a killed intake left open is
            # aborted soon after, not after Kafka's default minute.
            transaction_timeout=settings.intake_publish_timeout_seconds + 5,
        )
        group_commit = GroupCommit(
            runtime.pool,
            IntakeRepositories,
            kafka,
            source=settings.source,
            namespace=settings.topic_namespace,
            max_wait=settings.intake_group_commit_max_wait_ms / 1000,
            max_batch=settings.intake_group_commit_max_contacts,
            publish_timeout=settings.intake_publish_timeout_seconds,
            on_commit=runtime.relay.hand_over,
            max_in_flight=settings.intake_group_commit_batches_in_flight,
            prepare=IntakeRepositories.read_ahead,
            before_commit=IntakeRepositories.flush,
        )
        runtime.run_in_background("contact group commit", group_commit.run)
        units = runtime.units(IntakeRepositories, before_commit=IntakeRepositories.flush)
        runtime.run_in_background(
            "unclaimed upload sweep",
            functools.partial(attachment_uploads.drop_unclaimed_uploads, units, settings.intake_unclaimed_upload_hours),
        )
        app.state.group_commit = group_commit
        app.state.intake = IntakeService(group_commit, units, settings)
        app.state.views = IntakeViews(runtime.pool)

    app = service_app(
        settings,
        MIGRATIONS,
        start,
        title="onestop intake",
        description="Every channel in: contacts with their needs, Open311 GeoReport v2, the mail room, channel feeds.",
        routers=[api.router, mailroom.router, attachment_uploads.router, feeds.router, open311.router],
    )
    app.add_exception_handler(RequestValidationError, explain_invalid)  # type: ignore[arg-type]
    return app


async def explain_invalid(request: Request, exc: RequestValidationError) -> Response:
    """Open311 clients get Open311's error format; everyone else the services' usual 422."""
    if request.url.path.startswith("/open311/"):
        fmt = "xml" if request.url.path.endswith(".xml") else "json"
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"][1:])
        message = str(first["msg"])
        return error_response(fmt, 400, f"{where}: {message}" if where else message)
    return await explain_invalid_request(request, exc)
