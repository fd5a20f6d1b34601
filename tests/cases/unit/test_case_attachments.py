"""A customer's photos travel with their case to the back office, sealed with the rest of what they said."""

from onestop.cases.domain.case import Case
from onestop.cases.domain.sla import WorkingCalendar
from onestop.contracts.events.cases import CaseHandedOff, CaseRaised
from onestop.contracts.events.common import Attachment
from onestop.contracts.personal_data import personal_subjects
from tests.cases.factories import routed

PHOTO = Attachment(url="https://reports.example.org/photo/8812.jpeg", media_type="image/jpeg", size_bytes=0)


def test_the_photos_of_a_need_reach_the_case_and_its_hand_off() -> None:
    decision = routed()
    decision = decision.model_copy(update={"need": decision.need.model_copy(update={"attachments": (PHOTO,)})})
    raised, handed_off = Case.raise_from(decision, WorkingCalendar())
    assert isinstance(raised, CaseRaised) and isinstance(handed_off, CaseHandedOff)
    assert raised.attachments == handed_off.attachments == (PHOTO,)
    # The photo's address is sealed under the customer's key, as the rest of what they said.
    assert personal_subjects(handed_off) == {decision.personal_subject()}
