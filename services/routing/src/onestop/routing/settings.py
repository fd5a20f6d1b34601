"""The routing service's settings; shared ones come from ServiceSettings."""

from pathlib import Path

from pydantic import Field

from onestop.servicekit.settings import ServiceSettings, database_url_of

PACKAGED = Path(__file__).parent / "rules"


class RoutingSettings(ServiceSettings):
    service_name: str = "routing"
    database_url: str = database_url_of("routing")
    routing_http_host: str = "127.0.0.1"
    routing_http_port: int = 8002
    routing_rules_file: Path = PACKAGED / "routing_rules.yaml"
    routing_keywords_file: Path = PACKAGED / "classifier_keywords.yaml"
    # How often the rules file is checked for changes (it is reloaded without a restart).
    routing_rules_poll_seconds: float = Field(default=2.0, gt=0)
    # Below this confidence a free-text need goes to triage for a person to choose its service.
    routing_triage_threshold: float = Field(default=0.5, ge=0, le=1)
    # A report within this distance and time of an open case of the same service is the same problem.
    routing_duplicate_radius_metres: float = Field(default=75.0, gt=0)
    routing_duplicate_window_days: int = Field(default=28, ge=1)
    # The same need again (same service and kind, or the same problem) within this many days of the answer
    # that closed it is a repeat contact (see NI14.md).
    routing_repeat_window_days: int = Field(default=30, ge=1)
