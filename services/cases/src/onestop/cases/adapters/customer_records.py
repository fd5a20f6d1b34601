"""The single customer view's writes: contacts of identified customers, merged records, erasure."""

from uuid import UUID

from onestop.cases.adapters import projections
from onestop.contracts.events.contacts import ContactReceived
from onestop.servicekit.database import Connection


class CustomerRecords:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def add_contact(self, contact: ContactReceived) -> None:
        await projections.record_contact(self.connection, contact)

    async def merge(self, surviving_id: UUID, merged_id: UUID) -> None:
        await projections.record_merge(self.connection, surviving_id, merged_id)

    async def unmerge(self, merged_id: UUID) -> None:
        await projections.record_unmerge(self.connection, merged_id)

    async def forget(self, customer_id: UUID) -> None:
        await projections.forget_customer(self.connection, customer_id)
