"""Sending what is due: claim, render, hand to the provider, and record the outcome; retry and fall back.

Nothing is lost if notify dies mid-send. A row is marked sent only after the provider accepted it; a row
left `sending` by a sender that died is claimed again once its lease is up, and sent again, since it may
never have gone. Each send carries an id derived from the notification id (the email's Message-ID,
Notify's reference, the webhook's Idempotency-Key), so a repeat of a message that did go is recognisable.
A temporary failure retries with back-off; a permanent one, or running out of attempts, falls back to the
next method the person consented to, a letter last.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from onestop.contracts.events.notifications import NotificationFailed, NotificationSent
from onestop.notify.adapters.channels import Channels, PermanentFailure
from onestop.notify.adapters.repositories import NotifyRepositories
from onestop.notify.addressing import Addressing, Unit
from onestop.notify.domain.model import QueuedNotification
from onestop.notify.domain.policy import out_of_attempts, retry_delay
from onestop.notify.domain.templates import Templates, day
from onestop.notify.settings import NotifySettings
from onestop.servicekit.unit_of_work import UnitsOfWork

log = logging.getLogger(__name__)


class Sender:
    def __init__(
        self,
        units: UnitsOfWork[NotifyRepositories],
        settings: NotifySettings,
        templates: Templates,
        channels: Channels,
        addressing: Addressing,
        clock: Callable[[], datetime],
    ) -> None:
        self.units, self.settings, self.templates = units, settings, templates
        self.channels, self.addressing, self.clock = channels, addressing, clock

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set; idle for the sender interval when nothing is due."""
        while not stop.is_set():
            if not await self.send_due():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.settings.notify_sender_interval_seconds)

    async def send_due(self) -> int:
        """Send what is due now, a round at a time; returns how many were claimed.

        A round claims no more than are sent at once, so each claim is fresh when its send starts and every
        send of the round ends (within the provider timeout) well inside the claim's lease. The round's
        outcomes are recorded in one transaction."""
        async with self.units.begin() as uow:
            claimed = await uow.repos.notifications.claim_due(
                self.clock(), self.settings.notify_sends_in_flight, self.settings.notify_claim_lease_seconds
            )
            contexts = await self._message_contexts(uow, claimed)
        outcomes = await asyncio.gather(*(self._send_one(n, contexts[n.notification_id]) for n in claimed))
        sent = [
            (notification, reference) for notification, reference in zip(claimed, outcomes, strict=True) if reference
        ]
        if sent:
            async with self.units.begin() as uow:
                ids = [notification.notification_id for notification, _ in sent]
                marked = await uow.repos.notifications.mark_all_sent(ids, self.clock())
                for notification, reference in sent:
                    if notification.notification_id in marked:
                        uow.emit(
                            NotificationSent(
                                notification_id=notification.notification_id,
                                sent_at=self.clock(),
                                method=notification.method,
                                case_id=notification.case_id,
                                provider_reference=reference[:200],
                            )
                        )
        return len(claimed)

    async def _send_one(self, notification: QueuedNotification, context: dict[str, Any]) -> str | None:
        """Hand one notification to its provider; the provider's reference, or None when it did not go."""
        if out_of_attempts(notification.attempts, self.settings.notify_max_attempts):
            # Only a claim whose sender died gets here: its last allowed attempt may or may not have gone.
            tried = notification.attempts - 1
            await self._give_up(notification, f"gave up after {tried} attempts, the last cut off by a restart")
            return None
        try:
            message = self.templates.render(
                notification.template, context, notification.language, context.get("service_area")
            )
        except Exception as exc:  # a template that cannot render never will: fail it, do not stall the queue
            await self._give_up(notification, f"cannot render {notification.template}: {exc}")
            return None
        try:
            return await self.channels.send(
                notification.method, notification.notification_id, notification.address or "", message
            )
        except PermanentFailure as exc:
            await self._give_up(notification, str(exc))
        except Exception as exc:  # temporary, or the outcome is unknown (cut off mid-send): try again later
            await self._retry_or_give_up(notification, f"{type(exc).__name__}: {exc}")
        return None

    async def _message_contexts(
        self, uow: Unit, notifications: Sequence[QueuedNotification]
    ) -> dict[UUID, dict[str, Any]]:
        """Each notification's context; an acknowledgement lists every case its contact raised by the time it
        goes out (the cases of the round's contacts read together)."""
        listing = {n.contact_id for n in notifications if n.template == "acknowledgement" and n.contact_id is not None}
        cases_of = await uow.repos.cases.of_contacts(listing) if listing else {}
        contexts = {}
        for notification in notifications:
            context = dict(notification.context)
            if notification.template == "acknowledgement" and notification.contact_id is not None:
                context["cases"] = [
                    {
                        "reference": case.reference,
                        "service": self.addressing.service_name(case.service_code),
                        "expected": day(case.sla_due_at),
                        "done": case.closed_at is not None,
                    }
                    for case in cases_of[notification.contact_id]
                ]
            contexts[notification.notification_id] = context
        return contexts

    async def _retry_or_give_up(self, notification: QueuedNotification, reason: str) -> None:
        if notification.attempts >= self.settings.notify_max_attempts:
            await self._give_up(notification, f"gave up after {notification.attempts} attempts: {reason}")
            return
        assert notification.claim_id is not None
        due = self.clock() + timedelta(seconds=retry_delay(notification.attempts))
        async with self.units.begin() as uow:
            await uow.repos.notifications.postpone(notification.notification_id, notification.claim_id, due, reason)

    async def _give_up(self, notification: QueuedNotification, reason: str) -> None:
        """Record the failure for good, and fall back to the next method the person consented to."""
        assert notification.claim_id is not None
        async with self.units.begin() as uow:
            notifications = uow.repos.notifications
            if not await notifications.mark_failed(notification.notification_id, notification.claim_id, reason):
                return  # another sender holds it now
            fallback = await self.addressing.fall_back(uow, notification)
            uow.emit(
                NotificationFailed(
                    notification_id=notification.notification_id,
                    failed_at=self.clock(),
                    method=notification.method,
                    # A provider's words can quote the address: they travel sealed, so only with a subject
                    # to seal them under (a notification queued before subjects were kept has none).
                    reason=reason[:2000] if notification.data_subject else "failed; the reason is kept by notify",
                    permanent=True,
                    case_id=notification.case_id,
                    fallback_method=fallback,
                    data_subject=notification.data_subject,
                )
            )
