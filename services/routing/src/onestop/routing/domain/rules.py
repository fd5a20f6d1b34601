"""Routing rules as data: which team, hand-off model, service standard and priority a need gets.

Rules are tried in order; the first whose conditions all hold decides. A condition left out matches
anything. Every decision names the rule and the rules version, so it can be explained later.
"""

import hashlib
from dataclasses import dataclass

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from onestop.contracts.events.common import Channel, HandOffModel, NeedKind, Priority
from onestop.contracts.service_catalogue import ServiceCatalogue


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Conditions(_Strict):
    service_codes: tuple[str, ...] = ()
    service_areas: tuple[str, ...] = ()
    kinds: tuple[NeedKind, ...] = ()
    channels: tuple[Channel, ...] = ()
    wards: tuple[str, ...] = ()
    emergency: bool | None = None
    vulnerable: bool | None = None


class Outcome(_Strict):
    team: str = Field(min_length=1, max_length=120)
    hand_off_model: HandOffModel
    sla_working_days: int | None = Field(default=None, ge=0, le=365, description="Default: the catalogue's standard")
    priority: Priority | None = None


class Rule(_Strict):
    id: str = Field(min_length=1, max_length=120, pattern=r"^[a-z0-9][a-z0-9/_.-]*$")
    description: str = ""
    when: Conditions = Conditions()
    then: Outcome


class RuleSet(_Strict):
    ruleset: str = "council"
    version: str = Field(min_length=1, max_length=64)
    rules: tuple[Rule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ids_unique(self) -> "RuleSet":
        ids = [rule.id for rule in self.rules]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"rule ids appear twice: {twice}")
        if self.rules[-1].when != Conditions():
            raise ValueError("the last rule must match anything, so every need is routed")
        return self

    def check_against(self, catalogue: ServiceCatalogue) -> None:
        """Every code and area a rule names must exist in the service catalogue."""
        areas = {area.id for area in catalogue.areas}
        for rule in self.rules:
            for code in rule.when.service_codes:
                if catalogue.service(code) is None:
                    raise ValueError(f"rule {rule.id}: service code {code!r} is not in the catalogue")
            for area in rule.when.service_areas:
                if area not in areas:
                    raise ValueError(f"rule {rule.id}: service area {area!r} is not in the catalogue")


@dataclass(frozen=True)
class Need:
    """What routing looks at in a need."""

    service_code: str
    service_area: str
    kind: NeedKind
    channel: Channel
    ward: str | None
    emergency: bool
    vulnerable: bool


def first_match(rules: RuleSet, need: Need) -> Rule:
    for rule in rules.rules:
        when = rule.when
        if (
            (not when.service_codes or need.service_code in when.service_codes)
            and (not when.service_areas or need.service_area in when.service_areas)
            and (not when.kinds or need.kind in when.kinds)
            and (not when.channels or need.channel in when.channels)
            and (not when.wards or (need.ward or "") in when.wards)
            and (when.emergency is None or when.emergency == need.emergency)
            and (when.vulnerable is None or when.vulnerable == need.vulnerable)
        ):
            return rule
    raise AssertionError("the last rule matches anything")


def parse_rules(text: str, catalogue: ServiceCatalogue) -> tuple[RuleSet, str]:
    """The validated rule set and the checksum of its text; ValueError (with the reason) if invalid."""
    rules = RuleSet.model_validate(yaml.safe_load(text))
    rules.check_against(catalogue)
    return rules, hashlib.sha256(text.encode()).hexdigest()
