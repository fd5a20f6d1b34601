"""Who is calling: scoped credentials for every API, as signed JWT bearer tokens.

Clients (channel front-ends, back-office systems, staff, councillors, analysts) present a token whose
`scope` claim lists what they may do and, for back-office systems, whose `service_areas` claim limits
them to their own cases. Tokens are signed with a shared secret (HS256) or, where configured, verified
with an issuer's public key (RS256/ES256), so a council's identity provider can issue them through
the OAuth2 client-credentials flow.

There is no built-in secret: ONESTOP_AUTH_SECRET must be set (`make infra-up` makes one locally), and a
token must say when it was issued and live no longer than ONESTOP_AUTH_MAX_TOKEN_LIFETIME, so a leaked
token is not good for ever.

Scopes used across onestop:
    contacts:write    submit contacts (channel front-ends, the mail room)
    feeds:write       telephony and reception feeds
    cases:read        read cases, work lists and the customer view (staff)
    cases:write       act on cases: assign, note, resolve, decline, close, reopen, escalate
    backoffice:write  report acceptance, progress and completion (back-office systems)
    routing:admin     triage and routing rules
    notify:admin      templates, preferences and subscriptions
    analytics:read    measures, exports and the contacts behind them
    customers:admin   subject-access export, erasure and undoing a wrong merge
    customers:assert  name the customer record of a contact (clients that sign customers in, e.g. My Account)
"""

import functools
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from onestop.servicekit.settings import check_secret

ISSUER = "onestop"
MAX_SUBJECT_LENGTH = 120  # as long as an Actor's id in the events
SECRET_SETTING = "ONESTOP_AUTH_SECRET"
# HS256 wants a key at least as long as its hash (RFC 7518, 3.2).
MINIMUM_SECRET_LENGTH = 32


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_prefix="ONESTOP_AUTH_", extra="ignore")

    # Signs the tokens onestop mints, and verifies tokens unless a public key is set. Required: no default.
    secret: str
    public_key: str = ""  # PEM; when set, tokens are verified with it instead of the secret
    algorithms: tuple[str, ...] = ("HS256",)
    issuer: str = ISSUER
    audience: str = "onestop"
    # The longest a token may live (its `exp` less its `iat`); seconds, or ISO 8601 such as PT8H.
    max_token_lifetime: timedelta = Field(default=timedelta(hours=8), gt=timedelta(0))

    @field_validator("secret")
    @classmethod
    def _secret_is_safe(cls, secret: str) -> str:
        return check_signing_secret(secret)


def check_signing_secret(secret: str) -> str:
    """`secret` if it may sign tokens; ValueError naming ONESTOP_AUTH_SECRET if it is empty, published or short."""
    check_secret(SECRET_SETTING, secret)
    if len(secret) < MINIMUM_SECRET_LENGTH:
        raise ValueError(f"{SECRET_SETTING} is too short; use at least {MINIMUM_SECRET_LENGTH} random characters")
    return secret


@dataclass(frozen=True)
class Principal:
    subject: str
    scopes: frozenset[str]
    service_areas: frozenset[str] = field(default_factory=frozenset)
    kind: str = "client"  # client, agent, councillor, system

    @property
    def is_back_office(self) -> bool:
        return "backoffice:write" in self.scopes or self.kind == "system"

    @property
    def areas_limit(self) -> frozenset[str] | None:
        """The service areas whose cases the caller may see and act on; None for every area."""
        if self.service_areas or self.is_back_office:
            return self.service_areas
        return None

    def may_act_on(self, service_area: str) -> bool:
        """A caller whose token names service areas acts on those only. Back-office systems always name
        theirs (a back-office token without any acts on nothing); staff without areas are not limited."""
        if self.service_areas:
            return service_area in self.service_areas
        return not self.is_back_office


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
    if ttl > settings.max_token_lifetime:
        raise ValueError(f"a token may live at most {settings.max_token_lifetime} (ONESTOP_AUTH_MAX_TOKEN_LIFETIME)")
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
    # Settings made without validation (model_construct) must not sign with an empty or published secret either.
    return jwt.encode(claims, check_signing_secret(settings.secret), algorithm="HS256")


@functools.cache
def process_auth_settings() -> AuthSettings:
    """Read once per process: a service reads them as it starts (so a missing secret stops it there), and
    every request needs them."""
    return AuthSettings()


_VERIFIED_KEPT = 1024
# Tokens already verified, with when each expires: a channel front-end sends the same token with every
# contact for minutes on end, and checking its signature each time was a fair part of a request's cost.
_verified: dict[str, tuple[Principal, float, AuthSettings]] = {}


def verify_token(token: str, settings: AuthSettings | None = None) -> Principal:
    if settings is not None:  # settings of the caller's own: nothing kept
        return _verify(token, settings)[0]
    settings = process_auth_settings()
    kept = _verified.get(token)
    if kept is not None and kept[2] is settings and time.time() < kept[1]:
        return kept[0]
    principal, expires = _verify(token, settings)
    if len(_verified) >= _VERIFIED_KEPT:
        _verified.pop(next(iter(_verified)))  # the oldest verified goes first
    _verified[token] = (principal, expires, settings)  # settings read again (tests do) verify afresh
    return principal


def _verify(token: str, settings: AuthSettings) -> tuple[Principal, float]:
    key = settings.public_key or check_signing_secret(settings.secret)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=list(settings.algorithms),
            audience=settings.audience,
            issuer=settings.issuer,
            options={"require": ["exp", "iat", "sub"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise _unauthorised("the token has expired") from exc
    except jwt.PyJWTError as exc:
        raise _unauthorised(f"the token is not valid: {exc}") from exc
    lifetime = timedelta(seconds=float(claims["exp"]) - float(claims["iat"]))
    if lifetime > settings.max_token_lifetime:
        raise _unauthorised(f"the token lives {lifetime}, longer than the {settings.max_token_lifetime} allowed")
    subject = str(claims["sub"])
    if not 0 < len(subject) <= MAX_SUBJECT_LENGTH or not subject.isprintable():
        # The subject is recorded as who acted on a case: it must fit, and be text a person can read.
        raise _unauthorised(f"the token's subject must be 1 to {MAX_SUBJECT_LENGTH} printable characters")
    principal = Principal(
        subject=subject,
        scopes=frozenset(str(claims.get("scope", "")).split()),
        service_areas=frozenset(claims.get("service_areas", [])),
        kind=str(claims.get("kind", "client")),
    )
    return principal, float(claims["exp"])


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
        if principal.is_back_office and not principal.service_areas:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail="a back-office token must name the service areas it may act on (its service_areas claim)",
            )
        missing = [scope for scope in scopes if scope not in principal.scopes]
        if missing:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"missing scope: {' '.join(missing)}")
        return principal

    return dependency
