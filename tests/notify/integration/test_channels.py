"""Notify's other ways out on the real broker: SMS through a Notify-like API, signed webhooks, previews."""

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import jwt
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response

from onestop.contracts import topics as contract_topics
from onestop.contracts.events.cases import CaseProgressUpdated
from onestop.contracts.events.notifications import NotificationFailed, NotificationSent
from tests.notify.conftest import RunningNotify, free_port
from tests.notify.integration.test_notify_flow import NOW, closing, mail_to, raised, resident, send
from tests.support import bearer, eventually, read_events

pytestmark = pytest.mark.integration

SERVICE_ID = "1" * 36
SECRET = "2" * 36
API_KEY = f"onestop_test-{SERVICE_ID}-{SECRET}"
REFUSED_PHONE = "07700900000"
BUSY_ONCE_PHONE = "07700900111"


@dataclass
class FakeProviders:
    """A local stand-in for GOV.UK Notify's v2 API and an app's webhook receiver."""

    base_url: str
    texts: list[dict[str, Any]] = field(default_factory=list)
    sms_calls: list[str] = field(default_factory=list)
    hooks: list[tuple[bytes, str]] = field(default_factory=list)
    issuers: list[str] = field(default_factory=list)


@pytest.fixture
async def providers() -> AsyncIterator[FakeProviders]:
    api = FastAPI()
    port = free_port()
    fake = FakeProviders(f"http://127.0.0.1:{port}")

    @api.post("/v2/notifications/sms")
    async def sms(request: Request) -> Response:
        # Notify rejects a request whose JWT was not signed with the key's secret.
        claims = jwt.decode(request.headers["Authorization"].removeprefix("Bearer "), SECRET, algorithms=["HS256"])
        fake.issuers.append(claims["iss"])
        body = await request.json()
        fake.sms_calls.append(body["phone_number"])
        if body["phone_number"] == REFUSED_PHONE:
            error = {"error": "ValidationError", "message": "phone_number Not a UK mobile number"}
            return Response(json.dumps({"status_code": 400, "errors": [error]}), status_code=400)
        if body["phone_number"] == BUSY_ONCE_PHONE and fake.sms_calls.count(BUSY_ONCE_PHONE) == 1:
            return Response(json.dumps({"status_code": 500, "errors": [{"error": "Exception"}]}), status_code=500)
        fake.texts.append(body)
        return Response(json.dumps({"id": str(uuid4())}), status_code=201, media_type="application/json")

    @api.post("/app-hook")
    async def hook(request: Request) -> dict[str, str]:
        fake.hooks.append((await request.body(), request.headers.get("X-Onestop-Signature", "")))
        return {}

    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    try:
        yield fake
    finally:
        server.should_exit = True
        await serving


async def with_preferences(notify: RunningNotify, customer_id: Any, **preferences: Any) -> None:
    answer = await notify.client.put(
        f"/customers/{customer_id}/preferences", headers=bearer("notify:admin"), json=preferences
    )
    assert answer.status_code == 200, answer.text


async def test_a_number_notify_refuses_falls_back_to_email(start_notify: Any, providers: FakeProviders) -> None:
    notify: RunningNotify = await start_notify(notify_govuk_base_url=providers.base_url, notify_govuk_api_key=API_KEY)
    sam = resident("sam.sms@example.org")
    await with_preferences(
        notify,
        sam.customer_id,
        preferred_method="sms",
        consents=["sms", "email"],
        phone=REFUSED_PHONE,
        email="sam.sms@example.org",
    )
    await send(notify, raised(sam))
    [mail] = await mail_to(notify, "sam.sms@example.org", 1)
    assert "We have your request" in mail.subject
    assert providers.sms_calls == [REFUSED_PHONE] and providers.texts == []
    events = await read_events(
        notify.settings.kafka_bootstrap_servers,
        contract_topics.NOTIFICATIONS.qualified(notify.settings.topic_namespace),
        3,
    )
    [failed] = [e.data for e in events if isinstance(e.data, NotificationFailed)]
    assert failed.permanent and failed.fallback_method is not None and failed.fallback_method.value == "email"
    assert any(isinstance(e.data, NotificationSent) for e in events)


async def test_a_busy_provider_is_tried_again_and_the_text_goes_once(
    start_notify: Any, providers: FakeProviders
) -> None:
    notify: RunningNotify = await start_notify(notify_govuk_base_url=providers.base_url, notify_govuk_api_key=API_KEY)
    kim = resident(None, phone=BUSY_ONCE_PHONE)
    await with_preferences(notify, kim.customer_id, preferred_method="sms", consents=["sms"], phone=BUSY_ONCE_PHONE)
    await send(notify, raised(kim))

    async def texted() -> list[dict[str, Any]] | None:
        return providers.texts or None

    [text] = await eventually(texted, within=30)
    assert text["phone_number"] == BUSY_ONCE_PHONE
    assert "We have your request" in text["personalisation"]["subject"]
    assert providers.sms_calls == [BUSY_ONCE_PHONE, BUSY_ONCE_PHONE]
    assert set(providers.issuers) == {SERVICE_ID}
    events = await read_events(
        notify.settings.kafka_bootstrap_servers,
        contract_topics.NOTIFICATIONS.qualified(notify.settings.topic_namespace),
        2,
    )
    assert not [e for e in events if isinstance(e.data, NotificationFailed)]
    assert len([e for e in events if isinstance(e.data, NotificationSent)]) == 1


async def test_an_app_receives_a_webhook_signed_with_the_shared_secret(
    start_notify: Any, providers: FakeProviders
) -> None:
    notify: RunningNotify = await start_notify(notify_webhook_secret="app-secret")
    ali = resident(None)
    await with_preferences(
        notify, ali.customer_id, preferred_method="app", consents=["app"], webhook_url=f"{providers.base_url}/app-hook"
    )
    await send(notify, raised(ali))

    async def hooked() -> list[tuple[bytes, str]] | None:
        return providers.hooks or None

    [(body, signature)] = await eventually(hooked, within=30)
    expected = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, expected)
    assert "We have your request" in json.loads(body)["subject"]


async def test_preferences_must_name_a_consented_method(notify: RunningNotify) -> None:
    answer = await notify.client.put(
        f"/customers/{uuid4()}/preferences",
        headers=bearer("notify:admin"),
        json={"preferred_method": "sms", "consents": ["email"], "email": "x@example.org"},
    )
    assert answer.status_code == 422
    assert "consented" in answer.text


async def test_templates_preview_for_admins_only_and_explain_bad_values(notify: RunningNotify) -> None:
    values = {
        "name": "Jo",
        "cases": [{"service": "Flytipping", "reference": "ABC-123", "expected": "Thursday 5 March", "done": False}],
        "tracking_url": "http://example.org/track",
    }
    preview = await notify.client.post(
        "/templates/acknowledgement/preview", headers=bearer("notify:admin"), json=values
    )
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    assert shown["subject"] == "We have your request (ABC-123)"
    assert "We expect to finish by Thursday 5 March" in shown["body"]
    welsh = await notify.client.post(
        "/templates/acknowledgement/preview?language=cy", headers=bearer("notify:admin"), json=values
    )
    assert welsh.status_code == 200 and welsh.json()["language"] == "cy"
    listed = await notify.client.get("/templates", headers=bearer("notify:admin"))
    assert "acknowledgement" in str(listed.json()["templates"]) and listed.json()["version"]
    assert (await notify.client.post("/templates/acknowledgement/preview", json=values)).status_code == 401
    wrong_scope = await notify.client.post(
        "/templates/acknowledgement/preview", headers=bearer("cases:read"), json=values
    )
    assert wrong_scope.status_code == 403
    unknown = await notify.client.post("/templates/no_such_thing/preview", headers=bearer("notify:admin"), json={})
    assert unknown.status_code == 404
    missing = await notify.client.post("/templates/acknowledgement/preview", headers=bearer("notify:admin"), json={})
    assert missing.status_code == 422


async def test_a_customer_who_opted_out_of_progress_updates_still_hears_the_outcome(notify: RunningNotify) -> None:
    quiet = resident("quiet@example.org")
    await with_preferences(
        notify,
        quiet.customer_id,
        preferred_method="email",
        consents=["email"],
        email="quiet@example.org",
        progress_updates=False,
    )
    case = raised(quiet)
    await send(
        notify,
        case,
        CaseProgressUpdated(case_id=case.case_id, updated_at=NOW, note="A crew is booked for Tuesday."),
        *closing(case),
    )
    mail = await mail_to(notify, "quiet@example.org", 2)
    subjects = [m.subject for m in mail]
    assert any("is complete" in s for s in subjects)
    assert not any(s.startswith("Update on") for s in subjects)
