"""The Case aggregate: its lifecycle, its rules and its escalations, without any I/O."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onestop.cases.domain.case import Case, CaseRuleBroken, CaseStatus, ComplaintPolicy
from onestop.cases.domain.sla import WorkingCalendar
from onestop.contracts.events.back_office import HandOffAccepted, WorkCompleted
from onestop.contracts.events.base import Event
from onestop.contracts.events.cases import (
    CaseClosed,
    CaseDeclined,
    CaseEscalated,
    CaseHandedOff,
    CaseOutcome,
    CaseRaised,
    CaseResolved,
    ComplaintStage,
    EscalationReason,
)
from onestop.contracts.events.common import Actor, Channel, HandOffModel, NeedKind
from onestop.contracts.identifiers import case_reference_for
from tests.cases.factories import MONDAY_MORNING, routed

calendar = WorkingCalendar()
AGENT = Actor(kind="agent", id="a1")


def raised(**kwargs: object) -> tuple[Case, list[Event]]:
    decision = routed(**kwargs)  # type: ignore[arg-type]
    events = Case.raise_from(decision, calendar)
    return Case.from_history(decision.case_id, events), events


def act(case: Case, events: list[Event]) -> list[Event]:
    for event in events:
        case.apply(event)
    return events


def test_a_routed_need_is_raised_and_handed_off_with_its_due_time() -> None:
    case, events = raised(sla_days=3)
    assert [type(e) for e in events] == [CaseRaised, CaseHandedOff]
    assert case.status is CaseStatus.HANDED_OFF
    assert case.reference == case_reference_for(case.case_id)
    assert events[1].sla_due_at == calendar.due_by(MONDAY_MORNING, 3)  # type: ignore[attr-defined]


def test_one_and_done_resolves_and_closes_at_first_contact() -> None:
    case, events = raised(model=HandOffModel.ONE_AND_DONE, kind=NeedKind.INFORMATION)
    assert [type(e) for e in events] == [CaseRaised, CaseResolved, CaseClosed]
    assert events[1].at_first_contact is True  # type: ignore[attr-defined]
    assert case.status is CaseStatus.CLOSED


def test_one_and_done_has_no_service_standard_so_no_verdict_on_meeting_one() -> None:
    _, events = raised(model=HandOffModel.ONE_AND_DONE, kind=NeedKind.INFORMATION)
    closed = events[-1]
    assert isinstance(closed, CaseClosed) and closed.within_sla is None


def test_a_case_is_raised_when_its_contact_was_received_not_when_routing_got_to_it() -> None:
    """A call on 7 December routed after an outage in January is a December case, resolved in December."""
    call = datetime(2026, 12, 7, 11, 0, tzinfo=UTC)
    late = routed(at=call).model_copy(update={"routed_at": datetime(2027, 1, 4, 9, 0, tzinfo=UTC)})
    handed_off = Case.raise_from(late, calendar)
    assert handed_off[0].raised_at == call  # type: ignore[attr-defined]
    assert handed_off[1].sla_due_at == calendar.due_by(call, late.sla_working_days)  # type: ignore[attr-defined]

    raised_now, resolved, closed = Case.raise_from(
        late.model_copy(update={"hand_off_model": HandOffModel.ONE_AND_DONE}), calendar
    )
    assert isinstance(raised_now, CaseRaised) and isinstance(resolved, CaseResolved) and isinstance(closed, CaseClosed)
    assert raised_now.raised_at == resolved.resolved_at == closed.closed_at == call


def test_back_office_completion_resolves_and_closes_the_case() -> None:
    case, _ = raised()
    act(
        case,
        case.accept(HandOffAccepted(case_id=case.case_id, system="lob", work_item_id="W1", accepted_at=MONDAY_MORNING)),
    )
    done = act(
        case,
        case.complete(
            WorkCompleted(
                case_id=case.case_id,
                system="lob",
                work_item_id="W1",
                completed_at=MONDAY_MORNING + timedelta(days=1),
                outcome="Cleared",
            )
        ),
    )
    assert [type(e) for e in done] == [CaseResolved, CaseClosed]
    assert done[1].within_sla is True  # type: ignore[attr-defined]
    assert case.status is CaseStatus.CLOSED and case.outcome is CaseOutcome.RESOLVED


def test_declined_is_distinct_from_open_and_needs_a_reason() -> None:
    case, _ = raised()
    with pytest.raises(CaseRuleBroken, match="reason"):
        case.decline("  ", AGENT, MONDAY_MORNING)
    events = act(case, case.decline("Private land", AGENT, MONDAY_MORNING))
    assert isinstance(events[0], CaseDeclined)
    assert case.outcome is CaseOutcome.DECLINED and not case.is_open


def test_illegal_transitions_are_refused_with_a_reason() -> None:
    case, _ = raised()
    act(case, case.resolve("Done", AGENT, MONDAY_MORNING))
    with pytest.raises(CaseRuleBroken, match="closed"):
        case.resolve("Again", AGENT, MONDAY_MORNING)
    with pytest.raises(CaseRuleBroken, match="does not exist"):
        Case(uuid4()).add_note("hello", AGENT, MONDAY_MORNING)


def test_reopen_only_within_the_window() -> None:
    case, _ = raised()
    act(case, case.resolve("Done", AGENT, MONDAY_MORNING))
    with pytest.raises(CaseRuleBroken, match="28 days"):
        case.reopen("Came back", AGENT, MONDAY_MORNING + timedelta(days=29), timedelta(days=28))
    act(case, case.reopen("Came back", AGENT, MONDAY_MORNING + timedelta(days=3), timedelta(days=28)))
    assert case.is_open


def test_a_reopened_case_is_handed_off_again_to_its_team_with_as_long_as_before() -> None:
    case, events = raised(sla_days=3)
    first = events[1]
    assert isinstance(first, CaseHandedOff)
    act(case, case.resolve("Done", AGENT, MONDAY_MORNING + timedelta(days=1)))
    later = MONDAY_MORNING + timedelta(days=5)
    reopened = act(case, case.reopen("Came back", AGENT, later, timedelta(days=28)))
    again = reopened[1]
    assert isinstance(again, CaseHandedOff) and again.team == first.team and again.handed_off_at == later
    assert again.sla_due_at - later == first.sla_due_at - first.handed_off_at
    assert case.status is CaseStatus.HANDED_OFF and case.sla_due_at == again.sla_due_at


def test_age_escalations_happen_once_each() -> None:
    case, _ = raised(sla_days=100)
    assert case.raised_at is not None
    assert case.escalations_due(case.raised_at + timedelta(days=30) - timedelta(seconds=1)) == []
    first = act(case, case.escalations_due(case.raised_at + timedelta(days=30)))
    assert [e.reason for e in first] == [EscalationReason.AGED_30_DAYS]  # type: ignore[attr-defined]
    assert first[0].escalated_to == ("senior_manager", "portfolio_holder")  # type: ignore[attr-defined]
    assert case.escalations_due(MONDAY_MORNING + timedelta(days=45)) == []
    second = act(case, case.escalations_due(MONDAY_MORNING + timedelta(days=61)))
    assert [e.reason for e in second] == [EscalationReason.AGED_60_DAYS]  # type: ignore[attr-defined]
    assert case.escalations_due(MONDAY_MORNING + timedelta(days=90)) == []


def test_sla_breach_is_escalated_once() -> None:
    case, _ = raised(sla_days=1)
    breach = act(case, case.escalations_due(MONDAY_MORNING + timedelta(days=3)))
    assert [e.reason for e in breach] == [EscalationReason.SLA_BREACHED]  # type: ignore[attr-defined]
    assert case.escalations_due(MONDAY_MORNING + timedelta(days=4)) == []


def test_a_chase_alerts_a_customer_advocate_but_not_fire_and_forget() -> None:
    advocate, _ = raised(model=HandOffModel.CUSTOMER_ADVOCATE)
    forget, _ = raised(model=HandOffModel.FIRE_AND_FORGET)
    assert len(advocate.record_chase(uuid4(), Channel.TELEPHONE, MONDAY_MORNING)) == 2
    assert len(forget.record_chase(uuid4(), Channel.TELEPHONE, MONDAY_MORNING)) == 1


def test_complaint_moves_through_its_stages_with_owners_and_deadlines() -> None:
    policy = ComplaintPolicy()
    case, _ = raised(kind=NeedKind.COMPLAINT, service_code="353", area="corporate")
    stages = []
    for _ in range(3):
        events = act(
            case,
            case.start_complaint(MONDAY_MORNING, calendar, policy)
            or case.escalate_complaint(MONDAY_MORNING, calendar, policy),
        )
        escalation = events[0]
        assert isinstance(escalation, CaseEscalated)
        stages.append((escalation.complaint_stage, escalation.owner_role))
        assert escalation.due_at is not None and escalation.due_at > MONDAY_MORNING
    assert stages == [
        (ComplaintStage.INFORMAL, "team_leader"),
        (ComplaintStage.STAGE_1, "complaint_owner"),
        (ComplaintStage.STAGE_2, "director"),
    ]
    with pytest.raises(CaseRuleBroken, match="last stage"):
        case.escalate_complaint(MONDAY_MORNING, calendar, policy)


def test_a_reporter_is_linked_once() -> None:
    case, _ = raised()
    reporter = uuid4()
    assert len(act(case, case.link_reporter(reporter, uuid4(), None, MONDAY_MORNING))) == 1
    assert case.link_reporter(reporter, uuid4(), None, MONDAY_MORNING) == []


COMMANDS = st.lists(
    st.sampled_from(["accept", "progress", "complete", "resolve", "decline", "reopen", "note", "reassign", "age"]),
    max_size=25,
)


def command(name: str, case: Case, now: datetime) -> list[Event]:
    return {
        "accept": lambda: case.accept(
            HandOffAccepted(case_id=case.case_id, system="l", work_item_id="W", accepted_at=now)
        ),
        "progress": lambda: case.report_progress("on it", now),
        "complete": lambda: case.complete(
            WorkCompleted(case_id=case.case_id, system="l", work_item_id="W", completed_at=now, outcome="ok")
        ),
        "resolve": lambda: case.resolve("ok", AGENT, now),
        "decline": lambda: case.decline("no", AGENT, now),
        "reopen": lambda: case.reopen("again", AGENT, now, timedelta(days=28)),
        "note": lambda: case.add_note("n", AGENT, now),
        "reassign": lambda: case.reassign(f"team-{now.day}", now),
        "age": lambda: case.escalations_due(now),
    }[name]()


@settings(max_examples=200, deadline=None)
@given(COMMANDS)
def test_random_command_sequences_keep_the_invariants(commands: list[str]) -> None:
    case, history = raised()
    now = MONDAY_MORNING
    for name in commands:
        now += timedelta(days=3)
        try:
            events = command(name, case, now)
        except CaseRuleBroken:
            continue
        history += act(case, events)
        # Replaying the history always gives the same case.
        assert Case.from_history(case.case_id, history) == case
        # A closed case always has an outcome; an open one never does.
        assert (case.status is CaseStatus.CLOSED) == (case.outcome is not None)
        # An age escalation happens at most once per time the case is open.
        reopened = sum(1 for e in history if type(e).__name__ == "CaseReopened")
        reasons = [e.reason for e in history if isinstance(e, CaseEscalated)]
        assert reasons.count(EscalationReason.AGED_30_DAYS) <= 1 + reopened
        assert case.version == len(history)
