"""Group commit: concurrent callers' work in ONE PostgreSQL transaction and ONE Kafka transaction.

For each batch: every submission's database work, each in its own savepoint (a refused one fails only its
own caller); then the Kafka transaction with all the batch's events in flight at once (acknowledged and
committed within the publish timeout); then the database commit; then the answers. Should Kafka fail or
time out, its transaction is aborted, the database transaction rolled back and every caller of the batch
told nothing was recorded: nothing is left anywhere. Up to `max_in_flight` batches commit at once, each in a
transaction of its own on both sides, and the next gathers meanwhile: a batch spends most of its time
waiting for Kafka's acknowledgements and commit, so one at a time left the process idle. Batches in flight
together behave as two intake instances do: an Idempotency-Key is held by an advisory lock until its
transaction ends, so a retry in a later batch waits for the first and finds its answer.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import asyncpg
from opentelemetry import trace
from opentelemetry.trace import Link

from onestop.contracts import EventEnvelope, encode_envelope
from onestop.intake.adapters.kafka_transactions import Outgoing, Transactions
from onestop.intake.submissions import Submission, SubmissionQueue
from onestop.servicekit import outbox
from onestop.servicekit.database import Connection
from onestop.servicekit.messaging import TRANSIENT_ERRORS
from onestop.servicekit.outbox import OutboxRow
from onestop.servicekit.personal_data import seal_envelope
from onestop.servicekit.telemetry import events_published, span_context_of
from onestop.servicekit.unit_of_work import PostgresUnitOfWork, UnitOfWork

log = logging.getLogger(__name__)
tracer = trace.get_tracer("onestop.intake.group_commit")

R = TypeVar("R")
T = TypeVar("T")


class _RetryCarefully(Exception):
    """A submission failed in a batch run without savepoints: run the batch again, one savepoint each."""


class NotRecorded(Exception):
    """The work could not be recorded just now (Kafka or the database); nothing was kept (HTTP 503)."""


@dataclass(frozen=True)
class Prepared(Generic[T]):
    """What a submission's database work came to: its caller's answer, and the events Kafka must take first."""

    answer: T
    publish: Sequence[EventEnvelope] = ()


class GroupCommit(Generic[R]):
    def __init__(
        self,
        pool: asyncpg.Pool,
        repositories: Callable[[Connection], R],
        kafka: Transactions,
        *,
        source: str,
        namespace: str,
        max_wait: float,
        max_batch: int,
        publish_timeout: float,
        on_commit: Callable[[Sequence[OutboxRow]], None] = lambda rows: None,
        max_in_flight: int = 1,
        prepare: Callable[[R, list[Any]], Awaitable[None]] | None = None,
        before_commit: Callable[[R], Awaitable[None]] | None = None,
    ) -> None:
        """`prepare(repos, aheads)` reads, for a batch run without savepoints, what its submissions said they
        will ask (`submit(..., ahead=...)`), in a few round trips for all; `before_commit(repos)` writes
        what the repositories held back (after each submission, in its savepoint, when run carefully)."""
        self.pool = pool
        self.repositories = repositories
        self.kafka = kafka
        self.source = source
        self.namespace = namespace
        self.publish_timeout = publish_timeout
        self.on_commit = on_commit
        self.queue = SubmissionQueue(max_wait=max_wait, max_batch=max_batch)
        self.batches_committed = 0
        self.max_in_flight = max_in_flight
        self.prepare = prepare
        self.before_commit = before_commit

    async def submit(
        self,
        work: Callable[[UnitOfWork[R]], Awaitable[Prepared[T]]],
        *,
        exclusive_key: str | None = None,
        ahead: Any = None,
    ) -> T:
        """Run `work` in the next batch; its answer once the batch has committed. NotRecorded when it did not."""
        submission = self.queue.put(work, exclusive_key, ahead)
        try:
            # Bounded only until a batch takes it (the batch bounds itself), so the service being down for
            # a while answers 503 rather than hanging; a taken submission's fate is decided by its batch.
            return await asyncio.wait_for(asyncio.shield(submission.answer), timeout=3 * self.publish_timeout)
        except TimeoutError:
            if self.queue.withdraw(submission):
                raise NotRecorded("no batch took the work in time") from None
            return await submission.answer  # type: ignore[no-any-return]
        except asyncio.CancelledError:
            self.queue.withdraw(submission)  # the caller went away; a taken one still commits or not as a whole
            raise

    async def run(self, stop: asyncio.Event) -> None:
        """Commit batches until `stop` is set (supervised: restarted should it die)."""
        try:
            await self.kafka.start()
        except Exception as exc:
            log.warning("Kafka producer not started yet (%s); the first batch tries again", exc)
        slots = asyncio.Semaphore(self.max_in_flight)
        in_flight: set[asyncio.Task[None]] = set()

        def finished(task: asyncio.Task[None]) -> None:
            in_flight.discard(task)
            slots.release()

        try:
            while not stop.is_set():
                await slots.acquire()
                batch = await self.queue.next_batch(stop)
                if not batch:
                    slots.release()
                    continue
                task = asyncio.create_task(self._commit(batch))
                in_flight.add(task)
                task.add_done_callback(finished)
            if in_flight:  # stopping: the batches under way finish, as one at a time always did
                await asyncio.gather(*in_flight, return_exceptions=True)
        finally:
            for task in in_flight:
                task.cancel()  # cancelled: `_commit` answers each of its callers that nothing was recorded
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
            for submission in self.queue.drain():
                _answer_failure(submission, NotRecorded("intake is stopping"))
            await self.kafka.stop()

    async def _commit(self, batch: list[Submission]) -> None:
        try:
            answers = await self._commit_batch(batch)
        except BaseException as exc:
            if not isinstance(exc, Exception):  # cancelled: nobody may be left waiting
                _fail_unanswered(batch, "intake is stopping")
                raise
            log.warning("a batch of %d was not recorded: %s: %s", len(batch), type(exc).__name__, exc)
            _fail_unanswered(batch, f"{type(exc).__name__}: {exc}")
            return
        self.batches_committed += 1
        for submission, answer in answers:
            if not submission.answer.done():
                submission.answer.set_result(answer)

    async def _commit_batch(self, batch: list[Submission]) -> list[tuple[Submission, Any]]:
        # Most batches fail nowhere: run them without a savepoint per submission (two round trips each), and
        # only when one fails, run the batch again with savepoints so that it fails alone.
        try:
            return await self._commit_batch_once(batch, careful=False)
        except _RetryCarefully:
            return await self._commit_batch_once(batch, careful=True)

    async def _commit_batch_once(self, batch: list[Submission], careful: bool) -> list[tuple[Submission, Any]]:
        prepared: list[tuple[Submission, Prepared[Any], PostgresUnitOfWork[R]]] = []
        async with self.pool.acquire() as connection, connection.transaction():
            repos = self.repositories(connection)
            if not careful and self.prepare is not None:
                try:
                    await self.prepare(repos, [s.ahead for s in batch if s.ahead is not None])
                except Exception as exc:
                    if connection.is_closed():
                        raise
                    raise _RetryCarefully from exc  # each submission then asks for itself
            for submission in batch:
                # Carefully, each submission has repositories of its own, so its held writes go in its savepoint.
                unit_repos = self.repositories(connection) if careful else repos
                unit = PostgresUnitOfWork(connection, unit_repos, source=self.source)
                try:
                    if careful:
                        async with connection.transaction():  # a savepoint: a failure undoes only its own writes
                            result = await submission.work(unit)
                            await self._before_commit(unit.repos)
                    else:
                        result = await submission.work(unit)
                except Exception as exc:
                    if connection.is_closed():
                        raise
                    if not careful:
                        raise _RetryCarefully from exc
                    _answer_failure(submission, NotRecorded(str(exc)) if isinstance(exc, TRANSIENT_ERRORS) else exc)
                    continue
                prepared.append((submission, result, unit))
            if not careful:
                try:
                    await self._before_commit(repos)
                except Exception as exc:
                    if connection.is_closed():
                        raise
                    raise _RetryCarefully from exc  # which submission's write failed: each apart will say
            emitted = [envelope for _, _, unit in prepared for envelope in unit.emitted]
            outbox_rows = await outbox.append(connection, emitted, self.namespace) if emitted else []
            envelopes = [envelope for _, result, _ in prepared for envelope in result.publish]
            if envelopes:
                await self._publish(envelopes)
        for _, _, unit in prepared:
            unit.committed()
        if outbox_rows:
            self.on_commit(outbox_rows)
        return [(submission, result.answer) for submission, result, _ in prepared]

    async def _before_commit(self, repos: R) -> None:
        if self.before_commit is not None:
            await self.before_commit(repos)

    async def _publish(self, envelopes: list[EventEnvelope]) -> None:
        links = [Link(span_context_of(e.traceparent)) for e in envelopes if e.traceparent]
        with tracer.start_as_current_span(
            "intake group commit",
            kind=trace.SpanKind.PRODUCER,
            links=[link for link in links if link.context.is_valid],
            attributes={"messaging.batch.message_count": len(envelopes)},
        ):
            sealed = await asyncio.gather(*(seal_envelope(envelope) for envelope in envelopes))
            records = [Outgoing(e.data.topic.qualified(self.namespace), encode_envelope(e)) for e in sealed]
            await self.kafka.commit(records, timeout=self.publish_timeout)
        for envelope in envelopes:
            events_published.add(1, {"type": envelope.type})


def _answer_failure(submission: Submission, exc: BaseException) -> None:
    if not submission.answer.done():
        submission.answer.set_exception(exc)


def _fail_unanswered(batch: list[Submission], reason: str) -> None:
    for submission in batch:
        _answer_failure(submission, NotRecorded(reason))
