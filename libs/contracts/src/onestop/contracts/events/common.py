"""Value types shared by many events: channels, needs, locations, people."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID, uuid5

from pydantic import AfterValidator, AwareDatetime, ConfigDict, Field

from onestop.contracts.events.base import Sealable


def _as_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


# Every instant in the catalogue is timezone-aware and normalised to UTC.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_as_utc)]

# An LGSL (Local Government Service List) code, e.g. "524" for missed bin collections.
ServiceCode = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._-]+$")]

# A case reference customers can read out on the phone, e.g. "OS-7KQ4-M2XD".
CaseReference = Annotated[str, Field(min_length=3, max_length=32)]


# Sealed personal fields, as every model that has them carries them.
Sealed = Annotated[
    str | None,
    Field(description="The personal fields, encrypted with their subject's own key (crypto-shredding)"),
]


class ValueObject(Sealable):
    """A value inside an event. Its `personal_fields` (if any) are sealed with the key of its own
    `personal_subject()`, or else with the key of the event it is in."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Channel(StrEnum):
    TELEPHONE = "telephone"
    FACE_TO_FACE = "face_to_face"
    EMAIL = "email"
    POST = "post"
    WEB = "web"
    MY_ACCOUNT = "my_account"
    APP = "app"
    SOCIAL_MEDIA = "social_media"
    LIVE_CHAT = "live_chat"
    KIOSK = "kiosk"
    IVR = "ivr"
    COUNCILLOR = "councillor"
    OPEN311 = "open311"

    @property
    def is_self_service(self) -> bool:
        """Channels where the customer serves themselves: the cheap ones that channel shift aims at."""
        return self in SELF_SERVICE_CHANNELS


SELF_SERVICE_CHANNELS = frozenset(
    {Channel.WEB, Channel.MY_ACCOUNT, Channel.APP, Channel.KIOSK, Channel.IVR, Channel.OPEN311}
)


class NeedKind(StrEnum):
    INFORMATION = "information"
    PAYMENT = "payment"
    SERVICE_REQUEST = "service_request"
    REPORT_PROBLEM = "report_problem"
    COMPLAINT = "complaint"
    APPLICATION = "application"


class HandOffModel(StrEnum):
    """How the front office hands a need to the back office (see DOMAIN.md)."""

    ONE_AND_DONE = "one_and_done"
    FIRE_AND_FORGET = "fire_and_forget"
    CUSTOMER_ADVOCATE = "customer_advocate"


class Priority(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"
    EMERGENCY = "emergency"


class ContactMethod(StrEnum):
    """How a customer wants to hear back."""

    EMAIL = "email"
    SMS = "sms"
    LETTER = "letter"
    APP = "app"
    TELEPHONE = "telephone"
    NONE = "none"


class AssuranceLevel(StrEnum):
    """How sure we are of who the customer is; sensitive transactions need more."""

    NONE = "none"
    LOW = "low"  # claimed identity, e.g. name and address given
    MEDIUM = "medium"  # verified against a record, e.g. account number and date of birth
    HIGH = "high"  # strong authentication, e.g. signed in with a verified identity


class Location(ValueObject):
    """Where a need is. The address and the property may be someone's home: sealed. The coordinates, the
    street and the ward place a problem for routing and statistics."""

    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = Field(default=None, max_length=500)
    uprn: str | None = Field(default=None, pattern=r"^[0-9]{1,12}$", description="Unique Property Reference Number")
    usrn: str | None = Field(default=None, pattern=r"^[0-9]{1,8}$", description="Unique Street Reference Number")
    ward: str | None = Field(default=None, max_length=120)
    sealed: Sealed = None

    personal_fields: ClassVar[tuple[str, ...]] = ("address", "uprn")


class Attachment(ValueObject):
    """A file held elsewhere (object store, document system); events carry only the reference, sealed: a
    file's name and address can name its sender."""

    url: str | None = Field(min_length=1, max_length=2000, description="Empty on the wire: it travels sealed")
    media_type: str = Field(min_length=3, max_length=127)
    size_bytes: int = Field(ge=0)
    filename: str | None = Field(default=None, max_length=255)
    sealed: Sealed = None

    personal_fields: ClassVar[tuple[str, ...]] = ("url", "filename")


class CustomerDetails(ValueObject):
    """Who the customer said they are. Personal data: kept out of public read models, and sealed with the
    customer's key, or with their contact's own while they are not identified (`subject_of_contact`)."""

    customer_id: UUID | None = None
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=500)
    uprn: str | None = Field(default=None, pattern=r"^[0-9]{1,12}$")
    preferred_contact_method: ContactMethod = ContactMethod.EMAIL
    vulnerable: bool = False
    language: str = Field(default="en", min_length=2, max_length=8)
    sealed: Sealed = None

    personal_fields: ClassVar[tuple[str, ...]] = ("name", "email", "phone", "address", "uprn", "vulnerable")

    def personal_subject(self) -> UUID | None:
        return self.customer_id


class Actor(ValueObject):
    """Who or what did something: an agent, a councillor, a system, or the customer themselves."""

    kind: str = Field(pattern=r"^(agent|councillor|system|customer)$")
    id: str = Field(min_length=1, max_length=120)
    name: str | None = Field(default=None, max_length=200)
    team: str | None = Field(default=None, max_length=120)
    sealed: Sealed = None

    personal_fields: ClassVar[tuple[str, ...]] = ("name",)


_UNIDENTIFIED_CUSTOMERS = UUID("0b6f3c1e-52d4-4c8a-9e57-3f1a2d9c7b40")


def unidentified_subject_for(contact_id: UUID) -> UUID:
    """The data subject of a contact whose customer is not identified (or who gave no details at all):
    what they wrote and who they said they are is sealed with a key of its own, so it can be erased by
    contact, or together with the customer they turn out to be (see `onestop erase-customer`)."""
    return uuid5(_UNIDENTIFIED_CUSTOMERS, str(contact_id))


def subject_of_contact(contact_id: UUID, customer: CustomerDetails | None) -> UUID:
    """Whose key seals what a contact brought: its identified customer's, else its own subject's."""
    if customer is not None and customer.customer_id is not None:
        return customer.customer_id
    return unidentified_subject_for(contact_id)
