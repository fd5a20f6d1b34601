"""Checked-in JSON Schemas: drift, backward compatibility and upcasting of old versions."""

import json
import shutil
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

import pytest
from pydantic import Field

from onestop.contracts import CATALOGUE, EventRegistry, decode_record, encode_envelope
from onestop.contracts.envelope import EventEnvelope
from onestop.contracts.events.base import Event
from onestop.contracts.schemas import SCHEMA_DIR, breaking_changes, check, export, schema_file, schema_of
from onestop.contracts.topics import CASES, Topic


def test_checked_in_schemas_match_the_code() -> None:
    assert check() == []


def test_every_event_is_documented_and_keyed() -> None:
    for model in CATALOGUE.models():
        assert model.__doc__ and model.__doc__.strip(), f"{model.type} needs a one-line description"
        assert model.aggregate_field in model.model_fields, f"{model.type} has no {model.aggregate_field}"
        assert isinstance(model.topic, Topic)


class CaseFlagged(Event):
    """A test event, version 1."""

    type: ClassVar[str] = "onestop.test.case-flagged"
    topic: ClassVar[Topic] = CASES
    aggregate_field: ClassVar[str] = "case_id"

    case_id: UUID
    colour: str
    severity: int = 1


def registry_with(model: type[Event]) -> EventRegistry:
    return EventRegistry([model])


def published(tmp_path: Path, model: type[Event]) -> Path:
    assert export(tmp_path, registry_with(model)) == []
    return tmp_path


def test_adding_an_optional_field_is_compatible(tmp_path: Path) -> None:
    schema_dir = published(tmp_path, CaseFlagged)

    class CaseFlaggedWithNote(CaseFlagged):
        """A test event, version 1, with an optional note."""

        note: str | None = None

    assert breaking_changes(schema_of(CaseFlagged), schema_of(CaseFlaggedWithNote)) == []
    assert export(schema_dir, registry_with(CaseFlaggedWithNote)) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"colour": (int, ...)}, "colour: type changed"),
        ({"severity": (int, ...)}, "severity: now required"),
        ({"extra_required": (str, ...)}, "extra_required: now required"),
    ],
)
def test_breaking_changes_are_named(change: dict[str, Any], expected: str) -> None:
    from pydantic import create_model

    changed = create_model("CaseFlaggedChanged", __base__=CaseFlagged, **change)  # type: ignore[call-overload]
    problems = breaking_changes(schema_of(CaseFlagged), schema_of(changed))
    assert any(expected in problem for problem in problems), problems


def test_removing_a_field_breaks_the_published_schema_and_check_fails(tmp_path: Path) -> None:
    schema_dir = published(tmp_path, CaseFlagged)

    class CaseFlaggedWithoutColour(Event):
        """A test event, version 1, that lost a field."""

        type: ClassVar[str] = "onestop.test.case-flagged"
        topic: ClassVar[Topic] = CASES
        aggregate_field: ClassVar[str] = "case_id"
        case_id: UUID
        severity: int = 1

    registry = registry_with(CaseFlaggedWithoutColour)
    problems = check(schema_dir, registry)
    assert any("breaks its published schema: colour: removed" in p for p in problems), problems
    refused = export(schema_dir, registry)
    assert refused == ["onestop.test.case-flagged v1: colour: removed"]
    assert "colour" in json.loads(schema_file(schema_dir, CaseFlagged.type, 1).read_text())["properties"]


def test_a_dropped_enum_value_is_breaking() -> None:
    schema_dir_schema = schema_of(CATALOGUE.model("onestop.contact.received"))  # type: ignore[arg-type]
    narrowed = json.loads(json.dumps(schema_dir_schema))
    narrowed["$defs"]["Channel"]["enum"].remove("post")
    assert breaking_changes(schema_dir_schema, narrowed) == ["channel: value 'post' is no longer allowed"]


def test_drift_between_code_and_files_is_reported(tmp_path: Path) -> None:
    shutil.copytree(SCHEMA_DIR, tmp_path, dirs_exist_ok=True)
    path = schema_file(tmp_path, "onestop.case.raised", 1)
    schema = json.loads(path.read_text())
    schema["properties"]["reference"]["maxLength"] = 99
    path.write_text(json.dumps(schema))
    assert check(tmp_path) == ["onestop.case.raised.v1.json: differs from the code (run `make schemas`)"]


def test_unexported_event_is_reported(tmp_path: Path) -> None:
    assert check(tmp_path, registry_with(CaseFlagged)) == [
        "onestop.test.case-flagged.v1.json: not exported (run `make schemas`)"
    ]


class CaseFlaggedV2(Event):
    """A test event, version 2: `colour` became a list of `labels`."""

    type: ClassVar[str] = "onestop.test.case-flagged"
    version: ClassVar[int] = 2
    topic: ClassVar[Topic] = CASES
    aggregate_field: ClassVar[str] = "case_id"

    case_id: UUID
    labels: tuple[str, ...] = Field(min_length=1)
    severity: int = 1


def test_old_versions_are_upcast_on_read(tmp_path: Path) -> None:
    registry = registry_with(CaseFlaggedV2)
    registry.register_upcaster(
        CaseFlaggedV2.type,
        1,
        lambda data: {**{k: v for k, v in data.items() if k != "colour"}, "labels": [data["colour"]]},
    )
    old = CaseFlagged(case_id=UUID(int=7), colour="red", severity=2)
    record = encode_envelope(EventEnvelope.wrap(old, source="/test"))

    decoded = decode_record(record.value, record.headers, registry)

    assert decoded.data == CaseFlaggedV2(case_id=UUID(int=7), labels=("red",), severity=2)
    assert decoded.dataschema == "urn:onestop:schema:onestop.test.case-flagged:2"


def test_a_published_version_without_an_upcaster_is_reported(tmp_path: Path) -> None:
    schema_dir = published(tmp_path, CaseFlagged)
    registry = registry_with(CaseFlaggedV2)
    assert export(schema_dir, registry) == []
    assert check(schema_dir, registry) == ["onestop.test.case-flagged: no upcaster from v1 to v2"]
    registry.register_upcaster(CaseFlaggedV2.type, 1, lambda data: data)
    assert check(schema_dir, registry) == []
