"""The base of every event: a frozen pydantic model that knows its type, version and topic."""

from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from onestop.contracts.topics import Topic


class Sealable(BaseModel):
    """A model some of whose fields may hold personal data.

    The platform never writes them to the log in the clear: its `personal_fields` travel in `sealed`,
    encrypted with the key of `personal_subject()` (see onestop.contracts.personal_data), and are empty on
    the wire (back at their defaults, or None). Erasing the subject destroys the key.
    """

    personal_fields: ClassVar[tuple[str, ...]] = ()

    def personal_subject(self) -> UUID | None:
        """Whose key seals this model's personal data. A value object that names nobody is sealed with the
        key of the model it is part of."""
        return None


class Event(Sealable):
    """A fact in the past tense.

    Readers ignore fields they do not know (the tolerant reader), so adding an optional field is a
    compatible change; removing or retyping a field needs a new `version` and an upcaster.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", use_enum_values=False)

    type: ClassVar[str]
    version: ClassVar[int] = 1
    topic: ClassVar[Topic]
    # Name of the field holding the aggregate id; it becomes the CloudEvents subject and Kafka key.
    aggregate_field: ClassVar[str]

    def personal_subject(self) -> UUID | None:
        """An event that carries personal data names its subject in `data_subject`, or derives it."""
        subject = getattr(self, "data_subject", None)
        return subject if isinstance(subject, UUID) else None

    @property
    def aggregate_id(self) -> str:
        return str(getattr(self, self.aggregate_field))

    @classmethod
    def dataschema(cls) -> str:
        return schema_uri(cls.type, cls.version)


def schema_uri(event_type: str, version: int) -> str:
    return f"urn:onestop:schema:{event_type}:{version}"


def parse_schema_uri(uri: str) -> tuple[str, int]:
    """`urn:onestop:schema:<type>:<version>` -> (type, version); ValueError for anything else."""
    prefix = "urn:onestop:schema:"
    if not uri.startswith(prefix):
        raise ValueError(f"dataschema {uri!r} is not an onestop schema URI")
    event_type, _, version = uri[len(prefix) :].rpartition(":")
    if not event_type or not version.isdigit():
        raise ValueError(f"dataschema {uri!r} has no type and version")
    return event_type, int(version)
