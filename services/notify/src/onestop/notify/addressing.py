"""Who is told, and how: the customer, linked reporters, the councillor who raised it, ward followers and
staff, each by the method they can be reached by; and the fall-back when a method fails for good.

Each message is queued once per key (trigger, recipient, template) with its `NotificationRequested`.
"""

import dataclasses
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from onestop.contracts.events.common import ContactMethod
from onestop.contracts.events.notifications import NotificationRequested, Recipient, RecipientRole
from onestop.contracts.service_catalogue import ServiceCatalogue
from onestop.notify.adapters.repositories import NotifyRepositories
from onestop.notify.domain.model import FollowedCase, QueuedNotification, reachability
from onestop.notify.domain.policy import notification_key
from onestop.notify.settings import NotifySettings
from onestop.servicekit.unit_of_work import UnitOfWork

Unit = UnitOfWork[NotifyRepositories]


class Addressing:
    def __init__(self, settings: NotifySettings, catalogue: ServiceCatalogue, clock: Callable[[], datetime]) -> None:
        self.settings, self.catalogue, self.clock = settings, catalogue, clock

    def service_name(self, code: str) -> str:
        service = self.catalogue.service(code)
        return service.name if service else code

    async def to_followers(
        self, uow: Unit, case: FollowedCase, template: str, context: dict[str, Any]
    ) -> list[NotificationRequested]:
        """The customer, every linked reporter, and the councillor who raised it."""
        requested = await self.to_customer(uow, case, template, context)
        for contact_id in await uow.repos.cases.reporters_of(case.case_id):
            requested += await self.to_reporter(uow, case, contact_id, template, context)
        councillor = await uow.repos.cases.councillor_of(case.contact_id)
        if councillor and "@" in councillor:
            recipient = Recipient(role=RecipientRole.COUNCILLOR, id=councillor, address=councillor)
            requested += await self.queue(uow, case, recipient, ContactMethod.EMAIL, template, context)
        return requested

    async def to_customer(
        self,
        uow: Unit,
        case: FollowedCase,
        template: str,
        context: dict[str, Any],
        *,
        key_trigger: UUID | None = None,
        due: datetime | None = None,
    ) -> list[NotificationRequested]:
        if case.customer_id is None:
            return []
        preferences = await uow.repos.audience.preferences_of(case.customer_id)
        if template == "progress" and preferences is not None and not preferences.progress_updates:
            return []
        reach = reachability(case.customer, preferences)
        chosen = reach.method() if reach else None
        if chosen is None:
            return []
        customer = case.customer or {}
        recipient = Recipient(role=RecipientRole.CUSTOMER, id=str(case.customer_id), address=chosen[1])
        return await self.queue(
            uow,
            case,
            recipient,
            chosen[0],
            template,
            {"name": customer.get("name"), **context},
            key_trigger=key_trigger,
            due=due,
            language=customer.get("language", "en"),
        )

    async def to_reporter(
        self, uow: Unit, case: FollowedCase, contact_id: UUID, template: str, context: dict[str, Any]
    ) -> list[NotificationRequested]:
        reporter = await uow.repos.cases.reporter(case.case_id, contact_id)
        if reporter is None or reporter.customer is None:
            return []
        reach = reachability(reporter.customer, None)
        chosen = reach.method() if reach else None
        if chosen is None:
            return []
        recipient = Recipient(
            role=RecipientRole.REPORTER, id=str(reporter.customer_id or contact_id), address=chosen[1]
        )
        context = {"name": reporter.customer.get("name"), **context}
        return await self.queue(uow, case, recipient, chosen[0], template, context)

    async def to_ward(self, uow: Unit, case: FollowedCase, what: str, detail: str) -> list[NotificationRequested]:
        """Residents and councillors following the case's ward."""
        if not case.ward:
            return []
        requested = []
        for subscriber in await uow.repos.audience.ward_subscribers(case.ward):
            recipient = Recipient(
                role=RecipientRole.WARD_SUBSCRIBER, id=subscriber.subscriber_id, address=subscriber.address
            )
            context = {"ward": case.ward, "what": what, "detail": detail}
            requested += await self.queue(uow, case, recipient, subscriber.method, "ward_update", context)
        return requested

    async def to_staff(
        self, uow: Unit, case: FollowedCase, roles: Iterable[str], service_area: str, context: dict[str, Any]
    ) -> list[NotificationRequested]:
        """Each role's mailbox for the service area, e.g. senior.manager.waste@<staff domain>."""
        requested = []
        for role in roles:
            mailbox = f"{role.replace('_', '.')}.{service_area.replace('_', '-')}"
            address = f"{mailbox}@{self.settings.notify_staff_email_domain}"
            recipient = Recipient(role=RecipientRole.STAFF, id=f"{role}:{service_area}", address=address)
            requested += await self.queue(uow, case, recipient, ContactMethod.EMAIL, "staff_alert", context)
        return requested

    async def queue(
        self,
        uow: Unit,
        case: FollowedCase,
        recipient: Recipient,
        method: ContactMethod,
        template: str,
        context: dict[str, Any],
        *,
        key_trigger: UUID | None = None,
        due: datetime | None = None,
        language: str = "en",
    ) -> list[NotificationRequested]:
        """Queue one notification (once per key) and emit its NotificationRequested."""
        trigger_event_id = uow.cause.id if uow.cause else key_trigger
        if trigger_event_id is None:
            raise ValueError("a notification needs the event or the survey that triggered it")
        tracking_url = f"{self.settings.notify_tracking_base_url}/track/{case.reference}"
        if language == "cy":
            tracking_url += "?lang=cy"  # the page opens in the language the customer chose
        notification = QueuedNotification(
            notification_id=uuid4(),
            notification_key=notification_key(key_trigger or trigger_event_id, recipient.id, template),
            trigger_event_id=trigger_event_id,
            case_id=case.case_id,
            contact_id=case.contact_id,
            recipient_role=recipient.role,
            recipient_id=recipient.id,
            method=method,
            address=recipient.address,
            template=template,
            language=language,
            data_subject=recipient.personal_subject() or case.data_subject,
            context={
                "reference": case.reference,
                "service": self.service_name(case.service_code),
                "service_area": case.service_area,
                "tracking_url": tracking_url,
                **context,
            },
        )
        if not await uow.repos.notifications.add(notification, due or self.clock()):
            return []
        requested = NotificationRequested(
            notification_id=notification.notification_id,
            requested_at=self.clock(),
            recipient=recipient,
            method=method,
            template=template,
            language=language,
            case_id=case.case_id,
            trigger_event_id=trigger_event_id,
            data_subject=case.data_subject,
        )
        uow.emit(requested)
        return [requested]

    async def fall_back(self, uow: Unit, failed: QueuedNotification) -> ContactMethod | None:
        """Queue the same message by the next method the customer or reporter consented to, if any."""
        if failed.recipient_role not in (RecipientRole.CUSTOMER, RecipientRole.REPORTER) or failed.case_id is None:
            return None
        case = await uow.repos.cases.get(failed.case_id)
        if case is None:
            return None
        preferences = None
        try:
            preferences = await uow.repos.audience.preferences_of(UUID(failed.recipient_id))
        except ValueError:
            pass  # a reporter known only by their contact has no stored preferences
        reach = reachability(case.customer, preferences)
        tried = await uow.repos.notifications.methods_tried(failed)
        chosen = reach.method(excluding=frozenset(tried | {failed.method})) if reach else None
        if chosen is None:
            return None
        method, address = chosen
        fallback = dataclasses.replace(
            failed,
            notification_id=uuid4(),
            notification_key=f"{failed.notification_key}:{method.value}",
            method=method,
            address=address,
            attempts=0,
            claim_id=None,
        )
        await uow.repos.notifications.add(fallback, self.clock())
        return method
