"""The cases service's settings; shared ones come from ServiceSettings."""

from pydantic import Field

from onestop.servicekit.settings import ServiceSettings, database_url_of


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
