"""Cases measured by their hand-off model, written replies against their target, and open cases counted at
today's date while the month runs: through the real broker into the facts, read back from the API."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from onestop.contracts import EventEnvelope
from onestop.contracts.events.base import Event
from onestop.contracts.events.cases import CaseClosed, CaseHandedOff, CaseOutcome, CaseRaised, CaseResolved
from onestop.contracts.events.common import Actor, Channel, ContactMethod, HandOffModel, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.contracts.events.notifications import NotificationSent
from onestop.contracts.events.routing import AvoidableCategory, ContactAssessed, NeedRouted
from tests.analytics.conftest import RunningAnalytics
from tests.support import bearer, publish_events

pytestmark = pytest.mark.integration

ANALYST = bearer("analytics:read")
MARCH = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
STAFF = Actor(kind="agent", id="officer-1")


async def publish(analytics: RunningAnalytics, *events: Event) -> None:
    await publish_events(
        analytics.settings.kafka_bootstrap_servers,
        analytics.settings.topic_namespace,
        *(EventEnvelope.wrap(event, source="/onestop/test") for event in events),
    )


def a_case(model: HandOffModel, at: datetime, *, channel: Channel = Channel.TELEPHONE) -> tuple[UUID, list[Event]]:
    """A need routed under `model` and its case raised, with the hand-off when there is one."""
    contact_id, case_id, need = uuid4(), uuid4(), Need(need_id=uuid4(), kind=NeedKind.SERVICE_REQUEST)
    reference = f"WST-{case_id.int % 1_000_000:06d}"
    routed = NeedRouted(
        contact_id=contact_id,
        case_id=case_id,
        need=need,
        channel=channel,
        received_at=at,
        routed_at=at,
        service_code="524",
        service_area="waste",
        team="waste-crew",
        hand_off_model=model,
        sla_working_days=5,
        rule_id="bins",
        rules_version="1",
    )
    raised = CaseRaised(
        case_id=case_id,
        reference=reference,
        raised_at=at,
        contact_id=contact_id,
        need_id=need.need_id,
        channel=channel,
        kind=NeedKind.SERVICE_REQUEST,
        service_code="524",
        service_area="waste",
    )
    events: list[Event] = [routed, raised]
    if model is not HandOffModel.ONE_AND_DONE:
        events.append(
            CaseHandedOff(
                case_id=case_id,
                reference=reference,
                handed_off_at=at,
                hand_off_model=model,
                service_code="524",
                service_area="waste",
                team="waste-crew",
                sla_due_at=at + timedelta(days=7),
            )
        )
    return case_id, events


def closed(case_id: UUID, at: datetime, *, first_contact: bool = False) -> list[Event]:
    resolved = CaseResolved(
        case_id=case_id, resolved_at=at, outcome=None, resolved_by=STAFF, at_first_contact=first_contact
    )
    return [resolved, CaseClosed(case_id=case_id, closed_at=at, outcome=CaseOutcome.RESOLVED, service_area="waste")]


def contacted_again(case_id: UUID, at: datetime, category: AvoidableCategory) -> ContactAssessed:
    return ContactAssessed(
        contact_id=uuid4(),
        need_id=uuid4(),
        assessed_at=at,
        channel=Channel.TELEPHONE,
        service_area="waste",
        avoidable=True,
        category=category,
        related_case_id=case_id,
    )


async def measure(analytics: RunningAnalytics, name: str, query: str) -> Any:
    response = await analytics.client.get(f"/measures/{name}?{query}", headers=ANALYST)
    assert response.status_code == 200, response.text
    return response.json()


async def test_resolution_and_recontact_per_hand_off_model(analytics: RunningAnalytics) -> None:
    one_and_done, one_and_done_events = a_case(HandOffModel.ONE_AND_DONE, MARCH)
    fire_and_forget, fire_and_forget_events = a_case(HandOffModel.FIRE_AND_FORGET, MARCH)
    advocated, advocated_events = a_case(HandOffModel.CUSTOMER_ADVOCATE, MARCH)
    later = MARCH + timedelta(days=3)
    events: list[Event] = [
        *one_and_done_events,
        *closed(one_and_done, MARCH, first_contact=True),
        contacted_again(one_and_done, later, AvoidableCategory.REPEAT_CONTACT),
        *fire_and_forget_events,
        *closed(fire_and_forget, later),
        *advocated_events,  # still open, and chased twice: one case contacted again
        contacted_again(advocated, later, AvoidableCategory.PROGRESS_CHASING),
        contacted_again(advocated, later + timedelta(days=1), AvoidableCategory.PROGRESS_CHASING),
    ]
    await publish(analytics, *events)
    await analytics.until_handled(events)

    by_model = (await measure(analytics, "hand_off_models", "month=2026-03"))["by_model"]
    assert by_model == {
        "one_and_done": {
            "cases": 1,
            "resolved_at_first_contact": 1,
            "resolved": 1,
            "resolution_percent": 100.0,
            "recontacted": 1,
            "recontact_percent": 100.0,
        },
        "fire_and_forget": {
            "cases": 1,
            "resolved_at_first_contact": 0,
            "resolved": 1,
            "resolution_percent": 100.0,
            "recontacted": 0,
            "recontact_percent": 0.0,
        },
        "customer_advocate": {
            "cases": 1,
            "resolved_at_first_contact": 0,
            "resolved": 0,
            "resolution_percent": 0.0,
            "recontacted": 1,
            "recontact_percent": 100.0,
        },
    }
    assert (await measure(analytics, "hand_off_models", "month=2026-03&channel=email"))["by_model"]["one_and_done"][
        "cases"
    ] == 0, "filtered by channel like every case measure"

    page = (await analytics.client.get("/dashboard?month=2026-03")).text
    shown = page[page.index("<section id='hand_off_models'>") :]
    assert "<tr><td>Customer Advocate</td><td>1</td><td>0</td><td>100</td></tr>" in shown


async def test_written_replies_within_target_as_a_share_of_written_contacts(analytics: RunningAnalytics) -> None:
    events: list[Event] = []
    for replied_after in (timedelta(days=2), timedelta(days=10), timedelta(days=12), None):
        contact = ContactReceived(
            contact_id=uuid4(),
            channel=Channel.EMAIL,
            received_at=MARCH,
            needs=(Need(need_id=uuid4(), kind=NeedKind.INFORMATION, service_code="524"),),
        )
        case_id = uuid4()
        events += [
            contact,
            CaseRaised(
                case_id=case_id,
                reference=f"WST-{case_id.int % 1_000_000:06d}",
                raised_at=MARCH,
                contact_id=contact.contact_id,
                need_id=contact.needs[0].need_id,
                channel=Channel.EMAIL,
                kind=NeedKind.INFORMATION,
                service_code="524",
                service_area="waste",
            ),
        ]
        if replied_after is not None:
            events.append(
                NotificationSent(
                    notification_id=uuid4(),
                    sent_at=MARCH + replied_after,
                    method=ContactMethod.EMAIL,
                    case_id=case_id,
                )
            )
    await publish(analytics, *events)
    await analytics.until_handled(events)

    replies = await measure(analytics, "written_replies", "month=2026-03")
    # Within 10 days: two of four (the one never answered counts against the target).
    assert {k: replies[k] for k in ("written_contacts", "replied", "replied_within_target", "target_days")} == {
        "written_contacts": 4,
        "replied": 3,
        "replied_within_target": 2,
        "target_days": 10.0,
    }
    assert replies["replied_within_target_percent"] == 50.0
    page = (await analytics.client.get("/dashboard?month=2026-03")).text
    assert "<h2>Written replies within target</h2><div class='value'>50%</div>" in page


async def test_a_letter_not_yet_due_neither_meets_nor_misses_the_reply_target(analytics: RunningAnalytics) -> None:
    received = datetime.now(UTC) - timedelta(days=1)
    contact = ContactReceived(
        contact_id=uuid4(),
        channel=Channel.POST,
        received_at=received,
        needs=(Need(need_id=uuid4(), kind=NeedKind.INFORMATION, service_code="524"),),
    )
    await publish(analytics, contact)
    await analytics.until_handled([contact])

    today = received.astimezone(ZoneInfo("Europe/London")).date()
    query = f"start={today - timedelta(days=3)}&end={today + timedelta(days=3)}"
    replies = await measure(analytics, "written_replies", query)
    assert (replies["written_contacts"], replies["replied_within_target_percent"]) == (1, None)


async def test_open_cases_are_aged_at_today_while_the_period_runs(analytics: RunningAnalytics) -> None:
    london = ZoneInfo("Europe/London")
    now = datetime.now(UTC)
    _, events = a_case(HandOffModel.FIRE_AND_FORGET, now - timedelta(days=5, hours=1))
    await publish(analytics, *events)
    await analytics.until_handled(events)

    today = now.astimezone(london).date()
    # A run of days that ends after today: the case is five days old now, thirteen at the run's end.
    query = f"start={today - timedelta(days=20)}&end={today + timedelta(days=8)}"
    aged = await measure(analytics, "open_cases_by_age", query)
    assert (aged["open"], aged["bands"]["0-10 days"], aged["bands"]["11-30 days"]) == (1, 1, 0)
    assert datetime.fromisoformat(aged["as_of"]) <= datetime.now(UTC)

    page = (await analytics.client.get("/dashboard")).text  # this month
    assert f"Open cases by age on {datetime.now(london):%d %B %Y}" in page
