"""JSON Schemas of the event catalogue: export, drift and backward-compatibility checks.

The checked-in folder `libs/contracts/schemas/` holds one file per event type and version. Once a
version is published its file is history: later changes to that version may only add optional fields.
Anything else (removing, retyping, newly requiring a field) needs the next version and an upcaster.

    python -m onestop.contracts.schemas export   # write the current schemas (refuses breaking ones)
    python -m onestop.contracts.schemas check    # fail on drift or breaking change
"""

import json
import sys
from pathlib import Path
from typing import Any

from onestop.contracts.catalogue import CATALOGUE, EventRegistry
from onestop.contracts.events.base import Event

Schema = dict[str, Any]

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "schemas"


def schema_of(model: type[Event]) -> Schema:
    schema = model.model_json_schema(mode="validation")
    schema["$id"] = model.dataschema()
    schema["$comment"] = f"{model.type} version {model.version}: {(model.__doc__ or '').strip()}"
    return schema


def schema_file(schema_dir: Path, event_type: str, version: int) -> Path:
    return schema_dir / f"{event_type}.v{version}.json"


def render(schema: Schema) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def published_versions(schema_dir: Path) -> dict[str, list[int]]:
    versions: dict[str, list[int]] = {}
    for path in sorted(schema_dir.glob("*.v*.json")):
        event_type, _, version = path.name.removesuffix(".json").rpartition(".v")
        versions.setdefault(event_type, []).append(int(version))
    return versions


# --- compatibility -------------------------------------------------------------------------------


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """What in `new` would reject or misread data that was valid under `old` (empty when compatible).

    Data written under the old schema must still validate under the new one, with each field meaning
    the same: no property removed, none retyped or narrowed, no new required property, no enum value
    dropped. Adding optional properties and widening are fine.
    """
    return _compare(old, new, "", old.get("$defs", {}), new.get("$defs", {}))


def _resolve(schema: Schema, defs: dict[str, Schema]) -> Schema:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return defs[ref.removeprefix("#/$defs/")]
    return schema


def _variants(schema: Schema, defs: dict[str, Schema]) -> list[Schema]:
    schema = _resolve(schema, defs)
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        return [_resolve(option, defs) for option in options]
    return [schema]


def _kinds(schema: Schema, defs: dict[str, Schema]) -> set[str]:
    kinds: set[str] = set()
    for variant in _variants(schema, defs):
        kind = variant.get("type")
        if isinstance(kind, list):
            kinds.update(kind)
        elif kind:
            kinds.add(kind)
        elif "enum" in variant or "const" in variant:
            kinds.add("enum")
        elif "properties" in variant:
            kinds.add("object")
        else:
            kinds.add("any")
    return kinds


def _compare(
    old: Schema, new: Schema, path: str, old_defs: dict[str, Schema], new_defs: dict[str, Schema]
) -> list[str]:
    where = path or "(root)"
    problems: list[str] = []
    old_kinds, new_kinds = _kinds(old, old_defs), _kinds(new, new_defs)
    if "any" not in new_kinds:
        lost = old_kinds - new_kinds - ({"integer"} if "number" in new_kinds else set())
        if "any" in old_kinds or lost:
            problems.append(f"{where}: type changed from {sorted(old_kinds)} to {sorted(new_kinds)}")
            return problems

    old_values = _enum_values(old, old_defs)
    new_values = _enum_values(new, new_defs)
    if old_values is not None and new_values is not None:
        for dropped in sorted(old_values - new_values, key=str):
            problems.append(f"{where}: value {dropped!r} is no longer allowed")

    old_object = _object_variant(old, old_defs)
    new_object = _object_variant(new, new_defs)
    if old_object is not None and new_object is not None:
        old_props, new_props = old_object.get("properties", {}), new_object.get("properties", {})
        for name in sorted(old_props):
            child = f"{path}.{name}" if path else name
            if name not in new_props:
                problems.append(f"{child}: removed")
            else:
                problems.extend(_compare(old_props[name], new_props[name], child, old_defs, new_defs))
        newly_required = set(new_object.get("required", [])) - set(old_object.get("required", []))
        for name in sorted(newly_required):
            problems.append(f"{path + '.' if path else ''}{name}: now required")

    old_items, new_items = _array_items(old, old_defs), _array_items(new, new_defs)
    if old_items is not None and new_items is not None:
        problems.extend(_compare(old_items, new_items, f"{path}[]", old_defs, new_defs))
    return problems


def _enum_values(schema: Schema, defs: dict[str, Schema]) -> set[Any] | None:
    values: set[Any] = set()
    found = False
    for variant in _variants(schema, defs):
        if "enum" in variant:
            values.update(variant["enum"])
            found = True
        elif "const" in variant:
            values.add(variant["const"])
            found = True
        elif variant.get("type") == "null":
            values.add(None)
        else:
            return None  # a free-form alternative accepts anything the enum did
    return values if found else None


def _object_variant(schema: Schema, defs: dict[str, Schema]) -> Schema | None:
    for variant in _variants(schema, defs):
        if variant.get("type") == "object" or "properties" in variant:
            return variant
    return None


def _array_items(schema: Schema, defs: dict[str, Schema]) -> Schema | None:
    for variant in _variants(schema, defs):
        if variant.get("type") == "array" and isinstance(variant.get("items"), dict):
            items: Schema = variant["items"]
            return items
    return None


# --- the checks CI runs --------------------------------------------------------------------------


def check(schema_dir: Path = SCHEMA_DIR, registry: EventRegistry = CATALOGUE) -> list[str]:
    """Drift, breaking changes and unreadable history, as a list of problems (empty is good)."""
    problems: list[str] = []
    for model in registry.models():
        path = schema_file(schema_dir, model.type, model.version)
        current = schema_of(model)
        if not path.exists():
            problems.append(f"{path.name}: not exported (run `make schemas`)")
            continue
        published = json.loads(path.read_text())
        for change in breaking_changes(published, current):
            problems.append(f"{model.type} v{model.version} breaks its published schema: {change}")
        if render(published) != render(current):
            problems.append(f"{path.name}: differs from the code (run `make schemas`)")
    problems.extend(registry.missing_upcasters(published_versions(schema_dir)))
    return problems


def export(schema_dir: Path = SCHEMA_DIR, registry: EventRegistry = CATALOGUE) -> list[str]:
    """Write every current schema; refuse (and report) any that would break a published version."""
    schema_dir.mkdir(parents=True, exist_ok=True)
    refused: list[str] = []
    for model in registry.models():
        path = schema_file(schema_dir, model.type, model.version)
        current = schema_of(model)
        if path.exists():
            breaks = breaking_changes(json.loads(path.read_text()), current)
            if breaks:
                refused.extend(f"{model.type} v{model.version}: {change}" for change in breaks)
                continue
        path.write_text(render(current))
    return refused


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command == "export":
        refused = export()
        for line in refused:
            print(f"refused, bump the version and add an upcaster: {line}", file=sys.stderr)
        return 1 if refused else 0
    if command == "check":
        problems = check()
        for line in problems:
            print(line, file=sys.stderr)
        return 1 if problems else 0
    print(f"usage: python -m onestop.contracts.schemas [export|check], not {command!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
