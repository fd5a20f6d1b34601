"""An Open311 service request: what an outside reporting site posted beyond the contact itself."""

from dataclasses import dataclass

from onestop.contracts.events.common import AssuranceLevel
from onestop.contracts.service_catalogue import service_catalogue


@dataclass(frozen=True)
class ServiceRequest:
    client: str
    service_code: str
    service_name: str
    address: str | None
    lat: float | None
    long: float | None
    media_url: str | None


def listed_on_open311(service_code: str) -> bool:
    """Open311 clients post for anonymous reporters, so a service that needs a verified customer is not
    theirs; the others are listed, with every case of them, whatever channel raised it."""
    service = service_catalogue().service(service_code)
    return service is not None and service.identity == AssuranceLevel.NONE
