"""Who is calling: scoped credentials for every API, as signed JWT bearer tokens.

Clients (channel front-ends, back-office systems, staff, councillors, analysts) present a token whose
`scope` claim lists what they may do and, for back-office systems, whose `service_areas` claim limits
them to their own cases. Tokens are signed with a shared secret (HS256) or, where configured, verified
with an issuer's public key (RS256/ES256), so a council's identity provider can issue them through
the OAuth2 client-credentials flow.

Scopes used across onestop:
    contacts:write    submit contacts (channel front-ends, the mail room)
    feeds:write       telephony and reception feeds
    cases:read        read cases, work lists and the customer view (staff)
    cases:write       act on cases: assign, note, resolve, decline, close, reopen, escalate
    backoffice:write  report acceptance, progress and completion (back-office systems)
    routing:admin     triage and routing rules
    notify:admin      templates, preferences and subscriptions
    analytics:read    measures, exports and the contacts behind them
    customers:admin   subject-access export and erasure
"""

import functools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "onestop-development-secret-change-me-in-production"
ISSUER = "onestop"


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_prefix="ONESTOP_AUTH_", extra="ignore")

    secret: str = DEVELOPMENT_SECRET
    public_key: str = ""  # PEM; when set, tokens are verified with it instead of the secret
    algorithms: tuple[str, ...] = ("HS256",)
    issuer: str = ISSUER
    audience: str = "onestop"


@dataclass(frozen=True)
class Principal:
    subject: str
    scopes: frozenset[str]
    service_areas: frozenset[str] = field(default_factory=frozenset)
    kind: str = "client"  # client, agent, councillor, system

    def may_act_on(self, service_area: str) -> bool:
        """Back-office systems are limited to their own service areas; others are not."""
        return not self.service_areas or service_area in self.service_areas


def mint_token(
    subject: str,
    scopes: list[str],
    *,
    service_areas: list[str] | None = None,
    kind: str = "client",
    ttl: timedelta = timedelta(hours=1),
    settings: AuthSettings | None = None,
) -> str:
    """Issue a token signed with the shared secret: for tests, the demo and internal clients."""
    settings = settings or AuthSettings()
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": subject,
        "scope": " ".join(scopes),
        "kind": kind,
        "iss": settings.issuer,
        "aud": settings.audience,
        "iat": now,
        "exp": now + ttl,
    }
    if service_areas:
        claims["service_areas"] = service_areas
    return jwt.encode(claims, settings.secret, algorithm="HS256")


@functools.cache
def _process_settings() -> AuthSettings:
    """Read once per process: settings come from the environment at start-up, and every request needs them."""
    return AuthSettings()


def verify_token(token: str, settings: AuthSettings | None = None) -> Principal:
    settings = settings or _process_settings()
    key = settings.public_key or settings.secret
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=list(settings.algorithms),
            audience=settings.audience,
            issuer=settings.issuer,
            options={"require": ["exp", "sub"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise _unauthorised("the token has expired") from exc
    except jwt.PyJWTError as exc:
        raise _unauthorised(f"the token is not valid: {exc}") from exc
    return Principal(
        subject=str(claims["sub"]),
        scopes=frozenset(str(claims.get("scope", "")).split()),
        service_areas=frozenset(claims.get("service_areas", [])),
        kind=str(claims.get("kind", "client")),
    )


def _unauthorised(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=reason, headers={"WWW-Authenticate": "Bearer"})


_bearer = HTTPBearer(auto_error=False, description="A JWT with the scopes the endpoint needs")


def require(*scopes: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A FastAPI dependency: the caller must hold every one of `scopes`.

    @router.post("/cases/{case_id}/notes")
    async def add_note(..., caller: Annotated[Principal, Depends(require("cases:write"))]): ...
    """

    async def dependency(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        if credentials is None:
            raise _unauthorised("a bearer token is required")
        principal = verify_token(credentials.credentials)
        missing = [scope for scope in scopes if scope not in principal.scopes]
        if missing:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"missing scope: {' '.join(missing)}")
        return principal

    return dependency
