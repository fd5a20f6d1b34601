"""Crypto-shredding: personal data in events is sealed with a key per customer; erasure destroys the key.

Data keys live on the compacted topic `onestop.customer-keys.v1`, each wrapped (AES-GCM) with the
platform's key-encryption key, so every service can open what it is entitled to read without sharing
a database. Erasing a customer writes a tombstone for their key; every service drops the key from
memory at once and Kafka's compaction removes it from disk, after which every event that ever carried
their personal data, in every topic and replica, holds only ciphertext nobody can open.

Publishing seals (`seal_envelope`), consuming opens (`open_envelope`); both are no-ops until a keyring
is installed, which services do at start-up when PERSONAL_DATA_KEK is set.
"""

import asyncio
import base64
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from uuid import UUID

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition  # type: ignore[import-untyped]
from aiokafka.errors import KafkaError  # type: ignore[import-untyped]
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from onestop.contracts import EventEnvelope
from onestop.contracts.personal_data import map_personal, open_with, personal_subjects, seal_with
from onestop.contracts.topics import CUSTOMER_KEYS
from onestop.servicekit.kafka_security import kafka_options
from onestop.servicekit.log_reading import open_from_beginning
from onestop.servicekit.settings import ServiceSettings
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
    """Every customer's data key, read from the compacted key topic and kept up to date."""

    def __init__(self, bootstrap: str, kek: str, namespace: str = "") -> None:
        self.bootstrap = bootstrap
        self.namespace = namespace
        self.topic = CUSTOMER_KEYS.qualified(namespace)
        self._kek = AESGCM(base64.b64decode(kek))
        self._keys: dict[UUID, bytes] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._partitions: list[TopicPartition] = []
        self.follower = Supervised("customer key follower", self._follow)
        self._follower_task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._positions: dict[TopicPartition, int] = {}
        self._progress = asyncio.Condition()

    async def start(self) -> None:
        # The topic must exist before we follow it: a follower assigned no partitions would never learn a key.
        await ensure_topics(self.bootstrap, self.namespace, [CUSTOMER_KEYS])
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=True, **kafka_options()
        )
        await self._producer.start()
        self._stop = asyncio.Event()
        self._follower_task = self.follower.start(self._stop)
        await self.catch_up()

    async def stop(self) -> None:
        self._stop.set()
        if self._follower_task is not None:
            self._follower_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower_task
        if self._producer is not None:
            await self._producer.stop()

    async def _follow(self, stop: asyncio.Event) -> None:
        """Read the key topic for ever, from where the last follower got to (a restart re-reads nothing)."""
        consumer, partitions = await open_from_beginning(self.bootstrap, [self.topic], start_at=self._positions)
        self._consumer, self._partitions = consumer, partitions
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=200)
                for records in batches.values():
                    for record in records:
                        self._remember(record.key, record.value)
                positions = {tp: await consumer.position(tp) for tp in partitions}
                async with self._progress:
                    self._positions = positions
                    self._progress.notify_all()
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
        if value is None:
            self._keys[customer_id] = _ERASED
            return
        try:
            self._keys[customer_id] = self._kek.decrypt(value[:12], value[12:], key)
        except (InvalidTag, ValueError):
            log.error("a customer key could not be unwrapped with this key-encryption key; ignoring it")

    async def catch_up(self, within: float = 30) -> None:
        """Wait until everything on the key topic when called has been read."""
        async with asyncio.timeout(within):
            while (consumer := self._consumer) is None:  # the follower is (re)starting
                await asyncio.sleep(0.05)
            ends = await consumer.end_offsets(self._partitions)

            def caught_up() -> bool:
                return all(self._positions.get(tp, 0) >= end for tp, end in ends.items())

            async with self._progress:
                await self._progress.wait_for(caught_up)

    def is_erased(self, customer_id: UUID) -> bool:
        return self._keys.get(customer_id) == _ERASED

    async def key_for_sealing(self, customer_id: UUID) -> bytes | None:
        """The customer's key, created and made durable first if they have none; None once erased."""
        if customer_id not in self._keys:
            await self.catch_up()
        key = self._keys.get(customer_id)
        if key is None:
            key = AESGCM.generate_key(bit_length=256)
            nonce = os.urandom(12)
            wrapped = nonce + self._kek.encrypt(nonce, key, str(customer_id).encode())
            assert self._producer is not None
            await self._producer.send_and_wait(self.topic, key=str(customer_id).encode(), value=wrapped)
            self._keys.setdefault(customer_id, key)
            key = self._keys[customer_id]
        return None if key == _ERASED else key

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
        self._keys[customer_id] = _ERASED

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


@contextlib.asynccontextmanager
async def personal_data_protection(settings: ServiceSettings) -> AsyncIterator[CustomerKeyring | None]:
    """For a service's lifespan: seal and open personal data while it runs, if a KEK is configured."""
    if not settings.personal_data_kek:
        yield None
        return
    keyring = CustomerKeyring(settings.kafka_bootstrap_servers, settings.personal_data_kek, settings.topic_namespace)
    await keyring.start()
    install_keyring(keyring)
    try:
        yield keyring
    finally:
        install_keyring(None)
        await keyring.stop()


async def seal_envelope(envelope: EventEnvelope) -> EventEnvelope:
    """Move every customer's personal data in the event into `sealed`, under their own key."""
    keyring = _keyring
    if keyring is None:
        return envelope
    subjects = personal_subjects(envelope.data)
    if not subjects:
        return envelope
    keys = {subject: await keyring.key_for_sealing(subject) for subject in subjects}

    def seal(subject: UUID, plaintext: bytes) -> str | None:
        key = keys.get(subject)
        return CustomerKeyring.seal(key, subject, plaintext) if key else None

    return envelope.model_copy(update={"data": map_personal(envelope.data, seal_with(seal))})


async def open_envelope(envelope: EventEnvelope) -> EventEnvelope:
    """Restore the personal data this service may read; an erased customer's stays empty."""
    keyring = _keyring
    if keyring is None:
        return envelope
    sealed_subjects: set[UUID] = set()

    def collect(value_object):  # type: ignore[no-untyped-def]
        subject = value_object.personal_subject()
        if subject is not None and getattr(value_object, "sealed", None):
            sealed_subjects.add(subject)
        return value_object

    map_personal(envelope.data, collect)
    if not sealed_subjects:
        return envelope
    keys = {subject: await keyring.key_for_opening(subject) for subject in sealed_subjects}

    def open_(subject: UUID, sealed: str) -> bytes | None:
        key = keys.get(subject)
        return CustomerKeyring.open(key, subject, sealed) if key else None

    return envelope.model_copy(update={"data": map_personal(envelope.data, open_with(open_))})
