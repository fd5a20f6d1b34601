"""Reading whole topics from the beginning, on freshly created topics, as rebuilds and exports do."""

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition  # type: ignore[import-untyped]

from onestop.contracts import topics
from onestop.servicekit.log_reading import batches_to_end, open_from_beginning
from onestop.servicekit.topics_admin import ensure_topics

pytestmark = pytest.mark.integration


async def _publish(bootstrap: str, topic: str, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for n in range(count):
            await producer.send_and_wait(topic, value=str(n).encode(), key=f"key-{n % 7}".encode())
    finally:
        await producer.stop()


async def test_every_record_of_new_topics_is_read_once(kafka_bootstrap: str, namespace: str) -> None:
    names = await ensure_topics(kafka_bootstrap, namespace, [topics.CONTACTS, topics.CASES])
    for name in names:
        await _publish(kafka_bootstrap, name, 60)
    consumer, partitions = await open_from_beginning(kafka_bootstrap, names)
    try:
        assert {p.topic for p in partitions} == set(names)
        seen = [(r.topic, r.value) async for batch in batches_to_end(consumer, partitions) for r in batch]
    finally:
        await consumer.stop()
    assert sorted(seen) == sorted((name, str(n).encode()) for name in names for n in range(60))


async def test_stored_offsets_are_where_reading_resumes(kafka_bootstrap: str, namespace: str) -> None:
    [name] = await ensure_topics(kafka_bootstrap, namespace, [topics.ROUTING_RULES])  # one partition
    await _publish(kafka_bootstrap, name, 30)
    consumer, partitions = await open_from_beginning(kafka_bootstrap, [name], start_at={TopicPartition(name, 0): 25})
    try:
        values = [r.value for batch in [b async for b in batches_to_end(consumer, partitions)] for r in batch]
    finally:
        await consumer.stop()
    assert values == [str(n).encode() for n in range(25, 30)]
