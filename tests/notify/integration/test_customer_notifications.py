"""Staff see what a customer was sent (channel, template, time, status; not the message) and how they want to
hear from us, within the service areas their token allows."""

from typing import Any
from uuid import uuid4

import pytest

from tests.notify.conftest import RunningNotify
from tests.notify.integration.test_notify_flow import handed_off, raised, resident, send
from tests.support import bearer, eventually

pytestmark = pytest.mark.integration

STAFF = bearer("cases:read")
WASTE_DESK = bearer("cases:read", service_areas=["waste"])


async def test_staff_see_a_customers_notifications_and_preferences_within_their_areas(notify: RunningNotify) -> None:
    jo = resident("jo.notified@example.org")
    graffiti, bins = raised(jo, uuid4()), raised(jo, uuid4(), code="524", area="waste")
    await send(notify, graffiti, handed_off(graffiti), bins, handed_off(bins))
    path = f"/customers/{jo.customer_id}/notifications"

    async def both_sent() -> dict[str, Any] | None:
        answer = (await notify.client.get(path, headers=STAFF)).json()
        return answer if [item["status"] for item in answer["items"]] == ["sent", "sent"] else None

    listed = await eventually(both_sent)
    assert {item["reference"] for item in listed["items"]} == {graffiti.reference, bins.reference}
    first = listed["items"][0]
    assert (
        first["channel"] == "email" and first["template"] and first["sent_at"] and first["recipient_role"] == "customer"
    )
    assert "context" not in first and "address" not in first, "no message or address in the list"
    assert listed["preferences"] is None

    fenced = (await notify.client.get(path, headers=WASTE_DESK)).json()
    assert [item["reference"] for item in fenced["items"]] == [bins.reference] and fenced["total"] == 1

    preferences = {"preferred_method": "sms", "consents": ["sms", "email"], "phone": "07700 900123"}
    stored = await notify.client.put(
        f"/customers/{jo.customer_id}/preferences", json=preferences, headers=bearer("notify:admin")
    )
    assert stored.status_code == 200, stored.text
    shown = (await notify.client.get(path, headers=STAFF)).json()["preferences"]
    assert shown["preferred_method"] == "sms" and sorted(shown["consents"]) == ["email", "sms"]

    nobody = (await notify.client.get(f"/customers/{uuid4()}/notifications", headers=STAFF)).json()
    assert nobody["items"] == [] and nobody["total"] == 0
    assert (await notify.client.get(path)).status_code == 401
    assert (await notify.client.get(path, headers=bearer("contacts:write"))).status_code == 403
    assert (await notify.client.get(path, params={"limit": 0}, headers=STAFF)).status_code == 422
