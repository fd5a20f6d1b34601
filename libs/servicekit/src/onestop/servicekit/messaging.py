"""What consumers and handlers share about failure: which errors are outages (retried without limit), which
mean "try again" (a lost optimistic-concurrency race), and how a handler says an event can never be processed
(dead-lettered with its reason; see `event_consumer`)."""

import asyncio

import asyncpg
from aiokafka.errors import KafkaError  # type: ignore[import-untyped]

from onestop.contracts import topics as contract_topics
from onestop.contracts.topics import Topic
from onestop.servicekit.settings import ServiceSettings


class RetryableConflict(Exception):
    """Another writer got there first (optimistic concurrency): try the same work again; never dead-letter."""


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    RetryableConflict,
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    KafkaError,
)


class UnprocessableEvent(Exception):
    """Raised by a handler for an event it can never process; the event is dead-lettered with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def dead_letter_topic_of(settings: ServiceSettings, group: str | None = None) -> Topic:
    """The dead-letter topic of one of this service's consumer groups (create it with the others)."""
    return contract_topics.dead_letter_topic(group or settings.service_name)
