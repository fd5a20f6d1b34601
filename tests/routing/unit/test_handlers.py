"""Routing's handlers with in-memory repositories: what each consumed event makes routing emit and remember."""

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from onestop.contracts import EventEnvelope
from onestop.contracts.events.cases import CaseClosed, CaseOutcome, CaseRaised, CaseReassigned, CaseReopened
from onestop.contracts.events.common import Actor, Channel, CustomerDetails, Location, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.contracts.events.routing import (
    AvoidableCategory,
    ContactAssessed,
    DuplicateReportLinked,
    NeedRouted,
    NeedSentToTriage,
)
from onestop.contracts.service_catalogue import service_catalogue
from onestop.routing.adapters.rules_file import RulesFile
from onestop.routing.domain.classifier import KeywordClassifier
from onestop.routing.domain.known_case import KnownCase
from onestop.routing.handlers import (
    on_case_closed,
    on_case_raised,
    on_case_reassigned,
    on_case_reopened,
    on_contact_received,
)
from onestop.routing.need_routing import NeedRouter
from onestop.routing.settings import PACKAGED, RoutingSettings
from onestop.servicekit.unit_of_work import InMemoryUnitOfWork
from tests.routing.unit.fakes import InMemoryKnownCases, InMemoryTriageQueue, in_memory

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
ALLEY = (52.2405, -0.9027)


@pytest.fixture
def router() -> NeedRouter:
    settings = RoutingSettings(
        routing_triage_threshold=0.5,
        routing_duplicate_radius_metres=75,
        routing_duplicate_window_days=28,
        routing_repeat_window_days=30,
    )
    catalogue = service_catalogue()
    classifier = KeywordClassifier.from_yaml((PACKAGED / "classifier_keywords.yaml").read_text())
    return NeedRouter(
        catalogue, RulesFile(PACKAGED / "routing_rules.yaml", catalogue), classifier, settings, lambda: NOW
    )


def a_contact(need: Need, customer_id: UUID | None = None, channel: Channel = Channel.APP) -> ContactReceived:
    return ContactReceived(
        contact_id=uuid4(),
        channel=channel,
        received_at=NOW,
        needs=(need,),
        customer=CustomerDetails(customer_id=customer_id or uuid4()),
    )


def fly_tip(metres_north: float = 0) -> Need:
    place = Location(latitude=ALLEY[0] + metres_north / 111_000, longitude=ALLEY[1])
    return Need(need_id=uuid4(), kind=NeedKind.REPORT_PROBLEM, service_code="587", location=place)


def an_open_case(service_code: str = "587", **extra: object) -> KnownCase:
    fields: dict[str, object] = {
        "case_id": uuid4(),
        "reference": "OS-ABCD-EFGH",
        "contact_id": uuid4(),
        "need_id": uuid4(),
        "customer_id": uuid4(),
        "service_code": service_code,
        "service_area": "street_cleaning",
        "kind": NeedKind.REPORT_PROBLEM,
        "channel": Channel.WEB,
        "opened_at": NOW - timedelta(days=2),
        "latitude": ALLEY[0],
        "longitude": ALLEY[1],
    }
    return KnownCase(**(fields | extra))  # type: ignore[arg-type]


async def receive(
    router: NeedRouter, contact: ContactReceived, known: InMemoryKnownCases, triage: InMemoryTriageQueue | None = None
) -> list[object]:
    uow = InMemoryUnitOfWork(in_memory(known, triage), cause=EventEnvelope.wrap(contact, source="/onestop/intake"))
    await on_contact_received(contact, uow, router=router)
    return [envelope.data for envelope in uow.emitted]


async def test_a_contact_for_a_known_service_is_routed_and_assessed(router: NeedRouter) -> None:
    known = InMemoryKnownCases()
    contact = a_contact(fly_tip())

    routed, assessed = await receive(router, contact, known)

    assert isinstance(routed, NeedRouted) and isinstance(assessed, ContactAssessed)
    assert routed.service_code == "587" and routed.rule_id == "street-cleaning/fly-tip"
    assert routed.classified_confidence is None, "the service came with the need"
    assert (assessed.contact_id, assessed.need_id) == (contact.contact_id, contact.needs[0].need_id)
    assert not assessed.avoidable
    assert routed.case_id in known.cases, "the new case is known at once"


async def test_a_report_near_an_open_case_of_the_same_service_is_linked_as_a_duplicate(router: NeedRouter) -> None:
    case = an_open_case()

    contact = a_contact(fly_tip(metres_north=10))
    linked, assessed = await receive(router, contact, InMemoryKnownCases(case))

    assert isinstance(linked, DuplicateReportLinked) and linked.case_id == case.case_id
    assert linked.customer == contact.customer, "the reporter travels with the link, to be told of progress"
    assert linked.distance_metres is not None and 9 < linked.distance_metres < 11
    assert isinstance(assessed, ContactAssessed)
    assert (assessed.category, assessed.related_case_id) == (AvoidableCategory.DUPLICATE_REPORT, case.case_id)


async def test_a_report_near_an_open_case_of_another_service_is_a_new_case(router: NeedRouter) -> None:
    graffiti = an_open_case(service_code="589")

    routed, _ = await receive(router, a_contact(fly_tip(metres_north=10)), InMemoryKnownCases(graffiti))

    assert isinstance(routed, NeedRouted)


async def test_the_second_report_of_a_problem_just_routed_is_a_duplicate(router: NeedRouter) -> None:
    known = InMemoryKnownCases()
    routed, _ = await receive(router, a_contact(fly_tip()), known)
    linked, _ = await receive(router, a_contact(fly_tip(metres_north=5)), known)

    assert isinstance(routed, NeedRouted) and isinstance(linked, DuplicateReportLinked)
    assert linked.case_id == routed.case_id


async def test_a_chaser_about_an_open_case_is_progress_chasing_with_no_new_case(router: NeedRouter) -> None:
    case = an_open_case(service_code="524", service_area="waste")
    chase = Need(need_id=uuid4(), kind=NeedKind.INFORMATION, about_reference=case.reference, description="Where?")

    emitted = await receive(router, a_contact(chase, channel=Channel.TELEPHONE), InMemoryKnownCases(case))

    [assessed] = emitted
    assert isinstance(assessed, ContactAssessed)
    assert (assessed.avoidable, assessed.category, assessed.related_case_id) == (
        True,
        AvoidableCategory.PROGRESS_CHASING,
        case.case_id,
    )
    assert assessed.service_area == "waste", "the case named says which service the chase is about"


async def test_the_same_customer_again_about_an_open_case_is_chasing(router: NeedRouter) -> None:
    resident = uuid4()
    case = an_open_case(service_code="524", customer_id=resident)
    again = Need(need_id=uuid4(), kind=NeedKind.REPORT_PROBLEM, service_code="524", description="Still not done")

    [assessed] = await receive(router, a_contact(again, customer_id=resident), InMemoryKnownCases(case))

    assert isinstance(assessed, ContactAssessed) and assessed.category is AvoidableCategory.PROGRESS_CHASING


async def test_an_unrecognised_need_waits_in_triage_with_its_contact(router: NeedRouter) -> None:
    vague = Need(need_id=uuid4(), kind=NeedKind.SERVICE_REQUEST, description="Hello, I have a question about something")
    contact = a_contact(vague, channel=Channel.EMAIL)
    triage = InMemoryTriageQueue()

    [sent] = await receive(router, contact, InMemoryKnownCases(), triage)

    assert isinstance(sent, NeedSentToTriage) and sent.need_id == vague.need_id
    assert sent.best_guess_service_code is None and sent.reason == "no service could be recognised in the text"
    queued = triage.waiting[(contact.contact_id, vague.need_id)]
    assert queued.contact.data == contact, "the contact is kept so the decision can be made later"


async def test_free_text_recognised_confidently_is_routed_with_its_confidence(router: NeedRouter) -> None:
    clear = Need(need_id=uuid4(), kind=NeedKind.REPORT_PROBLEM, description="The street light outside is out again")

    routed, _ = await receive(router, a_contact(clear), InMemoryKnownCases())

    assert isinstance(routed, NeedRouted)
    assert routed.service_code == "564" and routed.classified_confidence is not None


def reassigned(case: KnownCase, rerouted: bool) -> CaseReassigned:
    return CaseReassigned(
        case_id=case.case_id,
        reassigned_at=NOW,
        team="street-lighting",
        previous_team="highways-inspectors",
        reason="It is a lamp, not the road",
        rerouted=rerouted,
    )


async def test_a_reroute_revises_the_assessment_as_wrongly_routed() -> None:
    case = an_open_case()
    uow = InMemoryUnitOfWork(in_memory(InMemoryKnownCases(case)))

    await on_case_reassigned(reassigned(case, rerouted=True), uow)

    [revised] = [envelope.data for envelope in uow.emitted]
    assert isinstance(revised, ContactAssessed)
    assert (revised.contact_id, revised.need_id, revised.channel) == (case.contact_id, case.need_id, case.channel)
    assert (revised.avoidable, revised.category) == (True, AvoidableCategory.WRONGLY_ROUTED)
    # The reason is free text staff typed: it stays sealed in the CaseReassigned, never copied out in the clear.
    assert revised.explanation == "re-routed to street-lighting"


async def test_a_reassignment_that_is_not_a_reroute_is_ignored() -> None:
    case = an_open_case()
    uow = InMemoryUnitOfWork(in_memory(InMemoryKnownCases(case)))

    await on_case_reassigned(reassigned(case, rerouted=False), uow)

    assert uow.emitted == []


async def test_a_reroute_of_a_case_routing_never_knew_is_ignored() -> None:
    uow = InMemoryUnitOfWork(in_memory())

    await on_case_reassigned(reassigned(an_open_case(), rerouted=True), uow)

    assert uow.emitted == []


async def test_cases_raised_elsewhere_are_known_and_follow_their_closing_and_reopening() -> None:
    known = InMemoryKnownCases()
    uow = InMemoryUnitOfWork(in_memory(known))
    raised = CaseRaised(
        case_id=uuid4(),
        reference="OS-ABCD-EFGH",
        raised_at=NOW - timedelta(days=2),
        contact_id=uuid4(),
        need_id=uuid4(),
        channel=Channel.POST,
        kind=NeedKind.SERVICE_REQUEST,
        service_code="141",
        service_area="housing",
    )

    await on_case_raised(raised, uow)
    assert known.cases[raised.case_id].is_open and known.cases[raised.case_id].channel is Channel.POST

    closed = CaseClosed(case_id=raised.case_id, closed_at=NOW, outcome=CaseOutcome.RESOLVED, service_area="housing")
    await on_case_closed(closed, uow)
    assert known.cases[raised.case_id].closed_at == NOW

    reopened = CaseReopened(
        case_id=raised.case_id, reopened_at=NOW, reason="Still leaking", reopened_by=Actor(kind="agent", id="agent-7")
    )
    await on_case_reopened(reopened, uow)
    assert known.cases[raised.case_id].is_open
    assert uow.emitted == [], "the model of known cases changes quietly"


# --- the council's time, and needs read from their text ---------------------------------------------------


async def test_a_contact_caught_up_after_an_outage_is_judged_as_on_the_day_it_arrived(router: NeedRouter) -> None:
    """Routing runs on 2 March; the report was received on 3 January. The open case nearby was raised on
    1 January, so on the day it is a duplicate, linked when it arrived."""
    received = datetime(2026, 1, 3, 9, 0, tzinfo=UTC)
    case = an_open_case(opened_at=datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    contact = a_contact(fly_tip(metres_north=10)).model_copy(update={"received_at": received})

    linked, assessed = await receive(router, contact, InMemoryKnownCases(case))

    assert isinstance(linked, DuplicateReportLinked) and linked.linked_at == received
    assert isinstance(assessed, ContactAssessed) and assessed.category is AvoidableCategory.DUPLICATE_REPORT


async def test_a_new_case_is_known_from_when_its_contact_arrived(router: NeedRouter) -> None:
    received = NOW - timedelta(days=40)
    known = InMemoryKnownCases()
    contact = a_contact(fly_tip()).model_copy(update={"received_at": received})

    routed, _ = await receive(router, contact, known)

    assert isinstance(routed, NeedRouted) and (routed.received_at, routed.routed_at) == (received, NOW)
    assert known.cases[routed.case_id].opened_at == received


async def test_the_repeat_window_runs_back_from_when_the_contact_arrived(router: NeedRouter) -> None:
    resident = uuid4()
    received = NOW - timedelta(days=60)
    closed = an_open_case(customer_id=resident, closed_at=received - timedelta(days=5), outcome=CaseOutcome.RESOLVED)
    closed_after = an_open_case(
        customer_id=resident, closed_at=received + timedelta(days=5), outcome=CaseOutcome.RESOLVED
    )
    contact = a_contact(fly_tip(metres_north=500), customer_id=resident).model_copy(update={"received_at": received})

    _, repeat = await receive(router, contact, InMemoryKnownCases(closed))
    _, not_yet = await receive(router, contact, InMemoryKnownCases(closed_after))

    assert isinstance(repeat, ContactAssessed) and repeat.category is AvoidableCategory.REPEAT_CONTACT
    assert isinstance(not_yet, ContactAssessed) and not not_yet.avoidable, "closed after the contact arrived"


async def test_a_missed_bin_by_email_is_a_problem_report_for_the_waste_crews_and_the_councils_failure(
    router: NeedRouter,
) -> None:
    """The mail room files every message as a request; its text says it reports a missed collection."""
    letter = Need(
        need_id=uuid4(), kind=NeedKind.SERVICE_REQUEST, description="Missed bin\n\nMy bin was not collected again"
    )

    routed, assessed = await receive(router, a_contact(letter, channel=Channel.POST), InMemoryKnownCases())

    assert isinstance(routed, NeedRouted) and isinstance(assessed, ContactAssessed)
    assert (routed.service_code, routed.need.kind) == ("524", NeedKind.REPORT_PROBLEM)
    assert (routed.rule_id, routed.team) == ("waste/missed-bin", "waste-collections")
    assert (assessed.avoidable, assessed.category) == (True, AvoidableCategory.COUNCIL_FAILURE)


async def test_a_need_that_came_with_its_service_keeps_its_kind(router: NeedRouter) -> None:
    asked = Need(need_id=uuid4(), kind=NeedKind.INFORMATION, service_code="524", description="missed bin?")

    routed, _ = await receive(router, a_contact(asked), InMemoryKnownCases())

    assert isinstance(routed, NeedRouted) and routed.need.kind is NeedKind.INFORMATION


async def test_the_assessment_names_the_service_the_need_was_settled_on(router: NeedRouter) -> None:
    case = an_open_case(service_code="524", service_area="waste")
    chase = Need(need_id=uuid4(), kind=NeedKind.INFORMATION, about_reference=case.reference)
    email = Need(need_id=uuid4(), kind=NeedKind.SERVICE_REQUEST, description="The street light outside is out")

    [chased] = await receive(router, a_contact(chase, channel=Channel.EMAIL), InMemoryKnownCases(case))
    _, read = await receive(router, a_contact(email, channel=Channel.EMAIL), InMemoryKnownCases())

    assert isinstance(chased, ContactAssessed) and chased.service_code == "524", "the case it is about"
    assert isinstance(read, ContactAssessed) and read.service_code == "564", "read from its text"


def test_a_service_chosen_in_triage_for_free_text_takes_the_kind_a_message_about_it_is(router: NeedRouter) -> None:
    free_text = Need(need_id=uuid4(), kind=NeedKind.SERVICE_REQUEST, description="the lorry did not stop")
    with_code = free_text.model_copy(update={"service_code": "524"})

    assert router.chosen_by_a_person(free_text, "524").kind is NeedKind.REPORT_PROBLEM
    assert router.chosen_by_a_person(with_code, "524").kind is None, "a need that came with a service keeps its kind"
