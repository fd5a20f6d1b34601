"""Kafka topics: names, what keys them, and how long they keep what they hold.

The contact and case topics are the log of record, so they keep everything for ever and are never
compacted (compaction would drop all but the latest event of a case). Every message is keyed by the
id of the aggregate it belongs to, so all events of one contact or one case land on one partition and
are read in order.
"""

from dataclasses import dataclass
from enum import StrEnum

KEEP_FOREVER = -1
NINETY_DAYS_MS = 90 * 24 * 60 * 60 * 1000


class CleanupPolicy(StrEnum):
    DELETE = "delete"
    COMPACT = "compact"


@dataclass(frozen=True)
class Topic:
    """A topic as the platform defines it; `name` is the base name before any namespace."""

    name: str
    keyed_by: str
    description: str
    partitions: int = 6
    retention_ms: int = KEEP_FOREVER
    cleanup_policy: CleanupPolicy = CleanupPolicy.DELETE

    def qualified(self, namespace: str = "") -> str:
        """The name on the broker. A namespace isolates one installation (or one test) from another."""
        return f"{namespace}{self.name}"

    def config(self) -> dict[str, str]:
        config = {"retention.ms": str(self.retention_ms), "cleanup.policy": self.cleanup_policy.value}
        if self.cleanup_policy is CleanupPolicy.COMPACT:
            # Erasure must not wait for a week-old segment: roll and clean promptly, drop tombstones soon.
            config |= {
                "segment.ms": "60000",
                "min.cleanable.dirty.ratio": "0.01",
                "delete.retention.ms": "60000",
                "min.compaction.lag.ms": "0",
            }
        return config


CONTACTS = Topic(
    "onestop.contacts.v1",
    keyed_by="contact_id",
    description="Every contact on every channel with its needs, as received. Log of record.",
)
CUSTOMERS = Topic(
    "onestop.customers.v1",
    keyed_by="customer_id",
    description="Customer identification, merges and erasure.",
)
ROUTING = Topic(
    "onestop.routing.v1",
    keyed_by="contact_id",
    description="Routing decisions, avoidable-contact classification and duplicate links, per contact.",
)
ROUTING_RULES = Topic(
    "onestop.routing-rules.v1",
    keyed_by="ruleset",
    description="Each published version of the routing rules, so every decision can be explained.",
    partitions=1,
)
CASES = Topic(
    "onestop.cases.v1",
    keyed_by="case_id",
    description="The whole life of every case, in order per case. Log of record.",
)
BACK_OFFICE = Topic(
    "onestop.back-office.v1",
    keyed_by="case_id",
    description="What line-of-business systems report about handed-off work: accepted, progress, completed.",
)
NOTIFICATIONS = Topic(
    "onestop.notifications.v1",
    keyed_by="notification_id",
    description="Notifications requested, sent and failed.",
)
FEEDBACK = Topic(
    "onestop.feedback.v1",
    keyed_by="case_id",
    description="Feedback surveys requested and answered.",
)
TELEPHONY = Topic(
    "onestop.telephony.v1",
    keyed_by="call_id",
    description="Calls offered, answered and abandoned, from the call distributor.",
)
RECEPTION = Topic(
    "onestop.reception.v1",
    keyed_by="ticket_id",
    description="Face-to-face queue tickets issued and served, from the one-stop shop.",
)

CUSTOMER_KEYS = Topic(
    "onestop.customer-keys.v1",
    keyed_by="customer_id",
    description=(
        "Each customer's data key, wrapped with the platform's key-encryption key. Compacted: erasing a "
        "customer writes a tombstone, and compaction then removes every copy of their key."
    ),
    partitions=3,
    cleanup_policy=CleanupPolicy.COMPACT,
)

ALL_TOPICS: tuple[Topic, ...] = (
    CONTACTS,
    CUSTOMERS,
    ROUTING,
    ROUTING_RULES,
    CASES,
    BACK_OFFICE,
    NOTIFICATIONS,
    FEEDBACK,
    TELEPHONY,
    RECEPTION,
    CUSTOMER_KEYS,
)

# Dead letters keep the original key, value and headers, plus `dlq_*` headers saying why the
# message could not be processed and where it came from, so it can be inspected and re-driven.
DLQ_SUFFIX = ".dlq"
DLQ_REASON = "dlq_reason"
DLQ_ORIGINAL_TOPIC = "dlq_original_topic"
DLQ_ORIGINAL_PARTITION = "dlq_original_partition"
DLQ_ORIGINAL_OFFSET = "dlq_original_offset"
DLQ_CONSUMER_GROUP = "dlq_consumer_group"
DLQ_FAILED_AT = "dlq_failed_at"


def dead_letter_topic(consumer: str) -> Topic:
    """One dead-letter topic per consumer group, named after it: `onestop.<consumer>.dlq`."""
    return Topic(
        f"onestop.{consumer}{DLQ_SUFFIX}",
        keyed_by="the original message's key",
        description=f"Messages the {consumer} consumer could not process, with the reason.",
        partitions=1,
        retention_ms=NINETY_DAYS_MS,
    )
