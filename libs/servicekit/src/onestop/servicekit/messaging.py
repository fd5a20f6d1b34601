"""Events on Kafka through faststream: publish envelopes, consume them, and dead-letter what can't be.

Publishing waits for the broker's acknowledgement (acks=all on an idempotent producer). Consuming
decodes the CloudEvents binding; a message that cannot be decoded, or that the handler declares
unprocessable, goes to the consumer group's dead-letter topic with the reason, and the consumer
carries on. Transient failures (database or broker unreachable) are retried with back-off and the
message is redelivered, never skipped.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiokafka.errors import KafkaError  # type: ignore[import-untyped]
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.message import StreamMessage
from opentelemetry import context as otel_context
from opentelemetry import trace

from onestop.contracts import EventEnvelope, UndecodableMessage, decode_record, encode_envelope
from onestop.contracts import topics as contract_topics
from onestop.contracts.topics import Topic
from onestop.servicekit.kafka_security import KafkaSecurity
from onestop.servicekit.personal_data import open_envelope, seal_envelope
from onestop.servicekit.settings import ServiceSettings
from onestop.servicekit.telemetry import (
    context_from_traceparent,
    current_traceparent,
    events_consumed,
    events_published,
    processing_seconds,
)

log = logging.getLogger(__name__)

EventHandler = Callable[[EventEnvelope], Awaitable[None]]

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    KafkaError,
)


class UnprocessableEvent(Exception):
    """Raised by a handler for an event it can never process; the event is dead-lettered with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def make_broker(settings: ServiceSettings, **options: object) -> KafkaBroker:
    """A faststream broker whose consumers continue the trace found in each message's headers."""
    middlewares = (KafkaTelemetryMiddleware(tracer_provider=trace.get_tracer_provider()),)
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=f"onestop-{settings.service_name}",
        acks="all",
        enable_idempotence=True,
        security=KafkaSecurity().faststream_security(),
        # One line per message received and processed is noise at council volumes; DEBUG shows it on demand.
        log_level=logging.DEBUG,
        middlewares=middlewares,
        **options,  # type: ignore[arg-type]
    )


def with_current_trace(envelope: EventEnvelope) -> EventEnvelope:
    """Point the envelope's trace context at the active span, when there is one."""
    traceparent = current_traceparent()
    if traceparent is None or traceparent == envelope.traceparent:
        return envelope
    return envelope.model_copy(update={"traceparent": traceparent})


async def publish(broker: KafkaBroker, envelope: EventEnvelope, namespace: str = "") -> None:
    """Send one event and wait until every in-sync replica has it."""
    if envelope.traceparent is None:
        envelope = with_current_trace(envelope)
    envelope = await seal_envelope(envelope)
    record = encode_envelope(envelope)
    # faststream's publish span takes the active context as its parent and writes its own traceparent
    # header, so make the envelope's trace the active one while publishing.
    token = otel_context.attach(context_from_traceparent(envelope.traceparent))
    try:
        await broker.publish(
            record.value,
            topic=envelope.data.topic.qualified(namespace),
            key=record.key,
            headers=record.headers_dict(),
        )
    finally:
        otel_context.detach(token)
    events_published.add(1, {"type": envelope.type})


def dead_letter_topic_of(settings: ServiceSettings, group: str | None = None) -> Topic:
    """The dead-letter topic of one of this service's consumer groups (create it with the others)."""
    return contract_topics.dead_letter_topic(group or settings.service_name)


def subscribe(
    broker: KafkaBroker,
    settings: ServiceSettings,
    topics: Iterable[Topic],
    handler: EventHandler,
    *,
    group: str | None = None,
    max_attempts: int = 5,
) -> object:
    """Register `handler` for every event on `topics`, in one consumer group, from the start of the log.

    Offsets are committed only after the handler returns, so a crash redelivers rather than loses.
    """
    group_id = settings.consumer_group(group)
    dlq_name = dead_letter_topic_of(settings, group).qualified(settings.topic_namespace)
    names = [topic.qualified(settings.topic_namespace) for topic in topics]

    async def consume(message: KafkaMessage) -> None:
        record = message.raw_message
        assert not isinstance(record, tuple), "batch consumption is not used"
        try:
            envelope = decode_record(record.value, record.headers)
        except UndecodableMessage as exc:
            await dead_letter(broker, dlq_name, record, group_id, exc.reason)
            return
        # Whatever the handler publishes in answer is caused by this span, so the journey stays one trace.
        envelope = with_current_trace(envelope)
        started = time.perf_counter()
        failures = 0
        while True:
            try:
                await handler(await open_envelope(envelope))
                processing_seconds.record(time.perf_counter() - started, {"type": envelope.type})
                events_consumed.add(1, {"type": envelope.type, "outcome": "handled"})
                return
            except UnprocessableEvent as exc:
                await dead_letter(broker, dlq_name, record, group_id, exc.reason)
                events_consumed.add(1, {"type": envelope.type, "outcome": "dead_lettered"})
                return
            except TRANSIENT_ERRORS as exc:
                # Never give up on an outage: back off, then retry the same message.
                failures += 1
                delay = min(0.2 * 2 ** min(failures, 5), 5.0)
                log.warning("transient failure handling %s (%s); retrying in %.1fs", envelope.type, exc, delay)
                await asyncio.sleep(delay)
            except Exception as exc:
                failures += 1
                if failures >= max_attempts:
                    log.exception("giving up on %s after %d attempts", envelope.type, failures)
                    reason = f"handler failed {failures} times: {type(exc).__name__}: {exc}"
                    await dead_letter(broker, dlq_name, record, group_id, reason)
                    return
                await asyncio.sleep(0.1 * failures)

    consume.__name__ = f"consume_{getattr(handler, '__name__', 'events')}"
    return broker.subscriber(
        *names,
        group_id=group_id,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=_undecoded,
        title=f"{group_id}:{getattr(handler, '__name__', 'events')}",
        description=(handler.__doc__ or "").strip() or None,
    )(consume)


async def _undecoded(message: StreamMessage[Any]) -> bytes:
    """Leave decoding to the CloudEvents binding, which dead-letters what it cannot read."""
    return message.body


async def dead_letter(broker: KafkaBroker, dlq_topic: str, record: object, group_id: str, reason: str) -> None:
    """Keep the original key, value and headers; add where it came from and why it failed."""
    log.error("dead-lettering %s[%s]@%s: %s", record.topic, record.partition, record.offset, reason)  # type: ignore[attr-defined]
    headers = {}
    for name, value in record.headers or ():  # type: ignore[attr-defined]
        headers[name] = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    headers.update(
        {
            contract_topics.DLQ_REASON: reason[:2000],
            contract_topics.DLQ_ORIGINAL_TOPIC: record.topic,  # type: ignore[attr-defined]
            contract_topics.DLQ_ORIGINAL_PARTITION: str(record.partition),  # type: ignore[attr-defined]
            contract_topics.DLQ_ORIGINAL_OFFSET: str(record.offset),  # type: ignore[attr-defined]
            contract_topics.DLQ_CONSUMER_GROUP: group_id,
            contract_topics.DLQ_FAILED_AT: datetime.now(UTC).isoformat(),
        }
    )
    await broker.publish(record.value or b"", topic=dlq_topic, key=record.key, headers=headers)  # type: ignore[attr-defined]
