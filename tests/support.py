"""Helpers for tests against the real broker and database: read a topic, wait for a condition, read the
mail a customer received."""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer  # type: ignore[import-untyped]

from onestop.contracts import EventEnvelope, decode_record

T = TypeVar("T")


async def read_records(bootstrap: str, topic: str, count: int, within: float = 30) -> list[Any]:
    """The first `count` records of `topic` (all partitions, from the beginning), or TimeoutError."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
        isolation_level="read_committed",
    )
    await consumer.start()
    records: list[Any] = []
    try:
        async with asyncio.timeout(within):
            while len(records) < count:
                batch = await consumer.getmany(timeout_ms=200)
                for partition_records in batch.values():
                    records.extend(partition_records)
    finally:
        await consumer.stop()
    return records


async def read_events(bootstrap: str, topic: str, count: int, within: float = 30) -> list[EventEnvelope]:
    """The first `count` events of `topic`, decoded, in offset order within each partition."""
    records = await read_records(bootstrap, topic, count, within)
    return [decode_record(r.value, r.headers) for r in sorted(records, key=lambda r: (r.partition, r.offset))]


async def eventually(check: Callable[[], Awaitable[T | None]], within: float = 30, every: float = 0.1) -> T:
    """Poll `check` until it returns something truthy; TimeoutError after `within` seconds."""
    async with asyncio.timeout(within):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(every)


async def publish_events(bootstrap: str, namespace: str, *envelopes: EventEnvelope) -> None:
    """Publish events as another service would: CloudEvents binary mode, keyed by aggregate, acks=all."""
    from aiokafka import AIOKafkaProducer

    from onestop.contracts import encode_envelope

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for envelope in envelopes:
            record = encode_envelope(envelope)
            await producer.send_and_wait(
                envelope.data.topic.qualified(namespace),
                value=record.value,
                key=record.key,
                headers=list(record.headers),
            )
    finally:
        await producer.stop()


async def case_of(
    cases: httpx.AsyncClient, reference: str, headers: dict[str, str] | None = None, within: float = 120
) -> dict[str, Any]:
    """The case that a reference from intake's answer leads to, once the cases service holds it."""

    async def found() -> dict[str, Any] | None:
        answer = await cases.get("/cases", params={"reference": reference}, headers=headers)
        items: list[dict[str, Any]] = answer.json()["items"] if answer.status_code == 200 else []
        return items[0] if items else None

    return await eventually(found, within=within)


def fleet_settings(smtp_port: int, ports: Mapping[str, int], **overrides: str) -> dict[str, str]:
    """What every test that runs the services as processes gives them: a key-encryption key of their own, the
    test's mail server, the public addresses their links name, acknowledgements grouped for one second only,
    and no escalation sweep while the test runs."""
    from onestop.servicekit.personal_data import new_kek

    return {
        "PERSONAL_DATA_KEK": new_kek(),
        "NOTIFY_SMTP_PORT": str(smtp_port),
        "NOTIFY_PUBLIC_BASE_URL": f"http://127.0.0.1:{ports['notify']}",
        "NOTIFY_TRACKING_BASE_URL": f"http://127.0.0.1:{ports['cases']}",
        "NOTIFY_ACKNOWLEDGEMENT_GROUPING_SECONDS": "1",
        "CASES_ESCALATION_INTERVAL_SECONDS": "3600",
        **overrides,
    }


def bearer(*scopes: str, service_areas: list[str] | None = None) -> dict[str, str]:
    """An Authorization header with a development token holding `scopes`."""
    from onestop.servicekit.auth import mint_token

    return {"Authorization": f"Bearer {mint_token('test-client', list(scopes), service_areas=service_areas)}"}


@dataclass(frozen=True)
class Mail:
    """A message as the mail server received it."""

    id: str  # the mail server's own
    message_id: str  # as in the header: "<...>"
    to: tuple[str, ...]
    subject: str


class MailServer:
    """What a Mailpit (onestop.localinfra.mailpit) received, read through its API."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def messages(self, to: str | None = None) -> list[Mail]:
        """Every message received, oldest first (to the millisecond); with `to`, only those to that address
        (any case)."""
        path, query = ("/api/v1/search", {"query": f'to:"{to}"'}) if to else ("/api/v1/messages", {})
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
            # One page holding everything: later pages would shift as new mail arrives.
            answer = await client.get(path, params={**query, "limit": 1_000_000})
        answer.raise_for_status()
        found = [
            Mail(
                id=m["ID"],
                message_id=f"<{m['MessageID']}>",
                to=tuple(r["Address"] for r in m["To"] or ()),
                subject=m["Subject"],
            )
            for m in reversed(answer.json()["messages"])
        ]
        # The search matches part of an address too ("jo@" in "bounce.jo@"): keep exact recipients only.
        return found if to is None else [m for m in found if to.lower() in (r.lower() for r in m.to)]

    async def count(self, to: str) -> int:
        return len(await self.messages(to))

    async def text(self, mail: Mail) -> str:
        """The message's plain-text body."""
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
            answer = await client.get(f"/api/v1/message/{mail.id}")
        answer.raise_for_status()
        return str(answer.json()["Text"])

    async def wait_for(self, to: str, count: int, within: float = 30) -> list[Mail]:
        """The messages to `to` once there are at least `count`; TimeoutError after `within` seconds."""

        async def arrived() -> list[Mail] | None:
            found = await self.messages(to)
            return found if len(found) >= count else None

        return await eventually(arrived, within=within, every=0.2)

    async def delete_all(self) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
            answer = await client.delete("/api/v1/messages")
        answer.raise_for_status()


class CountingConnection:
    """A database connection that notes each statement sent through it (one round trip each), for tests of
    how many round trips a batch costs."""

    def __init__(self, connection: Any, statements: list[str] | None = None) -> None:
        self._connection = connection
        self.statements: list[str] = [] if statements is None else statements

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    async def execute(self, sql: str, *args: Any, **options: Any) -> Any:
        self.statements.append(sql)
        return await self._connection.execute(sql, *args, **options)

    async def executemany(self, sql: str, rows: Any, **options: Any) -> Any:
        self.statements.append(sql)
        return await self._connection.executemany(sql, rows, **options)

    async def fetch(self, sql: str, *args: Any, **options: Any) -> Any:
        self.statements.append(sql)
        return await self._connection.fetch(sql, *args, **options)

    async def fetchrow(self, sql: str, *args: Any, **options: Any) -> Any:
        self.statements.append(sql)
        return await self._connection.fetchrow(sql, *args, **options)

    async def fetchval(self, sql: str, *args: Any, **options: Any) -> Any:
        self.statements.append(sql)
        return await self._connection.fetchval(sql, *args, **options)
