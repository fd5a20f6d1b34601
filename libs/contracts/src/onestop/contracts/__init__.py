"""onestop's published language: the events services exchange and how they travel on Kafka.

Services and outside systems (line-of-business adapters, channel front-ends) depend on this package
and nothing else of onestop's.
"""

from onestop.contracts.catalogue import CATALOGUE, EventRegistry
from onestop.contracts.envelope import EventEnvelope
from onestop.contracts.events.base import Event
from onestop.contracts.kafka_binding import (
    InvalidEnvelope,
    InvalidEventData,
    KafkaRecord,
    UndecodableMessage,
    UnknownEventType,
    decode_record,
    encode_envelope,
)

__all__ = [
    "CATALOGUE",
    "Event",
    "EventEnvelope",
    "EventRegistry",
    "InvalidEnvelope",
    "InvalidEventData",
    "KafkaRecord",
    "UndecodableMessage",
    "UnknownEventType",
    "decode_record",
    "encode_envelope",
]
