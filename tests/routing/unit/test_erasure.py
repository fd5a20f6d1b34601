"""An erased customer leaves nothing readable in routing: their known cases lose the customer and the
property, and a contact of theirs waiting in triage keeps only what is not personal."""

from datetime import UTC, datetime
from uuid import uuid4

from onestop.contracts import EventEnvelope
from onestop.contracts.events.common import Channel, CustomerDetails, Location, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.contracts.events.customers import CustomerErased
from onestop.contracts.personal_data import personal_subjects
from onestop.routing.domain.known_case import KnownCase
from onestop.routing.handlers import on_customer_erased
from onestop.servicekit.unit_of_work import InMemoryUnitOfWork
from tests.routing.unit.fakes import InMemoryKnownCases, InMemoryTriageQueue, in_memory

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)


def a_known_case(**who: object) -> KnownCase:
    return KnownCase(
        case_id=uuid4(),
        reference="OS-AAAA-BBBB",
        contact_id=uuid4(),
        need_id=uuid4(),
        service_code="557",
        service_area="highways",
        kind=NeedKind.REPORT_PROBLEM,
        channel=Channel.WEB,
        opened_at=NOW,
        uprn="100023336956",
        **who,  # type: ignore[arg-type]
    )


async def test_an_erased_customer_leaves_nothing_readable_in_routing() -> None:
    customer, stranger = uuid4(), uuid4()
    theirs, someone_elses = a_known_case(customer_id=customer), a_known_case(customer_id=stranger)
    anonymous = a_known_case(customer_id=None, data_subject=uuid4())
    known, triage = InMemoryKnownCases(theirs, someone_elses, anonymous), InMemoryTriageQueue()
    need = Need(
        need_id=uuid4(),
        kind=NeedKind.INFORMATION,
        description="Please ring me about my mother's flat",
        location=Location(address="12 Ockham Lane", ward="Castle"),
    )
    contact = ContactReceived(
        contact_id=uuid4(),
        channel=Channel.POST,
        received_at=NOW,
        needs=(need,),
        customer=CustomerDetails(customer_id=customer, name="Ada Byron"),
    )
    envelope = EventEnvelope.wrap(contact, source="/onestop/intake")
    await triage.add(
        contact.contact_id,
        need.need_id,
        contact=envelope,
        reason="no service",
        best_guess=None,
        confidence=0,
        queued_at=NOW,
    )
    repos = in_memory(known, triage)

    for subject in (customer, anonymous.data_subject):
        assert subject is not None
        erased = CustomerErased(customer_id=subject, erased_at=NOW, legal_basis="UK GDPR Art. 17")
        await on_customer_erased(erased, InMemoryUnitOfWork(repos))

    assert (known.cases[theirs.case_id].customer_id, known.cases[theirs.case_id].uprn) == (None, None)
    assert known.cases[anonymous.case_id].uprn is None
    assert known.cases[someone_elses.case_id] == someone_elses
    kept = await triage.take(contact.contact_id, need.need_id)
    assert kept is not None and personal_subjects(kept.data) == set(), "still waiting, with nothing of theirs"
    assert isinstance(kept.data, ContactReceived) and kept.data.needs[0].location.ward == "Castle"  # type: ignore[union-attr]
