"""Crypto-shredding: personal data in events is sealed with a key per customer; erasure destroys the key.

Data keys live on the compacted topic `onestop.customer-keys.v1`, each wrapped (AES-GCM) with the
platform's key-encryption key, so every service can open what it is entitled to read without sharing
a database. Erasing a customer writes a tombstone for their key; every service drops the key from
memory at once and Kafka's compaction removes it from disk, after which every event that ever carried
their personal data, in every topic and replica, holds only ciphertext nobody can open.

Publishing seals (`seal_envelope`), consuming opens (`open_envelope`) with the keyring every service
installs at start-up; a service does not start without PERSONAL_DATA_KEK, and sealing refuses (rather
than publish personal data in the clear) when no keyring is installed.
"""

import asyncio
import base64
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Sequence
from uuid import UUID

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition  # type: ignore[import-untyped]
from aiokafka.errors import KafkaError  # type: ignore[import-untyped]
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from onestop.contracts import EventEnvelope
from onestop.contracts.personal_data import map_personal, open_with, personal_subjects, seal_with, sealed_subjects
from onestop.contracts.topics import CUSTOMER_KEYS
from onestop.servicekit.kafka_security import kafka_options
from onestop.servicekit.log_reading import open_from_beginning, raise_if_not_fetching
from onestop.servicekit.settings import ServiceSettings, check_personal_data_kek
from onestop.servicekit.supervision import Supervised
from onestop.servicekit.topics_admin import ensure_topics

log = logging.getLogger(__name__)

_ERASED = b""  # a tombstone seen: this customer's key is gone for good
_SEALED_PREFIX = "v1."


class PersonalDataKeyPending(OSError):
    """Sealed data arrived before its key reached this service; retried like any transient failure."""


def new_kek() -> str:
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()


class CustomerKeyring:
    """Every customer's data key, read from the compacted key topic and kept up to date.

    One key per customer everywhere: the first key the topic holds for a customer is theirs for good, and
    a tombstone ends it for good. A keyring that makes a key uses it only once it has read the topic back
    up to its own write, so two services that make a key for the same new customer at once both end up
    sealing under the one written first. Compaction keeps only a customer's last record, so a keyring that
    reads a later record than the one that counts (a losing key, a key after a tombstone) writes the one
    that counts again.

    Keys are wrapped with the key-encryption key (KEK). While it is rotated, `previous_keks` still unwrap the
    records written before; a record that wraps the same data key under another KEK is the same key, not a
    later one, and `rewrap_all` writes every customer's key again under the current KEK.
    """

    def __init__(self, bootstrap: str, kek: str, namespace: str = "", previous_keks: Sequence[str] = ()) -> None:
        self.bootstrap = bootstrap
        self.namespace = namespace
        self.topic = CUSTOMER_KEYS.qualified(namespace)
        self._kek = AESGCM(base64.b64decode(check_personal_data_kek(kek)))
        self._unwrapping = [self._kek, *(AESGCM(base64.b64decode(check_personal_data_kek(k))) for k in previous_keks)]
        self._keys: dict[UUID, bytes] = {}
        self._adopted: dict[UUID, bytes | None] = {}  # the key that counts (unwrapped), or None: erased
        self._stale: set[UUID] = set()  # customers whose last record read is not the one that counts
        self._repairing: set[UUID] = set()
        self._making: dict[UUID, asyncio.Task[None]] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._offsets: AIOKafkaConsumer | None = None  # asks where the topic ends (see catch_up)
        self._producer: AIOKafkaProducer | None = None
        self._partitions: list[TopicPartition] = []
        self.follower = Supervised("customer key follower", self._follow)
        self._follower_task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._positions: dict[TopicPartition, int] = {}
        self._progress = asyncio.Condition()
        self._next_question: asyncio.Future[dict[TopicPartition, int]] | None = None
        self._one_question_at_a_time = asyncio.Lock()
        self._asking: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        # The topic must exist before we follow it: a follower assigned no partitions would never learn a key.
        await ensure_topics(self.bootstrap, self.namespace, [CUSTOMER_KEYS])
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=True, **kafka_options()
        )
        await self._producer.start()
        self._offsets = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",  # the same end the follower reads to
            **kafka_options(),
        )
        await self._offsets.start()
        self._stop = asyncio.Event()
        self._follower_task = self.follower.start(self._stop)
        await self.catch_up()

    async def stop(self) -> None:
        self._stop.set()
        for asking in list(self._asking):
            asking.cancel()
        if self._follower_task is not None:
            self._follower_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower_task
        if self._producer is not None:
            await self._producer.stop()
        if self._offsets is not None:
            await self._offsets.stop()

    async def _follow(self, stop: asyncio.Event) -> None:
        """Read the key topic for ever, from where the last follower got to (a restart re-reads nothing)."""
        consumer, partitions = await open_from_beginning(self.bootstrap, [self.topic], start_at=self._positions)
        self._consumer, self._partitions = consumer, partitions
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=200)
                if not batches:
                    raise_if_not_fetching(consumer)
                for records in batches.values():
                    for record in records:
                        self._remember(record.key, record.value)
                positions = {tp: await consumer.position(tp) for tp in partitions}
                async with self._progress:
                    self._positions = positions
                    self._progress.notify_all()
                await self._repair()
        finally:
            self._consumer = None
            await consumer.stop()

    def _remember(self, key: bytes | None, value: bytes | None) -> None:
        """Learn one record of the key topic; one that cannot be read is logged and skipped, never fatal."""
        try:
            customer_id = UUID((key or b"").decode())
        except (UnicodeDecodeError, ValueError):
            log.error("skipping a record on the customer key topic whose key is not a customer id")
            return
        data_key = None
        if value is None:
            self._keys[customer_id], self._adopted[customer_id] = _ERASED, None  # erased for good
        else:
            data_key = self._unwrap(customer_id, value)
            if data_key is None:
                log.error("a customer key could not be unwrapped with any key-encryption key held; ignoring it")
                return
            if customer_id not in self._keys:
                self._keys[customer_id], self._adopted[customer_id] = data_key, data_key  # the first key is theirs
        if data_key == self._adopted[customer_id]:
            self._stale.discard(customer_id)
            self._repairing.discard(customer_id)
        else:
            self._stale.add(customer_id)

    def _unwrap(self, customer_id: UUID, wrapped: bytes) -> bytes | None:
        for kek in self._unwrapping:
            try:
                return kek.decrypt(wrapped[:12], wrapped[12:], str(customer_id).encode())
            except (InvalidTag, ValueError):
                continue
        return None

    def _wrap(self, customer_id: UUID, data_key: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._kek.encrypt(nonce, data_key, str(customer_id).encode())

    async def rewrap_all(self) -> int:
        """Write every customer's key again, wrapped with the current KEK (after reading the whole topic), so
        that once compaction drops the older records the previous KEKs can be retired. Erased customers stay
        erased. How many keys were written."""
        await self.catch_up()
        assert self._producer is not None
        live = [(customer, key) for customer, key in self._adopted.items() if key is not None]
        sends = [
            await self._producer.send(self.topic, key=str(customer).encode(), value=self._wrap(customer, key))
            for customer, key in live
        ]
        await asyncio.gather(*sends)
        return len(live)

    async def _repair(self) -> None:
        """Write again the record that counts for each customer whose last record is another one, so that
        compaction, which keeps only the last, keeps it. Best effort: every keyring that sees it tries, and one
        that may only read the key topic (analytics) leaves it to the others."""
        for customer_id in self._stale - self._repairing:
            self._repairing.add(customer_id)
            assert self._producer is not None
            try:
                adopted = self._adopted[customer_id]
                value = None if adopted is None else self._wrap(customer_id, adopted)
                await self._producer.send_and_wait(self.topic, key=str(customer_id).encode(), value=value)
            except KafkaError as exc:
                log.warning("could not write a customer's key again (%s); another service will", type(exc).__name__)

    async def catch_up(self, within: float = 30) -> None:
        """Wait until everything on the key topic when called has been read.

        The end offsets come from a client of their own: asked on the follower's connection, the question
        queued behind its fetch, which the broker holds for up to 500 ms when there is nothing new, so every
        new customer waited that long in every service. Callers at the same moment share one question (a
        batch of new customers asks once, not once each), always one asked after they called."""
        async with asyncio.timeout(within):
            ends = await asyncio.shield(self._ends_asked_from_now())
            await self._read_to(ends)

    def _ends_asked_from_now(self) -> asyncio.Future[dict[TopicPartition, int]]:
        if self._next_question is None:
            question: asyncio.Future[dict[TopicPartition, int]] = asyncio.get_running_loop().create_future()
            question.add_done_callback(lambda q: q.cancelled() or q.exception())  # nobody may be left to ask
            self._next_question = question
            asking = asyncio.create_task(self._ask(question))
            self._asking.add(asking)
            asking.add_done_callback(self._asking.discard)
        return self._next_question

    async def _ask(self, question: asyncio.Future[dict[TopicPartition, int]]) -> None:
        async with self._one_question_at_a_time:
            # From here on, a new caller may have called after this question is sent: it waits for the next.
            self._next_question = None
            try:
                while self._consumer is None or self._offsets is None:  # the follower is (re)starting
                    await asyncio.sleep(0.05)
                question.set_result(await self._offsets.end_offsets(self._partitions))
            except Exception as exc:
                question.set_exception(exc)
            except BaseException:
                question.cancel()
                raise

    async def _read_to(self, ends: dict[TopicPartition, int]) -> None:
        def caught_up() -> bool:
            return all(self._positions.get(tp, 0) >= end for tp, end in ends.items())

        async with self._progress:
            await self._progress.wait_for(caught_up)

    def is_erased(self, customer_id: UUID) -> bool:
        return self._keys.get(customer_id) == _ERASED

    def knows(self, customer_id: UUID) -> bool:
        """Has the customer ever had a key (still held, or erased)?"""
        return customer_id in self._keys

    async def key_for_sealing(self, customer_id: UUID) -> bytes | None:
        """The customer's key, made and made durable first if they have none; None once erased.

        A customer this keyring has not read a key for gets one made at once, without first asking where the
        key topic ends (a request to the broker for nearly every new customer): writing the key and reading
        the topic back to it reads any key or erasure written for them before, and the first one counts."""
        if customer_id not in self._keys:
            making = self._making.get(customer_id)
            if making is None:  # one key made at a time per customer in this process
                making = asyncio.create_task(self._make_key(customer_id))
                self._making[customer_id] = making
                making.add_done_callback(lambda _: self._making.pop(customer_id, None))
            await asyncio.shield(making)
        key = self._keys[customer_id]
        return None if key == _ERASED else key

    async def _make_key(self, customer_id: UUID, within: float = 30) -> None:
        """Write a new key for the customer, then read the topic back to it: whichever key was written
        first (ours, or another service's made at the same moment) is the one every keyring uses."""
        wrapped = self._wrap(customer_id, AESGCM.generate_key(bit_length=256))
        assert self._producer is not None
        written = await self._producer.send_and_wait(self.topic, key=str(customer_id).encode(), value=wrapped)
        async with asyncio.timeout(within):
            await self._read_to({TopicPartition(written.topic, written.partition): written.offset + 1})
        if customer_id not in self._keys:
            raise PersonalDataKeyPending(f"the key written for {customer_id} was not read back")

    async def key_for_opening(self, customer_id: UUID, within: float = 10) -> bytes | None:
        """The customer's key; None once erased. A key is written before anything sealed under it is
        published, so one still unknown after reading the whole key topic was erased and compacted away.
        PersonalDataKeyPending (an outage) only when the key topic cannot be read in time."""
        if customer_id not in self._keys:
            try:
                await self.catch_up(within)
            except (TimeoutError, KafkaError) as exc:
                raise PersonalDataKeyPending(f"the key topic could not be read ({customer_id})") from exc
        key = self._keys.get(customer_id, _ERASED)
        return None if key == _ERASED else key

    async def erase(self, customer_id: UUID) -> None:
        """Destroy the customer's key: a tombstone on the compacted topic, and gone from memory now."""
        assert self._producer is not None
        await self._producer.send_and_wait(self.topic, key=str(customer_id).encode(), value=None)
        self._keys[customer_id], self._adopted[customer_id] = _ERASED, None

    @staticmethod
    def seal(key: bytes, customer_id: UUID, plaintext: bytes) -> str:
        nonce = os.urandom(12)
        ciphertext = AESGCM(key).encrypt(nonce, plaintext, customer_id.bytes)
        return _SEALED_PREFIX + base64.b64encode(nonce + ciphertext).decode()

    @staticmethod
    def open(key: bytes, customer_id: UUID, sealed: str) -> bytes | None:
        if not sealed.startswith(_SEALED_PREFIX):
            return None
        blob = base64.b64decode(sealed[len(_SEALED_PREFIX) :])
        try:
            return AESGCM(key).decrypt(blob[:12], blob[12:], customer_id.bytes)
        except InvalidTag:
            return None


_keyring: CustomerKeyring | None = None


def installed_keyring() -> CustomerKeyring | None:
    return _keyring


def install_keyring(keyring: CustomerKeyring | None) -> None:
    global _keyring
    _keyring = keyring


class PersonalDataUnprotected(RuntimeError):
    """An event with personal data was about to be published with no way to seal it: a fault in the code
    that publishes it, never to be worked around by publishing it in the clear."""


@contextlib.asynccontextmanager
async def personal_data_protection(settings: ServiceSettings) -> AsyncIterator[CustomerKeyring]:
    """For a service's lifespan: seal and open personal data while it runs. A service cannot run without
    the key-encryption key (ValueError naming PERSONAL_DATA_KEK, before anything starts)."""
    keyring = CustomerKeyring(
        settings.kafka_bootstrap_servers,
        settings.personal_data_kek,
        settings.topic_namespace,
        previous_keks=settings.previous_keks,
    )
    await keyring.start()
    install_keyring(keyring)
    try:
        yield keyring
    finally:
        install_keyring(None)
        await keyring.stop()


async def seal_envelope(envelope: EventEnvelope) -> EventEnvelope:
    """Move every subject's personal data in the event into `sealed`, under their own key.

    PersonalDataUnprotected when the event has personal data and no keyring is installed, or personal data
    that names no subject: nothing personal is ever published in the clear."""
    subjects = personal_subjects(envelope.data)
    if not subjects:
        return envelope
    if None in subjects:
        raise PersonalDataUnprotected(f"{envelope.type} carries personal data that names no data subject")
    keyring = _keyring
    if keyring is None:
        raise PersonalDataUnprotected(f"{envelope.type} carries personal data and no customer keyring is running")
    keys = {subject: await keyring.key_for_sealing(subject) for subject in subjects if subject is not None}

    def seal(subject: UUID, plaintext: bytes) -> str | None:
        key = keys.get(subject)
        return CustomerKeyring.seal(key, subject, plaintext) if key else None

    return envelope.model_copy(update={"data": map_personal(envelope.data, seal_with(seal))})


async def open_envelope(envelope: EventEnvelope) -> EventEnvelope:
    """Restore the personal data this service may read; an erased customer's stays empty."""
    keyring = _keyring
    if keyring is None:
        return envelope
    subjects = sealed_subjects(envelope.data)
    if not subjects:
        return envelope
    keys = {subject: await keyring.key_for_opening(subject) for subject in subjects}

    def open_(subject: UUID, sealed: str) -> bytes | None:
        key = keys.get(subject)
        return CustomerKeyring.open(key, subject, sealed) if key else None

    return envelope.model_copy(update={"data": map_personal(envelope.data, open_with(open_))})
