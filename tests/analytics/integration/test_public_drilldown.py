"""The published NI14 drill-down shows when, where and why in its fixed words, never the free text an analyst
sees behind a token: a re-route's explanation holds a reason typed by staff and a team's name."""

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from onestop.contracts import EventEnvelope
from onestop.contracts.events.common import Channel
from onestop.contracts.events.routing import AvoidableCategory, ContactAssessed
from tests.analytics.conftest import RunningAnalytics
from tests.support import bearer, eventually, publish_events

pytestmark = pytest.mark.integration

ANALYST = bearer("analytics:read")
TYPED_BY_STAFF = "re-routed to housing-repairs-north: Mrs Example says the damp is back"


async def test_the_public_ni14_drilldown_shows_no_free_text(analytics: RunningAnalytics) -> None:
    assessed_at = datetime.now(UTC)
    assessment = ContactAssessed(
        contact_id=uuid4(),
        need_id=uuid4(),
        assessed_at=assessed_at,
        channel=Channel.TELEPHONE,
        service_area="housing",
        avoidable=True,
        category=AvoidableCategory.WRONGLY_ROUTED,
        explanation=TYPED_BY_STAFF,
    )
    await publish_events(
        analytics.settings.kafka_bootstrap_servers,
        analytics.settings.topic_namespace,
        EventEnvelope.wrap(assessment, source="/onestop/routing"),
    )
    month = f"{assessed_at:%Y-%m}"

    async def behind_the_token() -> list[dict[str, Any]] | None:
        rows: list[dict[str, Any]] = (
            await analytics.client.get(f"/ni14/contacts?month={month}", headers=ANALYST)
        ).json()
        return rows or None

    [row] = await eventually(behind_the_token, within=60)
    assert row["explanation"] == TYPED_BY_STAFF, "analysts still see why it counts"

    public = await analytics.client.get(f"/dashboard/ni14?month={month}")
    assert public.status_code == 200
    assert "wrongly routed" in public.text and "housing" in public.text
    for secret in ("Mrs Example", "damp", "housing-repairs-north", str(assessment.contact_id)[:8]):
        assert secret not in public.text, secret
