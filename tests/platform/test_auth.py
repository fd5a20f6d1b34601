"""Scoped bearer tokens on every API."""

import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from onestop.servicekit import auth
from onestop.servicekit.auth import AuthSettings, Principal, mint_token, require, verify_token


def an_app() -> FastAPI:
    app = FastAPI()

    @app.post("/cases/{area}/complete")
    async def complete(
        area: str, caller: Annotated[Principal, Depends(require("backoffice:write"))]
    ) -> dict[str, object]:
        return {"subject": caller.subject, "allowed": caller.may_act_on(area)}

    @app.get("/cases/{area}")
    async def read(area: str, caller: Annotated[Principal, Depends(require("cases:read"))]) -> dict[str, object]:
        return {"subject": caller.subject, "allowed": caller.may_act_on(area)}

    return app


def signed(**claims: Any) -> str:
    """A token with exactly `claims` (on top of issuer and audience), signed with the configured secret."""
    return jwt.encode({"iss": "onestop", "aud": "onestop", **claims}, AuthSettings().secret, algorithm="HS256")


def bearer_header(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_no_token_is_401() -> None:
    response = TestClient(an_app()).post("/cases/waste/complete")
    assert response.status_code == 401
    assert response.json()["detail"] == "a bearer token is required"


def test_missing_scope_is_403() -> None:
    token = mint_token("desktop", ["contacts:write"])
    response = TestClient(an_app()).post("/cases/waste/complete", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert "backoffice:write" in response.json()["detail"]


def test_expired_and_forged_tokens_are_401() -> None:
    expired = mint_token("lob", ["backoffice:write"], ttl=timedelta(seconds=-5))
    forged = mint_token("lob", ["backoffice:write"])[:-4] + "AAAA"
    client = TestClient(an_app())
    for token in (expired, forged):
        assert client.post("/cases/waste/complete", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_token_verified_before_is_checked_again_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    """A channel's token is checked once while it lives; past its expiry it is checked again, and refused."""
    checks: list[str] = []
    check = auth._verify

    def counted(token: str, settings: AuthSettings) -> tuple[Principal, float]:
        checks.append(token)
        return check(token, settings)

    monkeypatch.setattr(auth, "_verify", counted)
    token = mint_token("desktop", ["contacts:write"], ttl=timedelta(minutes=5))
    assert verify_token(token).subject == verify_token(token).subject == "desktop"
    assert len(checks) == 1
    later = time.time() + 301
    monkeypatch.setattr(auth.time, "time", lambda: later)
    verify_token(token)
    assert len(checks) == 2


def test_back_office_system_is_limited_to_its_service_areas() -> None:
    token = mint_token("waste-lob", ["backoffice:write"], service_areas=["waste"])
    client = TestClient(an_app())
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/cases/waste/complete", headers=headers).json() == {"subject": "waste-lob", "allowed": True}
    assert client.post("/cases/housing/complete", headers=headers).json()["allowed"] is False


def test_a_back_office_token_without_service_areas_is_refused() -> None:
    client = TestClient(an_app())
    for token in (mint_token("any-lob", ["backoffice:write"]), mint_token("batch-job", ["cases:read"], kind="system")):
        for response in (
            client.post("/cases/waste/complete", headers=bearer_header(token)),
            client.get("/cases/waste", headers=bearer_header(token)),
        ):
            assert response.status_code == 403
            assert "service areas" in response.json()["detail"]


def test_back_office_principal_without_areas_may_act_on_nothing_but_staff_are_not_limited() -> None:
    assert not Principal("lob", frozenset({"backoffice:write"})).may_act_on("waste")
    assert not Principal("job", frozenset({"cases:read"}), kind="system").may_act_on("waste")
    assert Principal("agent", frozenset({"cases:read"}), kind="agent").may_act_on("waste")
    staff = TestClient(an_app()).get("/cases/housing", headers=bearer_header(mint_token("agent", ["cases:read"])))
    assert staff.json() == {"subject": "agent", "allowed": True}


def test_a_token_living_longer_than_the_maximum_is_refused() -> None:
    now = int(datetime.now(UTC).timestamp())
    settings = AuthSettings()
    too_long = signed(
        sub="lob", scope="cases:read", iat=now, exp=now + int(settings.max_token_lifetime.total_seconds()) + 60
    )
    response = TestClient(an_app()).get("/cases/waste", headers=bearer_header(too_long))
    assert response.status_code == 401
    assert "longer than" in response.json()["detail"]
    with pytest.raises(ValueError, match="ONESTOP_AUTH_MAX_TOKEN_LIFETIME"):
        mint_token("lob", ["cases:read"], ttl=settings.max_token_lifetime + timedelta(minutes=1))


def test_a_token_must_say_when_it_was_issued() -> None:
    undated = signed(sub="desk", scope="cases:read", exp=int(datetime.now(UTC).timestamp()) + 60)
    response = TestClient(an_app()).get("/cases/waste", headers=bearer_header(undated))
    assert response.status_code == 401
    assert "iat" in response.json()["detail"]


@pytest.mark.parametrize("subject", ["x" * 121, "desk\nforged line", ""])
def test_a_subject_that_cannot_be_recorded_as_who_acted_is_refused(subject: str) -> None:
    now = int(datetime.now(UTC).timestamp())
    token = signed(sub=subject, scope="cases:read", iat=now, exp=now + 60)
    response = TestClient(an_app()).get("/cases/waste", headers=bearer_header(token))
    assert response.status_code == 401
    assert "subject" in response.json()["detail"]


@pytest.mark.parametrize("secret", ["", "   ", "onestop-development-secret-change-me-in-production", "short"])
def test_no_token_is_signed_or_checked_with_an_empty_published_or_short_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="ONESTOP_AUTH_SECRET"):
        AuthSettings(secret=secret)
    unchecked = AuthSettings.model_construct(secret=secret)  # as if made without validation
    with pytest.raises(ValueError, match="ONESTOP_AUTH_SECRET"):
        mint_token("desk", ["cases:read"], settings=unchecked)
    with pytest.raises(ValueError, match="ONESTOP_AUTH_SECRET"):
        verify_token(mint_token("desk", ["cases:read"]), settings=unchecked)
