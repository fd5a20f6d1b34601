"""A case routing knows of, learned the moment routing decides to raise it or from the cases topic."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from onestop.contracts.events.cases import CaseOutcome, CaseRaised
from onestop.contracts.events.common import Channel, NeedKind
from onestop.contracts.events.routing import NeedRouted
from onestop.contracts.identifiers import case_reference_for


@dataclass(frozen=True, kw_only=True)
class KnownCase:
    """What routing needs of a case: who raised it about what and where, and whether it is still open."""

    case_id: UUID
    reference: str
    contact_id: UUID
    need_id: UUID
    customer_id: UUID | None
    service_code: str
    service_area: str
    kind: NeedKind
    channel: Channel
    opened_at: datetime  # when its contact was received: routing reasons in the council's time
    closed_at: datetime | None = None
    outcome: CaseOutcome | None = None  # how it closed
    latitude: float | None = None
    longitude: float | None = None
    uprn: str | None = None
    usrn: str | None = None
    data_subject: UUID | None = None  # whose personal data (the property) this holds: erasure clears it

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def was_answered(self) -> bool:
        """Closed with an answer that should have settled the need: resolved or declined (a withdrawn case
        gave the customer no answer)."""
        return self.outcome in (CaseOutcome.RESOLVED, CaseOutcome.DECLINED)

    @classmethod
    def routed(cls, routed: NeedRouted) -> "KnownCase":
        """The case routing has just decided to raise: known at once, before the cases service confirms it."""
        return cls(
            case_id=routed.case_id,
            reference=case_reference_for(routed.case_id),
            contact_id=routed.contact_id,
            need_id=routed.need.need_id,
            customer_id=routed.customer.customer_id if routed.customer else None,
            service_code=routed.service_code,
            service_area=routed.service_area,
            kind=routed.need.kind,
            channel=routed.channel,
            opened_at=routed.received_at,
            latitude=routed.need.location.latitude if routed.need.location else None,
            longitude=routed.need.location.longitude if routed.need.location else None,
            uprn=routed.need.location.uprn if routed.need.location else None,
            usrn=routed.need.location.usrn if routed.need.location else None,
            data_subject=routed.personal_subject(),
        )

    @classmethod
    def raised(cls, raised: CaseRaised) -> "KnownCase":
        """A case the cases service raised: one routing never decided, or decided before it kept a model."""
        return cls(
            case_id=raised.case_id,
            reference=raised.reference,
            contact_id=raised.contact_id,
            need_id=raised.need_id,
            customer_id=raised.customer.customer_id if raised.customer else None,
            service_code=raised.service_code,
            service_area=raised.service_area,
            kind=raised.kind,
            channel=raised.channel,
            opened_at=raised.raised_at,
            latitude=raised.location.latitude if raised.location else None,
            longitude=raised.location.longitude if raised.location else None,
            uprn=raised.location.uprn if raised.location else None,
            usrn=raised.location.usrn if raised.location else None,
            data_subject=raised.personal_subject(),
        )
