"""Every repository the cases use cases write through, built on one connection (the unit of work's).

The event store's appends and the read models' writes are held in one `WriteBuffer` and written by
`flush`, which the consumer runtime and the API's units of work call just before they commit."""

from collections.abc import Sequence
from uuid import UUID

from onestop.cases.adapters import event_store
from onestop.cases.adapters.case_store import CaseStore
from onestop.cases.adapters.command_log import CommandLog
from onestop.cases.adapters.customer_records import CustomerRecords
from onestop.cases.adapters.pending_links import PendingLinks
from onestop.cases.domain.search_terms import BlindIndex
from onestop.contracts.events.base import Event
from onestop.contracts.events.routing import ContactAssessed, NeedRouted
from onestop.servicekit.database import Connection
from onestop.servicekit.write_buffer import WriteBuffer


class CaseRepositories:
    def __init__(self, connection: Connection, index: BlindIndex) -> None:
        self.writes = WriteBuffer(connection)
        self.cases = CaseStore(connection, self.writes, index)
        self.pending_links = PendingLinks(connection)
        self.commands = CommandLog(connection)
        self.customers = CustomerRecords(self.writes)

    async def read_ahead(self, events: Sequence[Event]) -> None:
        """What a batch's handlers will read, in a few round trips for the whole batch: the links waiting
        for the cases it raises, and the histories of every case it touches."""
        raising = [event.case_id for event in events if isinstance(event, NeedRouted)]
        await self.pending_links.take_ahead(raising)
        touched = {case_id for event in events if (case_id := _case_of(event)) is not None}
        await self.cases.read_ahead(touched)

    async def flush(self) -> None:
        """Write what the unit of work held back; ConcurrencyConflict if a case moved on meanwhile."""
        await event_store.flush(self.writes)


def _case_of(event: Event) -> UUID | None:
    if isinstance(event, ContactAssessed):
        return event.related_case_id
    case_id = getattr(event, "case_id", None)
    return case_id if isinstance(case_id, UUID) else None
