"""Personal data inside events, and how it is sealed so that erasing a customer erases it everywhere.

The log is immutable, so personal data is never written to it in the clear: each model that holds some
(`Sealable.personal_fields`: names, addresses, free text...) moves it into its `sealed` field, encrypted
with the key of its subject. A value object's subject is its own `personal_subject()` (the customer it
names) or else that of the event it is part of; an event's is the customer it is about, or, for a customer
never identified, a subject of the contact's own (`unidentified_subject_for`). Erasing a subject destroys
the key: every copy of their data, in every topic and every replica, becomes unreadable while the rest of
each event (service, channel, dates, ward, ids: what the statistics need) stays intact.

The encryption itself lives in the services' kit; this module only says which data is personal and walks
an event to reach it.
"""

import functools
import json
import typing
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel

from onestop.contracts.events.base import Sealable

M = TypeVar("M", bound=BaseModel)
# Applied to each model holding personal fields, with the subject whose key seals them (None: nobody's).
Transform = Callable[[Sealable, UUID | None], Sealable]


def map_personal(model: M, transform: Transform, subject: UUID | None = None) -> M:
    """A copy of `model` with `transform` applied to every model within it that has personal fields,
    innermost first, each with its subject: its own, else that of the model it is part of."""
    if isinstance(model, Sealable):
        subject = model.personal_subject() or subject
    changes: dict[str, Any] = {}
    for name in _fields_to_walk(type(model)):
        value = getattr(model, name)
        updated = _map_value(value, transform, subject)
        if updated is not value:
            changes[name] = updated
    result = model.model_copy(update=changes) if changes else model
    if isinstance(result, Sealable) and result.personal_fields:
        return transform(result, subject)  # type: ignore[return-value]
    return result


def _map_value(value: Any, transform: Transform, subject: UUID | None) -> Any:
    if isinstance(value, BaseModel):
        return map_personal(value, transform, subject)
    if isinstance(value, tuple | list):
        mapped = [_map_value(item, transform, subject) for item in value]
        if all(new is old for new, old in zip(mapped, value, strict=True)):
            return value
        return type(value)(mapped)
    return value


@functools.cache
def _fields_to_walk(model_class: type[BaseModel]) -> tuple[str, ...]:
    """The fields of `model_class` whose type can hold a model with personal fields. Most fields are ids,
    dates and codes, and every event passes through here several times on its way through a service."""
    return tuple(
        name for name, info in model_class.model_fields.items() if _may_hold_personal(info.annotation, frozenset())
    )


def _may_hold_personal(annotation: Any, seen: frozenset[type]) -> bool:
    if annotation is Any or annotation is BaseModel:
        return True  # not known until it is there
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return False
        seen = seen | {annotation}
        return any(
            (issubclass(kind, Sealable) and bool(kind.personal_fields))
            or any(_may_hold_personal(info.annotation, seen) for info in kind.model_fields.values())
            for kind in _with_subclasses(annotation)
        )
    return any(_may_hold_personal(arg, seen) for arg in typing.get_args(annotation))


def _with_subclasses(model_class: type[BaseModel]) -> list[type[BaseModel]]:
    found, waiting = [], [model_class]
    while waiting:
        kind = waiting.pop()
        found.append(kind)
        waiting.extend(kind.__subclasses__())
    return found


def empty_value(holder: Sealable, field: str) -> Any:
    """What a personal field holds on the wire: its default, or None when it has none."""
    info = type(holder).model_fields[field]
    return None if info.is_required() else info.get_default(call_default_factory=True)


def holds_personal_data(holder: Sealable) -> bool:
    return any(getattr(holder, f) != empty_value(holder, f) for f in holder.personal_fields)


def _emptied(holder: Sealable, sealed: str | None) -> Sealable:
    return holder.model_copy(update={**{f: empty_value(holder, f) for f in holder.personal_fields}, "sealed": sealed})


def personal_subjects(model: BaseModel) -> set[UUID | None]:
    """Every subject whose personal data `model` carries in the clear; None among them when some names
    nobody whose key could seal it."""
    found: set[UUID | None] = set()

    def collect(holder: Sealable, subject: UUID | None) -> Sealable:
        if holds_personal_data(holder):
            found.add(subject)
        return holder

    map_personal(model, collect)
    return found


def sealed_subjects(model: BaseModel) -> set[UUID]:
    """Every subject whose sealed data `model` carries."""
    found: set[UUID] = set()

    def collect(holder: Sealable, subject: UUID | None) -> Sealable:
        if subject is not None and getattr(holder, "sealed", None):
            found.add(subject)
        return holder

    map_personal(model, collect)
    return found


def subjects_named(model: BaseModel) -> set[UUID]:
    """Every subject `model` holds personal data of, sealed or in the clear."""
    found: set[UUID] = set()

    def collect(holder: Sealable, subject: UUID | None) -> Sealable:
        if subject is not None and (getattr(holder, "sealed", None) or holds_personal_data(holder)):
            found.add(subject)
        return holder

    map_personal(model, collect)
    return found


def seal_with(seal: Callable[[UUID, bytes], str | None]) -> Transform:
    """A transform that moves personal fields into `sealed`; `seal` returns None for an erased subject,
    whose data is then left out altogether. Data that names no subject is left as it is."""

    def transform(holder: Sealable, subject: UUID | None) -> Sealable:
        if subject is None or not holds_personal_data(holder):
            return holder
        clear = holder.model_dump(mode="json", include=set(holder.personal_fields))
        return _emptied(holder, seal(subject, json.dumps(clear).encode()))

    return transform


def open_with(open_: Callable[[UUID, str], bytes | None]) -> Transform:
    """A transform that restores personal fields from `sealed`; an erased subject's stay empty."""

    def transform(holder: Sealable, subject: UUID | None) -> Sealable:
        sealed = getattr(holder, "sealed", None)
        if sealed is None or subject is None:
            return holder
        plaintext = open_(subject, sealed)
        if plaintext is None:
            return holder
        clear = json.loads(plaintext)
        return holder.model_copy(update={**{f: clear.get(f) for f in holder.personal_fields}, "sealed": None})

    return transform


def without_personal_data(model: M) -> M:
    """`model` with every personal field emptied and every sealed copy dropped: what a store may keep of
    an event once its subject is erased."""

    def strip(holder: Sealable, subject: UUID | None) -> Sealable:
        if getattr(holder, "sealed", None) is None and not holds_personal_data(holder):
            return holder
        return _emptied(holder, None)

    return map_personal(model, strip)
