"""The measures councils publish, through the real broker: month-by-month trends against the same month a year
before, performance by channel, the public performance page (figures only) and every table as CSV."""

import csv
import io
from datetime import datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from onestop.contracts import EventEnvelope
from onestop.contracts.events.base import Event
from onestop.contracts.events.cases import CaseRaised, CaseResolved
from onestop.contracts.events.common import Actor, Channel, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.contracts.events.notifications import FeedbackReceived
from onestop.contracts.events.routing import AvoidableCategory, ContactAssessed
from tests.analytics.conftest import RunningAnalytics
from tests.support import bearer, publish_events

pytestmark = pytest.mark.integration

ANALYST = bearer("analytics:read")
LONDON = ZoneInfo("Europe/London")
STAFF = Actor(kind="agent", id="officer-1")
TYPED_BY_STAFF = "Mrs Example rang twice about the smell next door"


def a_contact(channel: Channel, at: datetime, *, avoidable: bool, first_contact: bool, satisfied: bool) -> list[Event]:
    """A contact with one need, its NI14 verdict, its case (resolved on the spot or not) and a survey answer."""
    need = Need(need_id=uuid4(), kind=NeedKind.SERVICE_REQUEST, service_code="524")
    contact = ContactReceived(contact_id=uuid4(), channel=channel, received_at=at, needs=(need,))
    case_id = uuid4()
    events: list[Event] = [
        contact,
        ContactAssessed(
            contact_id=contact.contact_id,
            need_id=need.need_id,
            assessed_at=at,
            channel=channel,
            service_area="waste",
            service_code="524",
            avoidable=avoidable,
            category=AvoidableCategory.PROGRESS_CHASING if avoidable else None,
            explanation=TYPED_BY_STAFF if avoidable else "",
        ),
        CaseRaised(
            case_id=case_id,
            reference=f"WST-{case_id.int % 1_000_000:06d}",
            raised_at=at,
            contact_id=contact.contact_id,
            need_id=need.need_id,
            channel=channel,
            kind=NeedKind.SERVICE_REQUEST,
            service_code="524",
            service_area="waste",
        ),
        FeedbackReceived(
            survey_id=uuid4(),
            case_id=case_id,
            received_at=at + timedelta(days=1),
            service_area="waste",
            satisfied=satisfied,
            score=5 if satisfied else 2,
        ),
    ]
    if first_contact:
        events.append(
            CaseResolved(case_id=case_id, resolved_at=at, outcome=None, resolved_by=STAFF, at_first_contact=True)
        )
    return events


async def test_trends_year_on_year_by_channel_on_the_public_page_and_as_csv(analytics: RunningAnalytics) -> None:
    march, march_before = datetime(2026, 3, 10, 9, tzinfo=LONDON), datetime(2025, 3, 10, 9, tzinfo=LONDON)
    events = [
        # March 2026: one web and one telephone contact; half avoidable, half resolved at once, half satisfied.
        *a_contact(Channel.WEB, march, avoidable=False, first_contact=True, satisfied=True),
        *a_contact(Channel.TELEPHONE, march, avoidable=True, first_contact=False, satisfied=False),
        # March 2025: one telephone contact, avoidable, resolved at once, satisfied.
        *a_contact(Channel.TELEPHONE, march_before, avoidable=True, first_contact=True, satisfied=True),
        # 1 February 2026 00:30 in London is still February: a month of its own in the trend.
        *a_contact(
            Channel.WEB,
            datetime(2026, 2, 1, 0, 30, tzinfo=LONDON),
            avoidable=False,
            first_contact=False,
            satisfied=True,
        ),
    ]
    await publish_events(
        analytics.settings.kafka_bootstrap_servers,
        analytics.settings.topic_namespace,
        *(EventEnvelope.wrap(event, source="/onestop/test") for event in events),
    )
    await analytics.until_handled(events)

    trends = (await analytics.client.get("/measures/trends?month=2026-03", headers=ANALYST)).json()
    assert trends["months"][0] == "2025-04" and trends["months"][-1] == "2026-03" and len(trends["months"]) == 12
    series = trends["series"]
    assert series["avoidable_contact_percent"]["2026-03"] == {"value": 50.0, "year_before": 100.0}
    assert series["first_contact_resolution_percent"]["2026-03"] == {"value": 50.0, "year_before": 100.0}
    assert series["self_service_percent"]["2026-03"] == {"value": 50.0, "year_before": 0.0}
    assert series["satisfaction_percent"]["2026-03"] == {"value": 50.0, "year_before": 100.0}
    assert series["self_service_percent"]["2026-02"] == {"value": 100.0, "year_before": None}
    assert series["self_service_percent"]["2025-12"] == {"value": None, "year_before": None}

    phone = (await analytics.client.get("/measures/trends?month=2026-03&channel=telephone", headers=ANALYST)).json()
    assert phone["series"]["avoidable_contact_percent"]["2026-03"] == {"value": 100.0, "year_before": 100.0}

    by_channel = (await analytics.client.get("/measures/by_channel?month=2026-03", headers=ANALYST)).json()
    assert by_channel == {
        "telephone": {"contacts": 1, "avoidable_contact_percent": 100.0, "first_contact_resolution_percent": 0.0},
        "web": {"contacts": 1, "avoidable_contact_percent": 0.0, "first_contact_resolution_percent": 100.0},
    }

    published = await analytics.client.get("/published?month=2026-03")  # public: no token
    assert published.status_code == 200
    assert "How we performed: March 2026" in published.text
    assert "<tr><td>2026-03</td><td>50</td><td>100</td><td>50</td><td>100</td>" in published.text
    assert "<tr><td>telephone</td><td>1</td><td>100</td><td>0</td></tr>" in published.text
    for secret in ("Mrs Example", "smell next door"):
        assert secret not in published.text, secret

    download = await analytics.client.get("/dashboard/trends.csv?month=2026-03")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.text)))
    assert rows[0][:3] == ["month", "Avoidable contact (NI14) %", "Avoidable contact (NI14) % a year before"]
    assert rows[-1][:3] == ["2026-03", "50.0", "100.0"]
    channels = list(
        csv.reader(io.StringIO((await analytics.client.get("/dashboard/by_channel.csv?month=2026-03")).text))
    )
    assert channels[1:] == [["telephone", "1", "100.0", "0.0"], ["web", "1", "0.0", "100.0"]]

    missing = await analytics.client.get("/dashboard/nothing.csv?month=2026-03")
    assert missing.status_code == 404 and "trends" in missing.json()["detail"]
