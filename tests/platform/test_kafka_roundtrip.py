"""An event through the real broker: published with the CloudEvents binding and read back intact.
(Poison messages: tests/platform/test_event_consumer.py.)"""

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from onestop.contracts import EventEnvelope, decode_record
from onestop.contracts import topics as contract_topics
from onestop.contracts.events.common import Channel, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need
from onestop.servicekit.topics_admin import ensure_topics
from tests.support import publish_events, read_records

pytestmark = pytest.mark.integration

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def a_contact(description: str = "Missed bin") -> ContactReceived:
    return ContactReceived(
        contact_id=uuid4(),
        channel=Channel.WEB,
        received_at=datetime.now(UTC),
        needs=(Need(need_id=uuid4(), kind=NeedKind.REPORT_PROBLEM, service_code="524", description=description),),
    )


async def test_event_round_trips_through_the_real_broker(kafka_bootstrap: str, namespace: str) -> None:
    await ensure_topics(kafka_bootstrap, namespace, [contract_topics.CONTACTS])
    envelope = EventEnvelope.wrap(a_contact(), source="/onestop/intake", traceparent=TRACEPARENT)

    await publish_events(kafka_bootstrap, namespace, envelope)

    [record] = await read_records(kafka_bootstrap, contract_topics.CONTACTS.qualified(namespace), 1)
    headers = {name: value.decode() for name, value in record.headers}
    assert record.key == envelope.subject.encode()
    assert headers["ce_id"] == str(envelope.id)
    assert headers["ce_type"] == "onestop.contact.received"
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_source"] == "/onestop/intake"
    assert headers["ce_dataschema"] == "urn:onestop:schema:onestop.contact.received:1"
    assert headers["content-type"] == "application/json"
    # The W3C header carries the same trace context for tools that know only W3C.
    assert headers["ce_traceparent"] == headers["traceparent"] == TRACEPARENT
    decoded = decode_record(record.value, record.headers)
    assert decoded == envelope
