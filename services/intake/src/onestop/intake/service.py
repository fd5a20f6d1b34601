"""Taking in a contact: check it, identify the customer, and hand it to Kafka through group commit.

A contact is accepted only once Kafka has committed it. Customer records, the customer events (through the
outbox), an Open311 request and the idempotency record commit in the same database transaction, after
Kafka's commit, so a contact Kafka never took leaves nothing behind; a retry with the same Idempotency-Key
gets the first answer and publishes nothing new.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from onestop.contracts import EventEnvelope
from onestop.contracts.events.base import Event
from onestop.contracts.events.common import AssuranceLevel, CustomerDetails
from onestop.contracts.events.contacts import ContactReceived
from onestop.contracts.events.customers import CustomerIdentified, CustomersMerged, CustomersUnmerged
from onestop.intake.adapters.attachments import attachment_ids_in
from onestop.intake.adapters.repositories import Ahead, IntakeRepositories
from onestop.intake.domain.assurance import refusal
from onestop.intake.domain.idempotency import envelope_id_for, fingerprint, new_customer_id_for, with_stable_ids
from onestop.intake.domain.identification import Identity, identity_of
from onestop.intake.domain.receipt import receipt
from onestop.intake.domain.service_request import ServiceRequest
from onestop.intake.group_commit import GroupCommit, Prepared
from onestop.intake.settings import IntakeSettings
from onestop.servicekit.telemetry import current_traceparent
from onestop.servicekit.unit_of_work import UnitOfWork, UnitsOfWork


class ContactRefused(Exception):
    """The contact cannot be taken as it is; `reason` goes back to the caller (HTTP 422)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IdempotencyMismatch(Exception):
    """The Idempotency-Key was used before for a different request."""


@dataclass(frozen=True)
class Accepted:
    status_code: int
    body: dict[str, Any]


@dataclass(frozen=True)
class ContactSubmission:
    """A contact as a channel hands it in, with who sent it and how to recognise a retry."""

    contact: ContactReceived
    assurance: AssuranceLevel
    client: str
    source: str
    idempotency_key: str | None = None
    request_fingerprint: str = ""
    service_request: ServiceRequest | None = None  # when it came in through Open311
    traceparent: str | None = None  # the caller's request span: the contact's journey continues it


async def take_contact(submission: ContactSubmission, uow: UnitOfWork[IntakeRepositories]) -> Prepared[Accepted]:
    """The database work of taking one contact; its ContactReceived is for Kafka to take first."""
    reason = refusal(submission.contact, submission.assurance)
    if reason is not None:
        raise ContactRefused(reason)
    contact, key, client = submission.contact, submission.idempotency_key, submission.client
    event_id = None
    if key is not None:
        earlier = await uow.repos.idempotency.claim(client, key)
        if earlier is not None:
            if earlier.request_hash != submission.request_fingerprint:
                raise IdempotencyMismatch(key)
            return Prepared(Accepted(earlier.status_code, earlier.body))
        contact, event_id = with_stable_ids(contact, client, key), envelope_id_for(client, key)
    contact, customer_events = await _identify(uow.repos, contact, submission.assurance)
    envelope = EventEnvelope.wrap(
        contact, source=submission.source, traceparent=submission.traceparent, event_id=event_id
    )
    # Who the customer is travels in the contact's own Kafka transaction: on the log together, or not at all.
    identified = [EventEnvelope.wrap(e, source=submission.source, caused_by=envelope) for e in customer_events]
    if submission.service_request is not None:
        await uow.repos.open311_requests.add(submission.service_request, contact)
    urls = (attachment.url for need in contact.needs for attachment in need.attachments)
    await uow.repos.attachments.belong_to(contact.personal_subject(), attachment_ids_in(urls))
    answer = Accepted(201, receipt(contact))
    if key is not None:
        await uow.repos.idempotency.remember(client, key, submission.request_fingerprint, 201, answer.body)
    return Prepared(answer, [envelope, *identified])


def identity_to_match(contact: ContactReceived) -> Identity | None:
    """Who the contact says they are, when that is to be matched to a record (not a signed-in account)."""
    details = contact.customer
    if details is None or details.customer_id is not None:
        return None
    identity = identity_of(details.email, details.phone, details.uprn, details.name, details.address)
    return None if identity.is_empty else identity


async def _identify(
    repos: IntakeRepositories, contact: ContactReceived, assurance: AssuranceLevel
) -> tuple[ContactReceived, list[CustomerIdentified | CustomersMerged]]:
    details = contact.customer
    if details is None or (details.customer_id is None and identity_to_match(contact) is None):
        return contact, []
    now = datetime.now(UTC)
    merged: list[UUID] = []
    if details.customer_id is not None:
        customer_id, method, new = details.customer_id, "account", False
    else:
        identity = identity_of(details.email, details.phone, details.uprn, details.name, details.address)
        customer_id, match, merged = await repos.customers.identify(
            identity, new_customer_id_for(contact.contact_id), verified=assurance != AssuranceLevel.NONE
        )
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
    events += [CustomersMerged(surviving_customer_id=customer_id, merged_customer_id=m, merged_at=now) for m in merged]
    identified = details.model_copy(update={"customer_id": customer_id})
    return contact.model_copy(update={"customer": identified}), events


class IntakeService:
    """The use cases behind intake's APIs: take a contact, record a channel event, keep an attachment."""

    def __init__(
        self,
        group_commit: GroupCommit[IntakeRepositories],
        units: UnitsOfWork[IntakeRepositories],
        settings: IntakeSettings,
    ) -> None:
        self.group_commit = group_commit
        self.units = units
        self.settings = settings

    async def take(
        self,
        contact: ContactReceived,
        assurance: AssuranceLevel,
        *,
        client: str,
        idempotency_key: str | None = None,
        request_fingerprint: Any = None,
        service_request: ServiceRequest | None = None,
    ) -> Accepted:
        """Identify, publish and record one contact; the same key and request answer the same."""
        if (reason := refusal(contact, assurance)) is not None:
            raise ContactRefused(reason)  # refused before it joins a batch: the batch stays on its fast path
        submission = ContactSubmission(
            contact=contact,
            assurance=assurance,
            client=client,
            source=self.settings.source,
            idempotency_key=idempotency_key,
            request_fingerprint=fingerprint(request_fingerprint),
            service_request=service_request,
            traceparent=current_traceparent(),  # captured here: the batch runs in another task
        )

        async def work(uow: UnitOfWork[IntakeRepositories]) -> Prepared[Accepted]:
            return await take_contact(submission, uow)

        exclusive = f"{client}\x00{idempotency_key}" if idempotency_key is not None else None
        ahead = Ahead((client, idempotency_key) if idempotency_key is not None else None, identity_to_match(contact))
        return await self.group_commit.submit(work, exclusive_key=exclusive, ahead=ahead)

    async def record_channel_event(self, event: Event) -> EventEnvelope:
        """A call distributor's or reception queue's event, published once Kafka has committed it."""
        envelope = EventEnvelope.wrap(event, source=f"{self.settings.source}/feeds", traceparent=current_traceparent())

        async def work(uow: UnitOfWork[IntakeRepositories]) -> Prepared[EventEnvelope]:
            return Prepared(envelope, [envelope])

        return await self.group_commit.submit(work)

    async def unmerge(self, merged_customer_id: UUID, *, by: str) -> CustomersUnmerged | None:
        """Undo a wrong merge, recorded as an event; None when the record is not merged into another."""

        async def work(uow: UnitOfWork[IntakeRepositories]) -> Prepared[CustomersUnmerged | None]:
            surviving = await uow.repos.customers.unmerge(merged_customer_id)
            if surviving is None:
                return Prepared(None)
            event = CustomersUnmerged(
                surviving_customer_id=surviving,
                merged_customer_id=merged_customer_id,
                unmerged_at=datetime.now(UTC),
                unmerged_by=by,
            )
            envelope = EventEnvelope.wrap(event, source=self.settings.source, traceparent=current_traceparent())
            return Prepared(event, [envelope])

        return await self.group_commit.submit(work)

    async def keep_attachment(self, media_type: str, filename: str | None, content: bytes) -> UUID:
        async with self.units.begin() as uow:
            return await uow.repos.attachments.add(media_type, filename, content)


def customer_details(**fields: Any) -> CustomerDetails | None:
    present = {k: v for k, v in fields.items() if v not in (None, "")}
    return CustomerDetails(**present) if present else None
