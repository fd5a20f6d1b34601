"""Every case event that carries personal data names its subject, so it can be sealed under their key:
the case's customer, or the contact's own subject when the customer was never identified."""

from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from onestop.cases.domain.case import Case
from onestop.cases.domain.sla import WorkingCalendar
from onestop.contracts.events.base import Event
from onestop.contracts.events.common import Actor, CustomerDetails, HandOffModel, unidentified_subject_for
from onestop.contracts.personal_data import personal_subjects
from tests.cases.factories import MONDAY_MORNING, routed

AGENT = Actor(kind="agent", id="agent-1", name="Charles Babbage")


def a_case_and_everything_done_to_it(customer_id: UUID | None) -> tuple[UUID, list[Event]]:
    decision = routed(model=HandOffModel.FIRE_AND_FORGET, customer_id=customer_id)
    if customer_id is None:
        decision = decision.model_copy(update={"customer": CustomerDetails(name="Nobody Known")})
    events = Case.raise_from(decision, WorkingCalendar())
    case = Case.from_history(decision.case_id, events)
    later = MONDAY_MORNING + timedelta(days=1)
    for decide in (
        lambda c: c.add_note("Called Mrs Known back", AGENT, later),
        lambda c: c.report_progress("Crew booked for Thursday", later),
        lambda c: c.reassign("street-scene-north", later, reason="Her street is in the north"),
        lambda c: c.decline("Private land: the owner is Mr Known", AGENT, later),
        lambda c: c.reopen("She says it is back", AGENT, later, timedelta(days=28)),
        lambda c: c.resolve("Cleared from outside her house", AGENT, later),
    ):
        made = decide(case)
        for event in made:
            case.apply(event)
        events += made
    return decision.personal_subject(), events


@pytest.mark.parametrize("identified", [True, False])
def test_every_case_event_with_personal_data_names_the_cases_subject(identified: bool) -> None:
    customer_id = uuid4() if identified else None
    subject, events = a_case_and_everything_done_to_it(customer_id)
    if identified:
        assert subject == customer_id
    else:
        assert subject == unidentified_subject_for(events[0].contact_id)  # type: ignore[attr-defined]
    holding = [e for e in events if personal_subjects(e)]
    assert {type(e).__name__ for e in holding} >= {"CaseRaised", "CaseHandedOff", "NoteAdded", "CaseDeclined"}
    for event in holding:
        assert personal_subjects(event) == {subject}, event.type
