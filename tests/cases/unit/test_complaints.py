"""Complaints: an overdue stage goes up by itself, and after stage 2 the ombudsman referral is recorded."""

from datetime import timedelta

import pytest

from onestop.cases.domain.case import Case, CaseRuleBroken, ComplaintPolicy
from onestop.cases.domain.sla import OMBUDSMEN, Nation, WorkingCalendar
from onestop.contracts.events.base import Event
from onestop.contracts.events.cases import (
    CaseEscalated,
    ComplaintDetailsRecorded,
    ComplaintReferredToOmbudsman,
    ComplaintStage,
)
from onestop.contracts.events.common import Actor, NeedKind
from tests.cases.factories import MONDAY_MORNING, routed

calendar = WorkingCalendar.for_council(Nation.SCOTLAND)
policy = ComplaintPolicy(ombudsman=OMBUDSMEN[Nation.SCOTLAND])


def complaint() -> Case:
    decision = routed(kind=NeedKind.COMPLAINT, service_code="353", area="corporate")
    case = Case.from_history(decision.case_id, Case.raise_from(decision, calendar))
    act(case, case.start_complaint(MONDAY_MORNING, calendar, policy))
    return case


def act(case: Case, events: list[Event]) -> list[Event]:
    for event in events:
        case.apply(event)
    return events


def test_an_overdue_stage_goes_up_to_the_next_with_its_owner_and_a_new_deadline() -> None:
    case = complaint()
    informal_due = case.complaint_due_at
    assert informal_due is not None
    assert case.overdue_complaint_stage(informal_due, calendar, policy) == []  # due, not yet overdue
    late = informal_due + timedelta(minutes=1)
    [escalated] = act(case, case.overdue_complaint_stage(late, calendar, policy))
    assert isinstance(escalated, CaseEscalated)
    assert (escalated.complaint_stage, escalated.owner_role) == (ComplaintStage.STAGE_1, "complaint_owner")
    assert escalated.due_at == calendar.due_by(late, policy.working_days[ComplaintStage.STAGE_1])
    assert case.overdue_complaint_stage(late, calendar, policy) == []  # once per stage


def test_an_overdue_last_stage_is_not_escalated_further() -> None:
    case = complaint()
    act(case, case.escalate_complaint(MONDAY_MORNING, calendar, policy))
    act(case, case.escalate_complaint(MONDAY_MORNING, calendar, policy))
    assert case.complaint_stage is ComplaintStage.STAGE_2 and case.complaint_due_at is not None
    assert case.overdue_complaint_stage(case.complaint_due_at + timedelta(days=30), calendar, policy) == []


def test_a_complaint_answered_before_its_deadline_is_not_escalated() -> None:
    case = complaint()
    act(case, case.resolve("We have put it right.", Actor(kind="agent", id="a1"), MONDAY_MORNING))
    assert case.complaint_due_at is not None
    assert case.overdue_complaint_stage(case.complaint_due_at + timedelta(days=1), calendar, policy) == []


def test_after_stage_2_the_referral_goes_to_the_nations_ombudsman_once() -> None:
    case = complaint()
    with pytest.raises(CaseRuleBroken, match="only after stage 2"):
        case.refer_to_ombudsman(MONDAY_MORNING, policy, None)
    act(case, case.escalate_complaint(MONDAY_MORNING, calendar, policy))
    act(case, case.escalate_complaint(MONDAY_MORNING, calendar, policy))
    act(case, case.withdraw(MONDAY_MORNING))  # a closed complaint can still go to the ombudsman
    [referral] = act(case, case.refer_to_ombudsman(MONDAY_MORNING, policy, "SPSO-202612345"))
    assert isinstance(referral, ComplaintReferredToOmbudsman)
    assert (referral.ombudsman, referral.ombudsman_reference) == ("SPSO", "SPSO-202612345")
    with pytest.raises(CaseRuleBroken, match="already referred to the SPSO"):
        case.refer_to_ombudsman(MONDAY_MORNING, policy, None)


def test_only_a_complaint_goes_to_the_ombudsman() -> None:
    decision = routed()
    case = Case.from_history(decision.case_id, Case.raise_from(decision, calendar))
    with pytest.raises(CaseRuleBroken, match="only a complaint"):
        case.refer_to_ombudsman(MONDAY_MORNING, policy, None)


def test_a_complaint_spanning_several_services_is_led_by_the_corporate_complaints_manager() -> None:
    case = complaint()
    [recorded] = act(
        case, case.record_complaint_details(MONDAY_MORNING, ["housing", "corporate"], "Acme Waste Ltd", "Cllr Jones")
    )
    assert isinstance(recorded, ComplaintDetailsRecorded)
    assert recorded.complaint.services_involved == ("corporate", "housing")  # its own area first, once
    assert recorded.data_subject == case.data_subject  # the contractor and councillor are sealed for the customer
    [stage_1] = act(case, case.escalate_complaint(MONDAY_MORNING, calendar, policy))
    assert isinstance(stage_1, CaseEscalated) and stage_1.owner_role == "corporate_complaints_manager"
    [stage_2] = act(case, case.escalate_complaint(MONDAY_MORNING, calendar, policy))
    assert isinstance(stage_2, CaseEscalated) and stage_2.owner_role == "director"


def test_only_a_complaint_has_complaint_details() -> None:
    decision = routed()
    case = Case.from_history(decision.case_id, Case.raise_from(decision, calendar))
    with pytest.raises(CaseRuleBroken, match="only a complaint"):
        case.record_complaint_details(MONDAY_MORNING, ["housing"], None, None)
