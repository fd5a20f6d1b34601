"""In-memory stand-ins for routing's repositories, for handler tests that need no database."""

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from onestop.contracts import EventEnvelope
from onestop.contracts.events.cases import CaseOutcome
from onestop.contracts.events.common import Location
from onestop.contracts.personal_data import without_personal_data
from onestop.routing.adapters.known_cases import Place
from onestop.routing.adapters.repositories import RoutingRepositories
from onestop.routing.domain.known_case import KnownCase


class InMemoryKnownCases:
    def __init__(self, *cases: KnownCase) -> None:
        self.cases = {case.case_id: case for case in cases}

    async def remember(self, case: KnownCase) -> None:
        self.cases.setdefault(case.case_id, case)

    async def close(self, case_id: UUID, closed_at: datetime, outcome: CaseOutcome) -> None:
        if case_id in self.cases:
            self.cases[case_id] = dataclasses.replace(self.cases[case_id], closed_at=closed_at, outcome=outcome)

    async def reopen(self, case_id: UUID) -> None:
        if case_id in self.cases:
            self.cases[case_id] = dataclasses.replace(self.cases[case_id], closed_at=None, outcome=None)

    async def erase(self, data_subject: UUID) -> None:
        for case_id, case in list(self.cases.items()):
            if data_subject in (case.customer_id, case.data_subject):
                self.cases[case_id] = dataclasses.replace(case, customer_id=None, uprn=None)

    async def get(self, case_id: UUID) -> KnownCase | None:
        return self.cases.get(case_id)

    async def by_reference(self, reference: str) -> KnownCase | None:
        return next((case for case in self.cases.values() if case.reference == reference), None)

    async def of_customer(self, customer_id: UUID, service_code: str) -> list[KnownCase]:
        theirs = [c for c in self.cases.values() if c.customer_id == customer_id and c.service_code == service_code]
        return sorted(theirs, key=lambda case: case.opened_at, reverse=True)

    async def read_ahead(self, case_ids: Iterable[UUID], customer_ids: Iterable[UUID], places: Iterable[Place]) -> None:
        pass  # everything is in memory already

    async def flush(self) -> None:
        pass

    async def open_near(
        self, service_code: str, location: Location, radius_metres: float, opened_since: datetime
    ) -> list[KnownCase]:
        # Every open case of the service in the window is a candidate; decide() judges the place.
        candidates = [
            c
            for c in self.cases.values()
            if c.service_code == service_code and c.is_open and c.opened_at >= opened_since
        ]
        return sorted(candidates, key=lambda case: case.opened_at)


@dataclass
class Queued:
    contact: EventEnvelope
    reason: str
    best_guess: str | None
    confidence: float
    queued_at: datetime


class InMemoryTriageQueue:
    def __init__(self) -> None:
        self.waiting: dict[tuple[UUID, UUID], Queued] = {}

    async def add(
        self,
        contact_id: UUID,
        need_id: UUID,
        *,
        contact: EventEnvelope,
        reason: str,
        best_guess: str | None,
        confidence: float,
        queued_at: datetime,
    ) -> None:
        self.waiting.setdefault((contact_id, need_id), Queued(contact, reason, best_guess, confidence, queued_at))

    async def take(self, contact_id: UUID, need_id: UUID) -> EventEnvelope | None:
        queued = self.waiting.pop((contact_id, need_id), None)
        return queued.contact if queued else None

    async def erase(self, data_subject: UUID) -> None:
        for key, queued in list(self.waiting.items()):
            contact = queued.contact
            if contact.data.personal_subject() == data_subject:
                stripped = contact.model_copy(update={"data": without_personal_data(contact.data)})
                self.waiting[key] = dataclasses.replace(queued, contact=stripped)


class InMemoryPublishedRules:
    def __init__(self) -> None:
        self.checksums: set[str] = set()

    async def add(self, checksum: str, version: str) -> bool:
        if checksum in self.checksums:
            return False
        self.checksums.add(checksum)
        return True


def in_memory(
    known_cases: InMemoryKnownCases | None = None, triage_queue: InMemoryTriageQueue | None = None
) -> RoutingRepositories:
    return RoutingRepositories(
        known_cases or InMemoryKnownCases(), triage_queue or InMemoryTriageQueue(), InMemoryPublishedRules()
    )
