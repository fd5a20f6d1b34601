"""Who may do what on Kafka: each service's topics to write and to read, its consumer groups and its
transactional ids. The one source of the brokers' ACLs, locally (`onestop.localinfra.kafka_acls`) and in
a cluster (Strimzi KafkaUser resources take the same rules: a resource type, name and pattern, and
operations).

A service writes only the topics it owns (and its dead letters) and reads only what it consumes. Two
topics have more than one writer: the customer-key topic, where every service that seals personal data
may have to make a customer's key, and customers, where intake records identities and the operations
command (an administrator) publishes erasures.

Names carry the installation's namespace, like the topics themselves. Every right is on an exact name,
except transactional ids, which each intake process makes unique under its prefix.
"""

from dataclasses import dataclass
from enum import StrEnum

from onestop.contracts import topics
from onestop.contracts.topics import Topic, dead_letter_topic


class ResourceType(StrEnum):
    TOPIC = "topic"
    GROUP = "group"
    TRANSACTIONAL_ID = "transactionalId"


class PatternType(StrEnum):
    LITERAL = "literal"
    PREFIX = "prefix"


class Operation(StrEnum):
    # Each implies Describe on the same resource, so a reader or writer can also see what it uses.
    READ = "Read"
    WRITE = "Write"


@dataclass(frozen=True)
class AclRule:
    """Allow `operations` on one resource (or every resource whose name starts with `name`)."""

    resource_type: ResourceType
    name: str
    pattern: PatternType
    operations: tuple[Operation, ...]


def consumer_group(consumer: str, namespace: str = "") -> str:
    """A consumer's group id on the broker (the dead-letter topic is named after the same consumer)."""
    return f"{namespace}onestop.{consumer}"


@dataclass(frozen=True)
class ServiceAccess:
    service: str
    writes: tuple[Topic, ...]
    reads: tuple[Topic, ...]
    # Consumer names: each has the group `<namespace>onestop.<name>` and the dead-letter topic `onestop.<name>.dlq`.
    consumers: tuple[str, ...]
    transactional_id_prefix: str = ""

    @property
    def username(self) -> str:
        return f"onestop-{self.service}"

    @property
    def dead_letter_topics(self) -> tuple[Topic, ...]:
        return tuple(dead_letter_topic(consumer) for consumer in self.consumers)

    def rules(self, namespace: str = "") -> list[AclRule]:
        writes = {topic.name for topic in (*self.writes, *self.dead_letter_topics)}
        reads = {topic.name for topic in self.reads}
        rules = [
            AclRule(
                ResourceType.TOPIC,
                f"{namespace}{name}",
                PatternType.LITERAL,
                tuple(
                    op
                    for op, granted in ((Operation.READ, name in reads), (Operation.WRITE, name in writes))
                    if granted
                ),
            )
            for name in sorted(writes | reads)
        ]
        rules += [
            AclRule(ResourceType.GROUP, consumer_group(consumer, namespace), PatternType.LITERAL, (Operation.READ,))
            for consumer in self.consumers
        ]
        if self.transactional_id_prefix:
            rules.append(
                AclRule(
                    ResourceType.TRANSACTIONAL_ID, self.transactional_id_prefix, PatternType.PREFIX, (Operation.WRITE,)
                )
            )
        return rules


SERVICES: tuple[ServiceAccess, ...] = (
    ServiceAccess(
        "intake",
        writes=(topics.CONTACTS, topics.CUSTOMERS, topics.TELEPHONY, topics.RECEPTION, topics.CUSTOMER_KEYS),
        reads=(topics.CASES, topics.CUSTOMERS, topics.CUSTOMER_KEYS),
        consumers=("intake",),
        # Contacts go out in Kafka transactions, one id per process: `onestop-intake-<uuid>-a|b`.
        transactional_id_prefix="onestop-intake-",
    ),
    ServiceAccess(
        "routing",
        writes=(topics.ROUTING, topics.ROUTING_RULES, topics.CUSTOMER_KEYS),
        reads=(topics.CONTACTS, topics.CASES, topics.CUSTOMERS, topics.CUSTOMER_KEYS),
        consumers=("routing",),
    ),
    ServiceAccess(
        "cases",
        writes=(topics.CASES, topics.CUSTOMER_KEYS),
        reads=(topics.ROUTING, topics.BACK_OFFICE, topics.CONTACTS, topics.CUSTOMERS, topics.CUSTOMER_KEYS),
        consumers=("cases",),
    ),
    ServiceAccess(
        "notify",
        writes=(topics.NOTIFICATIONS, topics.FEEDBACK, topics.CUSTOMER_KEYS),
        reads=(topics.CASES, topics.CONTACTS, topics.CUSTOMERS, topics.CUSTOMER_KEYS),
        consumers=("notify",),
    ),
    ServiceAccess(
        "analytics",
        writes=(),
        reads=(
            topics.CASES,
            topics.CONTACTS,
            topics.FEEDBACK,
            topics.NOTIFICATIONS,
            topics.RECEPTION,
            topics.ROUTING,
            topics.TELEPHONY,
        ),  # not the key topic: analytics opens no personal data and runs no keyring
        consumers=("analytics",),
    ),
)


def access_of(service: str) -> ServiceAccess:
    for access in SERVICES:
        if access.service == service:
            return access
    raise KeyError(f"no Kafka access is declared for {service!r}")


def provisioned_topics() -> tuple[Topic, ...]:
    """Every topic an installation needs before its services start: the contracts' and each consumer's dead letters."""
    return (*topics.ALL_TOPICS, *(topic for access in SERVICES for topic in access.dead_letter_topics))
