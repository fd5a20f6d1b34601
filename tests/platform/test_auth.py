"""Scoped bearer tokens on every API."""

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from onestop.servicekit.auth import Principal, mint_token, require


def an_app() -> FastAPI:
    app = FastAPI()

    @app.post("/cases/{area}/complete")
    async def complete(
        area: str, caller: Annotated[Principal, Depends(require("backoffice:write"))]
    ) -> dict[str, object]:
        return {"subject": caller.subject, "allowed": caller.may_act_on(area)}

    return app


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


def test_back_office_system_is_limited_to_its_service_areas() -> None:
    token = mint_token("waste-lob", ["backoffice:write"], service_areas=["waste"])
    client = TestClient(an_app())
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/cases/waste/complete", headers=headers).json() == {"subject": "waste-lob", "allowed": True}
    assert client.post("/cases/housing/complete", headers=headers).json()["allowed"] is False
