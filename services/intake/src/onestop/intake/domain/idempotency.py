"""Idempotent contacts: a request's fingerprint, and the identifiers a retry must reproduce.

With an Idempotency-Key, the contact, its needs and its envelope get ids derived from (client, key). Kafka
commits before the database does; should the database commit then fail, the contact is on the log without
its idempotency record, and the retry republishes the very same event, which every consumer's inbox drops.
A new customer's record id is derived from the contact for the same reason.
"""

import hashlib
import json
from typing import Any
from uuid import UUID, uuid5

from onestop.contracts.events.contacts import ContactReceived

_NAMESPACE = UUID("6f1d3b52-8a0e-4c53-9d2e-2b7f0c4e1a90")


def fingerprint(request: Any) -> str:
    """The same request gives the same fingerprint, whatever the order of its fields."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def envelope_id_for(client: str, key: str) -> UUID:
    return uuid5(_NAMESPACE, f"envelope\x00{client}\x00{key}")


def with_stable_ids(contact: ContactReceived, client: str, key: str) -> ContactReceived:
    """The contact with its id and its needs' ids derived from (client, key)."""
    contact_id = uuid5(_NAMESPACE, f"contact\x00{client}\x00{key}")
    needs = tuple(
        need.model_copy(update={"need_id": uuid5(contact_id, f"need\x00{index}")})
        for index, need in enumerate(contact.needs)
    )
    return contact.model_copy(update={"contact_id": contact_id, "needs": needs})


def new_customer_id_for(contact_id: UUID) -> UUID:
    """The id of the customer record a contact creates, should it create one."""
    return uuid5(contact_id, "new customer")
