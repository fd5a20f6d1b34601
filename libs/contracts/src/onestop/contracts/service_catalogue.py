"""The service catalogue as data: service areas and service types, with LGSL codes and standards.

The catalogue is versioned reference data shipped with the contracts, so routing, cases and intake
read the same codes and the same service standards.
"""

from enum import StrEnum
from functools import cache, cached_property
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from onestop.contracts.events.common import AssuranceLevel, NeedKind


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ServiceType(_Frozen):
    code: str = Field(min_length=1, max_length=32)
    lgsl: int | None = None
    name: str
    kinds: tuple[NeedKind, ...] = Field(min_length=1)
    standard_working_days: int = Field(ge=0, le=365)
    identity: AssuranceLevel = AssuranceLevel.NONE
    repair: bool = False  # repairs get a follow-up survey six weeks after they close


class ServiceArea(_Frozen):
    id: str
    name: str
    senior_manager: str
    portfolio_holder: str
    ni14: bool  # one of the service areas NI14 samples
    services: tuple[ServiceType, ...] = Field(min_length=1)


class ServiceCatalogue(_Frozen):
    version: str
    areas: tuple[ServiceArea, ...]

    @model_validator(mode="after")
    def _codes_are_unique(self) -> "ServiceCatalogue":
        codes = [service.code for area in self.areas for service in area.services]
        duplicates = sorted({code for code in codes if codes.count(code) > 1})
        if duplicates:
            raise ValueError(f"service codes appear twice: {duplicates}")
        return self

    def service(self, code: str) -> ServiceType | None:
        return self._by_code.get(code, (None, None))[1]

    def area_of(self, code: str) -> ServiceArea | None:
        return self._by_code.get(code, (None, None))[0]

    def area(self, area_id: str) -> ServiceArea | None:
        return next((area for area in self.areas if area.id == area_id), None)

    def services(self) -> list[tuple[ServiceArea, ServiceType]]:
        return [(area, service) for area in self.areas for service in area.services]

    @cached_property
    def _by_code(self) -> dict[str, tuple[ServiceArea, ServiceType]]:
        # Built once: every contact looks a service up by its code.
        return {service.code: (area, service) for area, service in self.services()}


class Role(StrEnum):
    SENIOR_MANAGER = "senior_manager"
    PORTFOLIO_HOLDER = "portfolio_holder"


def parse_catalogue(text: str) -> ServiceCatalogue:
    return ServiceCatalogue.model_validate(yaml.safe_load(text))


@cache
def service_catalogue() -> ServiceCatalogue:
    """The catalogue shipped with this release of the contracts."""
    text = resources.files("onestop.contracts.reference").joinpath("service_catalogue.yaml").read_text()
    return parse_catalogue(text)
