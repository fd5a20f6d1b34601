"""The transactional outbox against the real database and broker."""

import asyncio
import json
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from onestop.contracts import EventEnvelope, decode_record
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.cases import CaseChased
from onestop.contracts.events.common import Channel
from onestop.servicekit import outbox
from onestop.servicekit.database import SERVICEKIT_MIGRATIONS, apply_migrations, create_pool
from onestop.servicekit.inbox import begin_with_first_deliveries, first_delivery
from onestop.servicekit.topics_admin import ensure_topics
from tests.support import eventually, read_records

pytestmark = pytest.mark.integration


def a_chase(case_id) -> EventEnvelope:  # type: ignore[no-untyped-def]
    """An event with nothing personal in it: appending it needs no customer keyring."""
    event = CaseChased(case_id=case_id, chased_at=datetime.now(UTC), contact_id=uuid4(), channel=Channel.TELEPHONE)
    return EventEnvelope.wrap(event, source="/onestop/cases")


async def test_relay_publishes_committed_events_in_order_and_drops_rolled_back_ones(
    database_url: str, kafka_bootstrap: str, namespace: str
) -> None:
    await ensure_topics(kafka_bootstrap, namespace, [contract_topics.CASES])
    case_id = uuid4()
    committed = [a_chase(case_id) for _ in range(5)]
    rolled_back = a_chase(case_id)
    pool = await create_pool(database_url)
    relay = outbox.OutboxRelay(pool, kafka_bootstrap)
    try:
        await apply_migrations(pool, [SERVICEKIT_MIGRATIONS])
        async with pool.acquire() as connection:
            async with connection.transaction():
                await outbox.append(connection, committed[:3], namespace)
            with pytest.raises(RuntimeError):
                async with connection.transaction():
                    await outbox.append(connection, [rolled_back], namespace)
                    raise RuntimeError("the state change failed")
            async with connection.transaction():
                await outbox.append(connection, committed[3:], namespace)
                await outbox.append(connection, committed[3:], namespace)  # appending twice is harmless

        await relay.start()
        assert await relay.publish_pending() == 5
        assert await relay.publish_pending() == 0
        unpublished = await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
    finally:
        await relay.stop()
        await pool.close()

    assert unpublished == 0
    records = await read_records(kafka_bootstrap, contract_topics.CASES.qualified(namespace), 5)
    assert [decode_record(r.value, r.headers).id for r in sorted(records, key=lambda r: r.offset)] == [
        e.id for e in committed
    ]


async def test_relay_run_loop_publishes_new_rows_until_stopped(
    database_url: str, kafka_bootstrap: str, namespace: str
) -> None:
    await ensure_topics(kafka_bootstrap, namespace, [contract_topics.CASES])
    pool = await create_pool(database_url)
    relay = outbox.OutboxRelay(pool, kafka_bootstrap)
    stop = asyncio.Event()
    try:
        await apply_migrations(pool, [SERVICEKIT_MIGRATIONS])
        await relay.start()
        running = asyncio.create_task(relay.run(stop))
        note = a_chase(uuid4())
        async with pool.acquire() as connection, connection.transaction():
            await outbox.append(connection, [note], namespace)
        relay.wake()
        [record] = await read_records(kafka_bootstrap, contract_topics.CASES.qualified(namespace), 1)
        stop.set()
        await asyncio.wait_for(running, timeout=10)
    finally:
        await relay.stop()
        await pool.close()
    assert decode_record(record.value, record.headers).id == note.id


async def test_one_relay_leads_and_publishes_what_every_instance_commits_in_order(
    database_url: str, kafka_bootstrap: str, namespace: str
) -> None:
    """Two instances of a service share its outbox. The leader publishes the rows handed to it without reading
    the table, and the rows the other instance commits once told of them; when the leader stops, the other
    takes over. Every event reaches Kafka once, in the order its case's events were committed."""
    await ensure_topics(kafka_bootstrap, namespace, [contract_topics.CASES])
    case_id = uuid4()
    events = [a_chase(case_id) for _ in range(9)]
    pool = await create_pool(database_url)
    relays = [outbox.OutboxRelay(pool, kafka_bootstrap, idle_wait=0.2) for _ in range(2)]
    stops = [asyncio.Event(), asyncio.Event()]
    running: list[asyncio.Task[None]] = []

    async def commit(relay: outbox.OutboxRelay, envelopes: list[EventEnvelope]) -> None:
        async with pool.acquire() as connection, connection.transaction():
            rows = await outbox.append(connection, envelopes, namespace)
        relay.hand_over(rows)

    async def published() -> int | None:
        count = await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL")
        return count if count == len(events) else None

    try:
        await apply_migrations(pool, [SERVICEKIT_MIGRATIONS])
        for relay in relays:
            await relay.start()
        running = [asyncio.create_task(relay.run(stop)) for relay, stop in zip(relays, stops, strict=True)]
        leader = await eventually(lambda: _first_leading(relays))
        other = relays[1 - relays.index(leader)]
        await commit(leader, events[:3])
        await commit(other, events[3:6])
        await commit(leader, events[6:7])
        async with pool.acquire() as connection:
            assert not await connection.fetchval("SELECT pg_try_advisory_lock(7301002)")  # the leader holds it
        stops[relays.index(leader)].set()
        await running[relays.index(leader)]
        assert await eventually(lambda: _first_leading([other])) is other
        await commit(other, events[7:])
        await eventually(published)
    finally:
        for stop in stops:
            stop.set()
        await asyncio.gather(*running, return_exceptions=True)
        for relay in relays:
            await relay.stop()
        await pool.close()

    records = await read_records(kafka_bootstrap, contract_topics.CASES.qualified(namespace), len(events))
    in_order = [decode_record(r.value, r.headers).id for r in sorted(records, key=lambda r: r.offset)]
    assert in_order == [e.id for e in events]


async def _first_leading(relays: list[outbox.OutboxRelay]) -> outbox.OutboxRelay | None:
    return next((relay for relay in relays if relay.leading), None)


async def test_inbox_lets_an_event_take_effect_once(database_url: str) -> None:
    pool = await create_pool(database_url)
    event_id = uuid4()
    try:
        await apply_migrations(pool, [SERVICEKIT_MIGRATIONS])
        async with pool.acquire() as connection:
            assert await first_delivery(connection, "cases", event_id) is True
            assert await first_delivery(connection, "cases", event_id) is False
            assert await first_delivery(connection, "notify", event_id) is True
    finally:
        await pool.close()


async def test_a_batch_begins_with_its_inbox_rows_and_learns_which_events_are_new(database_url: str) -> None:
    pool = await create_pool(database_url)
    seen, new = uuid4(), uuid4()
    try:
        await apply_migrations(pool, [SERVICEKIT_MIGRATIONS])
        async with pool.acquire() as connection:
            assert await first_delivery(connection, "it's cases", seen) is True
            fresh = await begin_with_first_deliveries(connection, "it's cases", [seen, new, new])
            assert connection.is_in_transaction()
            assert fresh == {new}
            await connection.execute("ROLLBACK")
            assert await begin_with_first_deliveries(connection, "it's cases", [new]) == {new}  # rolled back before
            await connection.execute("COMMIT")
            assert await first_delivery(connection, "it's cases", new) is False
    finally:
        await pool.close()


async def test_the_outbox_rows_that_commit_a_batch_keep_every_byte(
    database_url: str, kafka_bootstrap: str, namespace: str
) -> None:
    """Rows written into the statement's text (to travel with COMMIT) read back exactly, whatever they hold."""
    await ensure_topics(kafka_bootstrap, namespace, [contract_topics.CASES])
    pool = await create_pool(database_url)
    chase = a_chase(uuid4())
    awkward = chase.model_copy(update={"source": "/onestop/cases'); DROP TABLE outbox; -- \\ Caerdydd ŵ"})
    relay = outbox.OutboxRelay(pool, kafka_bootstrap)
    try:
        await apply_migrations(pool, [SERVICEKIT_MIGRATIONS])
        async with pool.acquire() as connection:
            await connection.execute("BEGIN")
            handed = await outbox.append_and_commit(connection, [awkward], namespace)
            assert not connection.is_in_transaction()
        [stored] = await pool.fetch("SELECT event_id, topic, message_key, value, headers FROM outbox")
        assert [(row.event_id, row.topic, row.key, row.value) for row in handed] == [
            (stored["event_id"], stored["topic"], stored["message_key"], stored["value"])
        ]
        assert json.loads(stored["headers"]) == handed[0].headers
        await relay.start()
        assert await relay.publish_pending() == 1
    finally:
        await relay.stop()
        await pool.close()
    [record] = await read_records(kafka_bootstrap, contract_topics.CASES.qualified(namespace), 1)
    assert decode_record(record.value, record.headers).source == awkward.source
