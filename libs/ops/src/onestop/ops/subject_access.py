"""A person's rights over what the log holds about them: a subject-access export, and erasure.

A person's personal data is sealed under more than one key: their customer record's, the records merged
into it, and, for contacts they made before they were identified, each contact's own subject
(`unidentified_subject_for`), linked to them once a CustomerIdentified names the contact. Both the export
and the erasure start from the log of record, so they cover every service:

- `export` gathers every event that holds the person's data (contacts, identification and merges,
  routing, cases and their events, back-office reports, notifications and feedback), opened with their keys;
- `erase` destroys each of those keys (a tombstone on the key topic) and publishes a CustomerErased per
  subject, on which every service drops what its read models hold of them.

A person is named by their customer id, or, never identified, by one of their contacts.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]

from onestop.contracts import EventEnvelope, UndecodableMessage, decode_record, encode_envelope
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.cases import CaseRaised
from onestop.contracts.events.common import unidentified_subject_for
from onestop.contracts.events.contacts import ContactReceived
from onestop.contracts.events.customers import (
    CustomerErased,
    CustomerIdentified,
    CustomersMerged,
    CustomersUnmerged,
)
from onestop.contracts.personal_data import subjects_named
from onestop.servicekit.kafka_security import kafka_options
from onestop.servicekit.log_reading import batches_to_end, open_from_beginning
from onestop.servicekit.personal_data import CustomerKeyring, install_keyring, open_envelope

SEARCHED = (
    contract_topics.CUSTOMERS,
    contract_topics.CONTACTS,
    contract_topics.ROUTING,
    contract_topics.CASES,
    contract_topics.BACK_OFFICE,
    contract_topics.NOTIFICATIONS,
    contract_topics.FEEDBACK,
)


class UnknownContact(LookupError):
    """The contact a person was named by is not on the log."""


async def read_log(bootstrap: str, namespace: str, topics: tuple[contract_topics.Topic, ...]) -> list[EventEnvelope]:
    """Every event on `topics` now, decoded (not opened), oldest first."""
    consumer, partitions = await open_from_beginning(bootstrap, [topic.qualified(namespace) for topic in topics])
    try:
        envelopes: list[EventEnvelope] = []
        async for records in batches_to_end(consumer, partitions):
            for record in records:
                try:
                    envelopes.append(decode_record(record.value, record.headers))
                except UndecodableMessage:
                    continue
        return sorted(envelopes, key=lambda e: e.time)
    finally:
        await consumer.stop()


def person_named(log: list[EventEnvelope], customer_id: UUID | None, contact_id: UUID | None) -> UUID:
    """The person's own subject: the customer id, or the subject of the contact they are named by."""
    if customer_id is not None:
        return customer_id
    assert contact_id is not None, "a person is named by a customer id or a contact"
    for envelope in log:
        if isinstance(envelope.data, ContactReceived) and envelope.data.contact_id == contact_id:
            return envelope.data.personal_subject()
    raise UnknownContact(f"no contact {contact_id} on the log")


def subjects_of(person: UUID, log: list[EventEnvelope]) -> set[UUID]:
    """Every subject whose key holds the person's data: theirs, every record merged into it (however many
    merges deep), and the own subject of every contact identified as one of those."""
    subjects = {person}
    merges = standing_merges(log)
    grown = True
    while grown:
        merged = {m.merged_customer_id for m in merges if m.surviving_customer_id in subjects}
        grown = not merged <= subjects
        subjects |= merged
    identified = [e.data for e in log if isinstance(e.data, CustomerIdentified)]
    return subjects | {unidentified_subject_for(i.contact_id) for i in identified if i.customer_id in subjects}


def standing_merges(log: list[EventEnvelope]) -> list[CustomersMerged]:
    """The merges on the log that were not undone since: a record unmerged is a person of its own again."""
    standing: dict[UUID, CustomersMerged] = {}
    for envelope in log:
        if isinstance(envelope.data, CustomersMerged):
            standing[envelope.data.merged_customer_id] = envelope.data
        elif isinstance(envelope.data, CustomersUnmerged):
            standing.pop(envelope.data.merged_customer_id, None)
    return list(standing.values())


def _mentions(envelope: EventEnvelope, subjects: set[UUID], case_ids: set[UUID]) -> bool:
    data = envelope.data
    if subjects_named(data) & subjects:
        return True
    text = data.model_dump_json()
    if any(str(subject) in text for subject in subjects):
        return True
    case_id = getattr(data, "case_id", None)
    return case_id is not None and case_id in case_ids


async def export(
    bootstrap: str, namespace: str, customer_id: UUID | None, kek: str, contact_id: UUID | None = None
) -> dict[str, Any]:
    """Everything the log holds about the person, their personal data opened with their keys."""
    log = await read_log(bootstrap, namespace, SEARCHED)
    person = person_named(log, customer_id, contact_id)
    subjects = subjects_of(person, log)
    keyring = CustomerKeyring(bootstrap, kek, namespace)
    await keyring.start()
    install_keyring(keyring)
    try:
        # Cases raised for the person bring their whole history with them.
        case_ids = {
            e.data.case_id for e in log if isinstance(e.data, CaseRaised) and e.data.personal_subject() in subjects
        }
        held = []
        for envelope in log:
            if _mentions(envelope, subjects, case_ids):
                opened = await open_envelope(envelope)
                held.append(
                    {
                        "type": opened.type,
                        "time": opened.time.isoformat(),
                        "source": opened.source,
                        "data": json.loads(opened.data.model_dump_json()),
                    }
                )
        erased = keyring.is_erased(person)
        return {"customer_id": str(person), "subjects": sorted(map(str, subjects)), "erased": erased, "events": held}
    finally:
        install_keyring(None)
        await keyring.stop()


@dataclass
class Erasure:
    """What erasing a person did, subject by subject."""

    person: UUID
    shredded: list[UUID] = field(default_factory=list)  # keys destroyed now
    already_erased: list[UUID] = field(default_factory=list)
    never_sealed: list[UUID] = field(default_factory=list)  # no key was ever made: nothing of theirs was sealed
    published: list[UUID] = field(default_factory=list)  # the ids of the CustomerErased events

    @property
    def anything_sealed(self) -> bool:
        return bool(self.shredded or self.already_erased)


async def erase(
    bootstrap: str,
    namespace: str,
    kek: str,
    basis: str,
    *,
    customer_id: UUID | None = None,
    contact_id: UUID | None = None,
    source: str = "/onestop/ops",
) -> Erasure:
    """Destroy every key that holds the person's data and publish their erasure, subject by subject.

    A contact's own subject that never had a key is left alone (its contact named the customer, so the
    customer's key sealed it). `Erasure.anything_sealed` is False when no key of the person ever existed:
    then nothing of theirs on the log could be shredded, and the caller must not report success."""
    log = await read_log(bootstrap, namespace, (contract_topics.CUSTOMERS, contract_topics.CONTACTS))
    person = person_named(log, customer_id, contact_id)
    subjects = subjects_of(person, log)
    records = {person} | {m.merged_customer_id for m in standing_merges(log)}
    erasure = Erasure(person)
    keyring = CustomerKeyring(bootstrap, kek, namespace)
    await keyring.start()
    try:
        for subject in sorted(subjects, key=lambda s: (s != person, str(s))):
            if keyring.is_erased(subject):
                erasure.already_erased.append(subject)
            elif keyring.knows(subject):
                await keyring.erase(subject)
                erasure.shredded.append(subject)
            elif subject in records:
                erasure.never_sealed.append(subject)
    finally:
        await keyring.stop()
    erased_at = datetime.now(UTC)
    events = [
        EventEnvelope.wrap(CustomerErased(customer_id=subject, erased_at=erased_at, legal_basis=basis), source=source)
        for subject in [*erasure.shredded, *erasure.already_erased, *erasure.never_sealed]
    ]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, **kafka_options())
    await producer.start()
    try:
        for envelope in events:
            record = encode_envelope(envelope)
            await producer.send_and_wait(
                envelope.data.topic.qualified(namespace),
                value=record.value,
                key=record.key,
                headers=list(record.headers),
            )
    finally:
        await producer.stop()
    erasure.published = [envelope.id for envelope in events]
    return erasure
