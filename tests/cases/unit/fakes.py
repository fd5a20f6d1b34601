"""In-memory stand-ins for the cases repositories, for handler tests that need no database."""

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from onestop.cases.adapters.event_store import ConcurrencyConflict
from onestop.cases.domain.case import Case
from onestop.contracts import EventEnvelope
from onestop.contracts.events.contacts import ContactReceived
from onestop.contracts.events.routing import DuplicateReportLinked
from onestop.servicekit.unit_of_work import InMemoryUnitOfWork


class InMemoryCaseStore:
    def __init__(self) -> None:
        self.histories: dict[UUID, list[EventEnvelope]] = {}

    async def get(self, case_id: UUID) -> Case:
        return Case.from_history(case_id, (envelope.data for envelope in self.histories.get(case_id, [])))

    async def add(
        self, case_id: UUID, expected_version: int, envelopes: Sequence[EventEnvelope]
    ) -> list[EventEnvelope]:
        history = self.histories.setdefault(case_id, [])
        if len(history) != expected_version:
            raise ConcurrencyConflict(f"case {case_id} is at version {len(history)}, not {expected_version}")
        history.extend(envelopes)
        return list(envelopes)

    async def due_for_escalation(self, now: datetime) -> list[UUID]:
        return [case_id for case_id in self.histories if (await self.get(case_id)).escalations_due(now)]


class InMemoryPendingLinks:
    def __init__(self) -> None:
        self.kept: dict[UUID, list[DuplicateReportLinked]] = {}

    async def lock(self, case_id: UUID) -> None:
        pass  # one test, one writer

    async def keep(self, envelope: EventEnvelope) -> None:
        assert isinstance(envelope.data, DuplicateReportLinked)
        self.kept.setdefault(envelope.data.case_id, []).append(envelope.data)

    async def take(self, case_id: UUID) -> list[DuplicateReportLinked]:
        return self.kept.pop(case_id, [])


class InMemoryCommandLog:
    def __init__(self) -> None:
        self.applied_ids: dict[UUID, list[UUID]] = {}

    async def applied(self, command_id: UUID) -> bool:
        return command_id in self.applied_ids

    async def record(self, command_id: UUID, case_id: UUID, event_ids: Sequence[UUID]) -> None:
        self.applied_ids[command_id] = list(event_ids)


class InMemoryCustomerRecords:
    def __init__(self) -> None:
        self.contacts: dict[UUID, list[UUID]] = {}
        self.merged_into: dict[UUID, UUID] = {}

    async def add_contact(self, contact: ContactReceived) -> None:
        if contact.customer is not None and contact.customer.customer_id is not None:
            self.contacts.setdefault(contact.customer.customer_id, []).append(contact.contact_id)

    async def merge(self, surviving_id: UUID, merged_id: UUID) -> None:
        self.merged_into[merged_id] = surviving_id

    async def forget(self, customer_id: UUID) -> None:
        self.contacts.pop(customer_id, None)
        self.merged_into = {m: s for m, s in self.merged_into.items() if customer_id not in (m, s)}


class InMemoryCaseRepositories:
    def __init__(self) -> None:
        self.cases = InMemoryCaseStore()
        self.pending_links = InMemoryPendingLinks()
        self.commands = InMemoryCommandLog()
        self.customers = InMemoryCustomerRecords()


def unit_of_work(repos: InMemoryCaseRepositories, cause: EventEnvelope) -> InMemoryUnitOfWork[InMemoryCaseRepositories]:
    return InMemoryUnitOfWork(repos, source="/onestop/cases", cause=cause)
