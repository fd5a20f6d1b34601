"""Everything notify keeps, on one connection: what its handlers, sender, clocks and API write through.

The case book's writes are held in one `WriteBuffer` and written by `flush`, which the consumer runtime and
the units of work call just before they commit."""

from collections.abc import Sequence

from onestop.contracts.events.base import Event
from onestop.contracts.events.cases import CaseEscalated, CaseProgressUpdated, CaseRaised, ReporterLinked
from onestop.notify.adapters.audience import Audience
from onestop.notify.adapters.case_book import CaseBook
from onestop.notify.adapters.notification_queue import NotificationQueue
from onestop.notify.adapters.survey_book import SurveyBook
from onestop.servicekit.database import Connection
from onestop.servicekit.write_buffer import WriteBuffer

# The events whose handlers read their case (the others only write what they learn of it).
READ_THEIR_CASE = (CaseRaised, ReporterLinked, CaseEscalated, CaseProgressUpdated)


class NotifyRepositories:
    def __init__(self, connection: Connection) -> None:
        self.writes = WriteBuffer(connection)
        self.cases = CaseBook(connection, self.writes)
        self.audience = Audience(connection)
        self.notifications = NotificationQueue(connection)
        self.surveys = SurveyBook(connection)

    async def read_ahead(self, events: Sequence[Event]) -> None:
        """What a batch's handlers will read, in a few round trips for the whole batch: every case its events
        are about, and the preferences of the customers and the subscribers of the wards of the cases it raises."""
        reading = [event for event in events if isinstance(event, READ_THEIR_CASE)]
        case_ids = {event.case_id for event in reading}
        raised = [event for event in events if isinstance(event, CaseRaised)]
        customers = {event.customer.customer_id for event in raised if event.customer and event.customer.customer_id}
        wards = {event.location.ward for event in raised if event.location and event.location.ward}
        if len(case_ids) > 1:  # one case is read as cheaply by its handler (a raise: stored and read in one)
            await self.cases.read_ahead(case_ids)
        await self.audience.read_ahead(customers, wards)

    async def flush(self) -> None:
        """Write what the unit of work held back."""
        await self.writes.flush()
