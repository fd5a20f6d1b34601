"""Trace context crosses Kafka: what a consumer publishes continues the trace it received."""

import asyncio
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from onestop.contracts import EventEnvelope
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.cases import NoteAdded
from onestop.contracts.events.common import Actor, Channel, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.servicekit.messaging import dead_letter_topic_of, make_broker, publish, subscribe
from onestop.servicekit.settings import ServiceSettings
from onestop.servicekit.telemetry import setup_telemetry
from onestop.servicekit.topics_admin import ensure_topics
from tests.support import read_events

pytestmark = pytest.mark.integration

INCOMING = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def test_events_published_by_a_handler_continue_the_incoming_trace(kafka_bootstrap: str, namespace: str) -> None:
    settings = ServiceSettings(
        service_name="tracer", kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=namespace
    )
    spans = InMemorySpanExporter()
    setup_telemetry(settings, extra_processor=SimpleSpanProcessor(spans), json_logs=False)
    await ensure_topics(
        kafka_bootstrap, namespace, [contract_topics.CONTACTS, contract_topics.CASES, dead_letter_topic_of(settings)]
    )
    contact = ContactReceived(
        contact_id=uuid4(),
        channel=Channel.WEB,
        received_at=datetime.now(UTC),
        needs=(Need(need_id=uuid4(), kind=NeedKind.INFORMATION, service_code="21"),),
    )
    done = asyncio.Event()
    broker = make_broker(settings)

    async def answer(envelope: EventEnvelope) -> None:
        note = NoteAdded(
            case_id=uuid4(), note_id=uuid4(), added_at=datetime.now(UTC), author=Actor(kind="system", id="t"), text="hi"
        )
        await publish(broker, EventEnvelope.wrap(note, source=settings.source, caused_by=envelope), namespace)
        done.set()

    subscribe(broker, settings, [contract_topics.CONTACTS], answer)
    async with broker:
        await broker.start()
        await publish(broker, EventEnvelope.wrap(contact, source="/test", traceparent=INCOMING), namespace)
        await asyncio.wait_for(done.wait(), timeout=60)

    [answered] = await read_events(kafka_bootstrap, contract_topics.CASES.qualified(namespace), 1)
    assert answered.traceparent is not None
    _, trace_id, parent_span, _ = answered.traceparent.split("-")
    assert trace_id == INCOMING.split("-")[1], "the answer belongs to the same trace"
    assert parent_span != INCOMING.split("-")[2], "its parent is the consumer's span, not the producer's"
    consume_spans = [s for s in spans.get_finished_spans() if s.context.span_id == int(parent_span, 16)]
    assert consume_spans, "the consumer recorded the span the answer points at"
