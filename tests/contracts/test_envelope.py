"""The CloudEvents envelope and its Kafka binary-mode binding."""

import json
from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import pytest

from onestop.contracts import (
    EventEnvelope,
    InvalidEnvelope,
    InvalidEventData,
    UnknownEventType,
    decode_record,
    encode_envelope,
)
from onestop.contracts.events.common import Channel, NeedKind
from onestop.contracts.events.contacts import ContactReceived, Need

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def a_contact() -> ContactReceived:
    return ContactReceived(
        contact_id=uuid4(),
        channel=Channel.TELEPHONE,
        received_at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        needs=(Need(need_id=uuid4(), kind=NeedKind.SERVICE_REQUEST, service_code="524", description="Missed bin"),),
    )


def test_envelope_takes_subject_type_and_schema_from_the_event() -> None:
    event = a_contact()
    envelope = EventEnvelope.wrap(event, source="/onestop/intake")
    assert envelope.subject == str(event.contact_id) == envelope.key
    assert envelope.type == "onestop.contact.received"
    assert envelope.dataschema == "urn:onestop:schema:onestop.contact.received:1"
    assert envelope.specversion == "1.0"
    assert envelope.causationid is None


def test_caused_event_inherits_correlation_and_trace() -> None:
    first = EventEnvelope.wrap(a_contact(), source="/onestop/intake", traceparent=TRACEPARENT)
    second = EventEnvelope.wrap(a_contact(), source="/onestop/routing", caused_by=first)
    assert second.correlationid == first.correlationid
    assert second.causationid == first.id
    assert second.traceparent == TRACEPARENT


def test_times_are_normalised_to_utc() -> None:
    bst = timezone(timedelta(hours=1))
    event = a_contact().model_copy(update={})
    event = ContactReceived.model_validate({**event.model_dump(), "received_at": datetime(2026, 6, 1, 10, tzinfo=bst)})
    assert event.received_at == datetime(2026, 6, 1, 9, tzinfo=UTC)
    assert event.received_at.tzinfo == UTC


def test_naive_times_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone"):
        ContactReceived.model_validate({**a_contact().model_dump(), "received_at": datetime(2026, 6, 1, 10)})


def test_binary_mode_puts_attributes_in_ce_headers_and_data_in_the_value() -> None:
    envelope = EventEnvelope.wrap(a_contact(), source="/onestop/intake", traceparent=TRACEPARENT)
    record = encode_envelope(envelope)
    headers = record.headers_dict()
    assert record.key == envelope.subject.encode()
    assert headers["content-type"] == "application/json"
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_id"] == str(envelope.id)
    assert headers["ce_type"] == envelope.type
    assert headers["ce_source"] == "/onestop/intake"
    assert headers["ce_subject"] == envelope.subject
    assert headers["ce_dataschema"] == envelope.dataschema
    assert headers["ce_correlationid"] == str(envelope.correlationid)
    assert headers["ce_traceparent"] == headers["traceparent"] == TRACEPARENT
    assert "ce_causationid" not in headers
    assert json.loads(record.value)["contact_id"] == envelope.subject


def test_decoding_gives_back_the_same_envelope() -> None:
    envelope = EventEnvelope.wrap(a_contact(), source="/onestop/intake", traceparent=TRACEPARENT)
    record = encode_envelope(envelope)
    decoded = decode_record(record.value, record.headers)
    assert decoded == envelope
    assert isinstance(decoded.data, ContactReceived)


def headers_of(envelope: EventEnvelope, **changes: str | None) -> dict[str, str]:
    headers = encode_envelope(envelope).headers_dict()
    for name, value in changes.items():
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    return headers


def test_missing_ce_headers_are_named() -> None:
    envelope = EventEnvelope.wrap(a_contact(), source="/onestop/intake")
    with pytest.raises(InvalidEnvelope, match="ce_type"):
        decode_record(encode_envelope(envelope).value, headers_of(envelope, ce_type=None))


def test_unknown_event_type_is_reported() -> None:
    envelope = EventEnvelope.wrap(a_contact(), source="/onestop/intake")
    with pytest.raises(UnknownEventType, match="onestop.nothing.happened"):
        decode_record(encode_envelope(envelope).value, headers_of(envelope, ce_type="onestop.nothing.happened"))


def test_malformed_json_is_reported() -> None:
    envelope = EventEnvelope.wrap(a_contact(), source="/onestop/intake")
    with pytest.raises(InvalidEnvelope, match="not JSON"):
        decode_record(b"{not json", headers_of(envelope))


def test_schema_invalid_data_is_reported_with_the_field() -> None:
    envelope = EventEnvelope.wrap(a_contact(), source="/onestop/intake")
    data = json.loads(encode_envelope(envelope).value)
    data["needs"] = []
    with pytest.raises(InvalidEventData, match="needs"):
        decode_record(json.dumps(data).encode(), headers_of(envelope))


def test_schema_of_another_type_is_rejected() -> None:
    envelope = EventEnvelope.wrap(a_contact(), source="/onestop/intake")
    with pytest.raises(InvalidEnvelope, match="dataschema"):
        decode_record(
            encode_envelope(envelope).value,
            headers_of(envelope, ce_dataschema="urn:onestop:schema:onestop.case.raised:1"),
        )


def test_a_newer_version_than_the_reader_knows_is_rejected() -> None:
    envelope = EventEnvelope.wrap(a_contact(), source="/onestop/intake")
    with pytest.raises(InvalidEventData, match="newer"):
        decode_record(
            encode_envelope(envelope).value,
            headers_of(envelope, ce_dataschema="urn:onestop:schema:onestop.contact.received:9"),
        )


def test_unknown_fields_are_ignored_so_adding_fields_is_compatible() -> None:
    envelope = EventEnvelope.wrap(a_contact(), source="/onestop/intake")
    data = json.loads(encode_envelope(envelope).value)
    data["added_in_a_later_release"] = "whatever"
    assert decode_record(json.dumps(data).encode(), headers_of(envelope)).data == envelope.data
