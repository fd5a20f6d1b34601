"""The registry of every event type, and the upcasters that bring old versions up to date on read."""

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from onestop.contracts.events import back_office, cases, channels, contacts, customers, notifications, routing
from onestop.contracts.events.base import Event

JsonObject = dict[str, Any]
Upcaster = Callable[[JsonObject], JsonObject]


class EventRegistry:
    """Maps an event type to its current model, and (type, old version) to an upcaster.

    An upcaster turns the data of version N into the data of version N+1; reading chains them until
    the current version, so consumers only ever see the current model.
    """

    def __init__(self, models: Iterable[type[Event]] = ()) -> None:
        self._models: dict[str, type[Event]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        for model in models:
            self.register(model)

    def register(self, model: type[Event]) -> None:
        if model.type in self._models:
            raise ValueError(f"event type {model.type!r} is registered twice")
        self._models[model.type] = model

    def register_upcaster(self, event_type: str, from_version: int, upcaster: Upcaster) -> None:
        self._upcasters[(event_type, from_version)] = upcaster

    def model(self, event_type: str) -> type[Event] | None:
        return self._models.get(event_type)

    def models(self) -> list[type[Event]]:
        return sorted(self._models.values(), key=lambda m: m.type)

    def upcast(self, event_type: str, version: int, data: JsonObject) -> JsonObject:
        """Bring `data` of `version` up to the current version of `event_type`."""
        model = self._models[event_type]
        if version > model.version:
            raise ValueError(f"{event_type} v{version} is newer than this reader's v{model.version}")
        while version < model.version:
            upcaster = self._upcasters.get((event_type, version))
            if upcaster is None:
                raise ValueError(f"no upcaster from {event_type} v{version} to v{version + 1}")
            data = upcaster(data)
            version += 1
        return data

    def missing_upcasters(self, historical_versions: Mapping[str, Iterable[int]]) -> list[str]:
        """Versions we have published schemas for but could no longer read."""
        problems = []
        for event_type, versions in historical_versions.items():
            model = self._models.get(event_type)
            if model is None:
                problems.append(f"{event_type}: published, but no model reads it any more")
                continue
            for version in versions:
                for step in range(version, model.version):
                    if (event_type, step) not in self._upcasters:
                        problems.append(f"{event_type}: no upcaster from v{step} to v{step + 1}")
        return problems


def _events_in(*modules: object) -> list[type[Event]]:
    found = []
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Event) and value is not Event:
                found.append(value)
    return found


CATALOGUE = EventRegistry(_events_in(contacts, customers, routing, cases, back_office, notifications, channels))
