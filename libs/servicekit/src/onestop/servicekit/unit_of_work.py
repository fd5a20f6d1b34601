"""One unit of work: a use case's writes, the events it emits, and what happens once they commit.

Whatever a handler or an API command changes is written through the unit's repositories in one
PostgreSQL transaction, together with the outbox rows of the events it emits (and, for consumed events,
their inbox rows). Only when that transaction commits do the after-commit callbacks run and the outbox
relay get the rows. `InMemoryUnitOfWork` is the same contract without a database, for unit tests of handlers.
"""

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Generic, TypeVar

import asyncpg

from onestop.contracts import EventEnvelope
from onestop.contracts.events.base import Event
from onestop.servicekit import outbox
from onestop.servicekit.database import Connection
from onestop.servicekit.outbox import OutboxRow
from onestop.servicekit.telemetry import current_traceparent

R = TypeVar("R")


class UnitOfWork(Generic[R]):
    """What a handler is given: its service's repositories, the event being handled, and `emit`."""

    def __init__(self, repos: R, *, source: str, cause: EventEnvelope | None = None) -> None:
        self.repos = repos
        self.source = source
        self.cause = cause
        self.emitted: list[EventEnvelope] = []
        self._after_commit: list[Callable[[], None]] = []

    def emit(self, *events: Event) -> list[EventEnvelope]:
        """Publish these events when the unit commits, as caused by the event being handled."""
        envelopes = [self.wrap(event) for event in events]
        self.emitted.extend(envelopes)
        return envelopes

    def emit_envelopes(self, envelopes: Iterable[EventEnvelope]) -> None:
        """Publish events already wrapped (their ids were needed before the unit commits)."""
        self.emitted.extend(envelopes)

    def wrap(self, event: Event) -> EventEnvelope:
        # The active span (the handler's, or the HTTP request's) is the parent of what it causes.
        traceparent = current_traceparent() or (self.cause.traceparent if self.cause else None)
        return EventEnvelope.wrap(event, source=self.source, caused_by=self.cause, traceparent=traceparent)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the unit's transaction has committed (never if it rolls back)."""
        self._after_commit.append(callback)

    def committed(self) -> None:
        for callback in self._after_commit:
            callback()

    def discard(self) -> None:
        """Forget what was emitted and scheduled: the writes behind them were rolled back."""
        self.emitted.clear()
        self._after_commit.clear()


class PostgresUnitOfWork(UnitOfWork[R]):
    """A unit of work on one connection; the caller owns the transaction."""

    def __init__(self, connection: Connection, repos: R, *, source: str, cause: EventEnvelope | None = None) -> None:
        super().__init__(repos, source=source, cause=cause)
        self.connection = connection


class InMemoryUnitOfWork(UnitOfWork[R]):
    """The fake for unit tests: repositories of the test's choosing, emitted events kept in a list."""

    def __init__(self, repos: R, *, source: str = "/onestop/test", cause: EventEnvelope | None = None) -> None:
        super().__init__(repos, source=source, cause=cause)
        self.commits = 0

    def committed(self) -> None:
        self.commits += 1
        super().committed()


class UnitsOfWork(Generic[R]):
    """Opens units of work on a service's database for API commands and clocks (not for consumed events,
    which the consumer runtime batches itself)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        repositories: Callable[[Connection], R],
        *,
        source: str,
        namespace: str,
        on_commit: Callable[[Sequence[OutboxRow]], None] = lambda rows: None,
        before_commit: Callable[[R], Awaitable[None]] | None = None,
    ) -> None:
        self.pool = pool
        self.repositories = repositories
        self.source = source
        self.namespace = namespace
        self.on_commit = on_commit
        self.before_commit = before_commit  # for repositories that hold writes back until the end

    @contextlib.asynccontextmanager
    async def begin(self, cause: EventEnvelope | None = None) -> AsyncIterator[PostgresUnitOfWork[R]]:
        """A transaction whose emitted events reach the outbox in it; its rows go to the relay after commit."""
        rows: list[OutboxRow] = []
        async with self.pool.acquire() as connection:
            async with connection.transaction():
                unit = PostgresUnitOfWork(connection, self.repositories(connection), source=self.source, cause=cause)
                yield unit
                if self.before_commit is not None:
                    await self.before_commit(unit.repos)
                if unit.emitted:
                    rows = await outbox.append(connection, unit.emitted, self.namespace)
            unit.committed()
            if rows:
                self.on_commit(rows)
