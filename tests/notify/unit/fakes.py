"""In-memory stand-ins for notify's repositories, for unit tests of its handlers."""

import dataclasses
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from onestop.contracts.events.base import Event
from onestop.contracts.events.common import ContactMethod
from onestop.contracts.events.notifications import SurveyKind
from onestop.notify.domain.model import FollowedCase, Preferences, QueuedNotification, Reporter, WardSubscriber


class FakeCaseBook:
    def __init__(self) -> None:
        self.cases: dict[UUID, FollowedCase] = {}
        self.councillors: dict[UUID, str | None] = {}
        self.reporters: dict[tuple[UUID, UUID], Reporter] = {}

    async def read_ahead(self, case_ids: Collection[UUID]) -> None:
        pass  # everything is in memory already

    async def record_contact(self, contact_id: UUID, needs: int, councillor: str | None) -> None:
        self.councillors.setdefault(contact_id, councillor)

    async def councillor_of(self, contact_id: UUID) -> str | None:
        return self.councillors.get(contact_id)

    async def record_case(self, case: FollowedCase) -> FollowedCase:
        return self.cases.setdefault(case.case_id, case)

    async def get(self, case_id: UUID) -> FollowedCase | None:
        return self.cases.get(case_id)

    async def of_contacts(self, contact_ids: Collection[UUID]) -> dict[UUID, list[FollowedCase]]:
        ordered = sorted(self.cases.values(), key=lambda c: c.reference)
        return {contact_id: [c for c in ordered if c.contact_id == contact_id] for contact_id in contact_ids}

    def _change(self, case_id: UUID, **changes: Any) -> FollowedCase | None:
        if case_id not in self.cases:
            return None
        self.cases[case_id] = dataclasses.replace(self.cases[case_id], **changes)
        return self.cases[case_id]

    async def set_sla_due(self, case_id: UUID, due: datetime) -> None:
        self._change(case_id, sla_due_at=due)

    async def set_outcome(self, case_id: UUID, outcome: str) -> None:
        self._change(case_id, outcome=outcome)

    async def decline(self, case_id: UUID, reason: str) -> None:
        self._change(case_id, outcome=reason, declined=True)

    async def close(self, case_id: UUID, closed_at: datetime) -> FollowedCase | None:
        return self._change(case_id, closed_at=closed_at)

    async def reopen(self, case_id: UUID) -> FollowedCase | None:
        return self._change(case_id, closed_at=None, outcome=None, declined=False)

    async def add_reporter(self, reporter: Reporter) -> None:
        self.reporters.setdefault((reporter.case_id, reporter.contact_id), reporter)

    async def reporter(self, case_id: UUID, contact_id: UUID) -> Reporter | None:
        return self.reporters.get((case_id, contact_id))

    async def reporters_of(self, case_id: UUID) -> list[UUID]:
        return [contact for (case, contact) in self.reporters if case == case_id]

    async def forget_customer(self, customer_id: UUID) -> None:
        for case in list(self.cases.values()):
            if customer_id in (case.customer_id, case.data_subject):
                self._change(case.case_id, customer=None, outcome=None)
        for key, reporter in list(self.reporters.items()):
            if reporter.customer_id == customer_id:
                self.reporters[key] = dataclasses.replace(reporter, customer=None)


class FakeAudience:
    def __init__(self) -> None:
        self.preferences: dict[UUID, Preferences] = {}
        self.wards: dict[str, list[WardSubscriber]] = {}

    async def read_ahead(self, customer_ids: Collection[UUID], wards: Collection[str]) -> None:
        pass  # everything is in memory already

    async def preferences_of(self, customer_id: UUID) -> Preferences | None:
        return self.preferences.get(customer_id)

    async def set_preferences(self, customer_id: UUID, preferences: Preferences) -> None:
        self.preferences[customer_id] = preferences

    async def forget_customer(self, customer_id: UUID) -> None:
        self.preferences.pop(customer_id, None)

    async def ward_subscribers(self, ward: str) -> list[WardSubscriber]:
        return self.wards.get(ward, [])

    async def subscribe(self, ward: str, subscriber: WardSubscriber) -> None:
        self.wards.setdefault(ward, []).append(subscriber)


class FakeNotificationQueue:
    def __init__(self) -> None:
        self.queued: dict[str, tuple[QueuedNotification, datetime]] = {}

    @property
    def all(self) -> list[QueuedNotification]:
        return [notification for notification, _ in self.queued.values()]

    def due_at(self, template: str) -> datetime:
        return next(due for n, due in self.queued.values() if n.template == template)

    async def add(self, notification: QueuedNotification, due_at: datetime) -> bool:
        if notification.notification_key in self.queued:
            return False
        self.queued[notification.notification_key] = (notification, due_at)
        return True

    async def methods_tried(self, notification: QueuedNotification) -> set[ContactMethod]:
        return {
            n.method
            for n in self.all
            if (n.trigger_event_id, n.recipient_id, n.template)
            == (notification.trigger_event_id, notification.recipient_id, notification.template)
        }

    async def forget_customer(self, customer_id: UUID) -> None:
        for key, (n, due) in list(self.queued.items()):
            if n.recipient_id == str(customer_id) or n.data_subject == customer_id:
                self.queued[key] = (dataclasses.replace(n, address=None, context={}), due)


class FakeSurveyBook:
    def __init__(self) -> None:
        self.surveys: dict[tuple[UUID, SurveyKind], dict[str, Any]] = {}

    async def plan(self, survey_id: UUID, case_id: UUID, kind: SurveyKind, service_area: str, due_at: datetime) -> None:
        self.surveys.setdefault(
            (case_id, kind), {"survey_id": survey_id, "due_at": due_at, "requested": False, "area": service_area}
        )

    async def mark_requested(
        self, survey_id: UUID, case_id: UUID, kind: SurveyKind, service_area: str, due_at: datetime
    ) -> UUID:
        survey = self.surveys.setdefault(
            (case_id, kind), {"survey_id": survey_id, "due_at": due_at, "area": service_area}
        )
        survey["requested"] = True
        return survey["survey_id"]  # type: ignore[no-any-return]


class FakeRepositories:
    def __init__(self) -> None:
        self.cases = FakeCaseBook()
        self.audience = FakeAudience()
        self.notifications = FakeNotificationQueue()
        self.surveys = FakeSurveyBook()

    async def read_ahead(self, events: Sequence[Event]) -> None:
        pass  # everything is in memory already

    async def flush(self) -> None:
        pass  # nothing is held back
