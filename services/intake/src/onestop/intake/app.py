"""Wiring: the intake API, its Kafka producer, the case-progress consumer and the customer-events relay."""

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from onestop.contracts import topics
from onestop.intake import open311
from onestop.intake.api import router
from onestop.intake.consumers import CaseProgress
from onestop.intake.handlers import IntakeService
from onestop.intake.settings import IntakeSettings
from onestop.servicekit.database import MigrationSource
from onestop.servicekit.health import health_router
from onestop.servicekit.messaging import subscribe
from onestop.servicekit.runtime import database_check, service_runtime
from onestop.servicekit.telemetry import instrument_fastapi, setup_telemetry

MIGRATIONS = MigrationSource("intake", Path(__file__).parent / "migrations")


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    setup_telemetry(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service_runtime(settings, MIGRATIONS) as runtime:
            subscribe(runtime.broker, settings, [topics.CASES, topics.CUSTOMERS], CaseProgress(runtime.pool).handle)
            app.state.intake = IntakeService(runtime.pool, runtime.broker, settings, on_commit=runtime.relay.wake)
            await runtime.broker.start()
            yield

    app = FastAPI(
        title="onestop intake",
        description="Every channel in: contacts with their needs, Open311 GeoReport v2, the mail room, channel feeds.",
        version="1",
        lifespan=lifespan,
    )
    app.include_router(router, tags=["contacts"])
    app.include_router(open311.router)

    @app.exception_handler(RequestValidationError)
    async def explain_invalid(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith("/open311/"):
            fmt = "xml" if request.url.path.endswith(".xml") else "json"
            first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
            where = ".".join(str(p) for p in first["loc"][1:])
            message = str(first["msg"])
            return open311.error_response(fmt, 400, f"{where}: {message}" if where else message)
        return JSONResponse({"detail": jsonable(exc.errors())}, status_code=422)

    app.include_router(health_router("intake", {"database": database_check(lambda: app.state.intake.pool)}))
    instrument_fastapi(app)
    return app


def jsonable(errors: object) -> object:
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(errors)
