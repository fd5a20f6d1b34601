"""The Kafka limit: what the broker itself allows for onestop's five-stage topology on this machine.

The same shape as the services (intake produces; routing, cases and notify each consume a batch, produce
it on and commit; analytics consumes), built from bare aiokafka pass-through processes with no decoding,
no database and no spans. Messages are real encoded ContactReceived events, on topics with the contacts
topic's partitions, produced acks=all and idempotent. End to end is then also reported as a share of this.

python -m bench.kafka_limit stage IN OUT GROUP   # one pass-through stage (the driver starts them)
"""

import asyncio
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # type: ignore[import-untyped]

from bench.stats import Timing
from onestop.contracts import EventEnvelope, encode_envelope
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.common import Channel, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.servicekit.kafka_security import kafka_options
from onestop.servicekit.topics_admin import delete_namespace_topics, ensure_topics

STAGES = ("routing", "cases", "notify")  # the pass-through stages between intake and analytics


def sample_record() -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    contact = ContactReceived(
        contact_id=uuid.uuid4(),
        channel=Channel.APP,
        received_at=datetime.now(UTC),
        needs=(
            Need(
                need_id=uuid.uuid4(),
                kind=NeedKind.REPORT_PROBLEM,
                service_code="584",
                description="Graffiti on the underpass",
            ),
        ),
    )
    record = encode_envelope(EventEnvelope.wrap(contact, source="/onestop/intake"))
    return record.key, record.value, list(record.headers)


async def pass_through(bootstrap: str, source: str, target: str, group: str) -> None:
    """Consume a batch, produce every record on (all sends in flight), await the acks, commit; for ever."""
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **kafka_options(),
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, **kafka_options())
    await consumer.start()
    await producer.start()
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=100, max_records=500)
            sends = [
                await producer.send(target, key=record.key, value=record.value, headers=list(record.headers))
                for records in batches.values()
                for record in records
            ]
            await asyncio.gather(*sends)
            if batches:
                await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()


async def run(bootstrap: str, messages: int) -> dict[str, Any]:
    namespace = f"benchlimit{uuid.uuid4().hex[:8]}."
    topics = [
        contract_topics.Topic(
            name=f"limit.stage{n}",
            keyed_by="contact",
            description="a pass-through stage of the Kafka-limit reference",
            partitions=contract_topics.CONTACTS.partitions,
        )
        for n in range(len(STAGES) + 1)
    ]
    names = await ensure_topics(bootstrap, namespace, topics)
    stages = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.kafka_limit", "stage", bootstrap, names[n], names[n + 1], f"{namespace}{stage}"
        )
        for n, stage in enumerate(STAGES)
    ]
    last = AIOKafkaConsumer(
        names[-1],
        bootstrap_servers=bootstrap,
        group_id=f"{namespace}analytics",
        auto_offset_reset="earliest",
        **kafka_options(),
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, **kafka_options())
    await last.start()
    await producer.start()
    try:
        key, value, headers = sample_record()
        await producer.send_and_wait(names[0], key=key, value=value, headers=headers)  # every stage warmed up
        await _receive(last, 1, within=60)
        started = time.monotonic()
        sending = asyncio.create_task(_produce(producer, names[0], messages, value, headers))
        received = await _receive(last, messages, within=300)
        timing = Timing(count=received, seconds=time.monotonic() - started)
        await sending
        return {
            "stages": ["intake (producer)", *STAGES, "analytics (consumer)"],
            "messages": messages,
            "message_bytes": len(value),
            "received": received,
            "per_second": round(timing.per_second, 1),
        }
    finally:
        for stage in stages:
            stage.kill()
            await stage.wait()
        await producer.stop()
        await last.stop()
        await delete_namespace_topics(bootstrap, namespace)


async def _produce(producer: AIOKafkaProducer, topic: str, messages: int, value: bytes, headers: list[Any]) -> None:
    for chunk in range(0, messages, 500):
        sends = [
            await producer.send(topic, key=uuid.uuid4().bytes, value=value, headers=headers)
            for _ in range(chunk, min(chunk + 500, messages))
        ]
        await asyncio.gather(*sends)


async def _receive(consumer: AIOKafkaConsumer, count: int, within: float) -> int:
    received = 0
    try:
        async with asyncio.timeout(within):
            while received < count:
                for records in (await consumer.getmany(timeout_ms=100)).values():
                    received += len(records)
    except TimeoutError:
        pass
    return received


if __name__ == "__main__":
    if sys.argv[1:2] == ["stage"]:
        asyncio.run(pass_through(*sys.argv[2:6]))
    else:
        from onestop.servicekit.settings import ServiceSettings

        print(asyncio.run(run(ServiceSettings().kafka_bootstrap_servers, int(sys.argv[1]) if sys.argv[1:] else 20_000)))
