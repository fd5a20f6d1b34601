"""The notifications queued to be sent, in PostgreSQL: queueing once per key, and claims with a lease.

A sender claims due rows (`FOR UPDATE SKIP LOCKED`, so two instances never claim the same row) and marks
them `sending` under a fresh `claim_id` for a lease. A row whose sender died stays `sending`, and is due
again once its claim is older than the lease: its outcome is unknown, so it is sent again rather than lost.
Every later step names the claim, so a sender whose claim was taken over leaves the row alone.
"""

import json
from collections.abc import Collection
from datetime import datetime
from uuid import UUID, uuid4

import asyncpg

from onestop.contracts.events.common import ContactMethod
from onestop.contracts.events.notifications import RecipientRole
from onestop.notify.domain.model import QueuedNotification
from onestop.servicekit.database import Connection


def _notification(row: asyncpg.Record) -> QueuedNotification:
    return QueuedNotification(
        notification_id=row["notification_id"],
        notification_key=row["notification_key"],
        trigger_event_id=row["trigger_event_id"],
        case_id=row["case_id"],
        contact_id=row["contact_id"],
        recipient_role=RecipientRole(row["recipient_role"]),
        recipient_id=row["recipient_id"],
        method=ContactMethod(row["method"]),
        address=row["address"],
        template=row["template"],
        language=row["language"],
        context=json.loads(row["context"]),
        attempts=row["attempts"],
        claim_id=row["claim_id"],
        data_subject=row["data_subject"],
    )


class NotificationQueue:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def add(self, notification: QueuedNotification, due_at: datetime) -> bool:
        """Queue it unless its key was queued before; True if it was new."""
        inserted = await self.connection.fetchval(
            """INSERT INTO notifications (notification_id, notification_key, trigger_event_id, case_id, contact_id,
                   recipient_role, recipient_id, method, address, template, language, context, due_at, data_subject)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13, $14)
               ON CONFLICT (notification_key) DO NOTHING RETURNING true""",
            notification.notification_id,
            notification.notification_key,
            notification.trigger_event_id,
            notification.case_id,
            notification.contact_id,
            notification.recipient_role.value,
            notification.recipient_id,
            notification.method.value,
            notification.address,
            notification.template,
            notification.language,
            json.dumps(notification.context, default=str),
            due_at,
            notification.data_subject,
        )
        return bool(inserted)

    async def claim_due(self, now: datetime, limit: int, lease_seconds: float) -> list[QueuedNotification]:
        """Claim what is due at `now`, and what a sender claimed longer ago than the lease and never settled.

        The lease runs on the database's clock (it is about processes, not business time), so instances
        with skewed clocks agree on it. Each claim counts as an attempt.
        """
        rows = await self.connection.fetch(
            """UPDATE notifications SET status = 'sending', attempts = attempts + 1, claim_id = $3,
                   claimed_at = clock_timestamp()
               WHERE notification_id IN (
                   SELECT notification_id FROM notifications
                   WHERE (status = 'pending' AND due_at <= $1)
                      OR (status = 'sending' AND (claimed_at IS NULL
                          OR claimed_at < clock_timestamp() - make_interval(secs => $4)))
                   ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED)
               RETURNING *""",
            now,
            limit,
            uuid4(),
            lease_seconds,
        )
        return [_notification(row) for row in rows]

    async def mark_sent(self, notification_id: UUID, sent_at: datetime) -> bool:
        """The provider accepted it; False if it was already recorded as sent (by a sender it was taken from)."""
        return notification_id in await self.mark_all_sent([notification_id], sent_at)

    async def mark_all_sent(self, notification_ids: Collection[UUID], sent_at: datetime) -> set[UUID]:
        """The provider accepted these; returns those not already recorded as sent, in one round trip."""
        rows = await self.connection.fetch(
            """UPDATE notifications SET status = 'sent', sent_at = $2, claim_id = NULL, claimed_at = NULL
               WHERE notification_id = ANY($1::uuid[]) AND status IN ('sending', 'pending')
               RETURNING notification_id""",
            list(notification_ids),
            sent_at,
        )
        return {row["notification_id"] for row in rows}

    async def postpone(self, notification_id: UUID, claim_id: UUID, due_at: datetime, reason: str) -> bool:
        """Release the claim to try again at `due_at`."""
        postponed = await self.connection.fetchval(
            """UPDATE notifications SET status = 'pending', due_at = $3, last_error = $4, claim_id = NULL,
                   claimed_at = NULL
               WHERE notification_id = $1 AND claim_id = $2 AND status = 'sending' RETURNING true""",
            notification_id,
            claim_id,
            due_at,
            reason[:500],
        )
        return bool(postponed)

    async def mark_failed(self, notification_id: UUID, claim_id: UUID, reason: str) -> bool:
        failed = await self.connection.fetchval(
            """UPDATE notifications SET status = 'failed', last_error = $3, claim_id = NULL, claimed_at = NULL
               WHERE notification_id = $1 AND claim_id = $2 AND status = 'sending' RETURNING true""",
            notification_id,
            claim_id,
            reason[:500],
        )
        return bool(failed)

    async def methods_tried(self, notification: QueuedNotification) -> set[ContactMethod]:
        """Every method already used to tell this person this thing (the original and its fall-backs)."""
        rows = await self.connection.fetch(
            "SELECT method FROM notifications WHERE trigger_event_id = $1 AND recipient_id = $2 AND template = $3",
            notification.trigger_event_id,
            notification.recipient_id,
            notification.template,
        )
        return {ContactMethod(row["method"]) for row in rows}

    async def forget_customer(self, customer_id: UUID) -> None:
        """Erasure: a customer's or reporter's address, message details and the provider's errors (which can
        quote the address) go, and what notifications about their case held of them; the counts stay."""
        await self.connection.execute(
            """UPDATE notifications SET address = NULL, context = '{}'::jsonb, last_error = NULL
               WHERE (recipient_id = $1 AND recipient_role IN ('customer', 'reporter')) OR data_subject = $2""",
            str(customer_id),
            customer_id,
        )
