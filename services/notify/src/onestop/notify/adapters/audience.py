"""Who asked to hear from us and how, in PostgreSQL: customers' preferences and ward subscribers."""

from uuid import UUID

from onestop.contracts.events.common import ContactMethod
from onestop.notify.domain.model import Preferences, WardSubscriber
from onestop.servicekit.database import Connection


class Audience:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def preferences_of(self, customer_id: UUID) -> Preferences | None:
        row = await self.connection.fetchrow("SELECT * FROM preferences WHERE customer_id = $1", customer_id)
        if row is None:
            return None
        return Preferences(
            preferred_method=ContactMethod(row["preferred_method"]),
            consents=frozenset(ContactMethod(m) for m in row["consents"]),
            progress_updates=row["progress_updates"],
            email=row["email"],
            phone=row["phone"],
            postal_address=row["postal_address"],
            webhook_url=row["webhook_url"],
        )

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

    async def forget_customer(self, customer_id: UUID) -> None:
        await self.connection.execute("DELETE FROM preferences WHERE customer_id = $1", customer_id)

    async def ward_subscribers(self, ward: str) -> list[WardSubscriber]:
        rows = await self.connection.fetch("SELECT * FROM ward_subscriptions WHERE ward = $1", ward)
        return [WardSubscriber(r["subscriber_id"], ContactMethod(r["method"]), r["address"]) for r in rows]

    async def subscribe(self, ward: str, subscriber: WardSubscriber) -> None:
        await self.connection.execute(
            """INSERT INTO ward_subscriptions (ward, subscriber_id, method, address) VALUES ($1, $2, $3, $4)
               ON CONFLICT (ward, subscriber_id) DO UPDATE SET method = $3, address = $4""",
            ward,
            subscriber.subscriber_id,
            subscriber.method.value,
            subscriber.address,
        )
