"""Everything intake writes, as repositories on one connection (the unit of work's)."""

from onestop.intake.adapters.attachments import Attachments
from onestop.intake.adapters.customers import Customers
from onestop.intake.adapters.idempotency import IdempotencyRecords
from onestop.intake.adapters.open311_requests import Open311Progress, Open311Requests
from onestop.servicekit.database import Connection
from onestop.servicekit.write_buffer import WriteBuffer


class IntakeRepositories:
    def __init__(self, connection: Connection) -> None:
        self.customers = Customers(connection)
        self.idempotency = IdempotencyRecords(connection)
        self.open311_requests = Open311Requests(connection)
        self.attachments = Attachments(connection)


class CaseProgressRepositories:
    """What the case-progress consumer writes. Its Open311 writes are held back and written together by
    `flush`, which the consumer runtime calls before the batch commits."""

    def __init__(self, connection: Connection) -> None:
        self.writes = WriteBuffer(connection)
        self.open311_requests = Open311Progress(self.writes)
        self.customers = Customers(connection)
        self.attachments = Attachments(connection)

    async def flush(self) -> None:
        await self.writes.flush()
