"""The shipped routing rules: valid, complete, and each rule reachable by the need it is written for."""

import pytest

from onestop.contracts.events.common import Channel, HandOffModel, NeedKind
from onestop.contracts.service_catalogue import service_catalogue
from onestop.routing.domain.rules import Need, first_match, parse_rules
from onestop.routing.settings import PACKAGED

CATALOGUE = service_catalogue()
RULES, _ = parse_rules((PACKAGED / "routing_rules.yaml").read_text(), CATALOGUE)


def need(
    code: str,
    kind: NeedKind,
    *,
    channel: Channel = Channel.TELEPHONE,
    emergency: bool = False,
    vulnerable: bool = False,
) -> Need:
    area = CATALOGUE.area_of(code)
    assert area is not None
    return Need(code, area.id, kind, channel, None, emergency, vulnerable)


# One row per rule in the shipped file: a need it is written for, and what it must decide.
TABLE = [
    (
        "emergency/any",
        need("139", NeedKind.REPORT_PROBLEM, emergency=True),
        "duty-officer",
        HandOffModel.CUSTOMER_ADVOCATE,
    ),
    (
        "vulnerable/social-care",
        need("209", NeedKind.APPLICATION, vulnerable=True),
        "adult-social-care-duty",
        HandOffModel.CUSTOMER_ADVOCATE,
    ),
    ("complaints/corporate", need("353", NeedKind.COMPLAINT), "corporate-complaints", HandOffModel.CUSTOMER_ADVOCATE),
    (
        "information/one-and-done",
        need("L-BINDAYS", NeedKind.INFORMATION),
        "customer-services",
        HandOffModel.ONE_AND_DONE,
    ),
    ("waste/missed-bin", need("524", NeedKind.REPORT_PROBLEM), "waste-collections", HandOffModel.CUSTOMER_ADVOCATE),
    ("waste/containers", need("526", NeedKind.SERVICE_REQUEST), "waste-containers", HandOffModel.FIRE_AND_FORGET),
    (
        "street-cleaning/fly-tip",
        need("587", NeedKind.REPORT_PROBLEM),
        "street-scene-enforcement",
        HandOffModel.CUSTOMER_ADVOCATE,
    ),
    ("street-cleaning/other", need("584", NeedKind.REPORT_PROBLEM), "street-scene", HandOffModel.FIRE_AND_FORGET),
    ("highways/lighting", need("564", NeedKind.REPORT_PROBLEM), "street-lighting", HandOffModel.FIRE_AND_FORGET),
    ("highways/roads", need("557", NeedKind.REPORT_PROBLEM), "highways-inspectors", HandOffModel.FIRE_AND_FORGET),
    ("housing/repairs", need("141", NeedKind.SERVICE_REQUEST), "housing-repairs", HandOffModel.CUSTOMER_ADVOCATE),
    ("housing/other", need("1619", NeedKind.SERVICE_REQUEST), "housing-options", HandOffModel.CUSTOMER_ADVOCATE),
    ("council-tax/all", need("L-CTDD", NeedKind.PAYMENT), "revenues-and-benefits", HandOffModel.FIRE_AND_FORGET),
    ("registrars/bereavement", need("321", NeedKind.SERVICE_REQUEST), "registrars", HandOffModel.CUSTOMER_ADVOCATE),
    ("planning/all", need("487", NeedKind.APPLICATION), "planning-and-building-control", HandOffModel.FIRE_AND_FORGET),
    ("default/back-office", need("438", NeedKind.APPLICATION), "service-back-office", HandOffModel.FIRE_AND_FORGET),
]


def test_the_table_covers_every_shipped_rule() -> None:
    assert [row[0] for row in TABLE] == [rule.id for rule in RULES.rules]


@pytest.mark.parametrize(("rule_id", "the_need", "team", "model"), TABLE, ids=[row[0] for row in TABLE])
def test_each_rule_decides_for_its_need(rule_id: str, the_need: Need, team: str, model: HandOffModel) -> None:
    rule = first_match(RULES, the_need)
    assert rule.id == rule_id
    assert (rule.then.team, rule.then.hand_off_model) == (team, model)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("version: '1'\nrules: []", "at least 1"),
        (
            "version: '1'\nrules:\n"
            "  - {id: a, when: {kinds: [complaint]}, then: {team: t, hand_off_model: one_and_done}}",
            "last rule must match anything",
        ),
        (
            "version: '1'\nrules:\n"
            "  - {id: a, when: {service_codes: ['nope']}, then: {team: t, hand_off_model: one_and_done}}\n"
            "  - {id: b, then: {team: t, hand_off_model: one_and_done}}",
            "not in the catalogue",
        ),
        ("version: '1'\nrules:\n  - {id: a, then: {team: t, hand_off_model: sometimes}}", "hand_off_model"),
    ],
)
def test_invalid_rules_are_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_rules(text, CATALOGUE)


@pytest.mark.parametrize("channel", list(Channel))
def test_a_missed_collection_goes_to_the_waste_crews_whatever_channel_reported_it(channel: Channel) -> None:
    for code in ("524", "1130"):
        rule = first_match(RULES, need(code, NeedKind.REPORT_PROBLEM, channel=channel))
        assert (rule.id, rule.then.team) == ("waste/missed-bin", "waste-collections")
