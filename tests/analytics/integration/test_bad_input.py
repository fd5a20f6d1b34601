"""A period outside what the figures can cover is the caller's 422, with the reason, never a server error."""

import pytest

from tests.analytics.conftest import RunningAnalytics
from tests.support import bearer

pytestmark = pytest.mark.integration

ANALYST = bearer("analytics:read")


async def test_a_period_out_of_range_is_refused(analytics: RunningAnalytics) -> None:
    for query in (
        "month=9999-12",
        "month=0000-01",
        "month=1999-12",
        "month=2026-13",
        "start=0001-01-01&end=2026-01-01",
        "start=2026-01-01&end=9999-12-31",
        "start=2026-02-01&end=2026-01-01",
    ):
        answer = await analytics.client.get(f"/measures?{query}", headers=ANALYST)
        assert answer.status_code == 422, (query, answer.text)
        public = await analytics.client.get(f"/dashboard?{query}")
        assert public.status_code == 422, (query, public.text)
    assert (await analytics.client.get("/measures?month=2099-12", headers=ANALYST)).status_code == 200
