"""Who asked to hear from us and how, in PostgreSQL: customers' preferences and ward subscribers.

What is read is kept for the unit of work (that a customer has no preferences too), so a batch asks once per
customer and ward; `read_ahead` asks for all of a batch's at once.
"""

from collections.abc import Collection
from uuid import UUID

import asyncpg

from onestop.contracts.events.common import ContactMethod
from onestop.notify.domain.model import Preferences, WardSubscriber
from onestop.servicekit.database import Connection


def _preferences(row: asyncpg.Record) -> Preferences:
    return Preferences(
        preferred_method=ContactMethod(row["preferred_method"]),
        consents=frozenset(ContactMethod(m) for m in row["consents"]),
        progress_updates=row["progress_updates"],
        email=row["email"],
        phone=row["phone"],
        postal_address=row["postal_address"],
        webhook_url=row["webhook_url"],
    )


def _subscriber(row: asyncpg.Record) -> WardSubscriber:
    return WardSubscriber(row["subscriber_id"], ContactMethod(row["method"]), row["address"])


class Audience:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._preferences: dict[UUID, Preferences | None] = {}  # None: the customer has none
        self._subscribers: dict[str, list[WardSubscriber]] = {}

    async def read_ahead(self, customer_ids: Collection[UUID], wards: Collection[str]) -> None:
        """Read these customers' preferences and these wards' subscribers, one round trip for each kind."""
        customers = [customer_id for customer_id in customer_ids if customer_id not in self._preferences]
        if customers:
            rows = await self.connection.fetch(
                "SELECT * FROM preferences WHERE customer_id = ANY($1::uuid[])", customers
            )
            found = {row["customer_id"]: _preferences(row) for row in rows}
            for customer_id in customers:
                self._preferences[customer_id] = found.get(customer_id)
        unread = [ward for ward in wards if ward not in self._subscribers]
        if unread:
            rows = await self.connection.fetch("SELECT * FROM ward_subscriptions WHERE ward = ANY($1::text[])", unread)
            for ward in unread:
                self._subscribers[ward] = []
            for row in rows:
                self._subscribers[row["ward"]].append(_subscriber(row))

    async def preferences_of(self, customer_id: UUID) -> Preferences | None:
        if customer_id not in self._preferences:
            row = await self.connection.fetchrow("SELECT * FROM preferences WHERE customer_id = $1", customer_id)
            self._preferences[customer_id] = _preferences(row) if row else None
        return self._preferences[customer_id]

    async def set_preferences(self, customer_id: UUID, preferences: Preferences) -> None:
        await self.connection.execute(
            """INSERT INTO preferences (customer_id, preferred_method, consents, progress_updates, email, phone,
                   postal_address, webhook_url) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
               ON CONFLICT (customer_id) DO UPDATE SET preferred_method = $2, consents = $3, progress_updates = $4,
                   email = $5, phone = $6, postal_address = $7, webhook_url = $8""",
            customer_id,
            preferences.preferred_method.value,
            sorted(m.value for m in preferences.consents),
            preferences.progress_updates,
            preferences.email,
            preferences.phone,
            preferences.postal_address,
            preferences.webhook_url,
        )
        self._preferences[customer_id] = preferences

    async def forget_customer(self, customer_id: UUID) -> None:
        await self.connection.execute("DELETE FROM preferences WHERE customer_id = $1", customer_id)
        self._preferences[customer_id] = None

    async def ward_subscribers(self, ward: str) -> list[WardSubscriber]:
        if ward not in self._subscribers:
            rows = await self.connection.fetch("SELECT * FROM ward_subscriptions WHERE ward = $1", ward)
            self._subscribers[ward] = [_subscriber(row) for row in rows]
        return list(self._subscribers[ward])

    async def subscribe(self, ward: str, subscriber: WardSubscriber) -> None:
        await self.connection.execute(
            """INSERT INTO ward_subscriptions (ward, subscriber_id, method, address) VALUES ($1, $2, $3, $4)
               ON CONFLICT (ward, subscriber_id) DO UPDATE SET method = $3, address = $4""",
            ward,
            subscriber.subscriber_id,
            subscriber.method.value,
            subscriber.address,
        )
        self._subscribers.pop(ward, None)  # read again when asked: the subscription may replace one
