"""Wiring: the desk's FastAPI app, its session, its sign-in and its health.

Pages take the person signed in with `staff: Annotated[Staff, Depends(current_staff)]` and call the
services with `service_token(staff)` as their bearer token.
"""

from collections.abc import Iterable

import httpx
from fastapi import APIRouter, FastAPI
from starlette.middleware.sessions import SessionMiddleware

from onestop.desk.settings import DeskSettings
from onestop.desk.signin import SignInRequired, current_staff, provider_client, sign_in_redirect, signin_router
from onestop.desk.staff import Staff, service_token
from onestop.servicekit.auth import process_auth_settings
from onestop.servicekit.health import health_router

__all__ = ["SESSION_COOKIE", "Staff", "create_app", "current_staff", "service_token"]

SESSION_COOKIE = "onestop_desk_session"


def create_app(settings: DeskSettings | None = None, routers: Iterable[APIRouter] = ()) -> FastAPI:
    settings = settings or DeskSettings()
    process_auth_settings()  # the desk mints tokens: a missing ONESTOP_AUTH_SECRET stops it now, not then
    app = FastAPI(
        title="onestop desk",
        description="The desk staff work cases in, signed in through the council's identity provider.",
        version="1",
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    oauth = provider_client(settings)
    app.state.oauth = oauth
    # Lax: the provider's redirect back to /auth/callback is a top-level GET, which carries the cookie.
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.desk_session_secret,
        session_cookie=SESSION_COOKIE,
        max_age=int(settings.desk_session_lifetime.total_seconds()),
        same_site="lax",
        https_only=settings.desk_session_https_only,
    )
    app.add_exception_handler(SignInRequired, sign_in_redirect)
    app.include_router(signin_router(settings, oauth))
    for router in routers:
        app.include_router(router)
    install_pages(app)

    async def identity_provider() -> None:
        async with httpx.AsyncClient(timeout=5.0) as client:
            (await client.get(settings.discovery_url)).raise_for_status()

    app.include_router(health_router(settings.service_name, {"identity provider": identity_provider}))
    return app


def install_pages(app: FastAPI) -> None:
    """The desk's pages: their routes, templates and static files."""
    from onestop.desk import web  # the pages take the person signed in from this module

    web.install(app)
