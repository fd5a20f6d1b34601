"""In-memory stand-ins for intake's repositories, for unit tests of its use cases and handlers."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from onestop.contracts.events.contacts import ContactReceived
from onestop.intake.adapters.idempotency import EarlierAnswer
from onestop.intake.domain.identification import Identity, Match, best_matches
from onestop.intake.domain.service_request import ServiceRequest


class FakeCustomers:
    def __init__(self) -> None:
        self.records: dict[UUID, Identity] = {}
        self.erased: list[UUID] = []

    async def identify(
        self, identity: Identity, new_customer_id: UUID, *, verified: bool
    ) -> tuple[UUID, Match | None, list[UUID]]:
        from onestop.intake.domain.identification import CustomerRecord

        matches = best_matches(identity, [CustomerRecord(i, r) for i, r in self.records.items()])
        if not matches:
            self.records[new_customer_id] = identity
            return new_customer_id, None, []
        return matches[0].customer_id, matches[0], []

    async def erase(self, customer_id: UUID) -> None:
        self.erased.append(customer_id)


class FakeIdempotency:
    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], EarlierAnswer] = {}

    async def claim(self, client: str, key: str) -> EarlierAnswer | None:
        return self.answers.get((client, key))

    async def remember(self, client: str, key: str, request_hash: str, status_code: int, body: dict[str, Any]) -> None:
        self.answers[(client, key)] = EarlierAnswer(request_hash, status_code, body)


@dataclass
class FakeOpen311Requests:
    added: list[tuple[ServiceRequest, ContactReceived]] = field(default_factory=list)

    async def add(self, request: ServiceRequest, contact: ContactReceived) -> None:
        self.added.append((request, contact))


@dataclass
class FakeOpen311Progress:
    changes: list[tuple[str, UUID, datetime, tuple[Any, ...]]] = field(default_factory=list)
    erased: list[UUID] = field(default_factory=list)

    def erase(self, data_subject: UUID) -> None:
        self.erased.append(data_subject)

    def __getattr__(self, change: str) -> Any:
        def record(case_id: UUID, at: datetime, *values: Any) -> None:
            self.changes.append((change, case_id, at, values))

        return record


@dataclass
class FakeAttachments:
    subjects: dict[UUID, UUID] = field(default_factory=dict)
    erased: list[UUID] = field(default_factory=list)
    areas: dict[UUID, set[str]] = field(default_factory=dict)

    async def belong_to(self, data_subject: UUID, attachment_ids: list[UUID]) -> None:
        self.subjects.update(dict.fromkeys(attachment_ids, data_subject))

    async def serve_area(self, attachment_ids: list[UUID], service_area: str) -> None:
        for attachment_id in attachment_ids:
            self.areas.setdefault(attachment_id, set()).add(service_area)

    async def erase(self, data_subject: UUID) -> None:
        self.erased.append(data_subject)


class FakeRepositories:
    def __init__(self) -> None:
        self.customers = FakeCustomers()
        self.idempotency = FakeIdempotency()
        self.open311_requests = FakeOpen311Requests()
        self.attachments = FakeAttachments()


class FakeCaseProgressRepositories:
    def __init__(self) -> None:
        self.customers = FakeCustomers()
        self.open311_requests = FakeOpen311Progress()
        self.attachments = FakeAttachments()
