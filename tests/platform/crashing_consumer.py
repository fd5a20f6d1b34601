"""A consumer process for the crash test: the test's own handler, and the fault it injects.

`python -m tests.platform.crashing_consumer` with CRASH_AFTER=n exits abruptly (no rollback, no offset
commit, nothing flushed) while handling the n-th event, in the middle of a batch.
"""

import asyncio
import os
from datetime import UTC, datetime

from onestop.contracts import topics
from onestop.contracts.events.contacts import ContactReceived
from onestop.contracts.events.routing import ContactAssessed
from onestop.servicekit.database import SERVICEKIT_MIGRATIONS, Connection, open_service_database
from onestop.servicekit.event_consumer import EventConsumer
from onestop.servicekit.outbox import OutboxRelay
from onestop.servicekit.settings import ServiceSettings
from onestop.servicekit.unit_of_work import UnitOfWork

handled = 0


async def on_contact(contact: ContactReceived, uow: UnitOfWork[Connection]) -> None:
    global handled
    handled += 1
    if handled == int(os.environ.get("CRASH_AFTER", "0")):
        os._exit(70)
    await uow.repos.execute("INSERT INTO seen (contact_id) VALUES ($1)", contact.contact_id)
    uow.emit(
        ContactAssessed(
            contact_id=contact.contact_id,
            need_id=contact.needs[0].need_id,
            assessed_at=datetime.now(UTC),
            channel=contact.channel,
            service_area="waste",
            avoidable=False,
            category=None,
            explanation="seen once",
        )
    )


async def main() -> None:
    settings = ServiceSettings(service_name="crashprobe")
    pool = await open_service_database(settings.database_url, settings.database_name, [SERVICEKIT_MIGRATIONS])
    await pool.execute("CREATE TABLE IF NOT EXISTS seen (contact_id uuid PRIMARY KEY)")
    relay = OutboxRelay(pool, settings.kafka_bootstrap_servers)
    await relay.start()
    stop = asyncio.Event()
    consumer = EventConsumer(
        pool,
        settings,
        [topics.CONTACTS],
        {ContactReceived: on_contact},
        lambda connection: connection,
        on_commit=relay.hand_over,
        max_records=100,
    )
    await asyncio.gather(relay.run(stop), consumer.run(stop))


if __name__ == "__main__":
    asyncio.run(main())
