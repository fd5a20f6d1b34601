"""The shipped service catalogue: complete enough for the councils' NI14 areas, and well-formed."""

import pytest

from onestop.contracts.events.common import NeedKind
from onestop.contracts.service_catalogue import parse_catalogue, service_catalogue


def test_catalogue_covers_the_ni14_areas_and_the_wider_council() -> None:
    catalogue = service_catalogue()
    wanted = {
        "planning", "building_control", "council_tax", "environmental_health", "waste", "street_cleaning",
        "housing", "benefits", "electoral_register", "parking", "registrars", "libraries", "leisure",
        "adult_social_care", "education",
    }  # fmt: skip
    assert wanted <= {area.id for area in catalogue.areas}
    assert catalogue.service("279") is not None, "blue badges"
    assert catalogue.service("14") is not None, "school admissions"


def test_lookups_by_code() -> None:
    catalogue = service_catalogue()
    assert catalogue.service("587").name == "Flytipping"  # type: ignore[union-attr]
    assert catalogue.area_of("587").id == "street_cleaning"  # type: ignore[union-attr]
    assert catalogue.service("nope") is None
    assert NeedKind.COMPLAINT in catalogue.service("353").kinds  # type: ignore[union-attr]


def test_lgsl_code_matches_the_event_code_where_there_is_one() -> None:
    for _, service in service_catalogue().services():
        if service.lgsl is not None:
            assert service.code == str(service.lgsl)
        else:
            assert service.code.startswith("L-")


def test_duplicate_codes_are_refused() -> None:
    text = """
version: "1"
areas:
  - id: a
    name: A
    senior_manager: x
    portfolio_holder: y
    ni14: false
    services:
      - {code: "1", name: One, kinds: [information], standard_working_days: 1}
      - {code: "1", name: Again, kinds: [information], standard_working_days: 1}
"""
    with pytest.raises(ValueError, match="appear twice"):
        parse_catalogue(text)
