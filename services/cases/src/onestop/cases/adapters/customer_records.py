"""The single customer view's writes: contacts of identified customers, merged records, erasure."""

from uuid import UUID

from onestop.cases.adapters import projections
from onestop.contracts.events.contacts import ContactReceived
from onestop.servicekit.write_buffer import WriteBuffer


class CustomerRecords:
    def __init__(self, writes: WriteBuffer) -> None:
        self.writes = writes

    async def add_contact(self, contact: ContactReceived) -> None:
        projections.record_contact(self.writes, contact)

    async def merge(self, surviving_id: UUID, merged_id: UUID) -> None:
        projections.record_merge(self.writes, surviving_id, merged_id)

    async def unmerge(self, merged_id: UUID) -> None:
        projections.record_unmerge(self.writes, merged_id)

    async def forget(self, customer_id: UUID) -> None:
        projections.forget_customer(self.writes, customer_id)
