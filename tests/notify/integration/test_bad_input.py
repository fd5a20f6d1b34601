"""Bad input to the notify API is the caller's 422, with the reason: PostgreSQL refuses NUL in text, so it
must never get that far."""

from uuid import uuid4

import pytest

from tests.notify.conftest import RunningNotify
from tests.support import bearer

pytestmark = pytest.mark.integration

ADMIN = bearer("notify:admin")


async def test_nul_in_preferences_is_refused_with_the_reason(notify: RunningNotify) -> None:
    for field, value in (("email", "pat\x00@example.org"), ("postal_address", "1 High St\x00"), ("phone", "0\x07")):
        answer = await notify.client.put(
            f"/customers/{uuid4()}/preferences",
            json={"preferred_method": "email", "consents": ["email"], field: value},
            headers=ADMIN,
        )
        assert answer.status_code == 422, answer.text
        assert "control characters" in answer.text and field in answer.text


async def test_nul_in_a_ward_subscription_is_refused_with_the_reason(notify: RunningNotify) -> None:
    in_body = await notify.client.put(
        "/wards/Abington/subscribers", json={"subscriber_id": "cllr\x00", "address": "cllr@example.org"}, headers=ADMIN
    )
    assert in_body.status_code == 422 and "subscriber_id" in in_body.text
    in_path = await notify.client.put(
        "/wards/Abing%00ton/subscribers", json={"subscriber_id": "cllr-1", "address": "cllr@example.org"}, headers=ADMIN
    )
    assert in_path.status_code == 422 and "ward" in in_path.text
    fine = await notify.client.put(
        "/wards/Abington/subscribers", json={"subscriber_id": "cllr-1", "address": "cllr@example.org"}, headers=ADMIN
    )
    assert fine.status_code == 200, fine.text
