"""The desk's fixtures: a real Keycloak (started once per test session, reused if it already runs) and the
desk's app served in-process at its own address, so that the provider's redirects come back to it."""

import contextlib
import re
import secrets
from collections.abc import AsyncIterator
from html import unescape
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends

from onestop.desk.app import create_app, current_staff, service_token
from onestop.desk.settings import DeskSettings
from onestop.desk.staff import Staff
from onestop.localinfra import keycloak

DESK = "http://127.0.0.1:8006"  # the address the realm lets the provider send browsers back to
SECURE_FLAG = re.compile(r";\s*Secure(?=;|$)", re.IGNORECASE)
LOGIN_FORM = re.compile(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', re.DOTALL)


@pytest.fixture(scope="session")
def provider() -> keycloak.Keycloak:
    """Like Kafka and PostgreSQL, it is left running for the next run (and any run beside this one);
    `make infra-down` stops it."""
    return keycloak.start(timeout=300)


def whoami_router() -> APIRouter:
    """What a page sees of the person signed in, and the token it would call the services with."""
    router = APIRouter()

    @router.get("/whoami")
    async def whoami(staff: Staff = Depends(current_staff)) -> dict[str, Any]:  # noqa: B008
        return {
            "username": staff.username,
            "display_name": staff.display_name,
            "roles": sorted(staff.roles),
            "service_areas": sorted(staff.service_areas),
            "token": service_token(staff),
        }

    return router


@pytest.fixture
def desk_settings(provider: keycloak.Keycloak) -> DeskSettings:
    return DeskSettings(
        desk_public_base_url=DESK,
        desk_oidc_issuer=provider.issuer,
        desk_oidc_client_secret=provider.client_secret,
        desk_session_secret=secrets.token_urlsafe(32),
    )


class LoopbackIsSecure(httpx.AsyncHTTPTransport):
    """Browsers count http://127.0.0.1 as a secure origin and send Keycloak's Secure cookies back to it; httpx
    does not, so the cookies set over plain HTTP on the loopback address lose the flag as they arrive."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.url.scheme == "http" and request.url.host == "127.0.0.1":
            response.headers = httpx.Headers(
                [
                    (name, SECURE_FLAG.sub("", value) if name.lower() == "set-cookie" else value)
                    for name, value in response.headers.multi_items()
                ]
            )
        return response


@contextlib.asynccontextmanager
async def new_browser(settings: DeskSettings) -> AsyncIterator[httpx.AsyncClient]:
    """A browser: the desk's address goes to the app in-process, every other one (Keycloak) over the network."""
    app = create_app(settings, routers=[whoami_router()])
    async with httpx.AsyncClient(
        transport=LoopbackIsSecure(),
        mounts={DESK: httpx.ASGITransport(app=app)},
        follow_redirects=True,
        timeout=30,
    ) as client:
        yield client


@pytest.fixture
async def browser(desk_settings: DeskSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with new_browser(desk_settings) as client:
        yield client


async def sign_in(
    client: httpx.AsyncClient, username: str, password: str, next_path: str = "/whoami"
) -> httpx.Response:
    """Open the desk's sign-in, fill in the provider's login form, and follow wherever it leads."""
    login_page = await client.get(f"{DESK}/sign-in", params={"next": next_path})
    assert login_page.status_code == 200, login_page.text
    assert str(login_page.url).startswith(keycloak.secrets_of_this_installation().issuer)
    return await client.post(login_action(login_page.text), data={"username": username, "password": password})


def login_action(page: str) -> str:
    found = LOGIN_FORM.search(page)
    assert found, "no login form on the provider's page"
    return unescape(found.group(1))
