"""`onestop erase-customer` and `subject-access` reach every key a person's data is sealed under: their
record's, the records merged into it, and their contacts from before they were identified; and erasure
never reports success when nothing of the person was ever sealed."""

import asyncio
import os
import sys
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from onestop.contracts import EventEnvelope
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.common import AssuranceLevel, Channel, CustomerDetails, NeedKind, unidentified_subject_for
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.contracts.events.customers import CustomerErased, CustomerIdentified, CustomersMerged
from onestop.ops.subject_access import erase, export
from onestop.servicekit.personal_data import CustomerKeyring, install_keyring, new_kek, seal_envelope
from onestop.servicekit.topics_admin import ensure_topics
from tests.support import publish_events, read_events

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)


def contact(customer: CustomerDetails, text: str) -> ContactReceived:
    return ContactReceived(
        contact_id=uuid4(),
        channel=Channel.POST,
        received_at=NOW,
        customer=customer,
        needs=(Need(need_id=uuid4(), kind=NeedKind.REPORT_PROBLEM, service_code="587", description=text),),
    )


async def a_person_with_three_keys(bootstrap: str, namespace: str, kek: str) -> tuple[UUID, UUID, ContactReceived]:
    """Ada's record, a record merged into it, and a letter sealed before she was identified (then linked)."""
    ada, merged = uuid4(), uuid4()
    letter = contact(CustomerDetails(name="Ada Byron"), "a letter before anyone knew who wrote it")
    events = [
        contact(CustomerDetails(customer_id=ada, name="Ada Byron", email="ada@example.org"), "by email"),
        contact(CustomerDetails(customer_id=merged, phone="07700 900123"), "by phone"),
        letter,
        CustomersMerged(surviving_customer_id=ada, merged_customer_id=merged, merged_at=NOW),
        CustomerIdentified(
            customer_id=ada, contact_id=letter.contact_id, identified_at=NOW, assurance=AssuranceLevel.LOW, method="x"
        ),
    ]
    keyring = CustomerKeyring(bootstrap, kek, namespace)
    await keyring.start()
    install_keyring(keyring)
    try:
        sealed = [await seal_envelope(EventEnvelope.wrap(e, source="/onestop/intake")) for e in events]
    finally:
        install_keyring(None)
        await keyring.stop()
    await publish_events(bootstrap, namespace, *sealed)
    return ada, merged, letter


async def test_erasing_a_person_shreds_every_key_of_theirs_and_publishes_each_erasure(
    kafka_bootstrap: str, namespace: str
) -> None:
    await ensure_topics(kafka_bootstrap, namespace)
    kek = new_kek()
    ada, merged, letter = await a_person_with_three_keys(kafka_bootstrap, namespace, kek)
    letter_subject = unidentified_subject_for(letter.contact_id)

    before = await export(kafka_bootstrap, namespace, ada, kek)
    assert before["erased"] is False
    assert "a letter before anyone knew who wrote it" in str(before) and "07700 900123" in str(before)

    erasure = await erase(kafka_bootstrap, namespace, kek, "UK GDPR Art. 17", customer_id=ada)

    assert erasure.anything_sealed
    assert set(erasure.shredded) == {ada, merged, letter_subject}
    published = await read_events(kafka_bootstrap, contract_topics.CUSTOMERS.qualified(namespace), 5)
    erased = {e.data.customer_id for e in published if isinstance(e.data, CustomerErased)}
    assert erased == {ada, merged, letter_subject}, "every service drops what it holds of each subject"
    after = await export(kafka_bootstrap, namespace, ada, kek)
    assert after["erased"] is True
    for personal in ("Ada Byron", "ada@example.org", "07700 900123", "a letter before anyone knew"):
        assert personal not in str(after), personal


async def test_someone_never_identified_is_erased_by_a_contact_of_theirs(kafka_bootstrap: str, namespace: str) -> None:
    await ensure_topics(kafka_bootstrap, namespace)
    kek = new_kek()
    letter = contact(CustomerDetails(name="Nobody Known"), "the underpass again")
    keyring = CustomerKeyring(kafka_bootstrap, kek, namespace)
    await keyring.start()
    install_keyring(keyring)
    try:
        await publish_events(kafka_bootstrap, namespace, await seal_envelope(EventEnvelope.wrap(letter, source="/t")))
    finally:
        install_keyring(None)
        await keyring.stop()

    found = await export(kafka_bootstrap, namespace, None, kek, contact_id=letter.contact_id)
    assert "Nobody Known" in str(found) and "the underpass again" in str(found)

    erasure = await erase(kafka_bootstrap, namespace, kek, "UK GDPR Art. 17", contact_id=letter.contact_id)
    assert erasure.shredded == [unidentified_subject_for(letter.contact_id)]
    gone = await export(kafka_bootstrap, namespace, None, kek, contact_id=letter.contact_id)
    assert "Nobody Known" not in str(gone) and "the underpass again" not in str(gone)


async def erase_customer(env: dict[str, str], *arguments: str) -> tuple[int, str]:
    erasing = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from onestop.ops.cli import app; app()",
        "erase-customer",
        *arguments,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await erasing.communicate()
    return erasing.returncode or 0, out.decode()


async def test_erasure_never_reports_success_when_nothing_was_ever_sealed(kafka_bootstrap: str, namespace: str) -> None:
    await ensure_topics(kafka_bootstrap, namespace)
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "TOPIC_NAMESPACE": namespace}

    code, said = await erase_customer(env, str(uuid4()), "--basis", "UK GDPR Art. 17")
    assert code == 1 and "was ever sealed" in said, said

    code, said = await erase_customer({**env, "PERSONAL_DATA_KEK": ""}, str(uuid4()), "--basis", "UK GDPR Art. 17")
    assert code == 2 and "PERSONAL_DATA_KEK is empty" in said, said
