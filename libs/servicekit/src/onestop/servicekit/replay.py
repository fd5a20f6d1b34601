"""Rebuilding a service's views in place: its view tables are emptied and the log is replayed through the
handlers that keep them, in one transaction, so readers see the old views until the new ones are whole.

A replay publishes nothing (what a handler emits is dropped: it was published when the event was first
handled) and keeps no inbox. An event the live consumer dead-lettered (undecodable, unopenable, or refused
by its handler) had no effect there and has none here.

The topics are read side by side, not in the order their events were written, so an erasure could come
before the contact or case it erases: erasures are applied after everything else, as they were live (an
erasure is final).
"""

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import asyncpg

from onestop.contracts import EventEnvelope, UndecodableMessage, decode_record
from onestop.contracts.events.base import Event
from onestop.contracts.events.customers import CustomerErased
from onestop.contracts.topics import Topic
from onestop.servicekit.database import SERVICEKIT_MIGRATIONS, Connection, MigrationSource, open_service_database
from onestop.servicekit.event_consumer import Handler
from onestop.servicekit.log_reading import batches_to_end, open_from_beginning
from onestop.servicekit.messaging import TRANSIENT_ERRORS, UnprocessableEvent
from onestop.servicekit.personal_data import open_envelope, personal_data_protection
from onestop.servicekit.settings import ServiceSettings
from onestop.servicekit.unit_of_work import PostgresUnitOfWork

log = logging.getLogger(__name__)

APPLIED_LAST = (CustomerErased,)


async def rebuild_views(
    settings: ServiceSettings,
    migrations: MigrationSource,
    reset: Callable[[Connection], Any],
    topics: Iterable[Topic],
    handlers: Mapping[type[Event], Handler[Any]],
    repositories: Callable[[Connection], Any],
    before_commit: Callable[[Any], Awaitable[None]] | None = None,
) -> int:
    """`reset(connection)` empties the views; the topics are then replayed through `handlers` (and each
    event's buffered writes through `before_commit`, as live). Returns how many events were replayed."""
    pool: asyncpg.Pool = await open_service_database(
        settings.database_url, settings.database_name, [SERVICEKIT_MIGRATIONS, migrations]
    )
    try:
        async with personal_data_protection(settings), pool.acquire() as connection, connection.transaction():
            await reset(connection)
            return await replay(connection, settings, topics, handlers, repositories, before_commit)
    finally:
        await pool.close()


async def replay(
    connection: Connection,
    settings: ServiceSettings,
    topics: Iterable[Topic],
    handlers: Mapping[type[Event], Handler[Any]],
    repositories: Callable[[Connection], Any],
    before_commit: Callable[[Any], Awaitable[None]] | None = None,
) -> int:
    names = [topic.qualified(settings.topic_namespace) for topic in topics]
    consumer, partitions = await open_from_beginning(settings.kafka_bootstrap_servers, names)
    replayed, last = 0, []
    try:
        async for records in batches_to_end(consumer, partitions):
            for record in records:
                try:
                    envelope = decode_record(record.value, record.headers)
                except UndecodableMessage:
                    continue
                if type(envelope.data) not in handlers:
                    continue
                if isinstance(envelope.data, APPLIED_LAST):
                    last.append(envelope)
                    continue
                replayed += await _apply(connection, settings, handlers, repositories, before_commit, envelope)
        for envelope in last:
            replayed += await _apply(connection, settings, handlers, repositories, before_commit, envelope)
        return replayed
    finally:
        await consumer.stop()


async def _apply(
    connection: Connection,
    settings: ServiceSettings,
    handlers: Mapping[type[Event], Handler[Any]],
    repositories: Callable[[Connection], Any],
    before_commit: Callable[[Any], Awaitable[None]] | None,
    envelope: EventEnvelope,
) -> int:
    """Run the event's handler: 1 if it had its effect, 0 if it was passed over (as it was live)."""
    try:
        envelope = await open_envelope(envelope)
    except TRANSIENT_ERRORS:
        raise
    except Exception as exc:
        log.warning("passing over %s %s: cannot be opened (%s)", envelope.type, envelope.id, exc)
        return 0
    repos = repositories(connection)
    unit = PostgresUnitOfWork(connection, repos, source=settings.source, cause=envelope)
    try:
        async with connection.transaction():  # a refused event leaves nothing behind, as live
            await handlers[type(envelope.data)](envelope.data, unit)
            if before_commit is not None:
                await before_commit(repos)
    except UnprocessableEvent as exc:
        log.info("passing over %s %s: %s", envelope.type, envelope.id, exc.reason)
        return 0
    return 1
