"""Reading whole topics outside any consumer group: rebuilds, exports, dead-letter listings, key rings."""

from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition  # type: ignore[import-untyped]
from aiokafka.errors import KafkaError  # type: ignore[import-untyped]

from onestop.servicekit.kafka_security import kafka_options


async def open_from_beginning(
    bootstrap: str,
    topic_names: Iterable[str],
    start_at: Mapping[TopicPartition, int] | None = None,
    **options: Any,
) -> tuple[AIOKafkaConsumer, list[TopicPartition]]:
    """A started consumer assigned every partition of `topic_names`, each positioned at its first record
    or at the offset `start_at` gives for it. The caller stops the consumer.

    The beginning comes from `auto_offset_reset="earliest"`, not from `seek_to_beginning`: assign()
    already starts a reset with the default strategy, and aiokafka applies whichever answer arrives while
    a reset is pending, so a later seek_to_beginning can lose to a "latest" reset and read nothing.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",  # what aborted producer transactions wrote is not part of the log
        **kafka_options(),
        **options,
    )
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()  # the topics may be new to this client
        partitions = [
            TopicPartition(name, p) for name in topic_names for p in sorted(consumer.partitions_for_topic(name) or ())
        ]
        consumer.assign(partitions)
        for partition, offset in (start_at or {}).items():
            if partition in partitions:
                consumer.seek(partition, offset)
        for partition in partitions:  # settle every position before anyone compares it with the end
            await consumer.position(partition)
    except BaseException:
        await consumer.stop()
        raise
    return consumer, partitions


def raise_if_not_fetching(consumer: AIOKafkaConsumer) -> None:
    """Raise if the consumer's background fetcher has died. aiokafka's fetcher can die of an error it does
    not expect (under uvloop, a write to a connection a killed broker just dropped raises RuntimeError);
    getmany then returns nothing for ever, and says nothing. Raised, the error reaches the supervisor,
    which starts a fresh consumer."""
    fetching = consumer._fetcher.error_future if consumer._fetcher is not None else None
    if fetching is not None and fetching.done():
        cause = None if fetching.cancelled() else fetching.exception()
        raise KafkaError("the consumer's fetcher stopped; it must be started afresh") from cause


async def behind(consumer: AIOKafkaConsumer, ends: Mapping[TopicPartition, int]) -> bool:
    """Is any partition's position short of the given end offset?"""
    for partition, end in ends.items():
        if await consumer.position(partition) < end:
            return True
    return False


async def batches_to_end(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition], timeout_ms: int = 500, max_records: int | None = None
) -> AsyncIterator[list[Any]]:
    """The records of each fetch, partition by partition, until the log's end as it was when called."""
    ends = await consumer.end_offsets(partitions)
    while await behind(consumer, ends):
        for records in (await consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)).values():
            yield records
