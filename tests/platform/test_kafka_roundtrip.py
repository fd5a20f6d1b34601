"""An event through the real broker: published with the CloudEvents binding, read back intact,
and poison messages dead-lettered with their reason while the consumer carries on."""

import asyncio
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]

from onestop.contracts import EventEnvelope, decode_record, encode_envelope
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.common import Channel, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.servicekit.messaging import dead_letter_topic_of, make_broker, publish, subscribe
from onestop.servicekit.settings import ServiceSettings
from onestop.servicekit.topics_admin import ensure_topics
from tests.support import read_records

pytestmark = pytest.mark.integration

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def a_contact(description: str = "Missed bin") -> ContactReceived:
    return ContactReceived(
        contact_id=uuid4(),
        channel=Channel.WEB,
        received_at=datetime.now(UTC),
        needs=(Need(need_id=uuid4(), kind=NeedKind.REPORT_PROBLEM, service_code="524", description=description),),
    )


async def test_event_round_trips_through_the_real_broker(kafka_bootstrap: str, namespace: str) -> None:
    settings = ServiceSettings(
        service_name="intake", kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=namespace
    )
    await ensure_topics(kafka_bootstrap, namespace, [contract_topics.CONTACTS])
    envelope = EventEnvelope.wrap(a_contact(), source="/onestop/intake", traceparent=TRACEPARENT)

    broker = make_broker(settings)
    async with broker:
        await publish(broker, envelope, namespace)

    [record] = await read_records(kafka_bootstrap, contract_topics.CONTACTS.qualified(namespace), 1)
    headers = {name: value.decode() for name, value in record.headers}
    assert record.key == envelope.subject.encode()
    assert headers["ce_id"] == str(envelope.id)
    assert headers["ce_type"] == "onestop.contact.received"
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_source"] == "/onestop/intake"
    assert headers["ce_dataschema"] == "urn:onestop:schema:onestop.contact.received:1"
    assert headers["content-type"] == "application/json"
    # The W3C header is the producer's publish span, a child in the same trace as the envelope's.
    assert headers["ce_traceparent"] == TRACEPARENT
    assert headers["traceparent"].split("-")[1] == TRACEPARENT.split("-")[1]
    decoded = decode_record(record.value, record.headers)
    assert decoded == envelope


async def test_poison_messages_go_to_the_dead_letter_topic_and_the_consumer_carries_on(
    kafka_bootstrap: str, namespace: str
) -> None:
    settings = ServiceSettings(service_name="probe", kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=namespace)
    contacts_topic = contract_topics.CONTACTS.qualified(namespace)
    dlq = dead_letter_topic_of(settings)
    await ensure_topics(kafka_bootstrap, namespace, [contract_topics.CONTACTS, dlq])

    good = EventEnvelope.wrap(a_contact("good"), source="/onestop/intake")
    good_record = encode_envelope(good)
    schema_invalid = good_record.value.replace(b'"needs":[', b'"needs":"none","was":[')
    unknown_type = [(n, b"onestop.unheard.of" if n == "ce_type" else v) for n, v in good_record.headers]
    poison = [
        (b"not json at all", list(good_record.headers), "not JSON"),
        (good_record.value, unknown_type, "unknown event type"),
        (schema_invalid, list(good_record.headers), "needs"),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for value, headers, _ in poison:
            await producer.send_and_wait(contacts_topic, value=value, key=good_record.key, headers=headers)
        await producer.send_and_wait(
            contacts_topic, value=good_record.value, key=good_record.key, headers=list(good_record.headers)
        )
    finally:
        await producer.stop()

    handled: list[EventEnvelope] = []
    done = asyncio.Event()

    async def record_contact(envelope: EventEnvelope) -> None:
        handled.append(envelope)
        done.set()

    broker = make_broker(settings)
    subscribe(broker, settings, [contract_topics.CONTACTS], record_contact)
    async with broker:
        await broker.start()
        await asyncio.wait_for(done.wait(), timeout=60)

    assert [envelope.id for envelope in handled] == [good.id]
    dead = await read_records(kafka_bootstrap, dlq.qualified(namespace), 3)
    assert len(dead) == 3
    for record, (value, _, reason) in zip(sorted(dead, key=lambda r: r.offset), poison, strict=True):
        headers = {name: v.decode() for name, v in record.headers}
        assert record.value == value
        assert record.key == good_record.key
        assert reason in headers[contract_topics.DLQ_REASON]
        assert headers[contract_topics.DLQ_ORIGINAL_TOPIC] == contacts_topic
        assert headers[contract_topics.DLQ_CONSUMER_GROUP] == settings.consumer_group()
