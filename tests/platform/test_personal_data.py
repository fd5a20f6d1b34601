"""Crypto-shredding on the real broker: personal data is sealed per customer, and erasure shreds it."""

from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from onestop.contracts import EventEnvelope, decode_record
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.common import Channel, CustomerDetails, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.servicekit.personal_data import (
    CustomerKeyring,
    install_keyring,
    new_kek,
    open_envelope,
    seal_envelope,
)
from onestop.servicekit.settings import ServiceSettings
from onestop.servicekit.topics_admin import ensure_topics
from tests.support import publish_events, read_records

pytestmark = pytest.mark.integration

NAME, EMAIL = "Ada Lovelace-Byron", "ada.byron@example.org"


def a_contact(customer_id: UUID) -> ContactReceived:
    return ContactReceived(
        contact_id=uuid4(),
        channel=Channel.TELEPHONE,
        received_at=datetime.now(UTC),
        needs=(Need(need_id=uuid4(), kind=NeedKind.SERVICE_REQUEST, service_code="526"),),
        customer=CustomerDetails(customer_id=customer_id, name=NAME, email=EMAIL, uprn="100023336956"),
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
    settings = ServiceSettings(
        service_name="intake", kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=namespace
    )
    await ensure_topics(kafka_bootstrap, namespace, [contract_topics.CONTACTS])
    customer = uuid4()
    sealed = await seal_envelope(EventEnvelope.wrap(a_contact(customer), source=settings.source))
    await publish_events(kafka_bootstrap, namespace, sealed)

    [record] = await read_records(kafka_bootstrap, contract_topics.CONTACTS.qualified(namespace), 1)
    assert NAME.encode() not in record.value
    assert EMAIL.encode() not in record.value
    assert b'"sealed":"v1.' in record.value
    assert b"100023336956" in record.value, "what is not personal stays readable"


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
    opened = [await open_envelope(decode_record(r.value, r.headers)) for r in sorted(records, key=lambda r: r.offset)]
    before, after = (envelope.data.customer for envelope in opened)  # type: ignore[attr-defined]
    assert before is not None and before.name is None and before.sealed, "sealed before, unreadable once erased"
    assert after is not None and after.name is None and after.email is None, "erased: published without it"
    assert after.uprn == "100023336956"


async def test_a_consumer_opens_the_personal_data_of_a_customer_not_erased(
    keyring: CustomerKeyring, kafka_bootstrap: str, namespace: str
) -> None:
    await ensure_topics(kafka_bootstrap, namespace, [contract_topics.CONTACTS])
    customer = uuid4()
    await publish_events(
        kafka_bootstrap, namespace, await seal_envelope(EventEnvelope.wrap(a_contact(customer), source="/t"))
    )
    [record] = await read_records(kafka_bootstrap, contract_topics.CONTACTS.qualified(namespace), 1)
    opened = (await open_envelope(decode_record(record.value, record.headers))).data.customer  # type: ignore[attr-defined]
    assert opened is not None and opened.name == NAME and opened.email == EMAIL and opened.sealed is None


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
