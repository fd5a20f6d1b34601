"""Rebuild the read models from scratch: cases from the event store, customers from the log."""

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition  # type: ignore[import-untyped]

from onestop.cases.adapters import event_store, projections
from onestop.cases.app import MIGRATIONS
from onestop.cases.settings import CasesSettings
from onestop.contracts import UndecodableMessage, decode_record, topics
from onestop.contracts.events.contacts import ContactReceived
from onestop.contracts.events.customers import CustomerErased, CustomersMerged
from onestop.servicekit.database import SERVICEKIT_MIGRATIONS, Connection, open_service_database


async def rebuild(settings: CasesSettings) -> int:
    """Truncate and replay every read model; returns how many events were replayed."""
    pool = await open_service_database(
        settings.database_url, settings.database_name, [SERVICEKIT_MIGRATIONS, MIGRATIONS]
    )
    try:
        async with pool.acquire() as connection, connection.transaction():
            await connection.execute(f"TRUNCATE {', '.join(projections.READ_MODEL_TABLES)}")
            envelopes = await event_store.all_events(connection)
            await projections.project(connection, envelopes)
            replayed = len(envelopes) + await _replay_customers(connection, settings)
        return replayed
    finally:
        await pool.close()


async def _replay_customers(connection: Connection, settings: CasesSettings) -> int:
    names = [topics.CONTACTS.qualified(settings.topic_namespace), topics.CUSTOMERS.qualified(settings.topic_namespace)]
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(n, p) for n in names for p in (consumer.partitions_for_topic(n) or set())]
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = [TopicPartition(n, p) for n in names for p in (consumer.partitions_for_topic(n) or set())]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        for partition in partitions:  # settle the resets before comparing positions with the end
            await consumer.position(partition)
        ends = await consumer.end_offsets(partitions)
        replayed = 0
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    try:
                        event = decode_record(record.value, record.headers).data
                    except UndecodableMessage:
                        continue
                    replayed += 1
                    if isinstance(event, ContactReceived):
                        await projections.record_contact(connection, event)
                    elif isinstance(event, CustomersMerged):
                        await projections.record_merge(
                            connection, event.surviving_customer_id, event.merged_customer_id
                        )
                    elif isinstance(event, CustomerErased):
                        await projections.forget_customer(connection, event.customer_id)
        return replayed
    finally:
        await consumer.stop()


def main() -> None:
    replayed = asyncio.run(rebuild(CasesSettings()))
    print(f"rebuilt the cases read models from {replayed} events")
