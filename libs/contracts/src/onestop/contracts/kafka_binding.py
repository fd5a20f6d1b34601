"""The CloudEvents Kafka protocol binding, binary content mode.

Context attributes travel as `ce_*` headers, the event data is the message value (JSON), the content
type is the `content-type` header and the message key is the aggregate id. `traceparent` is also
written as a plain header, the name W3C trace-context propagators look for.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from onestop.contracts.catalogue import CATALOGUE, EventRegistry
from onestop.contracts.envelope import EventEnvelope
from onestop.contracts.events.base import Event, parse_schema_uri

CONTENT_TYPE = "content-type"
_CE_ATTRIBUTES = (
    "id",
    "source",
    "type",
    "specversion",
    "time",
    "subject",
    "dataschema",
    "correlationid",
    "causationid",
    "traceparent",
)
_REQUIRED = ("id", "source", "type", "specversion", "dataschema")


class UndecodableMessage(ValueError):
    """A message that cannot become an event; `reason` says why, for the dead-letter topic."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidEnvelope(UndecodableMessage):
    """Headers missing or malformed, or the value is not JSON."""


class UnknownEventType(UndecodableMessage):
    """A well-formed envelope of a type this reader does not know."""


class InvalidEventData(UndecodableMessage):
    """The data does not match the schema of its event type."""


@dataclass(frozen=True)
class KafkaRecord:
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]

    def headers_dict(self) -> dict[str, str]:
        return {name: value.decode() for name, value in self.headers}


def encode_envelope(envelope: EventEnvelope) -> KafkaRecord:
    headers: list[tuple[str, bytes]] = [(CONTENT_TYPE, envelope.datacontenttype.encode())]
    attributes = envelope.model_dump(mode="json", exclude={"data", "datacontenttype"})
    for name in _CE_ATTRIBUTES:
        value = attributes.get(name)
        if value is not None:
            headers.append((f"ce_{name}", str(value).encode()))
    if envelope.traceparent:
        headers.append(("traceparent", envelope.traceparent.encode()))
    return KafkaRecord(
        key=envelope.key.encode(),
        value=envelope.data.model_dump_json().encode(),
        headers=tuple(headers),
    )


def _header_text(headers: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> dict[str, str]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    text: dict[str, str] = {}
    for name, value in items:
        if isinstance(value, bytes):
            try:
                value = value.decode()
            except UnicodeDecodeError as exc:
                raise InvalidEnvelope(f"header {name!r} is not UTF-8") from exc
        text[name] = str(value)
    return text


def decode_record(
    value: bytes | None,
    headers: Mapping[str, Any] | Iterable[tuple[str, Any]],
    registry: EventRegistry = CATALOGUE,
) -> EventEnvelope:
    """Rebuild the envelope from a Kafka message, upcasting old versions; UndecodableMessage if not."""
    text = _header_text(headers)
    missing = [name for name in _REQUIRED if f"ce_{name}" not in text]
    if missing:
        raise InvalidEnvelope(f"missing CloudEvents headers: {', '.join('ce_' + m for m in missing)}")
    if text.get(CONTENT_TYPE, "application/json").split(";")[0].strip() != "application/json":
        raise InvalidEnvelope(f"content-type {text[CONTENT_TYPE]!r} is not application/json")

    event_type = text["ce_type"]
    model = registry.model(event_type)
    if model is None:
        raise UnknownEventType(f"unknown event type {event_type!r}")
    try:
        schema_type, version = parse_schema_uri(text["ce_dataschema"])
    except ValueError as exc:
        raise InvalidEnvelope(str(exc)) from exc
    if schema_type != event_type:
        raise InvalidEnvelope(f"dataschema is for {schema_type!r} but ce_type is {event_type!r}")

    if version == model.version:
        # The usual case: pydantic parses and validates the JSON in one pass, with no upcasting to do.
        try:
            data = model.model_validate_json(value or b"")
        except ValidationError as exc:
            first = exc.errors()[0]
            if first["type"] == "json_invalid":
                raise InvalidEnvelope(f"value is not JSON: {first['msg']}") from exc
            if first["type"] == "model_type" and not first["loc"]:
                raise InvalidEventData(f"{event_type} data must be a JSON object") from exc
            raise InvalidEventData(f"{event_type} v{version} data is invalid: {_brief(exc)}") from exc
    else:
        data = _upcast_and_validate(registry, model, event_type, version, value)

    attributes = {name: text[f"ce_{name}"] for name in _CE_ATTRIBUTES if f"ce_{name}" in text}
    attributes["dataschema"] = data.dataschema()
    try:
        return EventEnvelope.model_validate({**attributes, "data": data})
    except ValidationError as exc:
        raise InvalidEnvelope(f"CloudEvents attributes are invalid: {_brief(exc)}") from exc


def _brief(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in error['loc']) or '(root)'}: {error['msg']}" for error in exc.errors()[:5]
    )


def _upcast_and_validate(
    registry: EventRegistry, model: type[Event], event_type: str, version: int, value: bytes | None
) -> Event:
    try:
        payload = json.loads(value or b"")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidEnvelope(f"value is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise InvalidEventData(f"{event_type} data must be a JSON object")
    try:
        return model.model_validate(registry.upcast(event_type, version, payload))
    except ValidationError as exc:
        raise InvalidEventData(f"{event_type} v{version} data is invalid: {_brief(exc)}") from exc
    except ValueError as exc:
        raise InvalidEventData(str(exc)) from exc
