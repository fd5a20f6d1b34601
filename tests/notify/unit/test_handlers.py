"""What each case event means for who hears what: the handlers on in-memory repositories."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from onestop.contracts import EventEnvelope
from onestop.contracts.events.base import Event
from onestop.contracts.events.cases import (
    CaseClosed,
    CaseDeclined,
    CaseEscalated,
    CaseOutcome,
    CaseProgressUpdated,
    CaseRaised,
    CaseReopened,
    CaseResolved,
    EscalationReason,
    ReporterLinked,
)
from onestop.contracts.events.common import Actor, Channel, ContactMethod, CustomerDetails, Location, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.contracts.events.customers import CustomerErased
from onestop.contracts.events.notifications import FeedbackRequested, NotificationRequested, RecipientRole
from onestop.contracts.identifiers import case_id_for, case_reference_for
from onestop.contracts.service_catalogue import service_catalogue
from onestop.notify.addressing import Addressing
from onestop.notify.domain.model import Preferences, WardSubscriber
from onestop.notify.handlers import VIEW_HANDLERS, NotifyHandlers
from onestop.notify.settings import NotifySettings
from onestop.notify.surveys import SurveyNotFound, Surveys
from onestop.servicekit.unit_of_work import InMemoryUnitOfWork
from tests.notify.unit.fakes import FakeRepositories

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)


class Notify:
    """The handlers on fake repositories, with a fixed clock."""

    def __init__(self, **settings: Any) -> None:
        self.settings = NotifySettings(**{"notify_feedback_sample_rates": {"*": 0.0}, **settings})
        catalogue = service_catalogue()
        addressing = Addressing(self.settings, catalogue, lambda: NOW)
        self.surveys = Surveys(self.settings, catalogue, addressing, lambda: NOW)
        self.handlers = NotifyHandlers(self.settings, addressing, self.surveys, lambda: NOW).by_event_type()
        self.repos = FakeRepositories()

    async def handle(self, *events: Event) -> list[Event]:
        """Handle each event in its own unit of work; what they emitted, in order."""
        emitted: list[Event] = []
        for event in events:
            uow = InMemoryUnitOfWork(self.repos, cause=EventEnvelope.wrap(event, source="/onestop/cases"))
            await self.handlers[type(event)](event, uow)
            emitted += [envelope.data for envelope in uow.emitted]
        return emitted


def resident(email: str | None = "jo@example.org", **extra: Any) -> CustomerDetails:
    return CustomerDetails(customer_id=uuid4(), name="Jo Bloggs", email=email, **extra)


def raised(
    customer: CustomerDetails | None, contact_id: UUID | None = None, code: str = "587", ward: str | None = None
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
        service_area="housing" if code == "141" else "street_cleaning",
        customer=customer,
        location=Location(ward=ward) if ward else None,
    )


def resolved_and_closed(case: CaseRaised, outcome: str = "Cleared.") -> list[Event]:
    return [
        CaseResolved(case_id=case.case_id, resolved_at=NOW, outcome=outcome, resolved_by=Actor(kind="system", id="l")),
        CaseClosed(case_id=case.case_id, closed_at=NOW, outcome=CaseOutcome.RESOLVED, service_area=case.service_area),
    ]


def requested(events: list[Event], template: str | None = None) -> list[NotificationRequested]:
    return [e for e in events if isinstance(e, NotificationRequested) and template in (None, e.template)]


async def test_a_raised_case_queues_an_acknowledgement_to_the_customers_chosen_method() -> None:
    notify = Notify(notify_acknowledgement_grouping_seconds=3)
    jo = resident(phone="07700900123")
    notify.repos.audience.preferences[jo.customer_id] = Preferences(  # type: ignore[index]
        ContactMethod.SMS, frozenset({ContactMethod.SMS, ContactMethod.EMAIL}), phone="07700900123"
    )
    [acknowledgement] = requested(await notify.handle(raised(jo)))
    assert acknowledgement.template == "acknowledgement"
    assert acknowledgement.method is ContactMethod.SMS
    assert acknowledgement.recipient.role is RecipientRole.CUSTOMER
    assert acknowledgement.recipient.address == "07700900123"
    assert notify.repos.notifications.due_at("acknowledgement") == NOW + timedelta(seconds=3)  # grouped a moment


async def test_without_preferences_the_customer_hears_by_the_method_they_gave_on_contact() -> None:
    notify = Notify()
    [acknowledgement] = requested(await notify.handle(raised(resident("jo@example.org"))))
    assert (acknowledgement.method, acknowledgement.recipient.address) == (ContactMethod.EMAIL, "jo@example.org")


async def test_the_cases_of_one_contact_share_one_acknowledgement() -> None:
    notify = Notify()
    jo, contact = resident(), uuid4()
    emitted = await notify.handle(raised(jo, contact), raised(jo, contact), raised(jo, contact))
    assert len(requested(emitted, "acknowledgement")) == 1


async def test_a_customer_who_left_no_way_to_reach_them_is_not_queued() -> None:
    notify = Notify()
    assert await notify.handle(raised(resident(None))) == []
    assert await notify.handle(raised(None)) == []


async def test_a_linked_reporter_is_told_it_is_already_in_hand() -> None:
    notify = Notify()
    case = raised(resident("first@example.org"))
    second = resident("second@example.org")
    link = ReporterLinked(case_id=case.case_id, linked_at=NOW, contact_id=uuid4(), need_id=uuid4(), customer=second)
    emitted = await notify.handle(case, link)
    [told] = requested(emitted, "already_in_hand")
    assert told.recipient.role is RecipientRole.REPORTER
    assert told.recipient.address == "second@example.org"


async def test_a_closed_case_tells_the_customer_and_reporters_the_outcome_and_asks_a_sampled_case_how_we_did() -> None:
    notify = Notify(notify_feedback_sample_rates={"*": 1.0})
    case = raised(resident("jo@example.org"))
    link = ReporterLinked(
        case_id=case.case_id, linked_at=NOW, contact_id=uuid4(), need_id=uuid4(), customer=resident("sam@example.org")
    )
    await notify.handle(case, link)
    emitted = await notify.handle(*resolved_and_closed(case, "The fly-tip has been cleared."))
    completed = requested(emitted, "completed")
    assert {n.recipient.address for n in completed} == {"jo@example.org", "sam@example.org"}
    [survey] = requested(emitted, "feedback_request")
    assert survey.recipient.address == "jo@example.org"
    [asked] = [e for e in emitted if isinstance(e, FeedbackRequested)]
    assert asked.case_id == case.case_id and asked.recipient == survey.recipient
    queued = next(n for n in notify.repos.notifications.all if n.template == "feedback_request")
    token = queued.context["survey_url"].rsplit("/", 1)[1]
    assert notify.surveys.survey_of(token) == asked.survey_id
    outcome = next(n for n in notify.repos.notifications.all if n.template == "completed")
    assert outcome.context["outcome"] == "The fly-tip has been cleared."


async def test_a_reopened_case_tells_the_customer_and_reporters_it_is_open_again_and_not_why() -> None:
    notify = Notify()
    case = raised(resident("jo@example.org"))
    link = ReporterLinked(
        case_id=case.case_id, linked_at=NOW, contact_id=uuid4(), need_id=uuid4(), customer=resident("sam@example.org")
    )
    await notify.handle(case, link, *resolved_and_closed(case))
    reopened = CaseReopened(
        case_id=case.case_id, reopened_at=NOW, reason="Jo says it is back", reopened_by=Actor(kind="agent", id="a")
    )
    told = requested(await notify.handle(reopened), "reopened")
    assert {n.recipient.address for n in told} == {"jo@example.org", "sam@example.org"}
    queued = [n for n in notify.repos.notifications.all if n.template == "reopened"]
    assert queued and all("Jo says" not in str(n.context) for n in queued)
    assert notify.repos.cases.cases[case.case_id].closed_at is None


async def test_a_closed_case_outside_the_sample_is_not_surveyed_but_a_repair_gets_a_follow_up_later() -> None:
    notify = Notify(notify_feedback_sample_rates={"*": 0.0}, notify_repair_follow_up_days=42)
    repair = raised(resident("tenant@example.org"), code="141")
    emitted = await notify.handle(repair, *resolved_and_closed(repair))
    assert requested(emitted, "feedback_request") == []
    assert not [e for e in emitted if isinstance(e, FeedbackRequested)]
    [(_, kind)] = notify.repos.surveys.surveys
    follow_up = notify.repos.surveys.surveys[(repair.case_id, kind)]
    assert kind.value == "repair_follow_up" and not follow_up["requested"]
    assert follow_up["due_at"] == NOW + timedelta(days=42)


async def test_a_declined_case_tells_the_customer_and_the_councillor_why() -> None:
    notify = Notify()
    contact = ContactReceived(
        contact_id=uuid4(),
        channel=Channel.COUNCILLOR,
        received_at=NOW,
        needs=(Need(need_id=uuid4(), kind=NeedKind.REPORT_PROBLEM, service_code="587"),),
        on_behalf_of_councillor="cllr.jones@council.example",
    )
    case = raised(resident("jo@example.org"), contact.contact_id)
    declined = CaseDeclined(
        case_id=case.case_id, declined_at=NOW, reason="Private land.", declined_by=Actor(kind="agent", id="a")
    )
    closed = CaseClosed(case_id=case.case_id, closed_at=NOW, outcome=CaseOutcome.DECLINED, service_area="x")
    emitted = await notify.handle(contact, case, declined, closed)
    told = requested(emitted, "declined")
    assert {(n.recipient.role, n.recipient.address) for n in told} == {
        (RecipientRole.CUSTOMER, "jo@example.org"),
        (RecipientRole.COUNCILLOR, "cllr.jones@council.example"),
    }
    reasons = {n.context["reason"] for n in notify.repos.notifications.all if n.template == "declined"}
    assert reasons == {"Private land."}


async def test_an_internal_note_and_a_withdrawn_case_tell_no_one() -> None:
    notify = Notify()
    case = raised(resident())
    await notify.handle(case)
    internal = CaseProgressUpdated(case_id=case.case_id, updated_at=NOW, note="internal only", public=False)
    withdrawn = CaseClosed(case_id=case.case_id, closed_at=NOW, outcome=CaseOutcome.WITHDRAWN, service_area="x")
    assert await notify.handle(internal, withdrawn) == []


async def test_a_customer_who_opted_out_of_progress_updates_hears_no_progress() -> None:
    notify = Notify()
    quiet, keen = resident("quiet@example.org"), resident("keen@example.org")
    notify.repos.audience.preferences[quiet.customer_id] = Preferences(  # type: ignore[index]
        ContactMethod.EMAIL, frozenset({ContactMethod.EMAIL}), progress_updates=False, email="quiet@example.org"
    )
    quiet_case, keen_case = raised(quiet), raised(keen)
    await notify.handle(quiet_case, keen_case)
    emitted = await notify.handle(
        CaseProgressUpdated(case_id=quiet_case.case_id, updated_at=NOW, note="Booked."),
        CaseProgressUpdated(case_id=keen_case.case_id, updated_at=NOW, note="Booked."),
    )
    assert [n.recipient.address for n in requested(emitted, "progress")] == ["keen@example.org"]


async def test_an_aged_case_alerts_each_role_mailbox_and_a_complaint_stage_alerts_no_one() -> None:
    notify = Notify(notify_staff_email_domain="council.example")
    case = raised(resident())
    await notify.handle(case)

    def escalated(reason: EscalationReason) -> CaseEscalated:
        return CaseEscalated(
            case_id=case.case_id,
            escalated_at=NOW,
            reason=reason,
            escalated_to=("senior_manager", "portfolio_holder"),
            service_area="street_cleaning",
            days_open=30,
        )

    alerts = requested(await notify.handle(escalated(EscalationReason.AGED_30_DAYS)), "staff_alert")
    assert {n.recipient.address for n in alerts} == {
        "senior.manager.street-cleaning@council.example",
        "portfolio.holder.street-cleaning@council.example",
    }
    assert await notify.handle(escalated(EscalationReason.COMPLAINT_STAGE)) == []


async def test_ward_followers_hear_of_a_case_raised_in_their_ward_only() -> None:
    notify = Notify()
    notify.repos.audience.wards["Castle"] = [WardSubscriber("cllr-patel", ContactMethod.EMAIL, "ward@example.org")]
    emitted = await notify.handle(raised(resident(), ward="Castle"), raised(resident(), ward="Abington"))
    [update] = requested(emitted, "ward_update")
    assert update.recipient.address == "ward@example.org"


async def test_erasure_drops_the_customers_contact_details_and_preferences() -> None:
    notify = Notify()
    jo = resident("jo@example.org")
    assert jo.customer_id is not None
    notify.repos.audience.preferences[jo.customer_id] = Preferences(
        ContactMethod.EMAIL, frozenset({ContactMethod.EMAIL}), email="jo@example.org"
    )
    case = raised(jo)
    await notify.handle(case, CustomerErased(customer_id=jo.customer_id, erased_at=NOW, legal_basis="Article 17"))
    assert notify.repos.cases.cases[case.case_id].customer is None
    assert jo.customer_id not in notify.repos.audience.preferences
    assert all(n.address is None and n.context == {} for n in notify.repos.notifications.all)


def test_a_survey_link_that_was_tampered_with_is_refused() -> None:
    surveys = Notify().surveys
    survey_id = uuid4()
    token = surveys.token(survey_id)
    assert surveys.survey_of(token) == survey_id
    for forged in (f"{token[:-4]}0000", f"{uuid4()}.{token.partition('.')[2]}", "not-a-survey"):
        try:
            surveys.survey_of(forged)
        except SurveyNotFound:
            continue
        raise AssertionError(f"{forged} was accepted")


async def test_the_view_handlers_a_rebuild_replays_keep_the_same_case_book_and_send_nothing() -> None:
    live = Notify()
    jo, sam = resident("jo@example.org"), resident("sam@example.org")
    assert sam.customer_id is not None
    case = raised(jo)
    story: list[Event] = [
        case,
        ReporterLinked(case_id=case.case_id, linked_at=NOW, contact_id=uuid4(), need_id=uuid4(), customer=sam),
        *resolved_and_closed(case),
        CaseReopened(
            case_id=case.case_id, reopened_at=NOW, reason="Back again", reopened_by=Actor(kind="agent", id="a")
        ),
        CustomerErased(customer_id=sam.customer_id, erased_at=NOW, legal_basis="Article 17"),
    ]
    await live.handle(*story)

    replayed = FakeRepositories()
    for event in story:
        uow = InMemoryUnitOfWork(replayed, cause=EventEnvelope.wrap(event, source="/onestop/cases"))
        await VIEW_HANDLERS[type(event)](event, uow)
        assert uow.emitted == []
    assert replayed.cases.cases == live.repos.cases.cases
    assert replayed.cases.reporters == live.repos.cases.reporters
    assert replayed.notifications.all == [] and live.repos.notifications.all
    assert VIEW_HANDLERS.keys() <= live.handlers.keys()
