"""The desk against the real services, for the desk's page and browser tests: the five services as
processes (as tests/e2e runs them), the trace viewer, Mailpit, and the desk, started once per test session
and shared by the modules that ask for it."""

import asyncio
import contextlib
import re
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn

from onestop.localinfra import mailpit
from onestop.localinfra.paths import repo_root
from onestop.ops.fleet import SERVICES, Fleet, environment, free_port
from onestop.ops.traces import MetricStore, SpanStore
from onestop.ops.traces import create_app as trace_viewer
from tests.desk.conftest import DESK
from tests.support import MailServer, bearer, eventually, fleet_settings

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


@dataclass
class DeskSystem:
    fleet: Fleet
    desk_url: str
    traces_url: str
    spans: SpanStore
    mail: MailServer
    provider: Any  # the identity provider (a local Keycloak) staff sign in through
    closers: list[Any] = field(default_factory=list)
    settings: Any = None  # the desk's
    app: Any = None  # the desk's, served at desk_url

    def service(self, name: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.fleet.url(name), timeout=30)

    async def submit_contact(self, contact: dict[str, Any]) -> dict[str, Any]:
        """A contact from another channel (the app, the web), as its front end would send it."""
        async with self.service("intake") as intake:
            answer = await intake.post("/contacts", json=contact, headers=bearer("contacts:write"))
        assert answer.status_code == 201, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def case_of(self, reference: str, within: float = 60) -> dict[str, Any]:
        """The case a reference leads to, once cases has raised it."""
        async with self.service("cases") as cases:

            async def found() -> dict[str, Any] | None:
                answer = await cases.get("/cases", params={"reference": reference}, headers=bearer("cases:read"))
                items: list[dict[str, Any]] = answer.json()["items"] if answer.status_code == 200 else []
                return items[0] if items else None

            return await eventually(found, within=within)


def form_fields(page: str) -> dict[str, str]:
    """The hidden fields on a page: the session's CSRF token, a contact's idempotency key, a command's id (where
    several forms carry one, the last form's)."""
    return dict(HIDDEN.findall(page))


_shared: DeskSystem | None = None
_users = 0
_lock = asyncio.Lock()


@contextlib.asynccontextmanager
async def shared_desk(
    kafka_bootstrap: str, postgres_url: str, provider: Any, start_desk: Any
) -> AsyncIterator[DeskSystem]:
    """The one running system of this test session; the last module to let go stops it."""
    global _shared, _users
    async with _lock:
        if _shared is None:
            _shared = await _start(kafka_bootstrap, postgres_url, provider, start_desk)
        _users += 1
    try:
        yield _shared
    finally:
        async with _lock:
            _users -= 1
            if _users == 0 and _shared is not None:
                await _stop(_shared, postgres_url)
                _shared = None


async def _serve(app: Any, port: int) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    await eventually(lambda: asyncio.sleep(0, result=server.started), within=30)
    return server, task


async def _start(kafka_bootstrap: str, postgres_url: str, provider: Any, start_desk: Any) -> DeskSystem:
    spans = SpanStore()
    traces_port = free_port()
    viewer = await _serve(trace_viewer(spans, MetricStore()), traces_port)
    mail_server = await asyncio.to_thread(mailpit.start)
    namespace = f"desk{uuid.uuid4().hex[:8]}."
    ports = {service: free_port() for service in SERVICES}
    env = environment(
        kafka_bootstrap,
        postgres_url,
        namespace,
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{traces_port}",
        OTEL_TRACES_SAMPLE_RATIO="1",
        **fleet_settings(mail_server.smtp_port, ports),
    )
    fleet = Fleet.prepare(namespace, env, repo_root() / ".local" / "e2e-logs" / f"desk-{uuid.uuid4().hex[:8]}")
    fleet.ports = ports
    system = DeskSystem(fleet, "", f"http://127.0.0.1:{traces_port}", spans, MailServer(mail_server.url), provider)
    system.closers = [viewer, mail_server]
    try:
        await fleet.start_all()
        desk_port = free_port()
        desk_app = start_desk(system, desk_port)
        system.closers.append(await _serve(desk_app, desk_port))
        system.desk_url = f"http://127.0.0.1:{desk_port}"
    except BaseException:
        await _stop(system, postgres_url)
        raise
    return system


async def _stop(system: DeskSystem, postgres_url: str) -> None:
    await system.fleet.stop_all()
    for closer in reversed(system.closers):
        if isinstance(closer, tuple):
            server, task = closer
            server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await task
        else:
            await asyncio.to_thread(mailpit.stop, closer)
    await system.fleet.drop_databases(postgres_url)
    with contextlib.suppress(Exception):
        from onestop.servicekit.topics_admin import delete_namespace_topics

        await delete_namespace_topics(system.fleet.env["KAFKA_BOOTSTRAP_SERVERS"], system.fleet.namespace)


def desk_settings(system: DeskSystem, port: int) -> Any:
    from onestop.desk.settings import DeskSettings

    return DeskSettings(
        desk_http_port=port,
        # The realm sends browsers back to the desk's usual address only; tests route it here.
        desk_public_base_url=DESK,
        desk_cases_url=system.fleet.url("cases"),
        desk_intake_url=system.fleet.url("intake"),
        desk_notify_url=system.fleet.url("notify"),
        desk_analytics_url=system.fleet.url("analytics"),
        desk_oidc_issuer=system.provider.issuer,
        desk_oidc_client_secret=system.provider.client_secret,
        desk_session_secret=secrets.token_urlsafe(32),
    )


def start_desk(system: DeskSystem, port: int) -> Any:
    """The desk's app, pointed at the running services, the trace viewer and the identity provider."""
    from onestop.desk.app import create_app
    from onestop.desk.web.assets import PageSettings

    system.settings = desk_settings(system, port)
    system.app = create_app(system.settings)
    system.app.state.page_settings = PageSettings(traces_url=system.traces_url)
    return system.app


def staff_cookie(system: DeskSystem, *roles: str) -> tuple[str, str]:
    """The session cookie of a member of staff with `roles`, signed in without the provider: for the page
    tests, which check what each role may do (signing in itself goes through the provider: see
    `sign_in_browser`, and tests/desk/test_signin.py)."""
    from onestop.desk.app import SESSION_COOKIE
    from onestop.desk.signin import session_cookie
    from onestop.desk.staff import Staff

    names = {"adviser": "Ada Adviser", "team_leader": "Tom Leader", "complaints_manager": "Carys Complaints"}
    staff = Staff("-".join(roles), names.get(roles[0], "Anil Analyst"), frozenset(roles))
    return SESSION_COOKIE, session_cookie(system.settings, staff)


@contextlib.asynccontextmanager
async def signed_in(system: DeskSystem, *roles: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client of the desk, signed in as a member of staff with `roles`."""
    name, value = staff_cookie(system, *roles)
    async with httpx.AsyncClient(base_url=system.desk_url, timeout=30, cookies={name: value}) as client:
        yield client


async def sign_in_browser(page: Any, system: DeskSystem, role: str) -> None:
    """Sign a browser in through the provider's own login page, as the demo member of staff with `role`.

    The provider sends the browser back to the desk's usual address (DESK) only: the browser's requests
    there are answered by this desk, and where it redirects, to this desk's own address. Cookies belong to
    the host, not the port, so the session holds at `system.desk_url`."""

    async def to_this_desk(route: Any) -> None:
        answer = await route.fetch(url=route.request.url.replace(DESK, system.desk_url, 1), max_redirects=0)
        headers = dict(answer.headers)
        location = headers.get("location", "")
        if location.startswith("/"):
            headers["location"] = system.desk_url + location
        await route.fulfill(response=answer, headers=headers)

    async def provider_sends_back_to_this_desk(route: Any) -> None:
        # Chromium does not always hand a redirect's next hop to a route: rewrite where the provider sends
        # the browser back to, in the provider's own answer.
        answer = await route.fetch(max_redirects=0)
        headers = dict(answer.headers)
        if headers.get("location", "").startswith(DESK):
            headers["location"] = headers["location"].replace(DESK, system.desk_url, 1)
        await route.fulfill(response=answer, headers=headers)

    await page.context.route(f"{DESK}/**", to_this_desk)
    await page.context.route(f"{system.provider.issuer}/login-actions/**", provider_sends_back_to_this_desk)
    user = role.replace("_", "-")
    await page.goto(f"{system.desk_url}/sign-in?next=%2F")
    await page.fill("#username", f"demo.{user}")
    await page.fill("#password", system.provider.password_of(user))
    await page.click("#kc-login")
    await page.wait_for_url(f"{system.desk_url}/")
