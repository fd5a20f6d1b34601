"""A subject-access export gathers one customer's events from the log, with their personal data opened."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from onestop.contracts import EventEnvelope
from onestop.contracts.events.cases import CaseRaised, NoteAdded
from onestop.contracts.events.common import Actor, Channel, CustomerDetails, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.ops.subject_access import export
from onestop.servicekit.personal_data import CustomerKeyring, install_keyring, new_kek, seal_envelope
from onestop.servicekit.topics_admin import ensure_topics
from tests.support import publish_events

pytestmark = pytest.mark.integration


def contact(customer: CustomerDetails) -> ContactReceived:
    return ContactReceived(
        contact_id=uuid4(),
        channel=Channel.WEB,
        received_at=datetime.now(UTC),
        customer=customer,
        needs=(Need(need_id=uuid4(), kind=NeedKind.REPORT_PROBLEM, service_code="587"),),
    )


async def test_the_export_holds_the_customers_events_in_the_clear_and_nobody_elses(
    kafka_bootstrap: str, namespace: str
) -> None:
    await ensure_topics(kafka_bootstrap, namespace)
    kek = new_kek()
    keyring = CustomerKeyring(kafka_bootstrap, kek, namespace)
    await keyring.start()
    install_keyring(keyring)
    try:
        ada = CustomerDetails(customer_id=uuid4(), name="Ada Byron", email="ada@example.org")
        other = CustomerDetails(customer_id=uuid4(), name="Someone Else", email="else@example.org")
        case_id = uuid4()
        raised = CaseRaised(
            case_id=case_id,
            reference="OS-AAAA-BBBB",
            raised_at=datetime.now(UTC),
            contact_id=uuid4(),
            need_id=uuid4(),
            channel=Channel.WEB,
            kind=NeedKind.REPORT_PROBLEM,
            service_code="587",
            service_area="street_cleaning",
            customer=ada,
        )
        note = NoteAdded(
            case_id=case_id,
            note_id=uuid4(),
            added_at=datetime.now(UTC),
            author=Actor(kind="agent", id="a"),
            text="Called back",
            data_subject=ada.customer_id,
        )
        sealed = [
            await seal_envelope(EventEnvelope.wrap(e, source="/t"))
            for e in (contact(ada), contact(other), raised, note)
        ]
    finally:
        install_keyring(None)
        await keyring.stop()
    await publish_events(kafka_bootstrap, namespace, *sealed)

    found = await export(kafka_bootstrap, namespace, ada.customer_id, kek)

    types = sorted(e["type"] for e in found["events"])
    assert types == ["onestop.case.note-added", "onestop.case.raised", "onestop.contact.received"]
    text = str(found)
    assert "Ada Byron" in text and "ada@example.org" in text, "opened with the customer's key"
    assert "Someone Else" not in text
    assert found["erased"] is False
