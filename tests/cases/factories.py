"""Events as other services would publish them, for the cases tests."""

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from onestop.contracts.events.common import Channel, CustomerDetails, HandOffModel, Location, NeedKind
from onestop.contracts.events.contacts import Need
from onestop.contracts.events.routing import NeedRouted
from onestop.contracts.identifiers import case_id_for

MONDAY_MORNING = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def routed(
    *,
    model: HandOffModel = HandOffModel.CUSTOMER_ADVOCATE,
    kind: NeedKind = NeedKind.REPORT_PROBLEM,
    service_code: str = "587",
    area: str = "street_cleaning",
    at: datetime = MONDAY_MORNING,
    sla_days: int = 3,
    resolved_at_first_contact: bool = False,
    customer_id: UUID | None = None,
    contact_id: UUID | None = None,
) -> NeedRouted:
    contact_id = contact_id or uuid4()
    need = Need(
        need_id=uuid4(),
        kind=kind,
        service_code=service_code,
        description="Sofa dumped in the alley",
        location=Location(latitude=52.24, longitude=-0.89, ward="Castle"),
        resolved_at_first_contact=resolved_at_first_contact,
    )
    return NeedRouted(
        contact_id=contact_id,
        case_id=case_id_for(contact_id, need.need_id),
        need=need,
        customer=CustomerDetails(customer_id=customer_id or uuid4(), name="A Resident"),
        channel=Channel.APP,
        received_at=at,
        routed_at=at + timedelta(seconds=1),
        service_code=service_code,
        service_area=area,
        team="street-scene",
        hand_off_model=model,
        sla_working_days=sla_days,
        rule_id="street-cleaning/fly-tip",
        rules_version="test",
    )
