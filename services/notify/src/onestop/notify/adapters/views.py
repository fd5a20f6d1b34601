"""What notify's read APIs show: a customer's notifications (what was sent, how, when; not the messages) and
their preferences."""

from collections.abc import Collection
from typing import Any
from uuid import UUID

import asyncpg

Row = dict[str, Any]
# Notifications addressed to the customer themselves: as the case's customer, or as a reporter linked to it.
CUSTOMER_ROLES = ["customer", "reporter"]


class NotifyViews:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def notifications_of(
        self, customer_id: UUID, *, within_areas: Collection[str] | None, limit: int, offset: int
    ) -> tuple[int, list[Row]]:
        """The customer's notifications, newest first; limited to areas, only those about cases of those areas."""
        where = """n.recipient_id = $1 AND n.recipient_role = ANY($2::text[])
                   AND ($3::text[] IS NULL OR c.service_area = ANY($3::text[]))"""
        args = (str(customer_id), CUSTOMER_ROLES, None if within_areas is None else list(within_areas))
        async with self.pool.acquire() as connection:
            total = await connection.fetchval(
                f"SELECT count(*) FROM notifications n LEFT JOIN cases c USING (case_id) WHERE {where}", *args
            )
            rows = await connection.fetch(
                f"""SELECT n.notification_id, n.case_id, c.reference, c.service_area, n.recipient_role,
                           n.method AS channel, n.template, n.language, n.status, n.attempts,
                           n.created_at, n.due_at, n.sent_at
                    FROM notifications n LEFT JOIN cases c USING (case_id) WHERE {where}
                    ORDER BY n.created_at DESC, n.notification_id LIMIT $4 OFFSET $5""",
                *args,
                limit,
                offset,
            )
        return total, [dict(row) for row in rows]

    async def preferences_of(self, customer_id: UUID) -> Row | None:
        row = await self.pool.fetchrow(
            """SELECT preferred_method, consents, progress_updates, email, phone, postal_address
               FROM preferences WHERE customer_id = $1""",
            customer_id,
        )
        return None if row is None else dict(row)
