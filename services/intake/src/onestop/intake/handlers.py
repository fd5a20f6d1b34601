"""Taking in a contact: identify the customer, check assurance, and hand the contact to Kafka.

A contact is accepted only once Kafka has acknowledged it (acks=all). Customer records and the
customer events (through the outbox) commit in the same transaction, after that acknowledgement, so a
contact Kafka never took leaves nothing behind; a retry with the same Idempotency-Key gets the first
answer and publishes nothing new.
"""

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
from faststream.kafka import KafkaBroker

from onestop.contracts import EventEnvelope
from onestop.contracts.events.common import AssuranceLevel, CustomerDetails
from onestop.contracts.events.contacts import ContactReceived
from onestop.contracts.events.customers import CustomerIdentified, CustomersMerged
from onestop.contracts.service_catalogue import service_catalogue
from onestop.intake.adapters import customers
from onestop.intake.domain.assurance import sufficient
from onestop.intake.domain.identification import identity_of
from onestop.intake.settings import IntakeSettings
from onestop.servicekit import outbox
from onestop.servicekit.database import Connection
from onestop.servicekit.messaging import publish


class ContactRefused(Exception):
    """The contact cannot be taken as it is; `reason` goes back to the caller (HTTP 422)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KafkaUnavailable(Exception):
    """Kafka did not acknowledge the contact in time; nothing was recorded (HTTP 503)."""


class IdempotencyMismatch(Exception):
    """The Idempotency-Key was used before for a different request."""


@dataclass(frozen=True)
class Accepted:
    status_code: int
    body: dict[str, Any]


AfterCommit = Callable[[Connection], Awaitable[None]]


class IntakeService:
    def __init__(
        self, pool: asyncpg.Pool, broker: KafkaBroker, settings: IntakeSettings, on_commit: Callable[[], None]
    ):
        self.pool = pool
        self.broker = broker
        self.settings = settings
        self.on_commit = on_commit

    def check_assurance(self, contact: ContactReceived, provided: AssuranceLevel) -> None:
        catalogue = service_catalogue()
        for need in contact.needs:
            service = catalogue.service(need.service_code) if need.service_code else None
            if need.service_code and service is None:
                raise ContactRefused(f"needs[{need.need_id}]: unknown service code {need.service_code!r}")
            if service and not sufficient(provided, service.identity):
                raise ContactRefused(
                    f"{service.name} needs a customer verified to level {service.identity.value}; "
                    f"this contact is at level {provided.value}"
                )
            if service and need.kind not in service.kinds:
                allowed = ", ".join(k.value for k in service.kinds)
                raise ContactRefused(f"{service.name} takes needs of kind {allowed}, not {need.kind.value}")

    async def take(
        self,
        contact: ContactReceived,
        assurance: AssuranceLevel,
        respond: Callable[[ContactReceived], Accepted],
        *,
        client: str,
        idempotency_key: str | None = None,
        request_fingerprint: Any = None,
        record: AfterCommit | None = None,
    ) -> Accepted:
        """Identify, publish and record one contact; the same key and request answer the same."""
        self.check_assurance(contact, assurance)
        fingerprint = hashlib.sha256(json.dumps(request_fingerprint, sort_keys=True, default=str).encode()).hexdigest()
        async with self.pool.acquire() as connection, connection.transaction():
            if idempotency_key is not None:
                await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"{client}:{idempotency_key}")
                earlier = await connection.fetchrow(
                    "SELECT request_hash, status_code, response FROM idempotency_keys WHERE client = $1 AND key = $2",
                    client,
                    idempotency_key,
                )
                if earlier is not None:
                    if earlier["request_hash"] != fingerprint:
                        raise IdempotencyMismatch(idempotency_key)
                    return Accepted(earlier["status_code"], json.loads(earlier["response"]))
            contact, customer_events = await self._identify(connection, contact, assurance)
            envelope = EventEnvelope.wrap(contact, source=self.settings.source)
            try:
                await asyncio.wait_for(
                    publish(self.broker, envelope, self.settings.topic_namespace),
                    timeout=self.settings.intake_publish_timeout_seconds,
                )
            except Exception as exc:  # timeout or broker error: the caller gets 503, the transaction rolls back
                raise KafkaUnavailable(str(exc) or type(exc).__name__) from exc
            await outbox.append(
                connection,
                [EventEnvelope.wrap(e, source=self.settings.source, caused_by=envelope) for e in customer_events],
                self.settings.topic_namespace,
            )
            if record is not None:
                await record(connection)
            answer = respond(contact)
            if idempotency_key is not None:
                await connection.execute(
                    "INSERT INTO idempotency_keys (client, key, request_hash, status_code, response)"
                    " VALUES ($1, $2, $3, $4, $5::jsonb)",
                    client,
                    idempotency_key,
                    fingerprint,
                    answer.status_code,
                    json.dumps(answer.body, default=str),
                )
        self.on_commit()
        return answer

    async def _identify(
        self, connection: Connection, contact: ContactReceived, assurance: AssuranceLevel
    ) -> tuple[ContactReceived, list[CustomerIdentified | CustomersMerged]]:
        details = contact.customer
        if details is None:
            return contact, []
        identity = identity_of(details.email, details.phone, details.uprn, details.name, details.address)
        if identity.is_empty and details.customer_id is None:
            return contact, []
        now = datetime.now(UTC)
        if details.customer_id is not None:
            customer_id, method, new = details.customer_id, "account", False
            merged: list[UUID] = []
        else:
            customer_id, match, merged = await customers.identify(connection, identity)
            method, new = (match.method, False) if match else ("new_record", True)
        events: list[CustomerIdentified | CustomersMerged] = [
            CustomerIdentified(
                customer_id=customer_id,
                contact_id=contact.contact_id,
                identified_at=now,
                assurance=assurance,
                method=method,
                new_customer=new,
            )
        ]
        events += [
            CustomersMerged(surviving_customer_id=customer_id, merged_customer_id=m, merged_at=now) for m in merged
        ]
        identified = details.model_copy(update={"customer_id": customer_id})
        return contact.model_copy(update={"customer": identified}), events


def customer_details(**fields: Any) -> CustomerDetails | None:
    present = {k: v for k, v in fields.items() if v not in (None, "")}
    return CustomerDetails(**present) if present else None
