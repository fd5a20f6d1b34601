"""Crypto-shredding on the real broker: personal data is sealed per subject, one key per subject everywhere,
and erasure shreds it."""

import asyncio
import base64
import os
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import ValidationError

from onestop.contracts import EventEnvelope, decode_record
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.cases import NoteAdded
from onestop.contracts.events.common import (
    Actor,
    Channel,
    CustomerDetails,
    Location,
    NeedKind,
    unidentified_subject_for,
)
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.servicekit.log_reading import batches_to_end, open_from_beginning
from onestop.servicekit.personal_data import (
    CustomerKeyring,
    PersonalDataUnprotected,
    install_keyring,
    new_kek,
    open_envelope,
    personal_data_protection,
    seal_envelope,
)
from onestop.servicekit.settings import ServiceSettings
from onestop.servicekit.topics_admin import ensure_topics
from tests.support import eventually, publish_events, read_records

pytestmark = pytest.mark.integration

NAME, EMAIL, UPRN = "Ada Lovelace-Byron", "ada.byron@example.org", "100023336956"
DESCRIPTION = "The bins at 12 Ockham Lane were missed again"


def a_contact(customer_id: UUID | None) -> ContactReceived:
    return ContactReceived(
        contact_id=uuid4(),
        channel=Channel.TELEPHONE,
        received_at=datetime.now(UTC),
        needs=(
            Need(
                need_id=uuid4(),
                kind=NeedKind.SERVICE_REQUEST,
                service_code="526",
                description=DESCRIPTION,
                location=Location(latitude=52.23, longitude=-0.89, uprn=UPRN, ward="Abington"),
            ),
        ),
        customer=CustomerDetails(customer_id=customer_id, name=NAME, email=EMAIL, uprn=UPRN, vulnerable=True),
    )


@pytest.fixture
def kek() -> str:
    return new_kek()


@pytest.fixture
async def keyring(kafka_bootstrap: str, namespace: str, kek: str):  # type: ignore[no-untyped-def]
    await ensure_topics(kafka_bootstrap, namespace, [contract_topics.CUSTOMER_KEYS])
    ring = CustomerKeyring(kafka_bootstrap, kek, namespace)
    await ring.start()
    install_keyring(ring)
    yield ring
    install_keyring(None)
    await ring.stop()


async def test_personal_data_never_reaches_the_log_in_the_clear(
    keyring: CustomerKeyring, kafka_bootstrap: str, namespace: str
) -> None:
    await ensure_topics(kafka_bootstrap, namespace, [contract_topics.CONTACTS])
    sealed = await seal_envelope(EventEnvelope.wrap(a_contact(uuid4()), source="/onestop/intake"))
    await publish_events(kafka_bootstrap, namespace, sealed)

    [record] = await read_records(kafka_bootstrap, contract_topics.CONTACTS.qualified(namespace), 1)
    for personal in (NAME, EMAIL, UPRN, DESCRIPTION, '"vulnerable":true'):
        assert personal.encode() not in record.value, personal
    assert b'"sealed":"v1.' in record.value
    assert b'"ward":"Abington"' in record.value and b'"service_code":"526"' in record.value, "statistics stay"


async def test_an_unidentified_customer_is_sealed_under_a_key_of_their_contact(
    keyring: CustomerKeyring, kafka_bootstrap: str, namespace: str
) -> None:
    contact = a_contact(customer_id=None)
    sealed = await seal_envelope(EventEnvelope.wrap(contact, source="/onestop/intake"))

    text = sealed.data.model_dump_json()
    assert NAME not in text and DESCRIPTION not in text
    subject = unidentified_subject_for(contact.contact_id)
    assert keyring.knows(subject), "the contact's own subject has a key of its own"
    opened = await open_envelope(sealed)
    assert opened.data.customer.name == NAME  # type: ignore[attr-defined]

    await keyring.erase(subject)
    assert (await open_envelope(sealed)).data.customer.name is None  # type: ignore[attr-defined]


async def test_a_consumer_reads_the_personal_data_until_the_customer_is_erased(
    keyring: CustomerKeyring, kafka_bootstrap: str, namespace: str
) -> None:
    await ensure_topics(kafka_bootstrap, namespace, [contract_topics.CONTACTS])
    customer = uuid4()
    first = await seal_envelope(EventEnvelope.wrap(a_contact(customer), source="/onestop/intake"))
    await keyring.erase(customer)
    # Published after erasure: sealing finds no key, so the personal fields are left out altogether.
    second = await seal_envelope(EventEnvelope.wrap(a_contact(customer), source="/onestop/intake"))
    await publish_events(kafka_bootstrap, namespace, first, second)

    records = await read_records(kafka_bootstrap, contract_topics.CONTACTS.qualified(namespace), 2)
    # What the consumer runtime does with each record: decode, then open.
    opened = {
        envelope.id: envelope.data
        for envelope in [await open_envelope(decode_record(r.value, r.headers)) for r in records]
    }
    before, after = opened[first.id], opened[second.id]
    assert isinstance(before, ContactReceived) and isinstance(after, ContactReceived)
    assert before.customer is not None and before.customer.name is None and before.customer.sealed
    assert before.needs[0].description == "", "sealed before, unreadable once erased"
    assert after.customer is not None and after.customer.name is None and after.customer.sealed is None
    assert after.needs[0].location is not None and after.needs[0].location.ward == "Abington"


async def test_a_consumer_opens_the_personal_data_of_a_customer_not_erased(
    keyring: CustomerKeyring, kafka_bootstrap: str, namespace: str
) -> None:
    await ensure_topics(kafka_bootstrap, namespace, [contract_topics.CONTACTS])
    await publish_events(
        kafka_bootstrap, namespace, await seal_envelope(EventEnvelope.wrap(a_contact(uuid4()), source="/t"))
    )
    [record] = await read_records(kafka_bootstrap, contract_topics.CONTACTS.qualified(namespace), 1)
    opened = (await open_envelope(decode_record(record.value, record.headers))).data
    assert isinstance(opened, ContactReceived) and opened.customer is not None
    assert (opened.customer.name, opened.customer.email, opened.customer.uprn) == (NAME, EMAIL, UPRN)
    assert opened.customer.vulnerable and opened.customer.sealed is None
    assert opened.needs[0].description == DESCRIPTION


async def test_erasure_makes_earlier_events_unreadable(keyring: CustomerKeyring) -> None:
    customer = uuid4()
    sealed = await seal_envelope(EventEnvelope.wrap(a_contact(customer), source="/test"))
    assert (await open_envelope(sealed)).data.customer.name == NAME  # type: ignore[attr-defined]

    await keyring.erase(customer)

    opened = (await open_envelope(sealed)).data.customer  # type: ignore[attr-defined]
    assert opened.name is None and opened.email is None
    assert opened.sealed is not None, "the ciphertext stays, and nobody can read it"


async def test_another_service_learns_keys_from_the_topic(
    keyring: CustomerKeyring, kafka_bootstrap: str, namespace: str, kek: str
) -> None:
    customer = uuid4()
    sealed = await seal_envelope(EventEnvelope.wrap(a_contact(customer), source="/test"))
    other = CustomerKeyring(kafka_bootstrap, kek, namespace)
    await other.start()
    try:
        key = await other.key_for_opening(customer)
        assert key is not None
        clear = CustomerKeyring.open(key, customer, sealed.data.customer.sealed)  # type: ignore[attr-defined, arg-type]
        assert clear is not None and NAME.encode() in clear
    finally:
        await other.stop()


async def test_a_keyring_started_before_anyone_made_the_key_topic_still_learns_keys(
    kafka_bootstrap: str, namespace: str, kek: str
) -> None:
    """Services start in any order: the first may find no key topic at all."""
    reader = CustomerKeyring(kafka_bootstrap, kek, namespace)
    await reader.start()
    writer = CustomerKeyring(kafka_bootstrap, kek, namespace)
    await writer.start()
    try:
        customer = uuid4()
        written = await writer.key_for_sealing(customer)
        assert await reader.key_for_opening(customer) == written
    finally:
        await writer.stop()
        await reader.stop()


def count_questions(keyring: CustomerKeyring) -> list[int]:
    """Counts how often the keyring asks the broker where the key topic ends."""
    assert keyring._offsets is not None
    ask, questions = keyring._offsets.end_offsets, [0]

    async def counted(partitions):  # type: ignore[no-untyped-def]
        questions[0] += 1
        return await ask(partitions)

    keyring._offsets.end_offsets = counted
    return questions


async def test_new_customers_keys_are_made_without_asking_and_opened_sharing_one_question(
    keyring: CustomerKeyring, kafka_bootstrap: str, namespace: str, kek: str
) -> None:
    """New customers' keys are made without asking where the key topic ends; a service opening what was sealed
    for a batch of them at once asks once or twice, not once each; every key is the one it opens with."""
    other = CustomerKeyring(kafka_bootstrap, kek, namespace)
    await other.start()
    try:
        made, opened = count_questions(keyring), count_questions(other)
        customers = [uuid4() for _ in range(40)]
        keys = await asyncio.gather(*(keyring.key_for_sealing(customer) for customer in customers))
        assert made == [0] and all(keys) and len(set(keys)) == len(customers)
        assert await asyncio.gather(*(other.key_for_opening(customer) for customer in customers)) == keys
        assert opened[0] <= 2
    finally:
        await other.stop()


async def test_two_services_sealing_for_one_new_customer_at_once_use_one_key(
    kafka_bootstrap: str, namespace: str, kek: str
) -> None:
    intake, cases = CustomerKeyring(kafka_bootstrap, kek, namespace), CustomerKeyring(kafka_bootstrap, kek, namespace)
    await asyncio.gather(intake.start(), cases.start())
    try:
        customer = uuid4()
        # Neither has read a key for the customer: each makes one and writes it, at the same moment.
        await asyncio.gather(intake._make_key(customer), cases._make_key(customer))
        assert len(await key_records(kafka_bootstrap, namespace, customer)) >= 2, "two keys were written"
        by_intake, by_cases = await asyncio.gather(intake.key_for_sealing(customer), cases.key_for_sealing(customer))
        assert by_intake is not None and by_intake == by_cases, "both seal under the one written first"

        contact = a_contact(customer)
        install_keyring(intake)
        sealed_by_intake = await seal_envelope(EventEnvelope.wrap(contact, source="/onestop/intake"))
        install_keyring(cases)
        sealed_by_cases = await seal_envelope(EventEnvelope.wrap(contact, source="/onestop/cases"))
        assert (await open_envelope(sealed_by_intake)).data.customer.name == NAME  # type: ignore[attr-defined]
        install_keyring(intake)
        assert (await open_envelope(sealed_by_cases)).data.customer.name == NAME  # type: ignore[attr-defined]

        # Through the public way in, too: two services meeting a new customer at once.
        another = uuid4()
        first, second = await asyncio.gather(intake.key_for_sealing(another), cases.key_for_sealing(another))
        assert first is not None and first == second

        # Compaction keeps only a customer's last record: the key that counts is written again, last.
        async def the_last_record_holds_the_key() -> bool:
            last = (await key_records(kafka_bootstrap, namespace, customer))[-1]
            compacted = CustomerKeyring(kafka_bootstrap, kek, namespace)  # as a keyring reading after compaction
            compacted._remember(last.key, last.value)
            return compacted._keys.get(customer) == by_intake

        await eventually(the_last_record_holds_the_key)
        later = CustomerKeyring(kafka_bootstrap, kek, namespace)
        await later.start()
        try:
            assert await later.key_for_opening(customer) == by_intake, "a service started later adopts it too"
        finally:
            await later.stop()
    finally:
        install_keyring(None)
        await asyncio.gather(intake.stop(), cases.stop())


async def test_a_key_written_after_another_or_after_erasure_is_never_used(
    kafka_bootstrap: str, namespace: str, kek: str
) -> None:
    keyring = CustomerKeyring(kafka_bootstrap, kek, namespace)
    await keyring.start()
    try:
        kept, erased = uuid4(), uuid4()
        key = await keyring.key_for_sealing(kept)
        await keyring.key_for_sealing(erased)
        await keyring.erase(erased)
        # A racer that had not read the topic yet wrote keys of its own for both.
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        await producer.start()
        try:
            topic = contract_topics.CUSTOMER_KEYS.qualified(namespace)
            for customer in (kept, erased):
                await producer.send_and_wait(topic, key=str(customer).encode(), value=wrapped(kek, customer))
        finally:
            await producer.stop()
        await keyring.catch_up()
        assert await keyring.key_for_opening(kept) == key
        assert keyring.is_erased(erased) and await keyring.key_for_sealing(erased) is None

        async def repaired() -> bool:
            kept_last = (await key_records(kafka_bootstrap, namespace, kept))[-1]
            erased_last = (await key_records(kafka_bootstrap, namespace, erased))[-1]
            return erased_last.value is None and keyring._unwrap(kept, kept_last.value) == key

        await eventually(repaired)
    finally:
        await keyring.stop()


async def test_a_key_record_that_cannot_be_read_is_skipped(kafka_bootstrap: str, namespace: str, kek: str) -> None:
    await ensure_topics(kafka_bootstrap, namespace, [contract_topics.CUSTOMER_KEYS])
    customer = uuid4()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        topic = contract_topics.CUSTOMER_KEYS.qualified(namespace)
        await producer.send_and_wait(topic, key=str(customer).encode(), value=b"not a wrapped key at all")
    finally:
        await producer.stop()
    ring = CustomerKeyring(kafka_bootstrap, kek, namespace)
    await ring.start()
    try:
        assert not ring.knows(customer)
        assert await ring.key_for_sealing(customer) is not None, "a key of its own is made and used"
    finally:
        await ring.stop()


async def test_personal_data_is_never_published_without_a_keyring_or_a_subject() -> None:
    with pytest.raises(PersonalDataUnprotected, match="no customer keyring"):
        await seal_envelope(EventEnvelope.wrap(a_contact(uuid4()), source="/test"))

    orphan = NoteAdded(
        case_id=uuid4(), note_id=uuid4(), added_at=datetime.now(UTC), author=Actor(kind="agent", id="a"), text="x"
    )
    with pytest.raises(PersonalDataUnprotected, match="names no data subject"):
        await seal_envelope(EventEnvelope.wrap(orphan, source="/test"))


@pytest.mark.parametrize(
    ("kek", "reason"),
    [("", "PERSONAL_DATA_KEK is empty"), ("not base64!", "not base64"), ("c2hvcnQ=", "holds 5 bytes, not the 32")],
)
async def test_a_service_refuses_to_start_without_a_proper_key_encryption_key(kek: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        ServiceSettings(personal_data_kek=kek)
    # Settings made by hand still cannot slip past the keyring: nothing starts, not even a connection.
    settings = ServiceSettings.model_construct(
        kafka_bootstrap_servers="127.0.0.1:1", topic_namespace="", personal_data_kek=kek
    )
    with pytest.raises(ValueError, match=reason):
        async with personal_data_protection(settings):
            pass


def test_the_key_encryption_key_has_no_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERSONAL_DATA_KEK")
    with pytest.raises(ValidationError, match="personal_data_kek"):
        ServiceSettings(_env_file=None)  # type: ignore[call-arg]


async def key_records(bootstrap: str, namespace: str, customer: UUID) -> list[Any]:
    """Every record on the key topic for `customer`, oldest first."""
    topic = contract_topics.CUSTOMER_KEYS.qualified(namespace)
    consumer, partitions = await open_from_beginning(bootstrap, [topic])
    try:
        found = [r async for batch in batches_to_end(consumer, partitions) for r in batch]
    finally:
        await consumer.stop()
    return sorted((r for r in found if r.key == str(customer).encode()), key=lambda r: r.offset)


def wrapped(kek: str, customer: UUID) -> bytes:
    """A new data key for `customer`, wrapped as a keyring writes it."""
    nonce = os.urandom(12)
    return nonce + AESGCM(base64.b64decode(kek)).encrypt(nonce, os.urandom(32), str(customer).encode())


async def test_the_key_encryption_key_is_rotated_without_losing_a_customer(
    kafka_bootstrap: str, namespace: str, kek: str
) -> None:
    old_keyring = CustomerKeyring(kafka_bootstrap, kek, namespace)
    await old_keyring.start()
    try:
        kept, erased = uuid4(), uuid4()
        key = await old_keyring.key_for_sealing(kept)
        await old_keyring.key_for_sealing(erased)
        await old_keyring.erase(erased)
    finally:
        await old_keyring.stop()

    rotated_kek = new_kek()
    # During the rotation, services hold the new KEK and the one it replaces.
    rotating = CustomerKeyring(kafka_bootstrap, rotated_kek, namespace, previous_keks=[kek])
    await rotating.start()
    try:
        assert await rotating.key_for_opening(kept) == key
        assert await rotating.rewrap_all() == 1  # the erased customer stays erased
    finally:
        await rotating.stop()
    last = (await key_records(kafka_bootstrap, namespace, kept))[-1]
    assert last.value is not None
    assert CustomerKeyring(kafka_bootstrap, kek, namespace)._unwrap(kept, last.value) is None, "wrapped anew"

    # Once compaction has dropped the older records the old KEK can go: what the topic keeps last unwraps
    # with the new one alone. A keyring holding only the new KEK skips the old record and finds the key.
    retired = CustomerKeyring(kafka_bootstrap, rotated_kek, namespace)
    await retired.start()
    try:
        assert await retired.key_for_opening(kept) == key
        assert await retired.key_for_opening(erased) is None
    finally:
        await retired.stop()
