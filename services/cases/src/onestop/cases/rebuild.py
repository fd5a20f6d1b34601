"""Rebuild the read models from scratch (`python -m onestop.cases rebuild`): cases from the event store,
customers from the log. The event store, processed commands and pending links are the service's state and
stay as they are."""

import asyncio

from onestop.cases.adapters import event_store, projections
from onestop.cases.app import MIGRATIONS
from onestop.cases.domain.search_terms import BlindIndex
from onestop.cases.settings import CasesSettings
from onestop.contracts import UndecodableMessage, decode_record, topics
from onestop.contracts.events.contacts import ContactReceived
from onestop.contracts.events.customers import CustomerErased, CustomersMerged, CustomersUnmerged
from onestop.servicekit.database import SERVICEKIT_MIGRATIONS, Connection, open_service_database
from onestop.servicekit.log_reading import batches_to_end, open_from_beginning
from onestop.servicekit.personal_data import open_envelope, personal_data_protection
from onestop.servicekit.write_buffer import WriteBuffer


async def rebuild(settings: CasesSettings) -> int:
    """Truncate and replay every read model; returns how many events were replayed."""
    pool = await open_service_database(
        settings.database_url, settings.database_name, [SERVICEKIT_MIGRATIONS, MIGRATIONS]
    )
    try:
        # The store holds events sealed, as the log does: what the read models show of a customer is opened.
        async with personal_data_protection(settings), pool.acquire() as connection, connection.transaction():
            await connection.execute(f"TRUNCATE {', '.join(projections.READ_MODEL_TABLES)}")
            envelopes = [await open_envelope(envelope) for envelope in await event_store.all_events(connection)]
            writes = WriteBuffer(connection)
            projections.project(writes, envelopes, BlindIndex(settings.cases_search_key))
            await writes.flush()
            replayed = len(envelopes) + await _replay_customers(connection, settings)
        return replayed
    finally:
        await pool.close()


async def _replay_customers(connection: Connection, settings: CasesSettings) -> int:
    names = [topics.CONTACTS.qualified(settings.topic_namespace), topics.CUSTOMERS.qualified(settings.topic_namespace)]
    consumer, partitions = await open_from_beginning(settings.kafka_bootstrap_servers, names)
    writes = WriteBuffer(connection)
    try:
        replayed, erased = 0, []
        async for records in batches_to_end(consumer, partitions):
            for record in records:
                try:
                    event = decode_record(record.value, record.headers).data
                except UndecodableMessage:
                    continue
                replayed += 1
                if isinstance(event, ContactReceived):
                    projections.record_contact(writes, event)
                elif isinstance(event, CustomersMerged):
                    projections.record_merge(writes, event.surviving_customer_id, event.merged_customer_id)
                elif isinstance(event, CustomersUnmerged):
                    projections.record_unmerge(writes, event.merged_customer_id)
                elif isinstance(event, CustomerErased):
                    erased.append(event.customer_id)
            await writes.flush()
        # The two topics are read side by side, not in the order they were written: an erasure, which is
        # final, is applied after every contact, whichever came first here.
        for customer_id in erased:
            projections.forget_customer(writes, customer_id)
        await writes.flush()
        return replayed
    finally:
        await consumer.stop()


def main() -> None:
    replayed = asyncio.run(rebuild(CasesSettings()))
    print(f"rebuilt the cases read models from {replayed} events")
