"""The desk's sign-in rules without a provider: settings, who a token names, what their roles allow, where
the desk sends a browser back to, and the session cookie."""

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from onestop.desk.__main__ import read_desk_settings
from onestop.desk.app import SESSION_COOKIE, create_app
from onestop.desk.settings import DeskSettings
from onestop.desk.signin import local_path, session_cookie
from onestop.desk.staff import Staff, service_token, staff_from_claims
from onestop.localinfra import keycloak
from onestop.ops.run import banner, programs
from onestop.servicekit.auth import AuthSettings, verify_token
from tests.desk.conftest import whoami_router

SECRET = "a-long-random-session-secret-for-the-tests-0123456789"


def settings(**overrides: object) -> DeskSettings:
    values: dict[str, object] = {
        "desk_session_secret": SECRET,
        "desk_oidc_client_secret": "client-secret-of-the-tests",
        # Nothing answers here: these tests never reach a provider.
        "desk_oidc_issuer": "http://127.0.0.1:9/realms/onestop",
    }
    return DeskSettings(**(values | overrides))  # type: ignore[arg-type]


def desk() -> FastAPI:
    return create_app(settings(), routers=[whoami_router()])


def test_the_desk_will_not_start_without_its_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    for name in ("DESK_SESSION_SECRET", "DESK_OIDC_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ONESTOP_AUTH_SECRET", "x" * 40)

    with pytest.raises(SystemExit) as stopped:
        read_desk_settings()

    assert "DESK_SESSION_SECRET is not set" in str(stopped.value)
    assert "DESK_OIDC_CLIENT_SECRET is not set" in str(stopped.value)


def test_a_published_development_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="DESK_SESSION_SECRET is a published development value"):
        settings(desk_session_secret="onestop-development-secret-change-me-in-production")


def test_roles_come_from_the_roles_claim_or_keycloaks_realm_access() -> None:
    named = staff_from_claims({"sub": "1", "preferred_username": "ada", "name": "Ada", "roles": ["adviser", "x"]})
    assert named == Staff("ada", "Ada", frozenset({"adviser"}))
    realm = staff_from_claims({"sub": "2", "preferred_username": "tom", "realm_access": {"roles": ["team_leader"]}})
    assert realm.roles == {"team_leader"}
    assert realm.display_name == "tom"
    nobody = staff_from_claims({"sub": "3", "roles": ["offline_access", "uma_authorization"]})
    assert nobody.roles == frozenset()
    assert nobody.username == "3"


def test_service_areas_come_from_groups_under_service_areas() -> None:
    staff = staff_from_claims(
        {"sub": "1", "roles": ["adviser"], "groups": ["/service-areas/waste", "/finance", "/service-areas/highways"]}
    )
    assert staff.service_areas == {"waste", "highways"}


def test_scopes_are_the_union_of_the_roles() -> None:
    both = Staff("ana", "Ana", frozenset({"team_leader", "analyst"}))
    assert both.scopes == ["analytics:read", "cases:read", "cases:write", "contacts:write", "customers:assert"]
    assert Staff("cm", "CM", frozenset({"complaints_manager"})).scopes == ["cases:read", "cases:write"]


def test_a_service_token_is_short_lived_and_says_who_and_what() -> None:
    staff = Staff("demo.adviser", "Ada", frozenset({"adviser"}), frozenset({"waste"}))
    principal = verify_token(service_token(staff))
    assert principal.subject == "demo.adviser"
    assert principal.kind == "agent"
    assert principal.scopes == {"cases:read", "cases:write", "contacts:write", "customers:assert"}
    assert principal.service_areas == {"waste"}
    with pytest.raises(ValueError, match="at most"):
        service_token(staff, lifetime=timedelta(hours=9), settings=AuthSettings(secret="y" * 40))


@pytest.mark.parametrize(
    ("asked", "sent_to"),
    [
        ("/cases/1?tab=notes", "/cases/1?tab=notes"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("", "/"),
        ("/line\nbreak", "/"),
    ],
)
def test_after_sign_in_the_desk_sends_browsers_only_to_its_own_pages(asked: str, sent_to: str) -> None:
    assert local_path(asked) == sent_to


def test_a_page_sends_someone_not_signed_in_to_sign_in_and_back() -> None:
    with TestClient(desk(), base_url="http://127.0.0.1:8006") as client:
        answer = client.get("/whoami?tab=notes", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=%2Fwhoami%3Ftab%3Dnotes"


def test_the_session_cookie_is_signed_http_only_and_lax() -> None:
    with TestClient(desk(), base_url="http://127.0.0.1:8006") as client:
        # The provider cannot be reached: the desk says so, having kept where to go back to.
        answer = client.get("/sign-in?next=/cases", follow_redirects=False)
        assert answer.status_code == 503
        assert "Sign-in is not available" in answer.text
        cookie = answer.headers["set-cookie"].lower()
        assert cookie.startswith(f"{SESSION_COOKIE}=")
        assert "httponly" in cookie and "samesite=lax" in cookie

        client.cookies.set(SESSION_COOKIE, session_cookie(settings(), Staff("ada", "Ada", frozenset({"adviser"}))))
        assert client.get("/whoami").json()["username"] == "ada"

        forged = session_cookie(settings(desk_session_secret="another-" + SECRET), Staff("eve", "Eve", frozenset()))
        client.cookies.set(SESSION_COOKIE, forged)
        assert client.get("/whoami", follow_redirects=False).status_code == 303


def test_make_run_starts_the_desk_and_says_how_to_sign_in(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("ONESTOP_STATE_DIR", str(tmp_path))
    [desk_program] = [program for program in programs() if program.name == "desk"]
    assert desk_program.command[1:] == ["-m", "onestop.desk"]

    shown = banner([desk_program])

    assert "desk       http://127.0.0.1:8006" in shown
    password = keycloak.secrets_of_this_installation().password_of("adviser")
    assert f"sign in as demo.adviser, password {password}" in shown
