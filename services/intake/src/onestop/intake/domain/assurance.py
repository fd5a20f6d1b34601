"""How sure we must be of who the customer is before a service is transacted for them, and which needs a
contact may bring: the service catalogue decides both."""

from onestop.contracts.events.common import AssuranceLevel
from onestop.contracts.events.contacts import ContactReceived
from onestop.contracts.service_catalogue import service_catalogue

ORDER = [AssuranceLevel.NONE, AssuranceLevel.LOW, AssuranceLevel.MEDIUM, AssuranceLevel.HIGH]


def sufficient(provided: AssuranceLevel, required: AssuranceLevel) -> bool:
    return ORDER.index(provided) >= ORDER.index(required)


def refusal(contact: ContactReceived, provided: AssuranceLevel) -> str | None:
    """Why the contact cannot be taken as it is (for the caller), or None when it can."""
    catalogue = service_catalogue()
    for need in contact.needs:
        service = catalogue.service(need.service_code) if need.service_code else None
        if need.service_code and service is None:
            return f"needs[{need.need_id}]: unknown service code {need.service_code!r}"
        if service and not sufficient(provided, service.identity):
            return (
                f"{service.name} needs a customer verified to level {service.identity.value}; "
                f"this contact is at level {provided.value}"
            )
        if service and need.kind not in service.kinds:
            allowed = ", ".join(k.value for k in service.kinds)
            return f"{service.name} takes needs of kind {allowed}, not {need.kind.value}"
    return None
