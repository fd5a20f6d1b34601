"""Trace context crosses Kafka: what a consumer emits continues the trace it received, a batch span links to
every message it handled, and background pollers do not start a trace per SQL statement."""

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from onestop.contracts import EventEnvelope
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.cases import CaseChased
from onestop.contracts.events.common import Channel, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.servicekit.database import SERVICEKIT_MIGRATIONS, open_service_database
from onestop.servicekit.event_consumer import EventConsumer
from onestop.servicekit.messaging import dead_letter_topic_of
from onestop.servicekit.outbox import OutboxRelay
from onestop.servicekit.settings import ServiceSettings
from onestop.servicekit.telemetry import journey_sampler, setup_telemetry
from onestop.servicekit.topics_admin import ensure_topics
from onestop.servicekit.unit_of_work import UnitOfWork
from tests.support import publish_events, read_events

pytestmark = pytest.mark.integration

INCOMING = [
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "00-5cf92f3577b34da6a3ce929d0e0e4737-00f067aa0ba902b8-01",
]


def a_contact() -> ContactReceived:
    return ContactReceived(
        contact_id=uuid4(),
        channel=Channel.WEB,
        received_at=datetime.now(UTC),
        needs=(Need(need_id=uuid4(), kind=NeedKind.INFORMATION, service_code="21"),),
    )


async def answer(contact: ContactReceived, uow: UnitOfWork[Any]) -> None:
    uow.emit(
        CaseChased(case_id=uuid4(), chased_at=datetime.now(UTC), contact_id=contact.contact_id, channel=Channel.WEB)
    )


async def test_events_emitted_by_a_handler_continue_the_incoming_trace(
    kafka_bootstrap: str, namespace: str, database_url: str, service_settings: Callable[[str], ServiceSettings]
) -> None:
    settings = service_settings("tracer")
    spans = InMemorySpanExporter()
    setup_telemetry(settings, extra_processor=SimpleSpanProcessor(spans), json_logs=False)
    await ensure_topics(
        kafka_bootstrap, namespace, [contract_topics.CONTACTS, contract_topics.CASES, dead_letter_topic_of(settings)]
    )
    pool = await open_service_database(database_url, settings.database_name, [SERVICEKIT_MIGRATIONS])
    relay = OutboxRelay(pool, kafka_bootstrap)
    await relay.start()
    stop = asyncio.Event()
    consumer = EventConsumer(
        pool, settings, [contract_topics.CONTACTS], {ContactReceived: answer}, lambda c: c, on_commit=relay.hand_over
    )
    envelopes = [EventEnvelope.wrap(a_contact(), source="/test", traceparent=tp) for tp in INCOMING]
    await publish_events(kafka_bootstrap, namespace, *envelopes)
    running = [asyncio.create_task(relay.run(stop)), asyncio.create_task(consumer.run(stop))]
    try:
        answered = await read_events(kafka_bootstrap, contract_topics.CASES.qualified(namespace), 2, within=60)
        journey_spans = spans.get_finished_spans()
        idle_from = time.time_ns()
        await asyncio.sleep(1)  # the relay polls its outbox about twenty times meanwhile
        # Spans of the journey may still be finishing on a busy machine: only those begun since count.
        idle_spans = [s for s in spans.get_finished_spans() if s.start_time is not None and s.start_time >= idle_from]
    finally:
        stop.set()
        await asyncio.gather(*running)
        await relay.stop()
        await pool.close()

    for incoming in INCOMING:
        [event] = [e for e in answered if e.traceparent and e.traceparent.split("-")[1] == incoming.split("-")[1]]
        assert event.traceparent is not None, "the answer belongs to the incoming trace"
        _, _, parent_span, _ = event.traceparent.split("-")
        assert parent_span != incoming.split("-")[2], "its parent is the consumer's span, not the producer's"
        [handled] = [s for s in journey_spans if s.context.span_id == int(parent_span, 16)]
        assert handled.name == "onestop.contact.received process"
        assert handled.parent is not None and handled.parent.span_id == int(incoming.split("-")[2], 16)
    linked = {link.context.span_id for s in journey_spans if s.name == "tracer process batch" for link in s.links}
    assert linked >= {int(incoming.split("-")[2], 16) for incoming in INCOMING}, "the batch span links every message"
    assert not [s for s in idle_spans if s.parent is None], "an idle poller started no trace of its own"


def test_a_database_statement_with_no_parent_is_not_sampled_and_a_journey_is_whole_or_absent() -> None:
    from opentelemetry.context import Context
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, set_span_in_context

    everything = journey_sampler(1.0)
    assert not everything.should_sample(Context(), 1, "SELECT", SpanKind.CLIENT).decision.is_sampled()
    assert everything.should_sample(Context(), 1, "POST /contacts", SpanKind.SERVER).decision.is_sampled()
    nothing = journey_sampler(0.0)
    assert not nothing.should_sample(Context(), 1, "POST /contacts", SpanKind.SERVER).decision.is_sampled()
    traced_parent = set_span_in_context(
        NonRecordingSpan(SpanContext(1, 2, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED)))
    )
    assert nothing.should_sample(traced_parent, 1, "INSERT", SpanKind.CLIENT).decision.is_sampled(), (
        "inside a traced journey every span is kept, whatever the ratio"
    )
