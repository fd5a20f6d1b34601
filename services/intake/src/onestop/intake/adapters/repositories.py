"""Everything intake writes, as repositories on one connection (the unit of work's).

Customer records, idempotency answers and Open311 progress are held back in one `WriteBuffer` and written
by `flush`, which group commit, the units of work and the consumer runtime call just before they commit."""

from collections.abc import Sequence
from dataclasses import dataclass

from onestop.intake.adapters.attachments import Attachments
from onestop.intake.adapters.customers import Customers
from onestop.intake.adapters.idempotency import IdempotencyRecords
from onestop.intake.adapters.open311_requests import Open311Progress, Open311Requests
from onestop.intake.domain.identification import Identity
from onestop.servicekit.database import Connection
from onestop.servicekit.write_buffer import WriteBuffer


@dataclass(frozen=True)
class Ahead:
    """What one contact of a batch will ask: its Idempotency-Key's earlier answer, and who it could be."""

    idempotency_key: tuple[str, str] | None
    identity: Identity | None


class IntakeRepositories:
    def __init__(self, connection: Connection) -> None:
        self.writes = WriteBuffer(connection)
        self.customers = Customers(connection, self.writes)
        self.idempotency = IdempotencyRecords(connection, self.writes)
        self.open311_requests = Open311Requests(connection)
        self.attachments = Attachments(connection)

    async def read_ahead(self, contacts: Sequence[Ahead]) -> None:
        """A batch's keys claimed and its customers' possible records read, in three round trips for all."""
        await self.idempotency.claim_ahead([c.idempotency_key for c in contacts if c.idempotency_key])
        await self.customers.read_ahead([c.identity for c in contacts if c.identity])

    async def flush(self) -> None:
        await self.writes.flush()


class CaseProgressRepositories:
    """What the case-progress consumer writes. Its Open311 writes are held back and written together by
    `flush`, which the consumer runtime calls before the batch commits."""

    def __init__(self, connection: Connection) -> None:
        self.writes = WriteBuffer(connection)
        self.open311_requests = Open311Progress(self.writes)
        self.customers = Customers(connection, self.writes)
        self.attachments = Attachments(connection)

    async def flush(self) -> None:
        await self.writes.flush()
