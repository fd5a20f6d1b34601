"""Kafka transactions: a batch of records is committed to the log together, or not at all.

One transactional producer per process (its id unique to the process). Every onestop consumer reads with
isolation_level=read_committed, so records of a transaction that was aborted, or never committed, are never
seen, even though a timed-out send may still have reached the broker. When a transaction cannot be aborted
cleanly (the broker is unreachable, or the commit was already under way), a fresh producer with the same
transactional id takes over: the coordinator fences the old one and aborts whatever it left open.
"""

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]

from onestop.contracts.kafka_binding import KafkaRecord
from onestop.servicekit.kafka_security import kafka_options

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """One record for a topic."""

    topic: str
    record: KafkaRecord


class Transactions(Protocol):
    """Commits a batch of records to the log together, or not at all."""

    async def start(self) -> None: ...

    async def commit(self, records: Sequence[Outgoing], timeout: float) -> None: ...

    async def stop(self) -> None: ...


class KafkaTransactions:
    def __init__(
        self,
        bootstrap: str,
        transactional_id: str,
        *,
        client_id: str,
        recovery_timeout: float = 10.0,
        transaction_timeout: float = 60.0,
    ) -> None:
        self.bootstrap = bootstrap
        self.transaction_timeout = transaction_timeout
        self.transactional_id = transactional_id
        self.client_id = client_id
        self.recovery_timeout = recovery_timeout
        self.committed = 0
        self._producer: AIOKafkaProducer | None = None
        self._retiring: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        await self._ready()

    async def commit(self, records: Sequence[Outgoing], timeout: float) -> None:
        """Send every record (all in flight at once), wait for their acknowledgements and commit, all within
        `timeout`; on any failure or timeout the transaction is aborted and the error raised."""
        began = False
        try:
            async with asyncio.timeout(timeout):
                producer = await self._ready()
                await producer.begin_transaction()
                began = True
                acknowledgements = [
                    await producer.send(
                        out.topic, value=out.record.value, key=out.record.key, headers=list(out.record.headers)
                    )
                    for out in records
                ]
                await asyncio.gather(*acknowledgements)
                await producer.commit_transaction()
        except BaseException:
            if began:
                await self._abandon()
            elif self._producer is not None:
                self._discard()  # it could not even begin: the next batch starts afresh, under the same id
            raise
        self.committed += 1

    async def stop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await self._stop(producer)
        if self._retiring:
            await asyncio.gather(*self._retiring, return_exceptions=True)

    async def _ready(self) -> AIOKafkaProducer:
        if self._producer is not None:
            return self._producer
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            client_id=self.client_id,
            transactional_id=self.transactional_id,
            # The coordinator aborts a transaction left open longer than this. Each process has an id of its
            # own, so no successor fences a killed one: until then, consumers reading committed records wait
            # at its open transaction on every partition it wrote to.
            transaction_timeout_ms=int(self.transaction_timeout * 1000),
            enable_idempotence=True,
            acks="all",
            **kafka_options(),
        )
        try:
            await producer.start()
        except BaseException:
            self._retire(producer)
            raise
        self._producer = producer
        return producer

    async def _abandon(self) -> None:
        """Abort the open transaction; failing that, fence it with a fresh producer."""
        producer = self._producer
        if producer is None:
            return
        try:
            async with asyncio.timeout(self.recovery_timeout):
                await producer.abort_transaction()
            return
        except Exception as exc:
            log.warning("Kafka transaction not aborted (%s: %s); fencing it", type(exc).__name__, exc)
        self._discard()
        try:
            async with asyncio.timeout(self.recovery_timeout):
                await self._ready()
        except Exception as exc:
            # The next batch tries again; until a producer with this id starts, the coordinator's own
            # transaction timeout is what aborts the open transaction.
            log.warning("no new Kafka producer yet (%s: %s)", type(exc).__name__, exc)

    def _discard(self) -> None:
        if self._producer is not None:
            self._retire(self._producer)
            self._producer = None

    def _retire(self, producer: AIOKafkaProducer) -> None:
        task = asyncio.create_task(self._stop(producer))
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def _stop(self, producer: AIOKafkaProducer) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self.recovery_timeout):
                await producer.stop()


class AlternatingTransactions:
    """Transactional producers taking batches in turn, each batch on a producer no other batch is using, so
    that as many batches as there are producers can be committing at once. Taking turns also helps one at a
    time: after a commit the coordinator writes its markers in the background, and a new transaction of the
    same producer waits for them (the client backs off 20 ms on CONCURRENT_TRANSACTIONS); another producer's
    next transaction need not."""

    def __init__(
        self,
        bootstrap: str,
        transactional_id: str,
        *,
        client_id: str,
        producers: int = 2,
        transaction_timeout: float = 60.0,
    ) -> None:
        self.producers = [
            KafkaTransactions(
                bootstrap, f"{transactional_id}-{turn}", client_id=client_id, transaction_timeout=transaction_timeout
            )
            for turn in range(producers)
        ]
        self._free: asyncio.Queue[KafkaTransactions] = asyncio.Queue()
        for producer in self.producers:
            self._free.put_nowait(producer)

    @property
    def committed(self) -> int:
        return sum(producer.committed for producer in self.producers)

    async def start(self) -> None:
        for producer in self.producers:
            await producer.start()

    async def commit(self, records: Sequence[Outgoing], timeout: float) -> None:
        producer = await self._free.get()  # first in, first out: the one that finished longest ago
        try:
            await producer.commit(records, timeout)
        finally:
            self._free.put_nowait(producer)

    async def stop(self) -> None:
        for producer in self.producers:
            await producer.stop()
