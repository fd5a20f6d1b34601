"""Personal data inside events, and how it is sealed so that erasing a customer erases it everywhere.

The log is immutable, so personal data is never written to it in the clear where the platform encrypts:
each value object that names a customer (`personal_subject()`) moves its `personal_fields` into `sealed`,
encrypted with that customer's own key. Erasing the customer destroys the key; every copy of their data,
in every topic and every replica, becomes unreadable while the rest of each event (service, channel,
dates: what the statistics need) stays intact. The encryption itself lives in the services' kit; this
module only says which data is personal and walks an event to reach it.
"""

import json
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel

from onestop.contracts.events.common import ValueObject

M = TypeVar("M", bound=BaseModel)
Transform = Callable[[ValueObject], ValueObject]


def map_personal(model: M, transform: Transform) -> M:
    """A copy of `model` with `transform` applied to every value object that holds personal data."""
    changes: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        updated = _map_value(value, transform)
        if updated is not value:
            changes[name] = updated
    result = model.model_copy(update=changes) if changes else model
    if isinstance(result, ValueObject) and result.personal_fields:
        return transform(result)  # type: ignore[return-value]
    return result


def _map_value(value: Any, transform: Transform) -> Any:
    if isinstance(value, BaseModel):
        return map_personal(value, transform)
    if isinstance(value, tuple | list):
        mapped = [_map_value(item, transform) for item in value]
        if all(new is old for new, old in zip(mapped, value, strict=True)):
            return value
        return type(value)(mapped)
    return value


def personal_subjects(model: BaseModel) -> set[UUID]:
    """Every customer whose personal data `model` carries in the clear."""
    found: set[UUID] = set()

    def collect(value_object: ValueObject) -> ValueObject:
        subject = value_object.personal_subject()
        if subject is not None and any(getattr(value_object, f) is not None for f in value_object.personal_fields):
            found.add(subject)
        return value_object

    map_personal(model, collect)
    return found


def seal_with(seal: Callable[[UUID, bytes], str | None]) -> Transform:
    """A transform that moves personal fields into `sealed`; `seal` returns None for an erased customer."""

    def transform(value_object: ValueObject) -> ValueObject:
        subject = value_object.personal_subject()
        clear = {f: getattr(value_object, f) for f in value_object.personal_fields}
        if subject is None or all(v is None for v in clear.values()):
            return value_object
        sealed = seal(subject, json.dumps(clear).encode())
        return value_object.model_copy(update={**dict.fromkeys(clear), "sealed": sealed})

    return transform


def open_with(open_: Callable[[UUID, str], bytes | None]) -> Transform:
    """A transform that restores personal fields from `sealed`; an erased customer's stay empty."""

    def transform(value_object: ValueObject) -> ValueObject:
        sealed = getattr(value_object, "sealed", None)
        subject = value_object.personal_subject()
        if sealed is None or subject is None:
            return value_object
        plaintext = open_(subject, sealed)
        if plaintext is None:
            return value_object
        clear = json.loads(plaintext)
        return value_object.model_copy(
            update={**{f: clear.get(f) for f in value_object.personal_fields}, "sealed": None}
        )

    return transform
