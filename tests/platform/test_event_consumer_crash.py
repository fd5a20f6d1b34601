"""A consumer killed in the middle of a batch loses nothing and doubles nothing once it is back."""

import asyncio
import os
import sys
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from onestop.contracts import EventEnvelope, decode_record
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.common import Channel, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.servicekit.database import drop_database
from onestop.servicekit.log_reading import batches_to_end, open_from_beginning
from onestop.servicekit.settings import with_database
from onestop.servicekit.topics_admin import ensure_topics
from tests.support import eventually, publish_events

pytestmark = pytest.mark.integration

CONTACTS = 300


async def read_whole_topic(bootstrap: str, topic: str) -> list[EventEnvelope]:
    consumer, partitions = await open_from_beginning(bootstrap, [topic])
    try:
        return [
            decode_record(r.value, r.headers) async for batch in batches_to_end(consumer, partitions) for r in batch
        ]
    finally:
        await consumer.stop()


def a_contact(n: int) -> EventEnvelope:
    contact = ContactReceived(
        contact_id=uuid.uuid4(),
        channel=Channel.TELEPHONE,
        received_at=datetime.now(UTC),
        needs=(Need(need_id=uuid.uuid4(), kind=NeedKind.REPORT_PROBLEM, service_code="524", description=f"#{n}"),),
    )
    return EventEnvelope.wrap(contact, source="/onestop/intake")


async def test_a_consumer_killed_mid_batch_has_every_effect_exactly_once_after_restart(
    kafka_bootstrap: str, postgres_url: str, namespace: str
) -> None:
    database = f"test_crash_{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "DATABASE_URL": postgres_url,
        "DATABASE": database,
        "TOPIC_NAMESPACE": namespace,
    }
    await ensure_topics(kafka_bootstrap, namespace, [contract_topics.CONTACTS, contract_topics.ROUTING])
    sent = [a_contact(n) for n in range(CONTACTS)]
    await publish_events(kafka_bootstrap, namespace, *sent)

    crashing = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.platform.crashing_consumer", env={**env, "CRASH_AFTER": "137"}
    )
    assert await asyncio.wait_for(crashing.wait(), timeout=120) == 70, "the fault was injected mid-batch"

    pool = await asyncpg.create_pool(with_database(postgres_url, database), min_size=1, max_size=2)
    assert pool is not None
    restarted = await asyncio.create_subprocess_exec(sys.executable, "-m", "tests.platform.crashing_consumer", env=env)
    try:

        async def all_seen() -> bool:
            return await pool.fetchval("SELECT count(*) FROM seen") == CONTACTS

        await eventually(all_seen, within=120)

        async def every_assessment() -> list[EventEnvelope] | None:
            events = await read_whole_topic(kafka_bootstrap, contract_topics.ROUTING.qualified(namespace))
            return events if len({event.id for event in events}) >= CONTACTS else None

        assessed = await eventually(every_assessment, within=60)
    finally:
        restarted.kill()
        await restarted.wait()
        await pool.close()
        await drop_database(postgres_url, database)

    # The relay may publish an event again (killed before it marked it published): the same id, which every
    # consumer's inbox drops. What counts is one event per contact, each caused by its own contact.
    causes = {event.id: event.causationid for event in assessed}
    assert len(causes) == CONTACTS
    assert sorted(str(cause) for cause in causes.values()) == sorted(str(envelope.id) for envelope in sent)
