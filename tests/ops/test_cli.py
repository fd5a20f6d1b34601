"""The operations commands against the real broker: dead letters listed and re-driven, lag measured."""

import asyncio
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # type: ignore[import-untyped]
from typer.testing import CliRunner

from onestop.contracts import topics as contract_topics
from onestop.ops.cli import app, read_dead_letters, redrive
from onestop.servicekit.consumer_lag import by_group, group_lags
from onestop.servicekit.personal_data import CustomerKeyring, new_kek
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


def test_rotating_the_key_encryption_key_wraps_every_customer_key_again(
    kafka_bootstrap: str, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    replaced, current = new_kek(), new_kek()
    customer = uuid4()

    async def key_under(kek: str, make: bool) -> bytes | None:
        keyring = CustomerKeyring(kafka_bootstrap, kek, namespace)
        await keyring.start()
        try:
            return await (keyring.key_for_sealing(customer) if make else keyring.key_for_opening(customer))
        finally:
            await keyring.stop()

    key = asyncio.run(key_under(replaced, make=True))
    for name, value in (
        ("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap),
        ("TOPIC_NAMESPACE", namespace),
        ("PERSONAL_DATA_KEK", current),
    ):
        monkeypatch.setenv(name, value)
    refused = CliRunner().invoke(app, ["rotate-personal-data-kek"])
    assert refused.exit_code == 2 and "PERSONAL_DATA_PREVIOUS_KEKS" in refused.output

    monkeypatch.setenv("PERSONAL_DATA_PREVIOUS_KEKS", replaced)
    rotated = CliRunner().invoke(app, ["rotate-personal-data-kek"])
    assert rotated.exit_code == 0, rotated.output
    assert rotated.output.startswith("1 customer keys wrapped again")
    assert asyncio.run(key_under(current, make=False)) == key, "the new KEK alone opens the customer's key"
