"""The consumer runtime on the real broker and database: batches in one unit of work, exactly-once effects,
and no message that can block a partition: each kind of poison is dead-lettered with its reason while the
events after it are handled."""

import asyncio
import base64
import functools
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]
from aiokafka.admin import AIOKafkaAdminClient  # type: ignore[import-untyped]

from onestop.contracts import EventEnvelope, encode_envelope
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.common import Channel, CustomerDetails, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.contracts.events.routing import ContactAssessed
from onestop.servicekit.database import SERVICEKIT_MIGRATIONS, Connection, open_service_database
from onestop.servicekit.event_consumer import EventConsumer
from onestop.servicekit.messaging import UnprocessableEvent, dead_letter_topic_of
from onestop.servicekit.outbox import OutboxRelay
from onestop.servicekit.personal_data import CustomerKeyring, install_keyring, new_kek, seal_envelope
from onestop.servicekit.settings import ServiceSettings
from onestop.servicekit.topics_admin import ensure_topics
from onestop.servicekit.unit_of_work import PostgresUnitOfWork
from tests.support import eventually, read_records

pytestmark = pytest.mark.integration


def a_contact(description: str, customer: CustomerDetails | None = None) -> ContactReceived:
    return ContactReceived(
        contact_id=uuid4(),
        channel=Channel.WEB,
        received_at=datetime.now(UTC),
        customer=customer,
        needs=(Need(need_id=uuid4(), kind=NeedKind.REPORT_PROBLEM, service_code="524", description=description),),
    )


class Seen:
    """The repository of the test's handler: one row per contact handled."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def add(self, contact: ContactReceived) -> None:
        name = contact.customer.name if contact.customer else None
        await self.connection.execute(
            "INSERT INTO seen (contact_id, description, customer_name) VALUES ($1, $2, $3)",
            contact.contact_id,
            contact.needs[0].description,
            name,
        )


async def on_contact(contact: ContactReceived, uow: PostgresUnitOfWork[Seen]) -> None:
    description = contact.needs[0].description
    await uow.repos.add(contact)  # written before failing: a dead-lettered event must leave no row
    if description == "unprocessable":
        raise UnprocessableEvent("this contact can never be handled")
    if description == "always fails":
        raise ValueError("a bug in the handler")
    uow.emit(
        ContactAssessed(
            contact_id=contact.contact_id,
            need_id=contact.needs[0].need_id,
            assessed_at=datetime.now(UTC),
            channel=contact.channel,
            service_area="waste",
            avoidable=False,
            category=None,
            explanation="seen",
        )
    )


async def send(bootstrap: str, topic: str, *records: tuple[bytes | None, bytes | None, list[Any]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for key, value, headers in records:
            await producer.send_and_wait(topic, key=key, value=value, headers=headers)
    finally:
        await producer.stop()


def as_record(envelope: EventEnvelope) -> tuple[bytes, bytes, list[Any]]:
    record = encode_envelope(envelope)
    return record.key, record.value, list(record.headers)


@pytest.fixture
async def service(kafka_bootstrap: str, namespace: str, service_settings: Callable[[str], ServiceSettings]):  # type: ignore[no-untyped-def]
    settings = service_settings("probe")
    await ensure_topics(
        kafka_bootstrap, namespace, [contract_topics.CONTACTS, contract_topics.ROUTING, dead_letter_topic_of(settings)]
    )
    pool = await open_service_database(settings.database_url, settings.database_name, [SERVICEKIT_MIGRATIONS])
    await pool.execute("CREATE TABLE seen (contact_id uuid PRIMARY KEY, description text, customer_name text)")
    relay = OutboxRelay(pool, kafka_bootstrap)
    await relay.start()
    stop = asyncio.Event()
    relay_task = asyncio.create_task(relay.run(stop))
    consumer = EventConsumer(
        pool, settings, [contract_topics.CONTACTS], {ContactReceived: on_contact}, Seen, on_commit=relay.hand_over
    )
    yield settings, pool, consumer, stop
    stop.set()
    await relay_task
    await relay.stop()
    await pool.close()


async def descriptions(pool: asyncpg.Pool) -> list[str]:
    return [row["description"] for row in await pool.fetch("SELECT description FROM seen ORDER BY description")]


async def test_poison_of_every_kind_is_dead_lettered_and_the_events_after_it_are_handled(
    service: Any, kafka_bootstrap: str, namespace: str
) -> None:
    settings, pool, consumer, stop = service
    contacts = contract_topics.CONTACTS.qualified(namespace)
    good = EventEnvelope.wrap(a_contact("normal"), source="/onestop/intake")
    key, value, headers = as_record(good)
    poison = {
        "not JSON": (key, b"not json at all", headers),
        "unknown event type": (key, value, [(n, b"onestop.unheard.of" if n == "ce_type" else v) for n, v in headers]),
        "can never be handled": as_record(EventEnvelope.wrap(a_contact("unprocessable"), source="/onestop/intake")),
        "handler failed 3 times": as_record(EventEnvelope.wrap(a_contact("always fails"), source="/onestop/intake")),
    }
    await send(kafka_bootstrap, contacts, *poison.values(), (key, value, headers))
    runner = asyncio.create_task(consumer.run(stop))
    try:
        assert await eventually(lambda: descriptions(pool), within=60) == ["normal"]
        dead = await read_records(kafka_bootstrap, dead_letter_topic_of(settings).qualified(namespace), 4, within=60)
    finally:
        stop.set()
        await runner
    reasons = sorted(dict(record.headers)[contract_topics.DLQ_REASON].decode() for record in dead)
    for expected in poison:
        assert any(expected in reason for reason in reasons), (expected, reasons)
    [assessed] = await read_records(kafka_bootstrap, contract_topics.ROUTING.qualified(namespace), 1)
    assert dict(assessed.headers)["ce_causationid"].decode() == str(good.id)


async def test_a_redelivered_batch_has_its_effect_once(service: Any, kafka_bootstrap: str, namespace: str) -> None:
    _settings, pool, consumer, _stop = service
    envelopes = [EventEnvelope.wrap(a_contact(f"contact {n:02}"), source="/onestop/intake") for n in range(20)]
    await send(kafka_bootstrap, contract_topics.CONTACTS.qualified(namespace), *map(as_record, envelopes))
    records = await read_records(kafka_bootstrap, contract_topics.CONTACTS.qualified(namespace), 20)
    await consumer.handle_batch(records)
    await consumer.handle_batch(records)  # as after a crash before the offsets were committed
    assert len(await descriptions(pool)) == 20
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 20


async def committed_offsets(bootstrap: str, group: str) -> int:
    """The sum of the group's committed offsets over every partition (0 before its first commit)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return sum(meta.offset for meta in (await admin.list_consumer_group_offsets(group)).values())
    finally:
        await admin.close()


async def test_offsets_are_committed_at_most_once_an_interval_and_when_the_consumer_stops(
    service: Any, kafka_bootstrap: str, namespace: str
) -> None:
    _settings, pool, consumer, stop = service
    consumer.commit_interval = 3600  # no commit falls due while the test runs
    contacts = [EventEnvelope.wrap(a_contact(f"contact {n:02}"), source="/onestop/intake") for n in range(5)]

    async def seen(count: int) -> bool:
        return len(await descriptions(pool)) == count

    runner = asyncio.create_task(consumer.run(stop))
    try:
        for n, contact in enumerate(contacts, start=1):  # one at a time: a batch each
            await send(kafka_bootstrap, contract_topics.CONTACTS.qualified(namespace), as_record(contact))
            await eventually(functools.partial(seen, n), within=30)
        assert await committed_offsets(kafka_bootstrap, consumer.group_id) == 0
    finally:
        stop.set()
        await runner
    assert await committed_offsets(kafka_bootstrap, consumer.group_id) == 5  # committed on the way out


async def test_a_consumer_commits_what_it_handled_of_partitions_a_rebalance_takes_away(
    service: Any, kafka_bootstrap: str, namespace: str
) -> None:
    settings, pool, first, stop = service
    first.commit_interval = 3600  # only the rebalance can make it commit while it runs
    contacts = [EventEnvelope.wrap(a_contact(f"contact {n:02}"), source="/onestop/intake") for n in range(3)]
    await send(kafka_bootstrap, contract_topics.CONTACTS.qualified(namespace), *map(as_record, contacts))

    async def committed_all() -> bool:
        return await committed_offsets(kafka_bootstrap, first.group_id) == 3

    async def seen_all() -> bool:
        return len(await descriptions(pool)) == 3

    # A second instance of the same group joins: the first gives up its partitions, and commits them first.
    second = EventConsumer(pool, settings, [contract_topics.CONTACTS], {ContactReceived: on_contact}, Seen)
    running = [asyncio.create_task(first.run(stop))]
    try:
        await eventually(seen_all, within=30)
        assert await committed_offsets(kafka_bootstrap, first.group_id) == 0
        running.append(asyncio.create_task(second.run(stop)))
        await eventually(committed_all, within=60)
    finally:
        stop.set()
        await asyncio.gather(*running)


async def test_a_consumer_that_gathers_is_answered_with_the_events_of_its_window_together(
    service: Any, kafka_bootstrap: str, namespace: str
) -> None:
    _settings, pool, consumer, stop = service
    consumer.gather_ms = 5000  # the window is far longer than sending the events takes
    runner = asyncio.create_task(consumer.run(stop))
    try:
        for n in range(5):  # one at a time, each acknowledged before the next: without a window, a batch each
            envelope = EventEnvelope.wrap(a_contact(f"contact {n:02}"), source="/onestop/intake")
            await send(kafka_bootstrap, contract_topics.CONTACTS.qualified(namespace), as_record(envelope))

        async def seen_all() -> bool:
            return len(await descriptions(pool)) == 5

        await eventually(seen_all, within=30)
    finally:
        stop.set()
        await runner
    # One batch, or two when a window happened to end while the events were being sent.
    assert consumer.batches_handled <= 2


async def test_the_relay_is_handed_rows_only_by_a_batch_that_wrote_to_the_outbox(
    service: Any, kafka_bootstrap: str, namespace: str
) -> None:
    """Most batches a consumer reads hold events it passes over, or handles without publishing anything:
    they must not cost the relay a round (or, passed over, the database a transaction)."""
    settings, pool, _consumer, _stop = service
    handed: list[list[UUID]] = []

    async def quietly(contact: ContactReceived, uow: PostgresUnitOfWork[Seen]) -> None:
        await uow.repos.add(contact)

    def consumer(handlers: Any) -> EventConsumer[Seen]:
        return EventConsumer(
            pool,
            settings,
            [contract_topics.CONTACTS],
            handlers,
            Seen,
            on_commit=lambda rows: handed.append([row.event_id for row in rows]),
        )

    envelopes = [EventEnvelope.wrap(a_contact(f"contact {n}"), source="/onestop/intake") for n in range(3)]
    await send(kafka_bootstrap, contract_topics.CONTACTS.qualified(namespace), *map(as_record, envelopes))
    records = await read_records(kafka_bootstrap, contract_topics.CONTACTS.qualified(namespace), 3)
    await consumer({ContactAssessed: on_contact}).handle_batch(records)  # passed over
    assert handed == [] and await pool.fetchval("SELECT count(*) FROM inbox") == 0
    await consumer({ContactReceived: quietly}).handle_batch(records[:1])  # handled, nothing published
    assert handed == [] and len(await descriptions(pool)) == 1
    await consumer({ContactReceived: on_contact}).handle_batch(records[1:])  # handled and published
    assert handed == [list(await pool.fetchval("SELECT array_agg(event_id ORDER BY position) FROM outbox"))]
    assert len(handed[0]) == 2


class BufferedSeen(Seen):
    """Rows held until the batch's `before_commit` writes them together, as analytics' facts are."""

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self.buffered: list[ContactReceived] = []

    async def add(self, contact: ContactReceived) -> None:
        self.buffered.append(contact)

    async def write(self) -> None:
        buffered, self.buffered = self.buffered, []
        await self.connection.executemany(
            "INSERT INTO seen (contact_id, description) VALUES ($1, $2)",
            [(contact.contact_id, contact.needs[0].description) for contact in buffered],
        )


async def test_a_row_the_database_refuses_in_the_batch_write_is_dead_lettered_alone(
    service: Any, kafka_bootstrap: str, namespace: str
) -> None:
    settings, pool, _consumer, _stop = service
    consumer = EventConsumer(
        pool,
        settings,
        [contract_topics.CONTACTS],
        {ContactReceived: on_contact},
        BufferedSeen,
        before_commit=BufferedSeen.write,
    )
    # PostgreSQL refuses NUL in text: the whole batch's write fails, not any one handler.
    texts = ["before", "NUL \x00 inside", "after"]
    envelopes = [EventEnvelope.wrap(a_contact(text), source="/onestop/intake") for text in texts]
    await send(kafka_bootstrap, contract_topics.CONTACTS.qualified(namespace), *map(as_record, envelopes))
    records = await read_records(kafka_bootstrap, contract_topics.CONTACTS.qualified(namespace), 3)
    await consumer.handle_batch(records)
    assert await descriptions(pool) == ["after", "before"]
    dead_letters = await pool.fetch(
        "SELECT headers FROM outbox WHERE topic = $1", dead_letter_topic_of(settings).qualified(namespace)
    )
    [reason] = [json.loads(row["headers"])[contract_topics.DLQ_REASON] for row in dead_letters]
    assert "0x00" in reason, reason


async def test_an_event_sealed_under_a_key_that_is_gone_is_handled_as_erased(
    service: Any, kafka_bootstrap: str, namespace: str
) -> None:
    _settings, pool, consumer, stop = service
    customer_id = uuid4()
    elsewhere = CustomerKeyring(kafka_bootstrap, new_kek(), f"{namespace}other.")
    ours = CustomerKeyring(kafka_bootstrap, base64.b64encode(os.urandom(32)).decode(), namespace)
    await elsewhere.start()
    await ours.start()
    try:
        # Sealed under a key this installation's key topic never had (as after erasure and compaction).
        install_keyring(elsewhere)
        customer = CustomerDetails(customer_id=customer_id, name="Ada Lovelace", email="ada@example.org")
        sealed = await seal_envelope(EventEnvelope.wrap(a_contact("sealed", customer), source="/onestop/intake"))
        install_keyring(ours)
        after = EventEnvelope.wrap(a_contact("after"), source="/onestop/intake")
        await send(kafka_bootstrap, contract_topics.CONTACTS.qualified(namespace), as_record(sealed), as_record(after))
        runner = asyncio.create_task(consumer.run(stop))
        try:
            # Its description is personal too: empty, as its customer's name is.
            assert await eventually(lambda: descriptions(pool), within=60) == ["", "after"]
        finally:
            stop.set()
            await runner
        assert (
            await pool.fetchval("SELECT customer_name FROM seen WHERE contact_id = $1", sealed.data.contact_id) is None
        )
    finally:
        install_keyring(None)
        await ours.stop()
        await elsewhere.stop()


async def test_a_record_on_the_key_topic_that_cannot_be_read_is_skipped(kafka_bootstrap: str, namespace: str) -> None:
    kek = new_kek()
    keyring = CustomerKeyring(kafka_bootstrap, kek, namespace)
    await keyring.start()
    try:
        topic = contract_topics.CUSTOMER_KEYS.qualified(namespace)
        await send(kafka_bootstrap, topic, (b"not a customer id", b"x" * 40, []), (str(uuid4()).encode(), b"short", []))
        customer_id = uuid4()
        key = await keyring.key_for_sealing(customer_id)
        reader = CustomerKeyring(kafka_bootstrap, kek, namespace)
        await reader.start()
        try:
            assert await reader.key_for_opening(customer_id) == key
            await reader.follower.check()
        finally:
            await reader.stop()
    finally:
        await keyring.stop()


async def test_a_key_follower_that_dies_is_restarted_and_health_says_so(kafka_bootstrap: str, namespace: str) -> None:
    keyring = CustomerKeyring(kafka_bootstrap, new_kek(), namespace)
    await keyring.start()
    try:
        await keyring.follower.check()
        consumer = keyring._consumer
        assert consumer is not None

        async def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("the follower's consumer broke")

        consumer.getmany = broken
        with pytest.raises(RuntimeError, match="customer key follower"):
            await eventually(lambda: _fails(keyring.follower.check), within=10, every=0.02)
        customer_id = uuid4()
        await keyring.key_for_sealing(customer_id)  # a new customer still gets a key
        await eventually(lambda: _passes(keyring.follower.check), within=30)
        assert keyring.follower.restarts >= 1
    finally:
        await keyring.stop()


async def _fails(check: Any) -> None:
    await check()
    return None


async def _passes(check: Any) -> bool:
    try:
        await check()
    except RuntimeError:
        return False
    return True
