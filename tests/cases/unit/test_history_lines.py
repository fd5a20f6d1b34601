"""A case's history in plain English, in the council's own time."""

from datetime import UTC, datetime
from uuid import uuid4

from onestop.cases.domain.history import describe
from onestop.contracts.events.cases import CaseHandedOff, CaseResolved, NoteAdded
from onestop.contracts.events.common import Actor, HandOffModel


def test_a_hand_off_names_the_team_the_model_and_the_london_time() -> None:
    handed = CaseHandedOff(
        case_id=uuid4(),
        reference="OS-AAAA-BBBB",
        handed_off_at=datetime(2026, 11, 3, 10, 2, tzinfo=UTC),
        hand_off_model=HandOffModel.FIRE_AND_FORGET,
        service_code="524",
        service_area="waste",
        team="waste-services",
        sla_due_at=datetime(2026, 11, 10, 17, 0, tzinfo=UTC),
    )
    assert (
        describe(handed) == "Handed to Waste Services (Fire & Forget) on 3 Nov 2026 at 10:02, due 10 Nov 2026 at 17:00"
    )


def test_summer_times_are_british_summer_time() -> None:
    resolved = CaseResolved(
        case_id=uuid4(),
        resolved_at=datetime(2026, 7, 1, 9, 30, tzinfo=UTC),
        outcome="done",
        resolved_by=Actor(kind="agent", id="a1"),
        at_first_contact=True,
    )
    assert describe(resolved) == "Resolved at the first point of contact on 1 Jul 2026 at 10:30"


def test_a_note_line_says_who_and_whether_the_customer_sees_it_not_what() -> None:
    note = NoteAdded(
        case_id=uuid4(),
        note_id=uuid4(),
        added_at=datetime(2026, 11, 3, 10, 2, tzinfo=UTC),
        author=Actor(kind="agent", id="a1", name="Sam Adviser"),
        text="Customer is deaf: write, do not ring",
    )
    line = describe(note)
    assert line == "Note added by Sam Adviser on 3 Nov 2026 at 10:02 (internal)"
