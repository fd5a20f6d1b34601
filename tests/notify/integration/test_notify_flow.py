"""Notify on the real broker with a real SMTP server: every trigger, exactly once."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
import uvicorn
from fastapi import FastAPI

from onestop.contracts import EventEnvelope
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.base import Event
from onestop.contracts.events.cases import (
    CaseClosed,
    CaseDeclined,
    CaseEscalated,
    CaseHandedOff,
    CaseOutcome,
    CaseProgressUpdated,
    CaseRaised,
    CaseResolved,
    EscalationReason,
    ReporterLinked,
)
from onestop.contracts.events.common import Actor, Channel, CustomerDetails, HandOffModel, Location, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.contracts.events.notifications import FeedbackReceived, FeedbackRequested
from onestop.contracts.identifiers import case_id_for, case_reference_for
from tests.notify.conftest import Clock, RunningNotify, free_port
from tests.support import Mail, bearer, eventually, publish_events, read_events

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)


def resident(email: str = "jo@example.org", **extra: Any) -> CustomerDetails:
    return CustomerDetails(customer_id=uuid4(), name="Jo Bloggs", email=email, **extra)


def raised(
    customer: CustomerDetails | None,
    contact_id: UUID | None = None,
    code: str = "587",
    area: str = "street_cleaning",
    ward: str | None = None,
) -> CaseRaised:
    contact_id = contact_id or uuid4()
    need_id = uuid4()
    case_id = case_id_for(contact_id, need_id)
    return CaseRaised(
        case_id=case_id,
        reference=case_reference_for(case_id),
        raised_at=NOW,
        contact_id=contact_id,
        need_id=need_id,
        channel=Channel.TELEPHONE,
        kind=NeedKind.REPORT_PROBLEM,
        service_code=code,
        service_area=area,
        customer=customer,
        location=Location(ward=ward) if ward else None,
    )


def handed_off(case: CaseRaised) -> CaseHandedOff:
    return CaseHandedOff(
        case_id=case.case_id,
        reference=case.reference,
        handed_off_at=NOW,
        hand_off_model=HandOffModel.CUSTOMER_ADVOCATE,
        service_code=case.service_code,
        service_area=case.service_area,
        team="t",
        sla_due_at=NOW + timedelta(days=3),
    )


async def send(notify: RunningNotify, *events: Event | EventEnvelope) -> None:
    envelopes = [e if isinstance(e, EventEnvelope) else EventEnvelope.wrap(e, source="/onestop/cases") for e in events]
    await publish_events(notify.settings.kafka_bootstrap_servers, notify.settings.topic_namespace, *envelopes)


async def mail_to(notify: RunningNotify, address: str, count: int) -> list[Mail]:
    """The mail to `address` at the mail server, once there are at least `count` messages."""
    return await notify.mail.wait_for(address, count, within=30)


def closing(case: CaseRaised, outcome: str = "The fly-tip has been cleared.") -> list[Event]:
    return [
        CaseResolved(case_id=case.case_id, resolved_at=NOW, outcome=outcome, resolved_by=Actor(kind="system", id="l")),
        CaseClosed(case_id=case.case_id, closed_at=NOW, outcome=CaseOutcome.RESOLVED, service_area=case.service_area),
    ]


async def test_the_new_resident_gets_one_acknowledgement_for_five_cases(notify: RunningNotify) -> None:
    jo = resident()
    contact = uuid4()
    cases = [raised(jo, contact) for _ in range(5)]
    await send(notify, *[e for case in cases for e in (case, handed_off(case))])
    [acknowledgement] = await mail_to(notify, "jo@example.org", 1)
    body = await notify.mail.text(acknowledgement)
    assert all(case.reference in body for case in cases)
    assert "We expect to finish by Thursday 5 March 2026" in body
    await asyncio.sleep(1)  # the grouping window has passed: nothing more should come
    assert await notify.mail.count("jo@example.org") == 1


async def test_progress_completion_and_decline_reach_the_customer(notify: RunningNotify) -> None:
    jo, sam = resident("jo@example.org"), resident("sam@example.org")
    done, refused = raised(jo), raised(sam)
    await send(
        notify,
        done,
        refused,
        CaseProgressUpdated(case_id=done.case_id, updated_at=NOW, note="A crew is booked for Tuesday."),
        CaseProgressUpdated(case_id=done.case_id, updated_at=NOW, note="internal only", public=False),
        *closing(done),
        CaseDeclined(
            case_id=refused.case_id,
            declined_at=NOW,
            reason="The land is privately owned.",
            declined_by=Actor(kind="agent", id="a"),
        ),
        CaseClosed(
            case_id=refused.case_id, closed_at=NOW, outcome=CaseOutcome.DECLINED, service_area="street_cleaning"
        ),
    )
    jo_mail = await mail_to(notify, "jo@example.org", 3)
    subjects = sorted(m.subject for m in jo_mail)
    assert any(s.startswith("Update on") for s in subjects) and any("is complete" in s for s in subjects)
    assert not any("internal only" in text for text in [await notify.mail.text(m) for m in jo_mail])
    sam_mail = await mail_to(notify, "sam@example.org", 2)
    declined = next(m for m in sam_mail if m.subject.startswith("About"))
    assert "The land is privately owned." in await notify.mail.text(declined)


async def test_reporters_of_a_duplicate_hear_it_is_in_hand_and_then_the_outcome(notify: RunningNotify) -> None:
    case = raised(resident("first@example.org"))
    reporter = resident("second@example.org")
    link = ReporterLinked(case_id=case.case_id, linked_at=NOW, contact_id=uuid4(), need_id=uuid4(), customer=reporter)
    await send(notify, case, link, *closing(case))
    second = await mail_to(notify, "second@example.org", 2)
    subjects = [m.subject for m in second]
    assert any("we already know about this" in s for s in subjects)
    assert any("is complete" in s for s in subjects)


async def test_a_case_open_30_days_alerts_the_senior_manager_and_portfolio_holder(notify: RunningNotify) -> None:
    case = raised(resident(), area="waste", code="524")
    escalated = CaseEscalated(
        case_id=case.case_id,
        escalated_at=NOW,
        reason=EscalationReason.AGED_30_DAYS,
        escalated_to=("senior_manager", "portfolio_holder"),
        service_area="waste",
        days_open=30,
    )
    await send(notify, case, escalated)
    assert await mail_to(notify, "senior.manager.waste@council.example", 1)
    [alert] = await mail_to(notify, "portfolio.holder.waste@council.example", 1)
    assert "open 30 days" in alert.subject


async def test_a_chased_case_alerts_the_advocate_and_the_team_not_the_portfolio_holder(
    notify: RunningNotify,
) -> None:
    case = raised(resident(), area="waste", code="524")
    chased = CaseEscalated(
        case_id=case.case_id,
        escalated_at=NOW,
        reason=EscalationReason.CHASED,
        escalated_to=("customer_advocate", "team"),
        service_area="waste",
        days_open=4,
    )
    await send(notify, case, chased)
    [alert] = await mail_to(notify, "customer.advocate.waste@council.example", 1)
    assert "chased" in alert.subject
    assert await mail_to(notify, "team.waste@council.example", 1)
    assert not [m for m in await notify.mail.messages() if any("portfolio.holder" in to for to in m.to)]


async def test_councillors_and_ward_followers_are_kept_informed(notify: RunningNotify) -> None:
    await notify.client.put(
        "/wards/Castle/subscribers",
        json={"subscriber_id": "cllr-patel", "address": "ward.watch@example.org"},
        headers=bearer("notify:admin"),
    )
    contact = ContactReceived(
        contact_id=uuid4(),
        channel=Channel.COUNCILLOR,
        received_at=NOW,
        needs=(Need(need_id=uuid4(), kind=NeedKind.REPORT_PROBLEM, service_code="564"),),
        on_behalf_of_councillor="cllr.jones@council.example",
    )
    case = raised(resident("constituent@example.org"), contact.contact_id, ward="Castle")
    await send(notify, EventEnvelope.wrap(contact, source="/onestop/intake"))
    await asyncio.sleep(0.5)  # the contact first, as intake publishes it before routing and cases act
    await send(notify, case, *closing(case))
    assert await mail_to(notify, "cllr.jones@council.example", 1)
    ward_mail = await mail_to(notify, "ward.watch@example.org", 2)
    assert {m.subject.split(" (")[0].split(": ")[1] for m in ward_mail} == {
        "Flytipping was reported",
        "Flytipping was closed",
    }


async def test_a_bounced_email_becomes_a_letter(start_notify: Any) -> None:
    letters: list[dict[str, Any]] = []
    fake_notify = FastAPI()

    @fake_notify.post("/v2/notifications/letter", status_code=201)
    async def letter(body: dict[str, Any]) -> dict[str, str]:
        letters.append(body)
        return {"id": str(uuid4())}

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(fake_notify, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    key = "onestop_test-" + "1" * 36 + "-" + "2" * 36
    try:
        notify: RunningNotify = await start_notify(
            notify_govuk_base_url=f"http://127.0.0.1:{port}", notify_govuk_api_key=key
        )
        jo = resident("bounce.jo@example.org", address="12 Abington Street, Northampton, NN1 2AJ")
        await notify.client.put(
            f"/customers/{jo.customer_id}/preferences",
            headers=bearer("notify:admin"),
            json={
                "preferred_method": "email",
                "consents": ["email", "letter"],
                "email": "bounce.jo@example.org",
                "postal_address": "12 Abington Street, Northampton, NN1 2AJ",
            },
        )
        case = raised(jo)
        await send(notify, case, *closing(case))

        async def lettered() -> dict[str, Any] | None:
            return next((sent for sent in letters if "is complete" in sent["personalisation"]["subject"]), None)

        completed = await eventually(lettered)
        assert completed["personalisation"]["address_line_1"] == "12 Abington Street"
        events = await read_events(
            notify.settings.kafka_bootstrap_servers,
            contract_topics.NOTIFICATIONS.qualified(notify.settings.topic_namespace),
            6,
        )
        failed = [e.data for e in events if e.type == "onestop.notification.failed"]
        assert failed and failed[0].permanent and failed[0].fallback_method.value == "letter"  # type: ignore[attr-defined]
    finally:
        server.should_exit = True
        await serving


async def test_a_repair_gets_a_follow_up_survey_six_weeks_after_it_closes(start_notify: Any) -> None:
    clock = Clock(NOW)
    notify: RunningNotify = await start_notify(
        clock=clock, notify_feedback_sample_rates={"*": 0.0}, notify_acknowledgement_grouping_seconds=0
    )
    repair = raised(resident("tenant@example.org"), code="141", area="housing")
    await send(notify, repair, *closing(repair, "The boiler has been replaced."))
    await mail_to(notify, "tenant@example.org", 2)  # acknowledgement and completion; no survey sampled
    follow_ups = notify.app.state.follow_ups
    clock.now = NOW + timedelta(days=41)
    assert await follow_ups.tick() == 0
    clock.now = NOW + timedelta(days=42, minutes=1)
    assert await follow_ups.tick() == 1
    assert await follow_ups.tick() == 0
    [survey] = [m for m in await mail_to(notify, "tenant@example.org", 3) if "How did we do" in m.subject]
    link = next(line for line in (await notify.mail.text(survey)).split() if "/feedback/" in line)
    token = link.rsplit("/", 1)[1]
    form = await notify.client.get(f"/feedback/{token}")
    assert form.status_code == 200 and "<form" in form.text and "Very satisfied" in form.text
    not_scored = await notify.client.post(f"/feedback/{token}", data={"score": "9", "comment": "Warm again"})
    assert not_scored.status_code == 422 and "Choose how satisfied you are" in not_scored.text
    forged_page = await notify.client.get(f"/feedback/{token[:-4]}0000")
    assert forged_page.status_code == 404 and "This survey link does not work" in forged_page.text
    answered = await notify.client.post(
        f"/feedback/{token}", json={"satisfied": True, "score": 5, "comment": "Warm again"}
    )
    assert answered.status_code == 200
    again = await notify.client.post(f"/feedback/{token}", json={"satisfied": True, "score": 5})
    assert again.status_code == 404
    assert "You have already answered this survey" in (await notify.client.get(f"/feedback/{token}")).text
    forged = await notify.client.post(f"/feedback/{token[:-4]}0000", json={"satisfied": False, "score": 1})
    assert forged.status_code == 404
    events = [
        e.data
        for e in await read_events(
            notify.settings.kafka_bootstrap_servers,
            contract_topics.FEEDBACK.qualified(notify.settings.topic_namespace),
            2,
        )
    ]
    assert isinstance(events[0], FeedbackRequested) and events[0].survey.value == "repair_follow_up"
    assert isinstance(events[1], FeedbackReceived) and events[1].score == 5
