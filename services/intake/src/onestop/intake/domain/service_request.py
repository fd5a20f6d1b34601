"""An Open311 service request: what an outside reporting site posted beyond the contact itself."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceRequest:
    client: str
    service_code: str
    service_name: str
    address: str | None
    lat: float | None
    long: float | None
    media_url: str | None
