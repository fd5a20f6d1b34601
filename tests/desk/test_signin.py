"""Staff sign in to the desk through a real Keycloak: the authorization code flow with PKCE, as a browser
goes through it (the provider's own login form), roles from the realm, and sign-out at both ends."""

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from onestop.cases.app import create_app as cases_app
from onestop.cases.settings import CasesSettings
from onestop.desk.settings import DeskSettings
from onestop.localinfra import keycloak
from onestop.servicekit.auth import verify_token
from onestop.servicekit.database import drop_database
from tests.desk.conftest import DESK, LOGIN_FORM, new_browser, sign_in

pytestmark = pytest.mark.integration


async def test_the_provider_publishes_its_discovery_document(provider: keycloak.Keycloak) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.get(f"{provider.issuer}/.well-known/openid-configuration")
    assert answer.status_code == 200
    document = answer.json()
    assert document["issuer"] == provider.issuer
    assert "S256" in document["code_challenge_methods_supported"]
    assert document["end_session_endpoint"].startswith(provider.issuer)


async def test_sign_in_asks_the_provider_for_a_code_with_pkce(browser: httpx.AsyncClient) -> None:
    answer = await browser.get(f"{DESK}/sign-in", follow_redirects=False)
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["onestop-desk"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [f"{DESK}/auth/callback"]
    assert "openid" in query["scope"][0].split()
    assert query["state"] and query["nonce"]


async def test_an_adviser_signs_in_and_lands_where_they_were_going(
    browser: httpx.AsyncClient, provider: keycloak.Keycloak
) -> None:
    # Not signed in: a page sends the browser to sign in first.
    before = await browser.get(f"{DESK}/whoami", follow_redirects=False)
    assert before.status_code == 303
    assert before.headers["location"] == "/sign-in?next=%2Fwhoami"

    answer = await sign_in(browser, "demo.adviser", provider.password_of("adviser"))

    assert answer.status_code == 200, answer.text
    assert str(answer.url) == f"{DESK}/whoami"
    me = answer.json()
    assert me["username"] == "demo.adviser"
    assert me["display_name"] == "Ada Adviser"
    assert me["roles"] == ["adviser"]
    assert me["service_areas"] == []
    assert browser.cookies.get("onestop_desk_session", domain="127.0.0.1")


async def test_service_areas_come_from_the_providers_groups(
    browser: httpx.AsyncClient, provider: keycloak.Keycloak
) -> None:
    answer = await sign_in(browser, "demo.team-leader", provider.password_of("team-leader"))

    me = answer.json()
    assert me["roles"] == ["team_leader"]
    assert me["service_areas"] == ["street_cleaning", "waste"]
    principal = verify_token(me["token"])
    assert principal.service_areas == {"street_cleaning", "waste"}
    assert not principal.may_act_on("highways")


async def test_a_wrong_password_stays_out(browser: httpx.AsyncClient, provider: keycloak.Keycloak) -> None:
    answer = await sign_in(browser, "demo.analyst", "not-" + provider.password_of("analyst"))

    assert answer.url.host == "127.0.0.1" and answer.url.port == 8180  # still at the provider's form
    assert LOGIN_FORM.search(answer.text)
    assert "Invalid username or password" in answer.text
    after = await browser.get(f"{DESK}/whoami", follow_redirects=False)
    assert after.status_code == 303


async def test_someone_without_a_desk_role_is_refused(browser: httpx.AsyncClient, provider: keycloak.Keycloak) -> None:
    answer = await sign_in(browser, "demo.no-role", provider.password_of("no-role"))

    assert answer.status_code == 403
    assert "You cannot use the desk" in answer.text
    assert "demo.no-role" in answer.text
    after = await browser.get(f"{DESK}/whoami", follow_redirects=False)
    assert after.status_code == 303


async def test_a_forged_callback_is_refused(browser: httpx.AsyncClient) -> None:
    answer = await browser.get(f"{DESK}/auth/callback", params={"code": "made-up", "state": "made-up"})

    assert answer.status_code == 400
    assert "Sign-in did not complete" in answer.text


async def test_sign_out_ends_the_desk_session_and_the_providers(
    browser: httpx.AsyncClient, provider: keycloak.Keycloak
) -> None:
    await sign_in(browser, "demo.adviser", provider.password_of("adviser"))
    assert (await browser.get(f"{DESK}/whoami")).status_code == 200

    answer = await browser.get(f"{DESK}/sign-out")

    assert answer.status_code == 200
    assert str(answer.url).startswith(f"{DESK}/signed-out?state=")  # by way of the provider
    assert "You have signed out" in answer.text
    assert (await browser.get(f"{DESK}/whoami", follow_redirects=False)).status_code == 303
    # The provider forgot them too: signing in again asks for the password.
    again = await browser.get(f"{DESK}/sign-in")
    assert LOGIN_FORM.search(again.text), "the provider signed them straight back in"


@pytest.fixture
async def cases(kafka_bootstrap: str, postgres_url: str, namespace: str) -> AsyncIterator[httpx.AsyncClient]:
    """The real cases service, in-process, against the broker and a database of its own."""
    settings = CasesSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        database_url=postgres_url,
        database=f"test_desk_cases_{namespace.strip('.')}",
        topic_namespace=namespace,
    )
    app = cases_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://cases") as client,
    ):
        yield client
    await drop_database(postgres_url, settings.database_name)


SCOPES = {
    "adviser": ({"cases:read", "cases:write", "contacts:write", "customers:assert"}, 200),
    "complaints-manager": ({"cases:read", "cases:write"}, 200),
    "analyst": ({"analytics:read"}, 403),
}


async def test_the_desk_calls_the_services_with_the_scopes_of_the_persons_roles(
    desk_settings: DeskSettings, provider: keycloak.Keycloak, cases: httpx.AsyncClient
) -> None:
    for who, (scopes, cases_answer) in SCOPES.items():
        async with new_browser(desk_settings) as browser:
            me = (await sign_in(browser, f"demo.{who}", provider.password_of(who))).json()

        principal = verify_token(me["token"])
        assert principal.scopes == scopes, who
        assert principal.subject == f"demo.{who}"
        assert principal.kind == "agent"
        answer = await cases.get("/cases", headers={"Authorization": f"Bearer {me['token']}"})
        assert answer.status_code == cases_answer, (who, answer.text)
