"""The local Keycloak's realm: what the desk relies on is there, and no secret is kept in the repository.
(The server itself is exercised by tests/desk/test_signin.py, which signs staff in through it.)"""

import json
import re
from typing import Any

import pytest

from onestop.desk.staff import ROLES
from onestop.localinfra import keycloak

PLACEHOLDER = re.compile(r"^\$\{[A-Z_]+\}$")


@pytest.fixture(scope="module")
def realm() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(keycloak.realm_file().read_text())
    return document


def test_the_realm_has_the_desks_roles(realm: dict[str, Any]) -> None:
    assert realm["realm"] == keycloak.REALM
    assert {role["name"] for role in realm["roles"]["realm"]} == ROLES


def test_the_desk_is_a_confidential_client_that_must_use_pkce(realm: dict[str, Any]) -> None:
    (client,) = (client for client in realm["clients"] if client["clientId"] == keycloak.DESK_CLIENT)
    assert client["publicClient"] is False
    assert client["standardFlowEnabled"] is True
    assert client["implicitFlowEnabled"] is False
    assert client["directAccessGrantsEnabled"] is False  # no passwords through the desk
    assert client["attributes"]["pkce.code.challenge.method"] == "S256"
    assert client["redirectUris"] == ["${DESK_PUBLIC_BASE_URL}/*"]
    assert PLACEHOLDER.match(client["secret"])
    claims = {mapper["config"]["claim.name"] for mapper in client["protocolMappers"]}
    assert claims == {"roles", "groups"}


def test_there_are_demo_staff_with_each_role_and_one_without(realm: dict[str, Any]) -> None:
    roles_held = {user["username"]: set(user["realmRoles"]) for user in realm["users"]}
    assert {f"demo.{who}" for who in keycloak.DEMO_STAFF} == set(roles_held)
    assert set().union(*roles_held.values()) == ROLES
    assert roles_held["demo.no-role"] == set()


def test_no_password_or_secret_is_kept_in_the_realm_file(realm: dict[str, Any]) -> None:
    for user in realm["users"]:
        (credential,) = user["credentials"]
        assert PLACEHOLDER.match(credential["value"]), user["username"]
        assert credential["temporary"] is False


def test_each_installation_makes_its_own_secrets(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONESTOP_STATE_DIR", str(tmp_path / "one"))
    one = keycloak.secrets_of_this_installation()
    assert keycloak.secrets_of_this_installation() == one  # made once, then kept
    monkeypatch.setenv("ONESTOP_STATE_DIR", str(tmp_path / "two"))
    two = keycloak.secrets_of_this_installation()
    assert one.client_secret != two.client_secret
    assert one.admin_password != two.admin_password
    assert one.password_of("adviser") != two.password_of("adviser")
    assert len({*one.passwords.values(), one.client_secret, one.admin_password}) == len(keycloak.DEMO_STAFF) + 2
