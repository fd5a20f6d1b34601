"""The NI14 and duplicate decisions for one need, without any I/O."""

import dataclasses
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from onestop.contracts.events.cases import CaseOutcome
from onestop.contracts.events.common import Channel, Location, NeedKind
from onestop.contracts.events.contacts import Need
from onestop.contracts.events.routing import AvoidableCategory
from onestop.routing.domain.decisions import (
    Context,
    LinkDuplicate,
    RaiseCase,
    RecordChase,
    decide,
    distance_metres,
)
from onestop.routing.domain.known_case import KnownCase

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)


def a_need(kind: NeedKind = NeedKind.REPORT_PROBLEM, **extra: object) -> Need:
    return Need(need_id=uuid4(), kind=kind, service_code="587", **extra)


def known(
    lat: float = 52.2405,
    long: float = -0.9027,
    closed: datetime | None = None,
    *,
    kind: NeedKind = NeedKind.REPORT_PROBLEM,
    outcome: CaseOutcome = CaseOutcome.RESOLVED,
    service_code: str = "587",
) -> KnownCase:
    return KnownCase(
        case_id=uuid4(),
        reference="OS-AAAA-BBBB",
        contact_id=uuid4(),
        need_id=uuid4(),
        customer_id=uuid4(),
        service_code=service_code,
        service_area="street_cleaning",
        kind=kind,
        channel=Channel.APP,
        opened_at=NOW,
        closed_at=closed,
        outcome=outcome if closed else None,
        latitude=lat,
        longitude=long,
    )


EMPTY = Context(None, [], [], [])


def test_distance_is_in_metres() -> None:
    assert 101.5 < distance_metres(52.2405, -0.9027, 52.2405, -0.9012) < 102.5


def test_a_report_near_an_open_case_is_a_duplicate() -> None:
    case = known()
    decision = decide(
        a_need(location=Location(latitude=52.2406, longitude=-0.9027)), "587", Context(None, [], [], [case]), 75
    )
    assert isinstance(decision, LinkDuplicate) and decision.case == case
    assert decision.verdict.category is AvoidableCategory.DUPLICATE_REPORT


def test_a_report_far_away_is_a_new_case() -> None:
    decision = decide(
        a_need(location=Location(latitude=52.25, longitude=-0.90)), "587", Context(None, [], [], [known()]), 75
    )
    assert isinstance(decision, RaiseCase) and not decision.verdict.avoidable


def test_naming_an_open_case_is_chasing() -> None:
    case = known()
    decision = decide(
        a_need(NeedKind.INFORMATION, about_reference=case.reference), "587", Context(case, [], [], []), 75
    )
    assert isinstance(decision, RecordChase)
    assert (
        decision.verdict.category is AvoidableCategory.PROGRESS_CHASING
        and decision.verdict.related_case_id == case.case_id
    )


def test_the_same_need_again_soon_after_its_answer_is_a_repeat() -> None:
    closed = known(closed=NOW - timedelta(days=3))
    decision = decide(a_need(), "587", Context(None, [], [closed], []), 75)
    assert isinstance(decision, RaiseCase) and decision.verdict.category is AvoidableCategory.REPEAT_CONTACT
    assert decision.verdict.related_case_id == closed.case_id
    assert decision.verdict.explanation.startswith("the same report problem again")


def test_the_next_step_of_a_journey_is_not_a_repeat() -> None:
    """The planning applicant: a One & Done enquiry by phone, then the application online."""
    enquiry = known(closed=NOW - timedelta(days=2), kind=NeedKind.INFORMATION, service_code="487")
    application = Need(need_id=uuid4(), kind=NeedKind.APPLICATION, service_code="487")
    decision = decide(application, "487", Context(None, [], [enquiry], []), 75)
    assert isinstance(decision, RaiseCase) and not decision.verdict.avoidable


def test_the_same_problem_at_the_same_place_is_a_repeat_whatever_kind_it_came_as() -> None:
    """A leak reported, repaired and closed; a week later a repair is asked for at the same home."""
    home = Location(uprn="100031234567")
    report = dataclasses.replace(
        known(closed=NOW - timedelta(days=7), service_code="141"), uprn="100031234567", kind=NeedKind.REPORT_PROBLEM
    )
    again = Need(need_id=uuid4(), kind=NeedKind.SERVICE_REQUEST, service_code="141", location=home)
    decision = decide(again, "141", Context(None, [], [report], []), 75)
    assert decision.verdict.category is AvoidableCategory.REPEAT_CONTACT
    assert decision.verdict.explanation.startswith("the same problem at the same place again")
    elsewhere = again.model_copy(update={"location": Location(uprn="100039999999")})
    assert not decide(elsewhere, "141", Context(None, [], [report], []), 75).verdict.avoidable


def test_asking_again_after_withdrawing_is_not_a_repeat() -> None:
    """A withdrawn case gave the customer no answer that could have settled the need."""
    withdrawn = known(closed=NOW - timedelta(days=3), outcome=CaseOutcome.WITHDRAWN)
    assert not decide(a_need(), "587", Context(None, [], [withdrawn], []), 75).verdict.avoidable
    declined = known(closed=NOW - timedelta(days=3), outcome=CaseOutcome.DECLINED)
    assert decide(a_need(), "587", Context(None, [], [declined], []), 75).verdict.avoidable


def test_a_missed_bin_is_the_councils_own_failure() -> None:
    need = Need(need_id=uuid4(), kind=NeedKind.REPORT_PROBLEM, service_code="524")
    assert decide(need, "524", EMPTY, 75).verdict.category is AvoidableCategory.COUNCIL_FAILURE


def test_the_agents_reason_is_kept() -> None:
    decision = decide(a_need(avoidable_reason="clarification"), "587", EMPTY, 75)
    assert decision.verdict.category is AvoidableCategory.CLARIFICATION
    other = decide(a_need(avoidable_reason="left a voicemail twice"), "587", EMPTY, 75)
    assert other.verdict.category is AvoidableCategory.AGENT_REPORTED
