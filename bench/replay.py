"""Replay: rebuilding analytics from offset zero through its live handlers (the consumer runtime, batch by
batch), against a bare aiokafka consumer reading the same topics."""

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]

from bench.stats import Timing, peak_rss_mb
from onestop.analytics.app import MIGRATIONS
from onestop.analytics.handlers import TOPICS
from onestop.analytics.rebuild import rebuild_into
from onestop.analytics.settings import AnalyticsSettings
from onestop.contracts import EventEnvelope, decode_record, encode_envelope
from onestop.contracts.events.common import Channel, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.contracts.events.routing import ContactAssessed
from onestop.servicekit.database import SERVICEKIT_MIGRATIONS, drop_database, open_service_database
from onestop.servicekit.log_reading import open_from_beginning
from onestop.servicekit.topics_admin import delete_namespace_topics, ensure_topics


async def publish_log(bootstrap: str, namespace: str, events: int) -> None:
    """`events` events, half contacts and half their assessments, spread over a month."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=20, max_batch_size=512 * 1024)
    await producer.start()
    start = datetime(2026, 3, 1, tzinfo=UTC)
    try:
        pending = []
        for n in range(events // 2):
            contact_id, need_id = uuid.uuid4(), uuid.uuid4()
            at = start + timedelta(seconds=n * 7)
            channel = (Channel.WEB, Channel.TELEPHONE, Channel.APP)[n % 3]
            for event in (
                ContactReceived(
                    contact_id=contact_id,
                    channel=channel,
                    received_at=at,
                    needs=(Need(need_id=need_id, kind=NeedKind.REPORT_PROBLEM, service_code="587"),),
                ),
                ContactAssessed(
                    contact_id=contact_id,
                    need_id=need_id,
                    assessed_at=at,
                    channel=channel,
                    service_area="street_cleaning",
                    avoidable=n % 4 == 0,
                ),
            ):
                record = encode_envelope(EventEnvelope.wrap(event, source="/bench"))
                pending.append(
                    await producer.send(
                        event.topic.qualified(namespace),
                        value=record.value,
                        key=record.key,
                        headers=list(record.headers),
                    )
                )
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def bare_read(bootstrap: str, namespace: str, decode: bool = False) -> Timing:
    """Read every record once; with `decode`, also decode each into its event (the floor of any reader
    that validates what it reads, before it writes anything)."""
    names = [t.qualified(namespace) for t in TOPICS]
    consumer, partitions = await open_from_beginning(bootstrap, names, max_poll_records=5000)
    timing = Timing()
    try:
        total = sum((await consumer.end_offsets(partitions)).values())
        started = time.perf_counter()
        while timing.count < total:
            for records in (await consumer.getmany(timeout_ms=500, max_records=5000)).values():
                timing.count += len(records)
                if decode:
                    for record in records:
                        decode_record(record.value, record.headers)
        timing.seconds = time.perf_counter() - started
    finally:
        await consumer.stop()
    return timing


async def run(bootstrap: str, server_url: str, events: int) -> dict[str, object]:
    namespace = f"bench{uuid.uuid4().hex[:8]}."
    await ensure_topics(bootstrap, namespace)
    await publish_log(bootstrap, namespace, events)
    settings = AnalyticsSettings(
        kafka_bootstrap_servers=bootstrap,
        database_url=server_url,
        topic_namespace=namespace,
        database=f"bench_analytics_{uuid.uuid4().hex[:8]}",
    )
    pool = await open_service_database(server_url, settings.database_name, [SERVICEKIT_MIGRATIONS, MIGRATIONS])
    try:
        bare = await bare_read(bootstrap, namespace)
        decoding = await bare_read(bootstrap, namespace, decode=True)
        rebuild = Timing()
        started = time.perf_counter()
        rebuild.count = await rebuild_into(pool, settings, "facts_bench")
        rebuild.seconds = time.perf_counter() - started
        return {
            "events": events,
            "analytics_rebuild": rebuild.summary(),
            "bare_aiokafka_consumer": bare.summary(),
            "bare_consumer_decoding": decoding.summary(),
            "ratio_to_bare": round(rebuild.per_second / bare.per_second, 3) if bare.per_second else None,
            "ratio_to_decoding": round(rebuild.per_second / decoding.per_second, 3) if decoding.per_second else None,
            "peak_rss_mb": round(peak_rss_mb(), 1),
        }
    finally:
        await pool.close()
        await drop_database(server_url, settings.database_name)
        await delete_namespace_topics(bootstrap, namespace)
