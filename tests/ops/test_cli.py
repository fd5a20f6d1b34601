"""The operations commands against the real broker: dead letters listed and re-driven, lag measured."""

from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # type: ignore[import-untyped]

from onestop.contracts import topics as contract_topics
from onestop.ops.cli import read_dead_letters, redrive
from onestop.servicekit.consumer_lag import by_group, group_lags
from onestop.servicekit.topics_admin import ensure_topics
from tests.support import read_records

pytestmark = pytest.mark.integration


async def test_dead_letters_are_listed_and_redriven_to_their_original_topic(
    kafka_bootstrap: str, namespace: str
) -> None:
    dlq = contract_topics.dead_letter_topic("cases")
    await ensure_topics(kafka_bootstrap, namespace, [dlq, contract_topics.ROUTING])
    original = contract_topics.ROUTING.qualified(namespace)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for n in range(3):
            await producer.send_and_wait(
                dlq.qualified(namespace),
                value=f"poison {n}".encode(),
                key=b"k",
                headers=[
                    ("ce_type", b"x"),
                    ("dlq_reason", b"value is not JSON"),
                    ("dlq_original_topic", original.encode()),
                ],
            )
    finally:
        await producer.stop()

    listed = await read_dead_letters(kafka_bootstrap, dlq.qualified(namespace))
    assert [r.value for r in listed] == [b"poison 0", b"poison 1", b"poison 2"]

    assert await redrive(kafka_bootstrap, dlq.qualified(namespace)) == 3
    assert await redrive(kafka_bootstrap, dlq.qualified(namespace)) == 0, "a second redrive sends nothing again"
    redriven = await read_records(kafka_bootstrap, original, 3)
    assert sorted(r.value for r in redriven) == [b"poison 0", b"poison 1", b"poison 2"]
    assert all(dict(r.headers) == {"ce_type": b"x"} for r in redriven), "dlq_* headers are dropped"


async def test_consumer_lag_counts_what_a_group_has_not_read(kafka_bootstrap: str, namespace: str) -> None:
    await ensure_topics(kafka_bootstrap, namespace, [contract_topics.FEEDBACK])
    topic = contract_topics.FEEDBACK.qualified(namespace)
    group = f"{namespace}lagging-{uuid4().hex[:6]}"
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for n in range(5):
            await producer.send_and_wait(topic, value=b"v", key=str(n).encode(), partition=0)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka_bootstrap, group_id=group, auto_offset_reset="earliest",
                                enable_auto_commit=False)  # fmt: skip
    await consumer.start()
    try:
        for _ in range(2):
            await consumer.getone()
        await consumer.commit()
    finally:
        await consumer.stop()
    lags = await group_lags(kafka_bootstrap, group_prefix=namespace)
    assert by_group(lags)[group] == 3
    assert lags[(group, topic)] == 3
