"""The cases service's settings; shared ones come from ServiceSettings."""

from datetime import date

from pydantic import Field, field_validator

from onestop.cases.domain.sla import Nation, closure_days
from onestop.servicekit.settings import ServiceSettings, check_secret, database_url_of

SEARCH_KEY_SETTING = "CASES_SEARCH_KEY"


class CasesSettings(ServiceSettings):
    service_name: str = "cases"
    database_url: str = database_url_of("cases")
    cases_http_host: str = "127.0.0.1"
    cases_http_port: int = 8003
    # How often open cases are checked for 30- and 60-day and service-level escalations.
    cases_escalation_interval_seconds: float = Field(default=60.0, gt=0)
    # A closed case may be reopened within this many days; after that a new request is raised.
    cases_reopen_window_days: int = Field(default=28, ge=0)
    # Where a rejected hand-off goes when the back office suggests no team.
    cases_triage_team: str = "customer-services-triage"
    # The council's nation: its bank holidays and the ombudsman complaints go to after stage 2.
    council_nation: Nation = Nation.ENGLAND
    # The council's own closure days besides bank holidays, as ISO dates separated by commas.
    council_closure_days: str = ""
    # Keys the search index's hashes of names, addresses, contact details and words. Required: no default.
    # Changing it makes every indexed case unfindable until `python -m onestop.cases rebuild`.
    cases_search_key: str

    @field_validator("cases_search_key")
    @classmethod
    def _search_key_is_safe(cls, value: str) -> str:
        return check_secret(SEARCH_KEY_SETTING, value)

    @field_validator("council_closure_days")
    @classmethod
    def _closure_days_are_dates(cls, value: str) -> str:
        closure_days(value)
        return value

    @property
    def closures(self) -> frozenset[date]:
        return closure_days(self.council_closure_days)
