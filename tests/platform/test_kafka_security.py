"""Kafka over TLS with SASL: a broker that accepts nothing else, and onestop's clients configured for it
through the environment alone (topics created, an event published and read back)."""

import secrets
from collections.abc import Iterator

import pytest
from aiokafka import AIOKafkaClient  # type: ignore[import-untyped]
from aiokafka.errors import KafkaConnectionError, KafkaError  # type: ignore[import-untyped]
from aiokafka.helpers import create_ssl_context  # type: ignore[import-untyped]

from onestop.contracts import EventEnvelope, decode_record, encode_envelope
from onestop.contracts import topics as contract_topics
from onestop.intake.adapters.kafka_transactions import KafkaTransactions, Outgoing
from onestop.localinfra import kafka
from onestop.servicekit import kafka_security
from onestop.servicekit.kafka_security import KafkaSecurity, kafka_options, use_credentials_of
from onestop.servicekit.log_reading import batches_to_end, open_from_beginning
from onestop.servicekit.topics_admin import ensure_topics
from tests.platform.test_kafka_roundtrip import a_contact

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def secure_broker() -> Iterator[kafka.SecureBroker]:
    broker = kafka.start_secure("onestop-intake", secrets.token_urlsafe(12))
    yield broker
    kafka.stop_secure()


@pytest.fixture
def secured_environment(secure_broker: kafka.SecureBroker, monkeypatch: pytest.MonkeyPatch) -> kafka.SecureBroker:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "PLAIN")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", secure_broker.username)
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", secure_broker.password)
    monkeypatch.setenv("KAFKA_SSL_CAFILE", str(secure_broker.ca_file))
    return secure_broker


async def _metadata(bootstrap: str, **options: object) -> None:
    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=5000, **options)
    try:
        await client.bootstrap()
    finally:
        await client.close()


async def test_services_publish_and_read_over_sasl_ssl(secured_environment: kafka.SecureBroker) -> None:
    bootstrap, namespace = secured_environment.bootstrap, f"t{secrets.token_hex(5)}."
    await ensure_topics(bootstrap, namespace, [contract_topics.CONTACTS])
    envelope = EventEnvelope.wrap(a_contact("Pothole"), source="/onestop/intake")
    # As intake publishes a contact: in a Kafka transaction, all acknowledgements awaited, then committed.
    transactions = KafkaTransactions(bootstrap, f"onestop-intake-{secrets.token_hex(4)}", client_id="onestop-intake")
    await transactions.start()
    try:
        record = encode_envelope(envelope)
        await transactions.commit([Outgoing(contract_topics.CONTACTS.qualified(namespace), record)], timeout=30)
    finally:
        await transactions.stop()

    consumer, partitions = await open_from_beginning(bootstrap, [contract_topics.CONTACTS.qualified(namespace)])
    try:
        read = [
            decode_record(r.value, r.headers) async for batch in batches_to_end(consumer, partitions) for r in batch
        ]
    finally:
        await consumer.stop()
    assert read == [envelope]


async def test_the_broker_refuses_plaintext_and_wrong_credentials(secure_broker: kafka.SecureBroker) -> None:
    with pytest.raises(KafkaConnectionError):
        await _metadata(secure_broker.bootstrap)
    with pytest.raises(KafkaError):
        await _metadata(
            secure_broker.bootstrap,
            security_protocol="SASL_SSL",
            ssl_context=create_ssl_context(cafile=str(secure_broker.ca_file)),
            sasl_mechanism="PLAIN",
            sasl_plain_username=secure_broker.username,
            sasl_plain_password="not-the-password",
        )


def test_sasl_without_a_username_is_a_clear_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.delenv("KAFKA_SASL_USERNAME", raising=False)
    with pytest.raises(ValueError, match="needs KAFKA_SASL_USERNAME"):
        KafkaSecurity()


def test_plaintext_is_the_default_and_sets_no_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    security = KafkaSecurity(_env_file=None)  # type: ignore[call-arg]
    assert security.client_options() == {"security_protocol": "PLAINTEXT"}
    assert security.faststream_security() is None


def test_a_service_signs_in_with_its_own_credentials_before_the_shared_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "admin")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "admin-secret")
    monkeypatch.setenv("INTAKE_KAFKA_SASL_USERNAME", "onestop-intake")
    monkeypatch.setenv("INTAKE_KAFKA_SASL_PASSWORD", "intake-secret")
    monkeypatch.delenv("CASES_KAFKA_SASL_USERNAME", raising=False)
    monkeypatch.setattr(kafka_security, "_service", "")
    assert kafka_options()["sasl_plain_username"] == "admin"  # a tool, not a service

    use_credentials_of("intake")
    options = kafka_options()
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("onestop-intake", "intake-secret")
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"

    use_credentials_of("cases")  # none of its own: the shared ones
    assert kafka_options()["sasl_plain_username"] == "admin"
