"""How sure we must be of who the customer is before a service is transacted for them."""

from onestop.contracts.events.common import AssuranceLevel

ORDER = [AssuranceLevel.NONE, AssuranceLevel.LOW, AssuranceLevel.MEDIUM, AssuranceLevel.HIGH]


def sufficient(provided: AssuranceLevel, required: AssuranceLevel) -> bool:
    return ORDER.index(provided) >= ORDER.index(required)
