"""Routing's tables as its handlers and use cases write them, all on one connection (one transaction).

The known cases hold their writes back to the commit: the consumer runtime, the API's units of work and
a rebuild call `flush` just before they commit."""

from dataclasses import dataclass

from onestop.routing.adapters.known_cases import KnownCases, PostgresKnownCases
from onestop.routing.adapters.published_rules import PostgresPublishedRules, PublishedRules
from onestop.routing.adapters.triage_queue import PostgresTriageQueue, TriageQueue
from onestop.servicekit.database import Connection


@dataclass(frozen=True)
class RoutingRepositories:
    known_cases: KnownCases
    triage_queue: TriageQueue
    published_rules: PublishedRules

    @classmethod
    def on(cls, connection: Connection) -> "RoutingRepositories":
        """The PostgreSQL repositories on `connection` (what the runtime builds for each unit of work)."""
        return cls(PostgresKnownCases(connection), PostgresTriageQueue(connection), PostgresPublishedRules(connection))

    async def flush(self) -> None:
        await self.known_cases.flush()
