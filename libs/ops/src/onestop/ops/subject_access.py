"""A subject-access export: everything the log holds about one customer, with their personal data opened.

The log of record is the source, so the export covers every service: contacts, identification and merges,
cases and their events, notifications and feedback about those cases.
"""

import json
from typing import Any
from uuid import UUID

from onestop.contracts import EventEnvelope, UndecodableMessage, decode_record
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.cases import CaseRaised
from onestop.servicekit.log_reading import batches_to_end, open_from_beginning
from onestop.servicekit.personal_data import CustomerKeyring, install_keyring, open_envelope

SEARCHED = (
    contract_topics.CUSTOMERS,
    contract_topics.CONTACTS,
    contract_topics.CASES,
    contract_topics.NOTIFICATIONS,
    contract_topics.FEEDBACK,
)


def _mentions(envelope: EventEnvelope, customer_id: UUID, case_ids: set[UUID]) -> bool:
    data = envelope.data
    text = data.model_dump_json()
    if str(customer_id) in text:
        return True
    case_id = getattr(data, "case_id", None)
    return case_id is not None and case_id in case_ids


async def export(bootstrap: str, namespace: str, customer_id: UUID, kek: str = "") -> dict[str, Any]:
    keyring = None
    if kek:
        keyring = CustomerKeyring(bootstrap, kek, namespace)
        await keyring.start()
        install_keyring(keyring)
    consumer, partitions = await open_from_beginning(bootstrap, [topic.qualified(namespace) for topic in SEARCHED])
    try:
        envelopes: list[EventEnvelope] = []
        async for records in batches_to_end(consumer, partitions):
            for record in records:
                try:
                    envelopes.append(decode_record(record.value, record.headers))
                except UndecodableMessage:
                    continue
        # Cases raised for the customer bring their whole history with them.
        case_ids = {
            e.data.case_id
            for e in envelopes
            if isinstance(e.data, CaseRaised) and str(customer_id) in e.data.model_dump_json()
        }
        held = []
        for envelope in sorted(envelopes, key=lambda e: e.time):
            if _mentions(envelope, customer_id, case_ids):
                opened = await open_envelope(envelope)
                held.append(
                    {
                        "type": opened.type,
                        "time": opened.time.isoformat(),
                        "source": opened.source,
                        "data": json.loads(opened.data.model_dump_json()),
                    }
                )
        erased = bool(keyring and keyring.is_erased(customer_id))
        return {"customer_id": str(customer_id), "erased": erased, "events": held}
    finally:
        await consumer.stop()
        if keyring is not None:
            install_keyring(None)
            await keyring.stop()
