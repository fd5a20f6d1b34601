"""Staff sign-in through OpenID Connect: the authorization code flow with PKCE, with authlib.

The session lives in a signed cookie (Starlette's SessionMiddleware): who is signed in, their roles and
service areas, and the ID token, which signing out hands back to the provider (RP-initiated logout).
"""

import json
import logging
from base64 import b64encode
from html import escape
from typing import Any
from urllib.parse import quote

import httpx
import itsdangerous
from authlib.integrations.starlette_client import OAuth  # type: ignore[import-untyped]
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from onestop.desk.settings import DeskSettings
from onestop.desk.staff import ROLES, Staff, staff_from_claims
from onestop.servicekit.pages import page

log = logging.getLogger(__name__)

PROVIDER = "provider"
STAFF_KEY = "staff"
ID_TOKEN_KEY = "id_token"
NEXT_KEY = "next"


class SignInRequired(Exception):
    """Nobody is signed in: the desk sends the browser to /sign-in, and back to `next` afterwards."""

    def __init__(self, next_path: str = "/") -> None:
        super().__init__(next_path)
        self.next_path = next_path


def current_staff(request: Request) -> Staff:
    """A FastAPI dependency: the person signed in, or a redirect to /sign-in (through SignInRequired)."""
    data = request.session.get(STAFF_KEY)
    if not data:
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(back if request.method == "GET" else "/")
    return Staff.from_session(data)


def session_cookie(settings: DeskSettings, staff: Staff) -> str:
    """The session cookie's value for `staff` signed in, as SessionMiddleware writes it: for tests of the
    pages, which sign in without the provider (the sign-in tests go through the provider itself)."""
    data = b64encode(json.dumps({STAFF_KEY: staff.to_session()}).encode("utf-8"))
    return itsdangerous.TimestampSigner(settings.desk_session_secret).sign(data).decode("utf-8")


def sign_in_redirect(request: Request, exc: Exception) -> Response:
    next_path = exc.next_path if isinstance(exc, SignInRequired) else "/"
    return RedirectResponse(f"/sign-in?next={quote(next_path, safe='')}", status_code=303)


def local_path(candidate: str | None) -> str:
    """`candidate` if it is a path on the desk itself (never another site: no scheme, host or `//`)."""
    if not candidate or not candidate.startswith("/") or candidate.startswith("//") or "\\" in candidate:
        return "/"
    return candidate if candidate.isprintable() else "/"


def provider_client(settings: DeskSettings) -> OAuth:
    oauth = OAuth()
    oauth.register(
        PROVIDER,
        client_id=settings.desk_oidc_client_id,
        client_secret=settings.desk_oidc_client_secret,
        server_metadata_url=settings.discovery_url,
        client_kwargs={"scope": "openid profile", "code_challenge_method": "S256", "timeout": 10.0},
    )
    return oauth


def signin_router(settings: DeskSettings, oauth: OAuth) -> APIRouter:
    router = APIRouter(tags=["sign-in"])
    provider: Any = oauth.create_client(PROVIDER)

    @router.get("/sign-in", summary="Sign in through the council's identity provider")
    async def sign_in(request: Request, next: str = "/") -> Response:
        if request.session.get(STAFF_KEY):
            return RedirectResponse(local_path(next), status_code=303)
        request.session[NEXT_KEY] = local_path(next)
        try:
            return await provider.authorize_redirect(request, settings.callback_url)  # type: ignore[no-any-return]
        except Exception as exc:  # the provider is down or misconfigured: say so, not 500
            log.warning("the identity provider cannot be reached: %s", type(exc).__name__)
            return _problem(503, "Sign-in is not available", "The sign-in service cannot be reached. Try again soon.")

    @router.get("/auth/callback", summary="Where the identity provider sends staff back")
    async def callback(request: Request) -> Response:
        try:
            token = await provider.authorize_access_token(request)
        except httpx.HTTPError as exc:
            log.warning("the identity provider cannot be reached: %s", type(exc).__name__)
            return _problem(503, "Sign-in is not available", "The sign-in service cannot be reached. Try again soon.")
        except Exception as exc:
            # A wrong or replayed state, a cancelled sign-in, an expired code, an ID token that does not check
            # out: start again.
            log.info("sign-in did not complete: %s", getattr(exc, "error", None) or type(exc).__name__)
            token = None
        if not token or not token.get("userinfo"):
            return _problem(
                400,
                "Sign-in did not complete",
                'Your sign-in could not be completed. <a href="/sign-in">Sign in again</a>.',
            )
        staff = staff_from_claims(token["userinfo"])
        if not staff.roles:
            request.session.clear()
            return _problem(
                403,
                "You cannot use the desk",
                f"You are signed in as {escape(staff.username)}, but you do not have a desk role "
                f"({', '.join(sorted(ROLES))}). Ask your team leader or the desk's administrator for one. "
                '<a href="/sign-out">Sign out</a>.',
                id_token=token.get("id_token"),
                request=request,
            )
        next_path = local_path(request.session.get(NEXT_KEY))
        request.session.clear()  # a new session for the person signed in
        request.session[STAFF_KEY] = staff.to_session()
        request.session[ID_TOKEN_KEY] = token.get("id_token")
        return RedirectResponse(next_path, status_code=303)

    async def sign_out(request: Request) -> Response:
        id_token = request.session.get(ID_TOKEN_KEY)
        request.session.clear()
        try:
            return await provider.logout_redirect(  # type: ignore[no-any-return]
                request,
                post_logout_redirect_uri=settings.desk_public_base_url.rstrip("/") + "/signed-out",
                id_token_hint=id_token,
                client_id=settings.desk_oidc_client_id,
            )
        except Exception as exc:  # signed out of the desk even when the provider cannot be told
            log.warning("the identity provider cannot be told of a sign-out: %s", type(exc).__name__)
            return RedirectResponse("/signed-out", status_code=303)

    router.add_api_route(
        "/sign-out", sign_out, methods=["GET", "POST"], summary="Sign out of the desk and the provider"
    )

    @router.get("/signed-out", summary="Signed out")
    async def signed_out(request: Request) -> HTMLResponse:
        request.session.clear()
        return page("You have signed out", '<p><a href="/sign-in">Sign in again</a></p>')

    return router


def _problem(
    status_code: int, title: str, body: str, *, id_token: str | None = None, request: Request | None = None
) -> HTMLResponse:
    """A page that explains; `body` is HTML already escaped."""
    if request is not None and id_token:
        request.session[ID_TOKEN_KEY] = id_token  # so that /sign-out ends the provider's session too
    return page(title, f"<p>{body}</p>", status_code=status_code)
