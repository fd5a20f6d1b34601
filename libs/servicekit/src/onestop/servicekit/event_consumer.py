"""The consumer runtime every service shares: a batch of events at a time, in one unit of work.

Each poll takes what the broker has for this consumer's partitions (up to `max_records`), decodes and
opens it, and runs every event through its typed handler inside one PostgreSQL transaction: BEGIN with
the inbox rows for the whole batch in one round trip, the handlers' writes, then the outbox rows of what
they emit with COMMIT in one more. The relay is handed those rows and the offsets are committed only
after that, so a crash anywhere redelivers the batch and the inbox drops what was already done.

Offsets are committed at most once every `commit_interval` seconds (and when partitions are taken away or
the consumer stops), not after every batch: the inbox already makes a redelivery harmless, and at low rates
a batch is an event or two, so a commit per batch was a request to the broker's group coordinator (and a
write to its offsets log) for nearly every event.

No message blocks a partition. One that cannot be decoded or opened, or whose handler still fails after
`max_attempts`, goes to the group's dead-letter topic (through the outbox, so exactly once) and the rest
of the batch carries on. Only outages (database or broker unreachable) are retried without limit.
Records of one partition are handled in offset order, so events of one key stay in order.
"""

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition  # type: ignore[import-untyped]
from aiokafka.errors import CommitFailedError, IllegalStateError  # type: ignore[import-untyped]
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind

from onestop.contracts import CATALOGUE, EventEnvelope, UndecodableMessage, decode_record
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.base import Event
from onestop.contracts.topics import Topic
from onestop.servicekit import outbox
from onestop.servicekit.database import Connection
from onestop.servicekit.inbox import begin_with_first_deliveries, first_deliveries
from onestop.servicekit.kafka_security import kafka_options
from onestop.servicekit.log_reading import raise_if_not_fetching
from onestop.servicekit.messaging import TRANSIENT_ERRORS, UnprocessableEvent
from onestop.servicekit.outbox import OutboxRow
from onestop.servicekit.personal_data import open_envelope
from onestop.servicekit.settings import ServiceSettings
from onestop.servicekit.telemetry import context_from_traceparent, events_consumed, processing_seconds, span_context_of
from onestop.servicekit.unit_of_work import PostgresUnitOfWork, UnitOfWork

log = logging.getLogger(__name__)
tracer = trace.get_tracer("onestop.servicekit.event_consumer")

R = TypeVar("R")
E = TypeVar("E", bound=Event)
Handler = Callable[[Any, UnitOfWork[R]], Awaitable[None]]

# Read only what producers committed: intake's transactional contacts that were aborted never appear.
ISOLATION_LEVEL = "read_committed"
GATHER_BYTES = 1024 * 1024  # with `gather_ms`: what answers a fetch before its time is up


@dataclass
class _Delivery:
    """One record of the batch and what became of it on the way to its handler."""

    record: Any
    envelope: EventEnvelope | None = None
    dead_letter_reason: str | None = None

    @property
    def partition(self) -> TopicPartition:
        return TopicPartition(self.record.topic, self.record.partition)


@dataclass
class _Batch(Generic[R]):
    """What handling a batch came to, before its transaction commits."""

    outcomes: list[tuple[str, str]] = field(default_factory=list)
    emitted: list[EventEnvelope] = field(default_factory=list)
    outbox_rows: list[OutboxRow] = field(default_factory=list)
    units: list[PostgresUnitOfWork[R]] = field(default_factory=list)


class _RetryBatch(Exception):
    """A handler failed in the fast pass: roll back and handle the batch one event at a time."""


class EventConsumer(Generic[R]):
    """One consumer group of a service: `handlers` maps each event type it wants to one async function.

    Event types without a handler are skipped (their offsets still advance). A handler receives the event
    and a unit of work whose `repos` are built by `repositories` once per batch, on the batch's connection;
    `before_commit(repos)` runs after the batch's handlers, in the same transaction, for repositories that
    buffer a batch's rows and write them together (on the careful pass, after each event, so a write that
    fails is dead-lettered with its event). `open_personal_data=False` for a consumer that never reads it;
    `trace_events=False` for a replay, which is part of no journey and must not add spans to old traces.

    `prepare(repos, events)` runs before the batch's handlers on the fast pass, for repositories that read
    what the whole batch will need in one round trip (the careful pass goes without: each event on
    repositories of its own).

    `gather_ms` lets the broker hold each fetch that long (or until it has a megabyte) to gather a batch, for
    a consumer whose readers can be that far behind: each fetch the broker answers wakes this process and
    the broker, and a consumer that is answered at once is woken by nearly every event it reads.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        settings: ServiceSettings,
        topics: Iterable[Topic],
        handlers: Mapping[type[Event], Handler[R]],
        repositories: Callable[[Connection], R],
        *,
        group: str | None = None,
        on_commit: Callable[[Sequence[OutboxRow]], None] = lambda rows: None,
        before_commit: Callable[[R], Awaitable[None]] | None = None,
        prepare: Callable[[R, Sequence[Event]], Awaitable[None]] | None = None,
        open_personal_data: bool = True,
        trace_events: bool = True,
        max_records: int = 500,
        max_attempts: int = 3,
        poll_timeout_ms: int = 100,
        commit_interval: float = 1.0,
        gather_ms: int | None = None,
    ) -> None:
        self.pool = pool
        self.settings = settings
        self.topic_names = [topic.qualified(settings.topic_namespace) for topic in topics]
        self.handlers = dict(handlers)
        # Known types this consumer has no use for are passed over without being decoded at all (an unknown
        # type is still decoded, so that it is dead-lettered as unknown).
        self.passed_over = {model.type for model in CATALOGUE.models()} - {model.type for model in self.handlers}
        self.repositories = repositories
        self.name = group or settings.service_name
        self.group_id = settings.consumer_group(group)
        self.dead_letter_topic = contract_topics.dead_letter_topic(self.name).qualified(settings.topic_namespace)
        self.on_commit = on_commit
        self.before_commit = before_commit
        self.prepare = prepare
        self.open_personal_data = open_personal_data
        self.trace_events = trace_events
        self.max_records = max_records
        self.max_attempts = max_attempts
        self.poll_timeout_ms = poll_timeout_ms
        self.commit_interval = commit_interval
        self.gather_ms = gather_ms
        self.batches_handled = 0
        self._handled_to: dict[TopicPartition, int] = {}  # the positions handled, not yet committed

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set. Raises only on a fault of the runtime itself (its supervisor
        restarts it); outages are waited out here."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            group_id=self.group_id,
            client_id=f"onestop-{self.settings.service_name}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level=ISOLATION_LEVEL,
            max_poll_records=self.max_records,
            **self._fetch_options(),
            **kafka_options(),
        )
        consumer.subscribe(self.topic_names, listener=_CommitOnRevoke(self, consumer))
        self._handled_to = {}
        await consumer.start()
        last_commit = time.monotonic()
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=self.poll_timeout_ms, max_records=self.max_records)
                records = [record for partition_records in batches.values() for record in partition_records]
                if records:
                    if not await self._handle_until_done(records, stop):
                        return  # stopping during an outage: the batch is redelivered to whoever comes next
                    await self._note_handled(consumer, batches)
                else:
                    raise_if_not_fetching(consumer)
                if time.monotonic() - last_commit >= self.commit_interval:
                    await self._commit_offsets(consumer)
                    last_commit = time.monotonic()
        finally:
            with contextlib.suppress(Exception):  # stopping: what is not committed is redelivered, then dropped
                await self._commit_offsets(consumer)
            await consumer.stop()

    def _fetch_options(self) -> dict[str, int]:
        if self.gather_ms is None:
            return {}  # answered as soon as there is anything (the broker holds an empty fetch up to 500 ms)
        return {"fetch_min_bytes": GATHER_BYTES, "fetch_max_wait_ms": self.gather_ms}

    async def _note_handled(self, consumer: AIOKafkaConsumer, batches: Mapping[TopicPartition, Any]) -> None:
        # The position, not the last offset + 1: past a transaction's commit marker, so lag can reach zero.
        # A partition a rebalance took away while the batch was handled is its new owner's to commit.
        for partition in batches.keys() & consumer.assignment():
            with contextlib.suppress(IllegalStateError):
                self._handled_to[partition] = await consumer.position(partition)

    async def _commit_offsets(self, consumer: AIOKafkaConsumer, only: Iterable[TopicPartition] | None = None) -> None:
        """Commit the positions handled so far (of the partitions `only`, when given)."""
        partitions = set(self._handled_to) if only is None else set(only) & set(self._handled_to)
        offsets = {partition: self._handled_to.pop(partition) for partition in partitions}
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            # A rebalance took the partitions away; their new owner redelivers and the inbox drops repeats.
            log.warning("offsets of %s not committed (%s); those events will be redelivered", self.group_id, exc)

    async def _handle_until_done(self, records: list[Any], stop: asyncio.Event) -> bool:
        failures = 0
        while not stop.is_set():
            try:
                await self.handle_batch(records)
                return True
            except TRANSIENT_ERRORS as exc:
                failures += 1
                delay = min(0.2 * 2 ** min(failures, 5), 5.0)
                log.warning("%s: outage handling a batch (%s); retrying in %.1fs", self.group_id, exc, delay)
                try:
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                except TimeoutError:
                    pass
        return False

    async def handle_batch(self, records: list[Any]) -> None:
        """Decode, open and handle `records` in one unit of work (public for tests and benchmarks)."""
        started = time.perf_counter()
        deliveries = [await self._prepare(record) for record in records]
        if any(d.envelope is not None or d.dead_letter_reason is not None for d in deliveries):
            with self._batch_span(deliveries):
                try:
                    outcomes, outbox_rows = await self._handle_in_one_transaction(deliveries, careful=False)
                except _RetryBatch:
                    outcomes, outbox_rows = await self._handle_in_one_transaction(deliveries, careful=True)
            if outbox_rows:
                self.on_commit(outbox_rows)  # committed: the relay may publish them
        else:
            outcomes = []  # only events this consumer passes over: no transaction, nothing for the relay
        self.batches_handled += 1
        elapsed = time.perf_counter() - started
        for type_name, outcome in outcomes:
            events_consumed.add(1, {"type": type_name, "outcome": outcome})
            processing_seconds.record(elapsed / len(records), {"type": type_name})

    def _batch_span(self, deliveries: list[_Delivery]) -> AbstractContextManager[object]:
        if not self.trace_events:
            return nullcontext()
        links = [
            Link(span_context_of(d.envelope.traceparent)) for d in deliveries if d.envelope and d.envelope.traceparent
        ]
        return tracer.start_as_current_span(
            f"{self.name} process batch",
            kind=SpanKind.CONSUMER,
            links=[link for link in links if link.context.is_valid],
            attributes={
                "messaging.batch.message_count": len(deliveries),
                "messaging.consumer.group.name": self.group_id,
            },
            context=otel_context.Context(),  # the batch is its own root; each event continues its own trace
        )

    def _event_span(self, envelope: EventEnvelope) -> AbstractContextManager[object]:
        if not self.trace_events:
            return nullcontext()
        parent = context_from_traceparent(envelope.traceparent)
        return tracer.start_as_current_span(f"{envelope.type} process", context=parent, kind=SpanKind.CONSUMER)

    async def _prepare(self, record: Any) -> _Delivery:
        delivery = _Delivery(record)
        if _type_header(record) in self.passed_over:
            return delivery
        try:
            envelope = decode_record(record.value, record.headers)
        except UndecodableMessage as exc:
            delivery.dead_letter_reason = exc.reason
            return delivery
        if type(envelope.data) not in self.handlers:
            return delivery  # not an event this consumer acts on
        if not self.open_personal_data:
            delivery.envelope = envelope
            return delivery
        try:
            delivery.envelope = await open_envelope(envelope)
        except TRANSIENT_ERRORS:
            raise
        except Exception as exc:
            delivery.dead_letter_reason = f"personal data could not be opened: {type(exc).__name__}: {exc}"
        return delivery

    async def _handle_in_one_transaction(
        self, deliveries: list[_Delivery], careful: bool
    ) -> tuple[list[tuple[str, str]], list[OutboxRow]]:
        """Each delivery's (type, outcome), and the rows the batch added to the outbox."""
        event_ids = [d.envelope.id for d in deliveries if d.envelope is not None]
        namespace = self.settings.topic_namespace
        async with self.pool.acquire() as connection:
            if careful:  # a savepoint per event: the transaction is asyncpg's own
                async with connection.transaction():
                    fresh = await first_deliveries(connection, self.name, event_ids)
                    batch = await self._handle_on(connection, deliveries, fresh, careful)
                    batch.outbox_rows += await outbox.append(connection, batch.emitted, namespace)
            else:
                # BEGIN travels with the batch's inbox rows and COMMIT with its outbox rows: the round trips
                # a batch cannot do without are the handlers' own.
                fresh = await begin_with_first_deliveries(connection, self.name, event_ids)
                try:
                    batch = await self._handle_on(connection, deliveries, fresh, careful)
                    batch.outbox_rows += await outbox.append_and_commit(connection, batch.emitted, namespace)
                except BaseException:
                    with contextlib.suppress(Exception):  # a broken connection is closed by the pool instead
                        await connection.execute("ROLLBACK")
                    raise
        for unit in batch.units:
            unit.committed()
        return batch.outcomes, batch.outbox_rows

    async def _handle_on(
        self, connection: Connection, deliveries: list[_Delivery], fresh: set[uuid.UUID], careful: bool
    ) -> "_Batch[R]":
        batch: _Batch[R] = _Batch()
        repos = self.repositories(connection)
        if self.prepare is not None and not careful:
            events = [d.envelope.data for d in deliveries if d.envelope is not None and d.envelope.id in fresh]
            if events:
                await self.prepare(repos, events)
        for delivery in deliveries:
            envelope = delivery.envelope
            if envelope is None:
                if delivery.dead_letter_reason is not None:
                    batch.outbox_rows += await self._dead_letter(
                        connection, delivery.record, delivery.dead_letter_reason
                    )
                    batch.outcomes.append((_type_header(delivery.record), "dead_lettered"))
                continue
            if envelope.id not in fresh:
                batch.outcomes.append((envelope.type, "duplicate"))
                continue
            fresh.discard(envelope.id)  # the same event twice in one batch has its effect once
            if careful:  # each event on repositories of its own: what a failed one buffered is not written
                repos = self.repositories(connection)
            unit = PostgresUnitOfWork(connection, repos, source=self.settings.source, cause=envelope)
            reason = await self._run_handler(connection, unit, envelope, careful, repos)
            if reason is None:
                batch.emitted += unit.emitted
                batch.units.append(unit)
                batch.outcomes.append((envelope.type, "handled"))
            else:
                batch.outbox_rows += await self._dead_letter(connection, delivery.record, reason)
                batch.outcomes.append((envelope.type, "dead_lettered"))
        if self.before_commit is not None and not careful:
            try:
                await self.before_commit(repos)  # e.g. write what the handlers buffered, one statement per kind
            except TRANSIENT_ERRORS:
                raise
            except Exception as exc:
                # A row the database refuses (one event's data): find which event, one by one.
                log.info("%s: writing the batch failed (%s); handling it one by one", self.group_id, exc)
                raise _RetryBatch from exc
        return batch

    async def _run_handler(
        self, connection: Connection, unit: PostgresUnitOfWork[R], envelope: EventEnvelope, careful: bool, repos: R
    ) -> str | None:
        """Run the event's handler; the reason to dead-letter it, or None when it was handled."""
        handler = self.handlers[type(envelope.data)]
        with self._event_span(envelope):
            if not careful:
                try:
                    await handler(envelope.data, unit)
                    return None
                except TRANSIENT_ERRORS:
                    raise
                except Exception as exc:
                    log.info("%s failed in a batch (%s); handling the batch one by one", envelope.type, exc)
                    raise _RetryBatch from exc
            # One savepoint per event: a failing handler's writes are undone, the others' are kept.
            for attempt in range(1, self.max_attempts + 1):
                unit.discard()
                if attempt > 1:
                    unit.repos = repos = self.repositories(connection)  # nothing the failed attempt buffered
                try:
                    async with connection.transaction():
                        await handler(envelope.data, unit)
                        if self.before_commit is not None:  # what it buffered fails with it, if it fails
                            await self.before_commit(repos)
                    return None
                except TRANSIENT_ERRORS:
                    raise
                except UnprocessableEvent as exc:
                    return exc.reason
                except Exception as exc:
                    if attempt == self.max_attempts:
                        log.exception("giving up on %s %s after %d attempts", envelope.type, envelope.id, attempt)
                        return f"handler failed {attempt} times: {type(exc).__name__}: {exc}"
                    await asyncio.sleep(0.05 * attempt)
        return None

    async def _dead_letter(self, connection: Connection, record: Any, reason: str) -> list[OutboxRow]:
        log.error("dead-lettering %s[%s]@%s: %s", record.topic, record.partition, record.offset, reason)
        return await outbox.append_record(
            connection,
            # One dead letter per record and group, however often the batch is redelivered.
            uuid.uuid5(uuid.NAMESPACE_URL, f"{self.group_id}/{record.topic}/{record.partition}/{record.offset}"),
            self.dead_letter_topic,
            record.key if record.key is not None else b"",
            record.value or b"",
            dead_letter_headers(record, self.group_id, reason),
        )


class _CommitOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    """Commits what was handled of partitions about to be taken away, so their next owner starts after it, and
    says which partitions this instance holds after each rebalance (operators and the benchmark read it)."""

    def __init__(self, owner: "EventConsumer[Any]", consumer: AIOKafkaConsumer) -> None:
        self.owner, self.consumer = owner, consumer

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self.owner._commit_offsets(self.consumer, only=revoked)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self.owner._handled_to.clear()  # positions of partitions held before the rebalance are not ours to commit
        log.info("partitions | %s | assigned to partitions %s", self.owner.group_id, sorted(assigned))


def dead_letter_headers(record: Any, group_id: str, reason: str) -> dict[str, str]:
    """The original headers, plus where the record came from and why it failed."""
    headers: dict[str, str] = {}
    for name, value in record.headers or ():
        headers[name] = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    headers.update(
        {
            contract_topics.DLQ_REASON: reason[:2000],
            contract_topics.DLQ_ORIGINAL_TOPIC: record.topic,
            contract_topics.DLQ_ORIGINAL_PARTITION: str(record.partition),
            contract_topics.DLQ_ORIGINAL_OFFSET: str(record.offset),
            contract_topics.DLQ_CONSUMER_GROUP: group_id,
            contract_topics.DLQ_FAILED_AT: datetime.now(UTC).isoformat(),
        }
    )
    return headers


def _type_header(record: Any) -> str:
    for name, value in record.headers or ():
        if name == "ce_type":
            return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    return "unknown"
