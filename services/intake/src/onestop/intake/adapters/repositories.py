"""Everything intake writes, as repositories on one connection (the unit of work's)."""

from onestop.intake.adapters.attachments import Attachments
from onestop.intake.adapters.customers import Customers
from onestop.intake.adapters.idempotency import IdempotencyRecords
from onestop.intake.adapters.open311_requests import Open311Requests
from onestop.servicekit.database import Connection


class IntakeRepositories:
    def __init__(self, connection: Connection) -> None:
        self.customers = Customers(connection)
        self.idempotency = IdempotencyRecords(connection)
        self.open311_requests = Open311Requests(connection)
        self.attachments = Attachments(connection)
