"""What notify knows: the cases it follows, how people asked to hear from us, and the messages it queued.

Plain records read from and written to storage by the adapters; no I/O here.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from onestop.contracts.events.common import ContactMethod
from onestop.contracts.events.notifications import RecipientRole
from onestop.notify.domain.policy import Reachability


@dataclass(frozen=True)
class FollowedCase:
    """A case as notify needs it: who raised it, where, and how it ended."""

    case_id: UUID
    contact_id: UUID
    reference: str
    service_code: str
    service_area: str
    customer_id: UUID | None = None
    customer: dict[str, Any] | None = None  # contact details the customer gave; None once erased
    ward: str | None = None
    data_subject: UUID | None = None  # whose personal data the case holds: its customer, or its contact's
    sla_due_at: datetime | None = None
    outcome: str | None = None
    declined: bool = False
    closed_at: datetime | None = None


@dataclass(frozen=True)
class Reporter:
    """Someone else who reported the same problem and follows the case."""

    case_id: UUID
    contact_id: UUID
    customer_id: UUID | None
    customer: dict[str, Any] | None


@dataclass(frozen=True)
class Preferences:
    """How a customer asked to hear from us, and what they consented to."""

    preferred_method: ContactMethod
    consents: frozenset[ContactMethod]
    progress_updates: bool = True
    email: str | None = None
    phone: str | None = None
    postal_address: str | None = None
    webhook_url: str | None = None


@dataclass(frozen=True)
class WardSubscriber:
    subscriber_id: str
    method: ContactMethod
    address: str


@dataclass(frozen=True)
class QueuedNotification:
    """One message to one person, as queued; `claim_id` is set while a sender holds it."""

    notification_id: UUID
    notification_key: str
    trigger_event_id: UUID
    case_id: UUID | None
    contact_id: UUID | None
    recipient_role: RecipientRole
    recipient_id: str
    method: ContactMethod
    address: str | None
    template: str
    language: str
    context: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    claim_id: UUID | None = None
    data_subject: UUID | None = None  # whose key seals what the notification holds: the recipient's or the case's


def reachability(customer: dict[str, Any] | None, preferences: Preferences | None) -> Reachability | None:
    """How to reach a customer: their stored preferences if any, else what they told us on contact."""
    if preferences is not None:
        addresses = {
            ContactMethod.EMAIL: preferences.email,
            ContactMethod.SMS: preferences.phone,
            ContactMethod.LETTER: preferences.postal_address,
            ContactMethod.APP: preferences.webhook_url,
        }
        return Reachability(
            preferences.preferred_method, preferences.consents, {k: v for k, v in addresses.items() if v}
        )
    if not customer:
        return None
    given = {
        ContactMethod.EMAIL: customer.get("email"),
        ContactMethod.SMS: customer.get("phone"),
        ContactMethod.LETTER: customer.get("address"),
    }
    present = {k: v for k, v in given.items() if v}
    # Giving us an address on contact is consent to hear back about that contact by that means.
    return Reachability(ContactMethod(customer.get("preferred_contact_method") or "email"), frozenset(present), present)
