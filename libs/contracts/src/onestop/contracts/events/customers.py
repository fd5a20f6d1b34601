"""Customers: who contacted us, merged records, and erasure."""

from typing import ClassVar
from uuid import UUID

from pydantic import Field

from onestop.contracts import topics
from onestop.contracts.events.base import Event
from onestop.contracts.events.common import AssuranceLevel, UtcDatetime


class CustomerIdentified(Event):
    """A contact's customer was matched to (or created as) a customer record at an assurance level."""

    type: ClassVar[str] = "onestop.customer.identified"
    topic: ClassVar[topics.Topic] = topics.CUSTOMERS
    aggregate_field: ClassVar[str] = "customer_id"

    customer_id: UUID
    contact_id: UUID
    identified_at: UtcDatetime
    assurance: AssuranceLevel
    method: str = Field(max_length=64, description="e.g. email_match, account_login, uprn_and_name")
    new_customer: bool = False


class CustomersMerged(Event):
    """Two records turned out to be one person; the merged record now points at the surviving one."""

    type: ClassVar[str] = "onestop.customer.merged"
    topic: ClassVar[topics.Topic] = topics.CUSTOMERS
    aggregate_field: ClassVar[str] = "surviving_customer_id"

    surviving_customer_id: UUID
    merged_customer_id: UUID
    merged_at: UtcDatetime


class CustomersUnmerged(Event):
    """A merge was wrong: the merged record is a person of its own again, no longer pointing at the other."""

    type: ClassVar[str] = "onestop.customer.unmerged"
    topic: ClassVar[topics.Topic] = topics.CUSTOMERS
    aggregate_field: ClassVar[str] = "surviving_customer_id"

    surviving_customer_id: UUID = Field(description="The record it had been merged into")
    merged_customer_id: UUID
    unmerged_at: UtcDatetime
    unmerged_by: str = Field(max_length=120, description="Who undid the merge")


class CustomerErased(Event):
    """A customer's right to erasure was exercised: read models drop their personal data."""

    type: ClassVar[str] = "onestop.customer.erased"
    topic: ClassVar[topics.Topic] = topics.CUSTOMERS
    aggregate_field: ClassVar[str] = "customer_id"

    # One per key erased: the customer's own, a record merged into it, or a contact's own subject
    # (`unidentified_subject_for`): every table keeping personal data is cleared of that subject's.
    customer_id: UUID
    erased_at: UtcDatetime
    legal_basis: str = Field(max_length=200)
