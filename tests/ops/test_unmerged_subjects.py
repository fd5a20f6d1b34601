"""A merge undone: the record is a person of its own again, so exporting or erasing the other leaves it be."""

from datetime import UTC, datetime
from uuid import uuid4

from onestop.contracts import EventEnvelope
from onestop.contracts.events.customers import CustomersMerged, CustomersUnmerged
from onestop.ops.subject_access import subjects_of

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_an_unmerged_record_is_no_longer_among_the_persons_subjects() -> None:
    jo, sam = uuid4(), uuid4()
    merged = EventEnvelope.wrap(
        CustomersMerged(surviving_customer_id=jo, merged_customer_id=sam, merged_at=NOW), source="/t"
    )
    unmerged = EventEnvelope.wrap(
        CustomersUnmerged(surviving_customer_id=jo, merged_customer_id=sam, unmerged_at=NOW, unmerged_by="admin"),
        source="/t",
    )
    assert subjects_of(jo, [merged]) == {jo, sam}
    assert subjects_of(jo, [merged, unmerged]) == {jo}
    assert subjects_of(jo, [merged, unmerged, merged]) == {jo, sam}  # merged again, rightly this time
