"""Kafka with SASL/SCRAM and ACLs: each service signs in as itself and may write only the topics it owns
and read only what it consumes; the five services run against such a broker and carry a contact to a case."""

import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaClient, AIOKafkaConsumer, AIOKafkaProducer, TopicPartition  # type: ignore[import-untyped]
from aiokafka.admin import AIOKafkaAdminClient  # type: ignore[import-untyped]
from aiokafka.errors import (  # type: ignore[import-untyped]
    GroupAuthorizationFailedError,
    KafkaError,
    TopicAuthorizationFailedError,
    TransactionalIdAuthorizationFailed,
)

from onestop.contracts import decode_record, topics
from onestop.contracts.events.cases import CaseRaised
from onestop.contracts.kafka_access import SERVICES, access_of, consumer_group
from onestop.contracts.topics import Topic
from onestop.localinfra import kafka, kafka_acls
from onestop.ops.fleet import Fleet, environment, free_port
from onestop.servicekit.personal_data import new_kek
from tests.support import bearer, eventually

pytestmark = pytest.mark.integration


def _free_port_pair() -> int:
    """A client port whose next port (the node's controller listener) is free too."""
    for _ in range(50):
        port = free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two free ports in a row")


@pytest.fixture(scope="module")  # stopped once these tests are done, not at the end of the whole run
def acl_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[kafka.ScramBroker]:
    directory = tmp_path_factory.mktemp("kafka-acls")
    broker = kafka.start_with_acls([access.username for access in SERVICES], _free_port_pair(), directory)
    yield broker
    kafka.stop_with_acls(directory)


async def _install(broker: kafka.ScramBroker) -> str:
    """A new installation on the broker, as its administrator makes it: its topics, and each service's rights
    on them. Returns its namespace."""
    namespace = f"t{uuid.uuid4().hex[:10]}."
    await kafka_acls.provision(broker.bootstrap, broker.client_options(), namespace)
    return namespace


@pytest.fixture(scope="module")
async def installation(acl_broker: kafka.ScramBroker) -> str:
    return await _install(acl_broker)


def _as(broker: kafka.ScramBroker, service: str) -> dict[str, Any]:
    return broker.client_options(access_of(service).username)


async def _send(broker: kafka.ScramBroker, service: str, topic: str, **producer_options: Any) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=broker.bootstrap, acks="all", **_as(broker, service), **producer_options
    )
    await producer.start()
    try:
        if producer_options.get("transactional_id"):
            async with producer.transaction():
                await producer.send_and_wait(topic, b"{}", key=b"k")
        else:
            await producer.send_and_wait(topic, b"{}", key=b"k")
    finally:
        await producer.stop()


async def _read_all(broker: kafka.ScramBroker, options: dict[str, Any], topic: Topic, namespace: str) -> list[Any]:
    """Every committed record of `topic` there is now, read without a consumer group."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=broker.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        **options,
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic.qualified(namespace), p) for p in range(topic.partitions)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[Any] = []

        async def behind() -> bool:
            return any([await consumer.position(p) < ends[p] for p in partitions])

        while await behind():
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()


async def test_intake_publishes_contacts_in_its_transactions_but_may_not_write_cases(
    acl_broker: kafka.ScramBroker, installation: str
) -> None:
    contacts, cases = topics.CONTACTS.qualified(installation), topics.CASES.qualified(installation)
    await _send(acl_broker, "intake", contacts, transactional_id=f"onestop-intake-{uuid.uuid4()}-a")

    with pytest.raises(TopicAuthorizationFailedError):
        await _send(acl_broker, "intake", cases, enable_idempotence=True)
    with pytest.raises(TransactionalIdAuthorizationFailed):  # only ids under intake's own prefix
        await _send(acl_broker, "intake", contacts, transactional_id=f"onestop-cases-{uuid.uuid4()}")


async def test_only_cases_writes_case_events(acl_broker: kafka.ScramBroker, installation: str) -> None:
    cases = topics.CASES.qualified(installation)
    for service in ("routing", "notify", "analytics"):
        with pytest.raises(TopicAuthorizationFailedError):
            await _send(acl_broker, service, cases)
    await _send(acl_broker, "cases", cases, enable_idempotence=True)
    assert await _read_all(acl_broker, _as(acl_broker, "routing"), topics.CASES, installation)  # a consumer of it


async def test_a_service_reads_only_what_it_consumes(acl_broker: kafka.ScramBroker, installation: str) -> None:
    contacts = topics.CONTACTS.qualified(installation)
    await _send(acl_broker, "intake", contacts)
    assert await _read_all(acl_broker, _as(acl_broker, "routing"), topics.CONTACTS, installation)

    # Intake writes contacts but does not consume them: the broker refuses it the records.
    with pytest.raises(TopicAuthorizationFailedError):
        await _read_all(acl_broker, _as(acl_broker, "intake"), topics.CONTACTS, installation)
    # Routing has no business with notifications at all: it may not even see the topic.
    producer = AIOKafkaProducer(bootstrap_servers=acl_broker.bootstrap, **_as(acl_broker, "routing"))
    await producer.start()
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            await producer.partitions_for(topics.NOTIFICATIONS.qualified(installation))
    finally:
        await producer.stop()
    # Nor may it read as another service's consumer group.
    consumer = AIOKafkaConsumer(
        contacts,
        bootstrap_servers=acl_broker.bootstrap,
        group_id=consumer_group("cases", installation),
        **_as(acl_broker, "routing"),
    )
    try:
        with pytest.raises(GroupAuthorizationFailedError):
            await consumer.start()
    finally:
        await consumer.stop()


async def _metadata(bootstrap: str, **options: Any) -> None:
    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=5000, **options)
    try:
        await client.bootstrap()
    finally:
        await client.close()


async def test_wrong_credentials_and_plaintext_are_refused(acl_broker: kafka.ScramBroker) -> None:
    with pytest.raises(KafkaError):
        await _metadata(acl_broker.bootstrap, **{**_as(acl_broker, "intake"), "sasl_plain_password": "wrong"})
    with pytest.raises(KafkaError):
        await _metadata(acl_broker.bootstrap)


@pytest.fixture
async def fleet(acl_broker: kafka.ScramBroker, postgres_url: str, tmp_path: Path) -> AsyncIterator[Fleet]:
    """The five services as processes in an installation of their own, each signing in with its own
    credentials and with none to fall back on."""
    installation = await _install(acl_broker)
    own_credentials = {}
    for access in SERVICES:
        prefix = f"{access.service.upper()}_KAFKA_SASL"
        own_credentials[f"{prefix}_USERNAME"] = access.username
        own_credentials[f"{prefix}_PASSWORD"] = acl_broker.credentials[access.username]
    env = environment(
        acl_broker.bootstrap,
        postgres_url,
        installation,
        KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
        KAFKA_SASL_MECHANISM=kafka.SCRAM_MECHANISM,
        KAFKA_SASL_USERNAME="",
        KAFKA_SASL_PASSWORD="",
        PERSONAL_DATA_KEK=new_kek(),
        OTEL_EXPORTER_OTLP_ENDPOINT="",
        NOTIFY_SMTP_PORT=str(free_port()),  # no mail server: notify keeps what it would send
        CASES_ESCALATION_INTERVAL_SECONDS="3600",
        **own_credentials,
    )
    services = Fleet.prepare(installation, env, tmp_path / "logs")
    try:
        await services.start_all()
        yield services
    finally:
        await services.stop_all()
        await services.drop_databases(postgres_url)


async def test_the_five_services_run_as_themselves_and_carry_a_contact_to_a_case(
    fleet: Fleet, acl_broker: kafka.ScramBroker
) -> None:
    installation = fleet.namespace
    contact = {
        "channel": "app",
        "customer": {"name": "Ada Resident", "email": "ada@example.org"},
        "needs": [
            {
                "kind": "report_problem",
                "service_code": "584",
                "description": "Graffiti on the wall",
                "location": {"latitude": 52.2, "longitude": -0.9},
            }
        ],
    }
    async with httpx.AsyncClient(base_url=fleet.url("intake"), timeout=30) as intake:
        response = await intake.post("/contacts", json=contact, headers=bearer("contacts:write"))
    assert response.status_code == 201, response.text
    contact_id = response.json()["contact_id"]

    # Intake -> contacts -> routing -> routing decisions -> cases -> case events: every hop through the ACLs.
    async def case_raised() -> bool:
        records = await _read_all(acl_broker, acl_broker.client_options(), topics.CASES, installation)
        events = [decode_record(r.value, r.headers).data for r in records]
        return any(isinstance(e, CaseRaised) and str(e.contact_id) == contact_id for e in events)

    await eventually(case_raised, within=90, every=0.5)

    # And each service's consumer group read what reached it, on a topic it consumes.
    read_by = {"intake": topics.CASES, "notify": topics.CASES, "analytics": topics.CASES, "routing": topics.CONTACTS}
    admin = AIOKafkaAdminClient(bootstrap_servers=acl_broker.bootstrap, **acl_broker.client_options())
    await admin.start()
    try:

        async def every_group_has_read() -> bool:
            for service, topic in read_by.items():
                committed = await admin.list_consumer_group_offsets(consumer_group(service, installation))
                if not any(
                    tp.topic == topic.qualified(installation) and meta.offset > 0 for tp, meta in committed.items()
                ):
                    return False
            return True

        await eventually(every_group_has_read, within=60, every=0.5)
    finally:
        await admin.close()

    async with httpx.AsyncClient(timeout=10) as client:
        for service in ("intake", "routing", "cases", "notify", "analytics"):
            assert (await client.get(f"{fleet.url(service)}/health")).status_code == 200, service
